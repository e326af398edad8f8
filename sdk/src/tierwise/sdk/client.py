"""Synchronous client."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import grpc

from tierwise.sdk import _convert, _requests
from tierwise.sdk._attempts import with_attempts
from tierwise.sdk._channel import call_metadata, channel_credentials, resolve_settings
from tierwise.sdk._outcome_reporter import OutcomeReporter
from tierwise.sdk._requests import Query, RouteOptions, TokenSpec
from tierwise.sdk.errors import TierwiseError, from_rpc_error
from tierwise.sdk.results import (
    Decision,
    LatencyInfo,
    PolicyInfo,
    QuoteResult,
    TierTable,
    WorkloadQuote,
)
from tierwise.sdk.settings import DEFAULT_TARGET, ClientSettings
from tierwise.v1 import (
    admin_pb2,
    admin_pb2_grpc,
    pricing_pb2,
    pricing_pb2_grpc,
    router_pb2,
    router_pb2_grpc,
)


class TierwiseClient:
    """Blocking client. Thread-safe: share one per process.

    >>> with TierwiseClient("127.0.0.1:50051", fail_open_tier="sonnet") as client:
    ...     decision = client.route("Summarise this contract")
    """

    def __init__(
        self,
        target: str = DEFAULT_TARGET,
        *,
        fail_open_tier: str | None = None,
        settings: ClientSettings | None = None,
    ) -> None:
        self.settings = resolve_settings(target, fail_open_tier, settings)
        credentials = channel_credentials(self.settings)
        options = self.settings.channel_options()
        if credentials is None:
            self._channel = grpc.insecure_channel(self.settings.target, options=options)
        else:
            self._channel = grpc.secure_channel(self.settings.target, credentials, options=options)
        self._metadata = call_metadata(self.settings)
        self._router = router_pb2_grpc.RouterServiceStub(self._channel)
        self._pricing = pricing_pb2_grpc.PricingServiceStub(self._channel)
        self._admin = admin_pb2_grpc.AdminServiceStub(self._channel)
        self._reporter: OutcomeReporter | None = None

    def __enter__(self) -> TierwiseClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        if self._reporter is not None:
            self._reporter.close()
        self._channel.close()

    def outcome_reporter(self) -> OutcomeReporter:
        """The background reporter cascades use (created on first use)."""
        if self._reporter is None:
            self._reporter = OutcomeReporter.for_settings(self.settings)
        return self._reporter

    def cascade(self, query: Query, **kwargs: Any) -> Any:
        """Run a cascade: see tierwise.sdk.cascade.cascade for the arguments."""
        from tierwise.sdk.cascade import cascade

        return cascade(self, query, **kwargs)

    def _call(self, method: Any, request: Any, timeout_s: float | None) -> Any:
        try:
            return method(
                request,
                timeout=timeout_s if timeout_s is not None else self.settings.timeout_s,
                metadata=self._metadata,
            )
        except grpc.RpcError as error:
            raise from_rpc_error(error) from error

    def route(
        self,
        query: Query,
        *,
        fail_open_tier: str | None = None,
        timeout_s: float | None = None,
        **options: Any,
    ) -> Decision:
        """Route one query. Options are the fields of RouteOptions (allowed_tiers, ...).

        When the service is unreachable or too slow and a fail-open tier is set (here or on
        the client), returns a Decision with fail_open=True instead of raising."""
        request = _requests.route(query, RouteOptions(**options))
        deadline = timeout_s if timeout_s is not None else self.settings.route_timeout_s
        fallback = fail_open_tier or self.settings.fail_open_tier
        try:
            response: router_pb2.RouteResponse = with_attempts(
                lambda timeout_s: self._call(self._router.Route, request, timeout_s),
                deadline,
                self.settings.route_attempt_fraction,
                self.settings.route_attempts,
            )
        except TierwiseError as error:
            return _convert.fail_open_or_raise(error, fallback)
        return _convert.decision(response)

    def route_many(
        self,
        queries: Iterable[Query],
        *,
        fail_open_tier: str | None = None,
        timeout_s: float | None = None,
        **options: Any,
    ) -> list[Decision]:
        """Route many queries through RouteBatch, in chunks; decisions come back in order."""
        fallback = fail_open_tier or self.settings.fail_open_tier
        decisions: list[Decision] = []
        for batch in _requests.route_batches(queries, RouteOptions(**options)):
            try:
                response = self._call(self._router.RouteBatch, batch, timeout_s)
            except TierwiseError as error:
                decisions.extend(
                    _convert.fail_open_or_raise(error, fallback) for _ in batch.requests
                )
                continue
            decisions.extend(_convert.decision(r) for r in response.responses)
        return decisions

    def quote(
        self,
        tier: str | None = None,
        *,
        input_tokens: int,
        output_tokens: int,
        cache_read_tokens: int = 0,
        cache_write_5m_tokens: int = 0,
        cache_write_1h_tokens: int = 0,
        batch: bool = False,
        timeout_s: float | None = None,
    ) -> QuoteResult:
        """Price one request on `tier`, or on every tier when tier is None."""
        request = _requests.quote(
            tier,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cache_read_tokens=cache_read_tokens,
            cache_write_5m_tokens=cache_write_5m_tokens,
            cache_write_1h_tokens=cache_write_1h_tokens,
            batch=batch,
        )
        response: pricing_pb2.QuoteResponse = self._call(self._pricing.Quote, request, timeout_s)
        return _convert.quote_result(response)

    def quote_workload(
        self,
        *,
        calls_per_month: float,
        input_tokens: TokenSpec,
        output_tokens: TokenSpec,
        cache_hit_rate: float = 0.0,
        batch_share: float = 0.0,
        routed_mix: Mapping[str, float] | None = None,
        self_hosted_fixed_usd_per_month: float | None = None,
        cascade: Sequence[tuple[str, float]] | None = None,
        cascade_start_mix: Mapping[str, float] | None = None,
        timeout_s: float | None = None,
    ) -> WorkloadQuote:
        """Monthly cost of a workload per tier and for a routed mix, with break-even volumes."""
        request = _requests.workload(
            calls_per_month=calls_per_month,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cache_hit_rate=cache_hit_rate,
            batch_share=batch_share,
            routed_mix=routed_mix,
            self_hosted_fixed_usd_per_month=self_hosted_fixed_usd_per_month,
            cascade=cascade,
            cascade_start_mix=cascade_start_mix,
        )
        response = self._call(self._pricing.QuoteWorkload, request, timeout_s)
        return _convert.workload_quote(response)

    def list_tiers(self, *, timeout_s: float | None = None) -> TierTable:
        response = self._call(self._pricing.ListTiers, pricing_pb2.ListTiersRequest(), timeout_s)
        return _convert.tier_table(response)

    def reload_policy(self, policy_toml: str, *, timeout_s: float | None = None) -> PolicyInfo:
        """Validate and activate a policy on the server; the old one keeps serving if invalid."""
        request = _requests.reload_policy(policy_toml)
        return _convert.policy_info(self._call(self._admin.ReloadPolicy, request, timeout_s))

    def reload_latency(
        self, latency_toml: str = "", *, timeout_s: float | None = None
    ) -> LatencyInfo:
        """Activate latency telemetry (TOML from `tierwise latency import`) on the server, or
        re-read its configured latency file (empty text); the old figures stay if invalid."""
        request = _requests.reload_latency(latency_toml)
        return _convert.latency_info(self._call(self._admin.ReloadLatency, request, timeout_s))

    def get_policy(self, *, timeout_s: float | None = None) -> PolicyInfo:
        request = admin_pb2.GetPolicyRequest()
        return _convert.policy_info(self._call(self._admin.GetPolicy, request, timeout_s))
