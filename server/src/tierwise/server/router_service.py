"""RouterService: validate, route, log, count."""

from __future__ import annotations

import logging
from typing import Final

import grpc
import structlog

from tierwise.server import route_messages
from tierwise.server.errors import InvalidRequestError
from tierwise.server.logs import query_fields
from tierwise.server.metrics import Metrics
from tierwise.server.router import RouteDecision, RouteInput, Router
from tierwise.server.status import rpc_errors
from tierwise.v1 import router_pb2, router_pb2_grpc

_log = structlog.get_logger("tierwise.server")

# RouteBatch runs the model on this many queries at a time, checking the deadline between.
BATCH_CHUNK: Final = 32


class RouterService(router_pb2_grpc.RouterServiceServicer):
    def __init__(
        self, router: Router, metrics: Metrics, *, max_batch_requests: int, log_query_text: bool
    ) -> None:
        self._router = router
        self._metrics = metrics
        self._max_batch_requests = max_batch_requests
        self._log_query_text = log_query_text
        self._known_tiers = router.table.ids()

    def _record(self, item: RouteInput, decision: RouteDecision) -> None:
        self._metrics.observe_decision(decision)
        # Debug level: one line per decision is too much for the hot path by default (metrics
        # carry the aggregates); `--log-level debug` turns the audit trail on. The check keeps
        # the query hash and the fields from being computed for a line nobody writes.
        if not _log.is_enabled_for(logging.DEBUG):
            return
        _log.debug(
            "route.decided",
            tier=decision.tier,
            reason_code=decision.reason_code.value,
            difficulty=round(decision.difficulty, 4),
            escalated=decision.escalated,
            out_of_distribution=decision.out_of_distribution,
            truncated=decision.truncated,
            **query_fields(item.text, self._log_query_text),
        )

    def Route(
        self, request: router_pb2.RouteRequest, context: grpc.ServicerContext
    ) -> router_pb2.RouteResponse:
        with rpc_errors(context):
            item = route_messages.route_input(request, self._known_tiers)
            decision = self._router.route(item)
            self._record(item, decision)
            return route_messages.route_response(decision)

    def RouteBatch(
        self, request: router_pb2.RouteBatchRequest, context: grpc.ServicerContext
    ) -> router_pb2.RouteBatchResponse:
        with rpc_errors(context):
            count = len(request.requests)
            if count > self._max_batch_requests:
                raise InvalidRequestError(
                    "requests", f"at most {self._max_batch_requests} per call (got {count})"
                )
            items = []
            for index, single in enumerate(request.requests):
                try:
                    items.append(route_messages.route_input(single, self._known_tiers))
                except InvalidRequestError as error:
                    raise InvalidRequestError(
                        f"requests[{index}].{error.field}", str(error)
                    ) from error
            responses = []
            for start in range(0, len(items), BATCH_CHUNK):
                if not context.is_active():
                    # The client gave up (deadline or cancel): stop spending CPU on it.
                    _log.info("route_batch.abandoned", done=start, total=count)
                    return router_pb2.RouteBatchResponse()
                chunk = items[start : start + BATCH_CHUNK]
                for item, decision in zip(chunk, self._router.route_many(chunk), strict=True):
                    self._record(item, decision)
                    responses.append(route_messages.route_response(decision))
            return router_pb2.RouteBatchResponse(responses=responses)
