"""Prometheus metrics of one server instance (its own registry, so tests can run several)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server

from tierwise.server.routing.router import RouteDecision

# Routing lives in the low milliseconds; quotes and batches take longer.
_LATENCY_BUCKETS_S = (0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0, 5.0)
# The method label of a name the server does not serve: callers choose method names (before
# auth), so taking them verbatim would let anyone create series without bound.
UNKNOWN_METHOD: Final = "unknown"
# The caller/feature label of a value not in the configured set.
OTHER_LABEL: Final = "other"
# tierwise_latency_bound_total's label for each latency reason code (a fixed set).
_LATENCY_BOUND: Final = {
    "TTFT_LIMITED": "max_ttft_ms",
    "LATENCY_LIMITED": "max_latency_ms",
    "SPEED_LIMITED": "min_output_tokens_per_s",
    "NONE_MEETS_LATENCY": "none_meets",
}


class LabelSet:
    """A fixed set of label values; anything else is OTHER_LABEL and an empty value "none"."""

    def __init__(self, allowed: Iterable[str]) -> None:
        self._allowed = frozenset(allowed)

    def __call__(self, value: str) -> str:
        if not value:
            return "none"
        return value if value in self._allowed else OTHER_LABEL


class Metrics:
    def __init__(
        self,
        known_methods: Iterable[str] | None = None,
        *,
        callers: Iterable[str] = (),
        features: Iterable[str] = (),
    ) -> None:
        """known_methods: the method label's values (None: any; tests that build a bare
        instance). callers/features: RouteRequest.caller and .feature values kept as labels."""
        self.registry = CollectorRegistry()
        self._known_methods = None if known_methods is None else frozenset(known_methods)
        self._caller_label = LabelSet(callers)
        self._feature_label = LabelSet(features)
        self._route_cache: dict[tuple[str, str], Counter] = {}
        self._http_server: WSGIServer | None = None
        self._rpc_cache: dict[tuple[str, str], tuple[Counter, Histogram]] = {}
        self._tier_cache: dict[str, tuple[Counter, Counter]] = {}
        self.requests = Counter(
            "tierwise_requests_total",
            "RPCs by method and status.",
            ["method", "code"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "tierwise_request_latency_seconds",
            "RPC latency by method.",
            ["method"],
            buckets=_LATENCY_BUCKETS_S,
            registry=self.registry,
        )
        self.decisions = Counter(
            "tierwise_decisions_total",
            "Routing decisions by chosen tier.",
            ["tier"],
            registry=self.registry,
        )
        self.escalations = Counter(
            "tierwise_escalations_total", "Decisions escalated one tier.", registry=self.registry
        )
        self.out_of_distribution = Counter(
            "tierwise_out_of_distribution_total",
            "Queries flagged out of distribution.",
            registry=self.registry,
        )
        self.none_meets_target = Counter(
            "tierwise_none_meets_target_total",
            "Decisions where no allowed tier met the target.",
            registry=self.registry,
        )
        self.quoted_usd = Counter(
            "tierwise_quoted_usd_total",
            "Sum of quoted cost of chosen tiers, USD.",
            ["tier"],
            registry=self.registry,
        )
        self.decision_cache = Counter(
            "tierwise_decision_cache_total",
            "Decision cache lookups by result (hit: the model did not run).",
            ["result"],
            registry=self.registry,
        )
        self._cache_hit = self.decision_cache.labels(result="hit")
        self._cache_miss = self.decision_cache.labels(result="miss")
        self.routes_by_caller = Counter(
            "tierwise_routes_by_caller_total",
            "Routed queries by RouteRequest.caller and .feature (values outside the configured "
            "sets are 'other', empty ones 'none').",
            ["caller", "feature"],
            registry=self.registry,
        )
        self.policy_reloads = Counter(
            "tierwise_policy_reloads_total",
            "Policy reload attempts by result.",
            ["result"],
            registry=self.registry,
        )
        self.latency_bound = Counter(
            "tierwise_latency_bound_total",
            "Decisions a latency constraint moved off the tier quality and cost would pick "
            "(constraint: the one that tier missed), or where no tier met them (none_meets).",
            ["constraint"],
            registry=self.registry,
        )
        self.latency_reloads = Counter(
            "tierwise_latency_reloads_total",
            "Latency telemetry reload attempts by result.",
            ["result"],
            registry=self.registry,
        )

    # Label children are looked up once per label set: .labels() takes a lock and builds a
    # key on every call, which showed up in the per-route profile. (A racing first lookup
    # just stores the same child twice.)
    def _rpc_children(self, method: str, code: str) -> tuple[Counter, Histogram]:
        key = (method, code)
        children = self._rpc_cache.get(key)
        if children is None:
            children = (
                self.requests.labels(method=method, code=code),
                self.latency.labels(method=method),
            )
            self._rpc_cache[key] = children
        return children

    def _tier_children(self, tier: str) -> tuple[Counter, Counter]:
        children = self._tier_cache.get(tier)
        if children is None:
            children = (self.decisions.labels(tier=tier), self.quoted_usd.labels(tier=tier))
            self._tier_cache[tier] = children
        return children

    def method_label(self, method: str) -> str:
        known = self._known_methods
        return method if known is None or method in known else UNKNOWN_METHOD

    def observe_rpc(self, method: str, code: str, seconds: float) -> None:
        requests, latency = self._rpc_children(self.method_label(method), code)
        requests.inc()
        latency.observe(seconds)

    def observe_decision(self, decision: RouteDecision) -> None:
        decisions, quoted_usd = self._tier_children(decision.tier)
        decisions.inc()
        chosen = next(e for e in decision.estimates if e.tier == decision.tier)
        quoted_usd.inc(chosen.quoted_usd)
        if decision.escalated:
            self.escalations.inc()
        if decision.out_of_distribution:
            self.out_of_distribution.inc()
        code = decision.reason_code.value
        if code == "NONE_MEETS_TARGET":
            self.none_meets_target.inc()
        bound = _LATENCY_BOUND.get(code)
        if bound is not None:
            self.latency_bound.labels(constraint=bound).inc()

    def observe_caller(self, caller: str, feature: str) -> None:
        key = (self._caller_label(caller), self._feature_label(feature))
        child = self._route_cache.get(key)
        if child is None:
            child = self.routes_by_caller.labels(caller=key[0], feature=key[1])
            self._route_cache[key] = child
        child.inc()

    def observe_cache(self, hit: bool) -> None:
        (self._cache_hit if hit else self._cache_miss).inc()

    def serve_http(self, address: str) -> int:
        """Expose /metrics on host:port (port 0 picks one); returns the bound port."""
        host, _, port = address.rpartition(":")
        server, _thread = start_http_server(
            int(port), addr=host or "127.0.0.1", registry=self.registry
        )
        self._http_server = server
        bound: int = server.server_port
        return bound

    def stop_http(self) -> None:
        if self._http_server is not None:
            self._http_server.shutdown()
            self._http_server.server_close()
            self._http_server = None
