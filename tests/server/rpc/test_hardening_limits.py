"""Limits and back-pressure: message size, concurrent RPCs, deadlines honoured server-side."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import grpc
import pytest

from tierwise.sdk import ClientSettings, ResourceExhaustedError, TierwiseClient
from tierwise.server.config import ServerSettings
from tierwise.server.routing.router import RouteDecision, RouteInput, Router
from tierwise.server.rpc import router_service
from tierwise.server.rpc.app import Components, TierwiseServer, load_components
from tierwise.v1 import router_pb2, router_pb2_grpc

EASY = "what is 2 + 2"
ROUTE = "tierwise.v1.RouterService/Route"


class SlowRouter(Router):
    """The real router, slowed down by `delay_s` per model call (counts the calls)."""

    def __init__(self, base: Router, delay_s: float) -> None:
        super().__init__(base.model, base.table, base.policies)
        self.delay_s = delay_s
        self.calls = 0
        self._lock = threading.Lock()

    def route_many(self, items: Sequence[RouteInput]) -> list[RouteDecision]:
        with self._lock:
            self.calls += 1
        time.sleep(self.delay_s)
        return super().route_many(items)


class RecordingLog:
    """Stands in for a module's structlog logger: keeps (event, fields)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def _record(self, event: str, **fields: Any) -> None:
        self.events.append((event, fields))

    info = warning = error = exception = debug = _record

    def is_enabled_for(self, level: int) -> bool:
        return True


def _server(settings: ServerSettings, delay_s: float | None = None) -> tuple[TierwiseServer, Any]:
    components = load_components(settings)
    router: Router = components.router
    if delay_s is not None:
        router = SlowRouter(components.router, delay_s)
        components = Components(components.table, components.model, components.policies, router)
    server = TierwiseServer(settings, components)
    server.start()
    return server, router


@pytest.fixture
def small_limits(tiny_bundle: Path, test_policy_file: Path) -> ServerSettings:
    return ServerSettings(
        address="127.0.0.1:0",
        model_dir=tiny_bundle,
        policy_file=test_policy_file,
        max_workers=2,
        max_concurrent_rpcs=2,
        max_message_bytes=64 * 1024,
        grace_s=0.5,
    )


@pytest.fixture
def slow_server(small_limits: ServerSettings) -> Iterator[tuple[TierwiseServer, SlowRouter]]:
    server, router = _server(small_limits, delay_s=0.6)
    yield server, router
    server.stop(0)


def test_oversized_request_is_resource_exhausted_and_the_server_keeps_serving(
    small_limits: ServerSettings,
) -> None:
    server, _ = _server(small_limits)
    try:
        with TierwiseClient(f"127.0.0.1:{server.port}") as client:
            started = time.monotonic()
            with pytest.raises(ResourceExhaustedError):
                client.route("what is 2 + 2 " * 10_000)  # ~140 KB > 64 KB
            assert time.monotonic() - started < 1.0
            with pytest.raises(ResourceExhaustedError):
                client.route_many(["what is the capital of france " * 100] * 40)  # ~120 KB
            # Just under the limit is fine.
            assert not client.route("hello " * 8_000).fail_open
            assert client.route(EASY).tier == "self-hosted"
    finally:
        server.stop(0)


def test_excess_concurrent_rpcs_are_rejected_at_once_not_queued(
    slow_server: tuple[TierwiseServer, SlowRouter],
) -> None:
    server, _ = slow_server
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        stub = router_pb2_grpc.RouterServiceStub(channel)
        request = router_pb2.RouteRequest(query=EASY)
        # Two slow RPCs occupy both slots...
        busy = [stub.Route.future(request, timeout=10) for _ in range(2)]
        time.sleep(0.2)
        # ...so six more are turned away immediately instead of waiting ~2 s in a queue.
        rejected_codes = []
        for _ in range(6):
            started = time.monotonic()
            with pytest.raises(grpc.RpcError) as raised:
                stub.Route(request, timeout=5)
            rejected_codes.append((raised.value.code(), time.monotonic() - started))
        assert all(code == grpc.StatusCode.RESOURCE_EXHAUSTED for code, _ in rejected_codes)
        assert max(elapsed for _, elapsed in rejected_codes) < 0.3
        assert all(f.result(timeout=10).tier for f in busy)
        # Capacity is back once they finish.
        assert stub.Route(request, timeout=5).tier == "self-hosted"


def test_rejected_rpcs_are_counted_in_the_metrics(
    slow_server: tuple[TierwiseServer, SlowRouter],
) -> None:
    server, _ = slow_server
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        stub = router_pb2_grpc.RouterServiceStub(channel)
        request = router_pb2.RouteRequest(query=EASY)
        busy = [stub.Route.future(request, timeout=10) for _ in range(2)]
        time.sleep(0.2)
        with pytest.raises(grpc.RpcError):
            stub.Route(request, timeout=5)
        for future in busy:
            future.result(timeout=10)
    counter = server.metrics.requests.labels(method=ROUTE, code="RESOURCE_EXHAUSTED")
    assert counter._value.get() >= 1


def test_route_batch_past_its_deadline_is_abandoned_server_side(
    slow_server: tuple[TierwiseServer, SlowRouter], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, router = slow_server
    log = RecordingLog()
    monkeypatch.setattr(router_service, "_log", log)
    chunks = 10
    batch = router_pb2.RouteBatchRequest(
        requests=[router_pb2.RouteRequest(query=EASY)] * (router_service.BATCH_CHUNK * chunks)
    )
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        stub = router_pb2_grpc.RouterServiceStub(channel)
        started = time.monotonic()
        with pytest.raises(grpc.RpcError) as raised:
            stub.RouteBatch(batch, timeout=0.3)
        assert raised.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        assert time.monotonic() - started < 0.6
        # Without the check the server would spend 10 x 0.6 s on it; it stops after the
        # chunk in flight when the deadline passed.
        deadline = time.monotonic() + 5
        while not any(event == "route_batch.abandoned" for event, _ in log.events):
            assert time.monotonic() < deadline, log.events
            time.sleep(0.05)
    time.sleep(0.7)
    assert router.calls <= 2
    fields = next(f for event, f in log.events if event == "route_batch.abandoned")
    assert fields["total"] == router_service.BATCH_CHUNK * chunks
    assert fields["done"] < fields["total"]


def test_abandoned_batch_is_not_counted_as_ok(
    slow_server: tuple[TierwiseServer, SlowRouter],
) -> None:
    server, _ = slow_server
    batch = router_pb2.RouteBatchRequest(
        requests=[router_pb2.RouteRequest(query=EASY)] * (router_service.BATCH_CHUNK * 4)
    )
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        stub = router_pb2_grpc.RouterServiceStub(channel)
        with pytest.raises(grpc.RpcError):
            stub.RouteBatch(batch, timeout=0.3)
    method = "tierwise.v1.RouterService/RouteBatch"
    deadline = time.monotonic() + 5
    while server.metrics.latency.labels(method=method)._sum.get() == 0:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert server.metrics.requests.labels(method=method, code="OK")._value.get() == 0
    assert server.metrics.requests.labels(method=method, code="DEADLINE_EXCEEDED")._value.get() == 1


def test_oversized_requests_are_counted_in_the_metrics(small_limits: ServerSettings) -> None:
    server, _ = _server(small_limits)
    try:
        with (
            # One attempt: on a busy machine the upload can outlast the SDK's per-attempt
            # timeout, and a retried attempt is (rightly) a second counted request.
            TierwiseClient(
                settings=ClientSettings(target=f"127.0.0.1:{server.port}", max_attempts=1)
            ) as client,
            pytest.raises(ResourceExhaustedError),
        ):
            client.route("what is 2 + 2 " * 10_000)
        counter = server.metrics.requests.labels(method=ROUTE, code="RESOURCE_EXHAUSTED")
        # Counted at all was the bug (0 while RESOURCE_EXHAUSTED was answered). gRPC may
        # transparently re-send a message the server refused before reading it (seen 1-3
        # times on a loaded 2-core machine), and the server counts each attempt it answered.
        assert counter._value.get() >= 1
    finally:
        server.stop(0)
