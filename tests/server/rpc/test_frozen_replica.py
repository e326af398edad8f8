"""A frozen (SIGSTOPped) replica among two is routed around, by both clients (issue #12 §5).

Real `tierwise serve` processes; the SDK ejects the replica whose attempt timed out, sends
everything to the healthy one, re-probes the frozen one off the caller's path, and takes it
back once it answers health again.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from attack import EASY, frozen_replica
from soak import ServerProcess

from tierwise.sdk import AsyncTierwiseClient, ClientSettings, Decision, TierwiseClient

DEADLINE_S = 1.0
# The first route pays one attempt on the frozen replica (a quarter of the deadline)...
FIRST_ROUTE_BOUND_S = 0.5
# ...every later one is answered by the healthy replica: well below the deadline, and below
# the per-attempt timeout, so no route may have waited on the frozen replica again.
AFTER_EJECTION_BOUND_S = 0.2
ROUTES_AFTER_EJECTION = 60
PAUSE_S = 0.02  # 60 routes ≈ 1.5 s: spans an ejection's end and a failed re-probe


@pytest.fixture(scope="module")
def replicas(tiny_bundle: Path, test_policy_file: Path) -> Iterator[list[ServerProcess]]:
    started = [ServerProcess(tiny_bundle, test_policy_file) for _ in range(2)]
    for process in started:
        process.start()
    yield started
    for process in started:
        _thaw(process)
        process.kill()


def _pid(process: ServerProcess) -> int:
    assert process.process is not None
    return process.process.pid


def _thaw(process: ServerProcess) -> None:
    if process.process is not None and process.process.poll() is None:
        os.kill(_pid(process), signal.SIGCONT)


@contextlib.contextmanager
def frozen(process: ServerProcess) -> Iterator[None]:
    process.signal(signal.SIGSTOP)  # os.kill, then waits until the kernel reports it stopped
    try:
        yield
    finally:
        _thaw(process)


def _settings(servers: list[ServerProcess]) -> ClientSettings:
    """Short ejections, so the thawed replica is probed back within the test."""
    return ClientSettings(
        target=f"ipv4:{servers[0].address},{servers[1].address}",
        fail_open_tier="sonnet",
        route_timeout_s=DEADLINE_S,
        ejection_base_s=0.3,
        ejection_max_s=0.6,
    )


@pytest.mark.parametrize("use_asyncio", [False, True], ids=["sync", "asyncio"])
def test_a_frozen_replica_costs_few_routes_and_none_fail_open(
    replicas: list[ServerProcess], use_asyncio: bool
) -> None:
    result = frozen_replica(*replicas, routes=100, use_asyncio=use_asyncio)
    print(result)
    assert result["failed_open"] == 0
    assert isinstance(result["slow_fraction"], float) and result["slow_fraction"] < 0.1
    assert isinstance(result["max_ms"], float) and result["max_ms"] < FIRST_ROUTE_BOUND_S * 1000


def _timed(route: Callable[[], Decision]) -> float:
    started = time.perf_counter()
    decision = route()
    assert not decision.fail_open, decision
    return time.perf_counter() - started


def test_sync_client_routes_around_the_frozen_replica_then_takes_it_back(
    replicas: list[ServerProcess],
) -> None:
    hung, _ = replicas
    settings = _settings(replicas)
    with TierwiseClient(settings.target, settings=settings) as client:
        for _ in range(10):
            _timed(lambda: client.route(EASY))
        with frozen(hung):
            # Round robin: one of the first two routes lands on the frozen replica.
            first = max(_timed(lambda: client.route(EASY)) for _ in range(2))
            assert first < FIRST_ROUTE_BOUND_S
            assert client.ejected_replicas == (f"ipv4:{hung.address}",)
            later = []
            for _ in range(ROUTES_AFTER_EJECTION):
                later.append(_timed(lambda: client.route(EASY)))
                time.sleep(PAUSE_S)
            assert max(later) < AFTER_EJECTION_BOUND_S, sorted(later)[-5:]
            assert client.ejected_replicas == (f"ipv4:{hung.address}",)  # probes failed
        # Thawed: the next probe answers and it is back in rotation.
        deadline = time.monotonic() + 5.0
        while client.ejected_replicas:
            assert time.monotonic() < deadline, "thawed replica never taken back"
            _timed(lambda: client.route(EASY))
            time.sleep(PAUSE_S)


def test_asyncio_client_routes_around_the_frozen_replica_then_takes_it_back(
    replicas: list[ServerProcess],
) -> None:
    hung, _ = replicas
    settings = _settings(replicas)

    async def timed(client: AsyncTierwiseClient) -> float:
        started = time.perf_counter()
        decision = await client.route(EASY)
        assert not decision.fail_open, decision
        return time.perf_counter() - started

    async def scenario() -> None:
        async with AsyncTierwiseClient(settings.target, settings=settings) as client:
            for _ in range(10):
                await timed(client)
            # SIGSTOP waits on /proc: off the loop, so the client's tasks keep running.
            await asyncio.to_thread(hung.signal, signal.SIGSTOP)
            try:
                first = max([await timed(client), await timed(client)])
                # Without per-attempt timeouts this route waited the whole deadline.
                assert first < FIRST_ROUTE_BOUND_S
                assert client.ejected_replicas == (f"ipv4:{hung.address}",)
                later = []
                for _ in range(ROUTES_AFTER_EJECTION):
                    later.append(await timed(client))
                    await asyncio.sleep(PAUSE_S)
                assert max(later) < AFTER_EJECTION_BOUND_S, sorted(later)[-5:]
                assert client.ejected_replicas == (f"ipv4:{hung.address}",)
            finally:
                _thaw(hung)
            deadline = time.monotonic() + 5.0
            while client.ejected_replicas:
                assert time.monotonic() < deadline, "thawed replica never taken back"
                await timed(client)
                await asyncio.sleep(PAUSE_S)

    asyncio.run(scenario())


def test_a_dns_name_gets_one_channel_per_address(replicas: list[ServerProcess]) -> None:
    port = replicas[0].port
    with TierwiseClient(f"dns:///localhost:{port}", fail_open_tier="sonnet") as client:
        assert f"ipv4:127.0.0.1:{port}" in client.replica_addresses
        # "localhost" may also resolve to ::1, where nothing listens: that one is ejected
        # and every route is still answered.
        for _ in range(5):
            assert not client.route(EASY).fail_open
