"""The one place that maps domain errors to gRPC status codes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final, NoReturn

import grpc
import structlog

from tierwise.classifier.runtime import ModelLoadError
from tierwise.cost_tables.errors import (
    DeploymentDoesNotFitError,
    InvalidInputError,
    TableFileError,
    UnknownIdError,
)
from tierwise.server.errors import InvalidRequestError, LatencyTableError, PolicyError

_log = structlog.get_logger("tierwise.server")

# Most specific first: the first isinstance match wins.
STATUS_FOR: Final[tuple[tuple[type[Exception], grpc.StatusCode], ...]] = (
    (InvalidRequestError, grpc.StatusCode.INVALID_ARGUMENT),
    (InvalidInputError, grpc.StatusCode.INVALID_ARGUMENT),
    (UnknownIdError, grpc.StatusCode.INVALID_ARGUMENT),
    (PolicyError, grpc.StatusCode.INVALID_ARGUMENT),
    (LatencyTableError, grpc.StatusCode.INVALID_ARGUMENT),
    (DeploymentDoesNotFitError, grpc.StatusCode.FAILED_PRECONDITION),
    (TableFileError, grpc.StatusCode.FAILED_PRECONDITION),
    (ModelLoadError, grpc.StatusCode.FAILED_PRECONDITION),
)

INTERNAL_MESSAGE: Final = "internal error"


def status_for(error: BaseException) -> tuple[grpc.StatusCode, str]:
    """The status code and client-safe message for an error."""
    for error_type, code in STATUS_FOR:
        if isinstance(error, error_type):
            return code, str(error)
    return grpc.StatusCode.INTERNAL, INTERNAL_MESSAGE


def abort(context: grpc.ServicerContext, error: BaseException) -> NoReturn:
    code, message = status_for(error)
    if code is grpc.StatusCode.INTERNAL:
        # Never leak a traceback to the client: it goes to our log only.
        _log.exception("rpc.failed", error_type=type(error).__name__)
    context.abort(code, message)


@contextmanager
def rpc_errors(context: grpc.ServicerContext) -> Iterator[None]:
    """Turn any exception raised inside into the mapped status on `context`."""
    try:
        yield
    except Exception as error:
        abort(context, error)
