"""RouterService: validate, route (or reuse a recent decision), log, count."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Final

import grpc
import structlog

from tierwise.server.errors import InvalidRequestError
from tierwise.server.logs import query_fields
from tierwise.server.metrics import Metrics
from tierwise.server.outcomes.recorder import OutcomeRecorder
from tierwise.server.routing.decision_cache import DecisionCache, cache_key
from tierwise.server.routing.router import RouteDecision, RouteInput, Router
from tierwise.server.rpc import plan_messages, route_messages
from tierwise.server.rpc.status import rpc_errors
from tierwise.v1 import router_pb2, router_pb2_grpc

_log = structlog.get_logger("tierwise.server")

# RouteBatch runs the model on this many queries at a time, checking the deadline between.
BATCH_CHUNK: Final = 32


class RouterService(router_pb2_grpc.RouterServiceServicer):
    def __init__(
        self,
        router: Router,
        metrics: Metrics,
        *,
        max_batch_requests: int,
        log_query_text: bool,
        decision_cache_entries: int = 0,
        recorder: OutcomeRecorder | None = None,
    ) -> None:
        self._recorder = recorder
        self._router = router
        self._metrics = metrics
        self._max_batch_requests = max_batch_requests
        self._log_query_text = log_query_text
        self._known_tiers = router.table.ids()
        # 0 turns the cache off: every request runs the model.
        self._cache = (
            DecisionCache(decision_cache_entries, router.policies, router.latency)
            if decision_cache_entries > 0
            else None
        )

    def _record(self, item: RouteInput, decision: RouteDecision, cached: bool) -> None:
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
            cached=cached,
            **query_fields(item.text, self._log_query_text),
        )

    def _decide(self, item: RouteInput) -> tuple[RouteDecision, bool]:
        """(decision, whether it came from the cache)."""
        cache = self._cache
        if cache is None:
            return self._router.route(item), False
        key = cache_key(item)
        # Read before routing: the decision is made under this policy and latency figures or
        # newer ones, and the cache drops it unless these are still the active ones (put's check).
        state = cache.state()
        decision = cache.get(key)
        self._metrics.observe_cache(hit=decision is not None)
        if decision is not None:
            return decision, True
        decision = self._router.route(item)
        cache.put(key, decision, state)
        return decision, False

    def _decide_many(self, items: Sequence[RouteInput]) -> list[tuple[RouteDecision, bool]]:
        cache = self._cache
        if cache is None:
            return [(decision, False) for decision in self._router.route_many(items)]
        keys = [cache_key(item) for item in items]
        state = cache.state()
        found = [cache.get(key) for key in keys]
        for decision in found:
            self._metrics.observe_cache(hit=decision is not None)
        missing = [index for index, decision in enumerate(found) if decision is None]
        fresh = iter(self._router.route_many([items[i] for i in missing]) if missing else ())
        results = []
        for key, decision in zip(keys, found, strict=True):
            if decision is not None:
                results.append((decision, True))
                continue
            new = next(fresh)
            cache.put(key, new, state)
            results.append((new, False))
        return results

    def Route(
        self, request: router_pb2.RouteRequest, context: grpc.ServicerContext
    ) -> router_pb2.RouteResponse:
        with rpc_errors(context):
            item = route_messages.route_input(request, self._known_tiers)
            self._metrics.observe_caller(request.caller, request.feature)
            decision, cached = self._decide(item)
            self._record(item, decision, cached)
            return self._response(request, item, decision)

    def _response(
        self, request: router_pb2.RouteRequest, item: RouteInput, decision: RouteDecision
    ) -> router_pb2.RouteResponse:
        response = route_messages.route_response(decision)
        policy = self._router.policies.current
        plan_messages.apply(response, request, item, decision, policy, self._recorder)
        return response

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
                self._metrics.observe_caller(single.caller, single.feature)
                try:
                    items.append(route_messages.route_input(single, self._known_tiers))
                except InvalidRequestError as error:
                    raise InvalidRequestError(
                        f"requests[{index}].{error.field}", str(error)
                    ) from error
            responses = []
            singles = request.requests
            for start in range(0, len(items), BATCH_CHUNK):
                if not context.is_active():
                    # The client gave up (deadline or cancel): stop spending CPU on it.
                    _log.info("route_batch.abandoned", done=start, total=count)
                    return router_pb2.RouteBatchResponse()
                chunk = items[start : start + BATCH_CHUNK]
                decided = zip(chunk, self._decide_many(chunk), strict=True)
                for offset, (item, (decision, cached)) in enumerate(decided):
                    self._record(item, decision, cached)
                    responses.append(self._response(singles[start + offset], item, decision))
            return router_pb2.RouteBatchResponse(responses=responses)
