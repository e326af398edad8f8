"""Closed-loop load over loopback: N client threads, a fixed request count, a time cap."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tierwise.sdk import ClientSettings, TierwiseClient

# Separate connections per client thread (grpc otherwise shares subchannels across channels).
_OWN_CONNECTION = (("grpc.use_local_subchannel_pool", 1),)


def client_settings(target: str) -> ClientSettings:
    return ClientSettings(target=target, route_timeout_s=5.0, extra_channel_options=_OWN_CONNECTION)


@dataclass
class LoadResult:
    latencies_s: list[float] = field(default_factory=list)
    errors: int = 0
    wall_s: float = 0.0
    first_error: str = ""

    @property
    def completed(self) -> int:
        return len(self.latencies_s)

    @property
    def throughput_rps(self) -> float:
        return self.completed / self.wall_s if self.wall_s > 0 else 0.0


def _drive(
    make_call: Callable[[], Callable[[int], object]],
    clients: int,
    requests: int,
    max_s: float,
) -> LoadResult:
    """Each thread builds its own call (own channel) and takes request indices from a shared
    counter until `requests` have been issued or `max_s` has passed."""
    counter = itertools.count()
    result = LoadResult()
    lock = threading.Lock()
    calls = [make_call() for _ in range(clients)]
    barrier = threading.Barrier(clients + 1)
    deadline = [0.0]

    def worker(call: Callable[[int], object]) -> None:
        local: list[float] = []
        errors = 0
        first_error = ""
        barrier.wait()
        while True:
            index = next(counter)
            if index >= requests or time.perf_counter() > deadline[0]:
                break
            started = time.perf_counter()
            try:
                call(index)
            except Exception as error:
                errors += 1
                first_error = first_error or repr(error)
                continue
            local.append(time.perf_counter() - started)
        with lock:
            result.latencies_s.extend(local)
            result.errors += errors
            result.first_error = result.first_error or first_error

    threads = [threading.Thread(target=worker, args=(c,), daemon=True) for c in calls]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    deadline[0] = started + max_s
    barrier.wait()
    for thread in threads:
        thread.join(timeout=max_s + 30)
    result.wall_s = time.perf_counter() - started
    return result


def drive_routes(
    target: str, queries: Sequence[str], clients: int, requests: int, max_s: float, offset: int = 0
) -> LoadResult:
    """Route through the SDK, one TierwiseClient per thread."""
    opened: list[TierwiseClient] = []

    def make_call() -> Callable[[int], object]:
        client = TierwiseClient(target, settings=client_settings(target))
        opened.append(client)
        client.list_tiers()  # connect before the clock starts

        def call(index: int) -> object:
            return client.route(queries[(offset + index) % len(queries)])

        return call

    try:
        return _drive(make_call, clients, requests, max_s)
    finally:
        for client in opened:
            client.close()


def drive_health(target: str, requests: int, max_s: float) -> LoadResult:
    """The gRPC floor: an empty unary call (health Check) on the same server, one client."""
    options = client_settings(target).channel_options()
    channel = grpc.insecure_channel(target, options=options)
    try:
        stub = health_pb2_grpc.HealthStub(channel)
        request = health_pb2.HealthCheckRequest(service="")
        stub.Check(request, timeout=5.0)

        def make_call() -> Callable[[int], object]:
            return lambda _index: stub.Check(request, timeout=5.0)

        return _drive(make_call, 1, requests, max_s)
    finally:
        channel.close()
