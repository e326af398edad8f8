"""The health check that brings an ejected replica back, as raw bytes.

The SDK does not depend on grpc_health: the request is an empty HealthCheckRequest and
the answer that counts is HealthCheckResponse{status: SERVING}, both tiny on the wire.
"""

from __future__ import annotations

from typing import Final

import grpc

HEALTH_CHECK_METHOD: Final = "/grpc.health.v1.Health/Check"
EMPTY_REQUEST: Final = b""
# Field 1 (status), varint 1 (SERVING).
SERVING_RESPONSE: Final = b"\x08\x01"


def answered(code: grpc.StatusCode | None, response: bytes | None) -> bool:
    """Whether a probe shows the replica is back: SERVING, or health turned off on the
    server (UNIMPLEMENTED: it answered, so it is not hung). NOT_SERVING (draining) is not."""
    if code is None:
        return response == SERVING_RESPONSE
    return code is grpc.StatusCode.UNIMPLEMENTED
