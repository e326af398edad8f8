"""Synchronous client."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import grpc

from tierwise.sdk import _convert, _requests
from tierwise.sdk._attempts import other_plan, route_plan, with_attempts
from tierwise.sdk._channel import (
    Endpoint,
    RefreshSchedule,
    call_metadata,
    channel_credentials,
    ejection_policy,
    endpoint,
    initial_replicas,
    replica_options,
    resolve_settings,
)
from tierwise.sdk._health_probe import EMPTY_REQUEST, answered
from tierwise.sdk._outcome_reporter import OutcomeReporter
from tierwise.sdk._replicas import Replica, ReplicaSet
from tierwise.sdk._requests import Query, RouteOptions, TokenSpec
from tierwise.sdk._targets import dns_name, resolve
from tierwise.sdk.errors import TierwiseError, from_rpc_error
from tierwise.sdk.results import (
    Decision,
    LatencyInfo,
    PolicyInfo,
    Purchase,
    QuoteResult,
    TierTable,
    WorkloadQuote,
)
from tierwise.sdk.settings import DEFAULT_TARGET, ClientSettings
from tierwise.v1 import admin_pb2, pricing_pb2, router_pb2

_Endpoint = Endpoint[grpc.Channel]


class TierwiseClient:
    """Blocking client. Thread-safe: share one per process.

    >>> with TierwiseClient("127.0.0.1:50051", fail_open_tier="sonnet") as client:
    ...     decision = client.route("Summarise this contract")

    With several replicas (an "ipv4:" list or a "dns:" name) it keeps a channel per replica
    and ejects one that hangs (see _replicas.py).
    """

    def __init__(
        self,
        target: str = DEFAULT_TARGET,
        *,
        fail_open_tier: str | None = None,
        settings: ClientSettings | None = None,
    ) -> None:
        self.settings = resolve_settings(target, fail_open_tier, settings)
        self._credentials = channel_credentials(self.settings)
        self._metadata = call_metadata(self.settings)
        self._replicas: ReplicaSet[_Endpoint] = ReplicaSet(
            ((a, self._connect(a)) for a in initial_replicas(self.settings)),
            ejection_policy(self.settings),
        )
        self._dns = dns_name(self.settings.target)
        self._dns_schedule = RefreshSchedule(self.settings.dns_refresh_s)
        self._retired: list[_Endpoint] = []
        self._closed = False
        self._reporter: OutcomeReporter | None = None

    def _connect(self, address: str) -> _Endpoint:
        options = replica_options(self.settings, address)
        if self._credentials is None:
            return endpoint(grpc.insecure_channel(address, options=options))
        return endpoint(grpc.secure_channel(address, self._credentials, options=options))

    def __enter__(self) -> TierwiseClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._closed = True
        if self._reporter is not None:
            self._reporter.close()
        for replica in self._replicas.all():
            replica.endpoint.channel.close()
        for retired in self._retired:
            retired.channel.close()

    @property
    def replica_addresses(self) -> tuple[str, ...]:
        """The replicas this client spreads calls over (one per address of a "dns:" name)."""
        return self._replicas.addresses

    @property
    def ejected_replicas(self) -> tuple[str, ...]:
        """Replicas left out of rotation right now (timed out; not yet answering health)."""
        return self._replicas.ejected

    def outcome_reporter(self) -> OutcomeReporter:
        """The background reporter cascades use (created on first use)."""
        if self._reporter is None:
            self._reporter = OutcomeReporter.for_settings(self.settings)
        return self._reporter

    def cascade(self, query: Query, **kwargs: Any) -> Any:
        """Run a cascade: see tierwise.sdk.cascade.cascade for the arguments."""
        from tierwise.sdk.cascade import cascade

        return cascade(self, query, **kwargs)

    def _maintain(self) -> None:
        """Probe replicas whose ejection is over; refresh a "dns:" name when it is due.
        Both run off the caller's path (grpc's callback thread, a short-lived thread)."""
        for replica in self._replicas.due_for_probe():
            future = replica.endpoint.health_check.future(
                EMPTY_REQUEST, timeout=self.settings.probe_timeout_s, metadata=self._metadata
            )
            future.add_done_callback(functools.partial(self._probed, replica))
        if self._dns is not None and self._dns_schedule.claim():
            threading.Thread(target=self._refresh_dns, name="tierwise-dns", daemon=True).start()

    def _probed(self, replica: Replica[_Endpoint], future: grpc.Future[bytes]) -> None:
        error = future.exception()
        if error is None:
            self._replicas.probed(replica, answered(None, future.result()))
        else:
            code = error.code() if isinstance(error, grpc.Call) else None
            self._replicas.probed(replica, answered(code or grpc.StatusCode.UNKNOWN, None))

    def _refresh_dns(self) -> None:
        assert self._dns is not None
        try:
            addresses = resolve(self._dns)
        except OSError:
            addresses = ()
        try:
            if addresses and not self._closed:
                # Closing a channel cancels its calls: the removed ones are closed one
                # refresh later, when nothing can still be using them.
                for old in self._retired:
                    old.channel.close()
                self._retired = self._replicas.replace(addresses, self._connect)
        finally:
            self._dns_schedule.finished()

    def _call(self, method: Any, request: Any, timeout_s: float | None) -> Any:
        try:
            return method(
                request,
                timeout=timeout_s if timeout_s is not None else self.settings.timeout_s,
                metadata=self._metadata,
            )
        except grpc.RpcError as error:
            raise from_rpc_error(error) from error

    def _invoke(
        self, method: Callable[[_Endpoint], Any], request: Any, timeout_s: float | None
    ) -> Any:
        """Anything but route(): the whole timeout on one replica; UNAVAILABLE (which also
        ejects it) moves the call to another."""
        self._maintain()
        plan = other_plan(self.settings, timeout_s, len(self._replicas))
        return with_attempts(lambda e, t: self._call(method(e), request, t), self._replicas, plan)

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
        fallback = fail_open_tier or self.settings.fail_open_tier
        self._maintain()
        try:
            response: router_pb2.RouteResponse = with_attempts(
                lambda e, t: self._call(e.router.Route, request, t),
                self._replicas,
                route_plan(self.settings, timeout_s),
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
                response = self._invoke(lambda e: e.router.RouteBatch, batch, timeout_s)
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
        response: pricing_pb2.QuoteResponse = self._invoke(
            lambda e: e.pricing.Quote, request, timeout_s
        )
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
        peak_to_average: float | None = None,
        hourly_profile: Sequence[float] | None = None,
        autoscale: bool = False,
        purchase: Purchase = "on-demand",
        timeout_s: float | None = None,
    ) -> WorkloadQuote:
        """Monthly cost of a workload per tier and for a routed mix, with break-even volumes.

        Self-hosted tiers are sized for the peak hour: ``peak_to_average`` (>= 1) or a 24-entry
        ``hourly_profile`` (not both); ``autoscale`` (with a profile) pays each hour only for
        the instances it needs. ``purchase`` picks on-demand, reserved or spot GPUs; the
        result compares all three in ``purchase_options``.
        """
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
            peak_to_average=peak_to_average,
            hourly_profile=hourly_profile,
            autoscale=autoscale,
            purchase=purchase,
        )
        response = self._invoke(lambda e: e.pricing.QuoteWorkload, request, timeout_s)
        return _convert.workload_quote(response)

    def list_tiers(self, *, timeout_s: float | None = None) -> TierTable:
        response = self._invoke(
            lambda e: e.pricing.ListTiers, pricing_pb2.ListTiersRequest(), timeout_s
        )
        return _convert.tier_table(response)

    def reload_policy(self, policy_toml: str, *, timeout_s: float | None = None) -> PolicyInfo:
        """Validate and activate a policy on the server; the old one keeps serving if invalid."""
        request = _requests.reload_policy(policy_toml)
        response = self._invoke(lambda e: e.admin.ReloadPolicy, request, timeout_s)
        return _convert.policy_info(response)

    def reload_latency(
        self, latency_toml: str = "", *, timeout_s: float | None = None
    ) -> LatencyInfo:
        """Activate latency telemetry (TOML from `tierwise latency import`) on the server, or
        re-read its configured latency file (empty text); the old figures stay if invalid."""
        request = _requests.reload_latency(latency_toml)
        response = self._invoke(lambda e: e.admin.ReloadLatency, request, timeout_s)
        return _convert.latency_info(response)

    def get_policy(self, *, timeout_s: float | None = None) -> PolicyInfo:
        request = admin_pb2.GetPolicyRequest()
        return _convert.policy_info(self._invoke(lambda e: e.admin.GetPolicy, request, timeout_s))
