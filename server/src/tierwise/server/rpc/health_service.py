"""grpc.health.v1.Health through the same guard as every other RPC.

The stock registration answers a body that does not parse with INTERNAL ("Exception
deserializing request!"); here it is INVALID_ARGUMENT, Check is counted like any RPC, and
Check and Watch run in their own work classes (admission.py) so probes are answered
whatever else the server is doing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc
from google.protobuf.message import DecodeError
from grpc_health.v1 import health, health_pb2

from tierwise.server.metrics import Metrics
from tierwise.server.rpc.handlers import InFlight, service_handler

# A health request is a service name; anything larger is not a probe.
MAX_HEALTH_REQUEST_BYTES = 4096
_SERVICE = health_pb2.DESCRIPTOR.services_by_name["Health"]


def _watch(servicer: health.HealthServicer) -> Any:
    def watch(data: bytes, context: grpc.ServicerContext) -> Iterator[Any]:
        if len(data) > MAX_HEALTH_REQUEST_BYTES:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "not a health request")
        try:
            request = health_pb2.HealthCheckRequest.FromString(data)
        except (DecodeError, ValueError, UnicodeDecodeError) as error:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"not a HealthCheckRequest: {error}")
        yield from servicer.Watch(request, context)

    return grpc.unary_stream_rpc_method_handler(
        watch, response_serializer=health_pb2.HealthCheckResponse.SerializeToString
    )


def health_handler(
    servicer: health.HealthServicer, metrics: Metrics, in_flight: InFlight
) -> grpc.GenericRpcHandler[Any, Any]:
    check = service_handler(
        _SERVICE,
        servicer,  # Check and List are unary: the guard's; Watch streams, below
        metrics,
        auth_tokens=(),
        in_flight=in_flight,
        max_message_bytes=MAX_HEALTH_REQUEST_BYTES,
    )
    watch = _watch(servicer)

    class _Handler(grpc.GenericRpcHandler):  # type: ignore[type-arg]
        def service(self, details: grpc.HandlerCallDetails) -> Any:
            if details.method == f"/{health.SERVICE_NAME}/Watch":
                return watch
            return check.service(details)

    return _Handler()
