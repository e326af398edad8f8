"""asyncio client: the same calls as TierwiseClient, as coroutines.

Create it inside the running event loop (grpc.aio channels bind to the loop they start on).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from typing import Any

import grpc
import grpc.aio

from tierwise.sdk import _convert, _requests
from tierwise.sdk._attempts import other_plan, route_plan, with_attempts_async
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

_Endpoint = Endpoint[grpc.aio.Channel]


class AsyncTierwiseClient:
    """Non-blocking client; `async with AsyncTierwiseClient(...) as client: ...`.

    Replicas, per-attempt timeouts and ejection work as in TierwiseClient; probes and DNS
    refreshes run as tasks on the client's loop."""

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
        # Strong references: the loop keeps only weak ones to running tasks.
        self._tasks: set[asyncio.Task[None]] = set()
        self._reporter: OutcomeReporter | None = None

    def _connect(self, address: str) -> _Endpoint:
        options = replica_options(self.settings, address)
        if self._credentials is None:
            return endpoint(grpc.aio.insecure_channel(address, options=options))
        return endpoint(grpc.aio.secure_channel(address, self._credentials, options=options))

    async def __aenter__(self) -> AsyncTierwiseClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._reporter is not None:
            # Off the loop: closing waits (bounded) for queued reports to go out.
            await asyncio.to_thread(self._reporter.close)
        for replica in self._replicas.all():
            await replica.endpoint.channel.close(grace=None)
        for retired in self._retired:
            await retired.channel.close(grace=None)

    @property
    def replica_addresses(self) -> tuple[str, ...]:
        """See TierwiseClient.replica_addresses."""
        return self._replicas.addresses

    @property
    def ejected_replicas(self) -> tuple[str, ...]:
        """See TierwiseClient.ejected_replicas."""
        return self._replicas.ejected

    def outcome_reporter(self) -> OutcomeReporter:
        """The background reporter cascades use (created on first use)."""
        if self._reporter is None:
            self._reporter = OutcomeReporter.for_settings(self.settings)
        return self._reporter

    async def cascade(self, query: Query, **kwargs: Any) -> Any:
        """Run a cascade: see tierwise.sdk.cascade.cascade_async for the arguments."""
        from tierwise.sdk.cascade import cascade_async

        return await cascade_async(self, query, **kwargs)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _maintain(self) -> None:
        """See TierwiseClient._maintain: here as tasks, never awaited by the caller."""
        for replica in self._replicas.due_for_probe():
            self._spawn(self._probe(replica))
        if self._dns is not None and self._dns_schedule.claim():
            self._spawn(self._refresh_dns())

    async def _probe(self, replica: Replica[_Endpoint]) -> None:
        ok = False
        try:
            response = await replica.endpoint.health_check(
                EMPTY_REQUEST, timeout=self.settings.probe_timeout_s, metadata=self._metadata
            )
            ok = answered(None, response)
        except grpc.RpcError as error:
            code = error.code() if callable(getattr(error, "code", None)) else None
            ok = answered(code or grpc.StatusCode.UNKNOWN, None)
        finally:
            # Also when cancelled (client closing): never leave it marked as being probed.
            self._replicas.probed(replica, ok)

    async def _refresh_dns(self) -> None:
        assert self._dns is not None
        try:
            try:
                addresses = await asyncio.to_thread(resolve, self._dns)
            except OSError:
                addresses = ()
            if addresses:
                # As in TierwiseClient: removed channels are closed one refresh later.
                for old in self._retired:
                    await old.channel.close(grace=None)
                self._retired = self._replicas.replace(addresses, self._connect)
        finally:
            self._dns_schedule.finished()

    async def _call(self, method: Any, request: Any, timeout_s: float | None) -> Any:
        try:
            return await method(
                request,
                timeout=timeout_s if timeout_s is not None else self.settings.timeout_s,
                metadata=self._metadata,
            )
        except grpc.RpcError as error:
            raise from_rpc_error(error) from error

    async def _invoke(
        self, method: Callable[[_Endpoint], Any], request: Any, timeout_s: float | None
    ) -> Any:
        """See TierwiseClient._invoke."""
        self._maintain()
        plan = other_plan(self.settings, timeout_s, len(self._replicas))
        return await with_attempts_async(
            lambda e, t: self._call(method(e), request, t), self._replicas, plan
        )

    async def route(
        self,
        query: Query,
        *,
        fail_open_tier: str | None = None,
        timeout_s: float | None = None,
        **options: Any,
    ) -> Decision:
        """See TierwiseClient.route: the same per-attempt timeouts and replica ejection."""
        request = _requests.route(query, RouteOptions(**options))
        fallback = fail_open_tier or self.settings.fail_open_tier
        self._maintain()
        try:
            response: router_pb2.RouteResponse = await with_attempts_async(
                lambda e, t: self._call(e.router.Route, request, t),
                self._replicas,
                route_plan(self.settings, timeout_s),
            )
        except TierwiseError as error:
            return _convert.fail_open_or_raise(error, fallback)
        return _convert.decision(response)

    async def route_many(
        self,
        queries: Iterable[Query],
        *,
        fail_open_tier: str | None = None,
        timeout_s: float | None = None,
        **options: Any,
    ) -> list[Decision]:
        """See TierwiseClient.route_many."""
        fallback = fail_open_tier or self.settings.fail_open_tier
        decisions: list[Decision] = []
        for batch in _requests.route_batches(queries, RouteOptions(**options)):
            try:
                response = await self._invoke(lambda e: e.router.RouteBatch, batch, timeout_s)
            except TierwiseError as error:
                decisions.extend(
                    _convert.fail_open_or_raise(error, fallback) for _ in batch.requests
                )
                continue
            decisions.extend(_convert.decision(r) for r in response.responses)
        return decisions

    async def quote(
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
        """See TierwiseClient.quote."""
        request = _requests.quote(
            tier,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cache_read_tokens=cache_read_tokens,
            cache_write_5m_tokens=cache_write_5m_tokens,
            cache_write_1h_tokens=cache_write_1h_tokens,
            batch=batch,
        )
        response = await self._invoke(lambda e: e.pricing.Quote, request, timeout_s)
        return _convert.quote_result(response)

    async def quote_workload(
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
        """See TierwiseClient.quote_workload."""
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
        response = await self._invoke(lambda e: e.pricing.QuoteWorkload, request, timeout_s)
        return _convert.workload_quote(response)

    async def list_tiers(self, *, timeout_s: float | None = None) -> TierTable:
        request = pricing_pb2.ListTiersRequest()
        return _convert.tier_table(
            await self._invoke(lambda e: e.pricing.ListTiers, request, timeout_s)
        )

    async def reload_policy(
        self, policy_toml: str, *, timeout_s: float | None = None
    ) -> PolicyInfo:
        request = _requests.reload_policy(policy_toml)
        return _convert.policy_info(
            await self._invoke(lambda e: e.admin.ReloadPolicy, request, timeout_s)
        )

    async def reload_latency(
        self, latency_toml: str = "", *, timeout_s: float | None = None
    ) -> LatencyInfo:
        """See TierwiseClient.reload_latency."""
        request = _requests.reload_latency(latency_toml)
        response = await self._invoke(lambda e: e.admin.ReloadLatency, request, timeout_s)
        return _convert.latency_info(response)

    async def get_policy(self, *, timeout_s: float | None = None) -> PolicyInfo:
        request = admin_pb2.GetPolicyRequest()
        return _convert.policy_info(
            await self._invoke(lambda e: e.admin.GetPolicy, request, timeout_s)
        )
