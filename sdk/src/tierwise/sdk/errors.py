"""The SDK's exception tree: callers catch these, never grpc.RpcError."""

from __future__ import annotations

from typing import Final

import grpc


class TierwiseError(Exception):
    """Base class of every error the SDK raises."""

    def __init__(self, message: str, code: grpc.StatusCode | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class InvalidArgumentError(TierwiseError):
    """The request was malformed: the message names the field."""


class FailedPreconditionError(TierwiseError):
    """The request is valid but cannot be served as asked (e.g. a deployment that does not fit)."""


class NotFoundError(TierwiseError):
    """A named resource does not exist."""


class UnavailableError(TierwiseError):
    """The service could not be reached (after the channel's retries)."""


class DeadlineExceededError(TierwiseError):
    """The call did not finish within its deadline."""


class ResourceExhaustedError(TierwiseError):
    """The service is at capacity or the message is too large; back off and retry."""


class UnauthenticatedError(TierwiseError):
    """Missing or wrong credentials."""


class PermissionDeniedError(TierwiseError):
    """The credentials do not allow this call."""


class UnimplementedError(TierwiseError):
    """The service does not implement this call."""


class InternalError(TierwiseError):
    """The service failed; details are in its logs, never in the message."""


_ERROR_FOR: Final[dict[grpc.StatusCode, type[TierwiseError]]] = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgumentError,
    grpc.StatusCode.OUT_OF_RANGE: InvalidArgumentError,
    grpc.StatusCode.FAILED_PRECONDITION: FailedPreconditionError,
    grpc.StatusCode.NOT_FOUND: NotFoundError,
    grpc.StatusCode.UNAVAILABLE: UnavailableError,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceededError,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ResourceExhaustedError,
    grpc.StatusCode.UNAUTHENTICATED: UnauthenticatedError,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDeniedError,
    grpc.StatusCode.UNIMPLEMENTED: UnimplementedError,
    grpc.StatusCode.INTERNAL: InternalError,
}

# Codes that mean "the service could not give a decision" (unreachable, too slow, overloaded,
# failing): route() falls back to the caller's fail-open tier on these. Errors that are the
# caller's to fix (INVALID_ARGUMENT, UNAUTHENTICATED, ...) still raise.
FAIL_OPEN_CODES: Final[frozenset[grpc.StatusCode]] = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.CANCELLED,
    }
)


def from_rpc_error(error: grpc.RpcError) -> TierwiseError:
    """Translate a gRPC error into the SDK's own exception."""
    # grpc.aio's AioRpcError is not a grpc.Call, so read code()/details() by duck typing.
    code_fn = getattr(error, "code", None)
    details_fn = getattr(error, "details", None)
    raw_code = code_fn() if callable(code_fn) else None
    raw_details = details_fn() if callable(details_fn) else None
    code = raw_code if isinstance(raw_code, grpc.StatusCode) else None
    details = raw_details if isinstance(raw_details, str) else ""
    message = details or (code.name.lower() if code is not None else str(error))
    error_type = _ERROR_FOR.get(code, TierwiseError) if code is not None else TierwiseError
    return error_type(message, code)
