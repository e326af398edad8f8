"""Hostile-operator attacks from issue #12, against real `tierwise serve` subprocesses.

Each attack returns a JSON-able summary; the hardening tests assert on them and the CLI
prints them (the before/after figures of the issue's closing note):

    .venv/bin/python tests/attack.py all    # or one of: pricing | pricing-in-budget |
                                            #   memory | admin | metrics | frozen

A tiny ONNX bundle is built on the fly, as in tests/soak.py.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from soak import ServerProcess, free_port

from tierwise.v1 import admin_pb2, pricing_pb2, router_pb2

ROUTE = "/tierwise.v1.RouterService/Route"
QUOTE_WORKLOAD = "/tierwise.v1.PricingService/QuoteWorkload"
RELOAD = "/tierwise.v1.AdminService/ReloadPolicy"
GET_POLICY = "/tierwise.v1.AdminService/GetPolicy"
EASY = "what is 2 + 2"
# Kubernetes' default probe timeout.
PROBE_TIMEOUT_S = 1.0
TOKEN = "attack-test-token-0123456789"
ADMIN_TOKEN = "attack-admin-token-9876543210"


def _percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def _raw(channel: grpc.Channel, method: str) -> Any:
    """A callable sending and receiving raw bytes (what a hand-made client sends)."""
    return channel.unary_unary(method, request_serializer=None, response_deserializer=None)


def histogram_workload(buckets: int, batch_share: float = 0.0) -> bytes:
    """A QuoteWorkloadRequest with `buckets` histogram buckets on each side (~8 KB at 300)."""
    histogram = pricing_pb2.TokenHistogram(
        buckets=[pricing_pb2.TokenBucket(tokens=100 + 37 * i, weight=1.0) for i in range(buckets)]
    )
    workload = pricing_pb2.Workload(
        calls_per_month=1e6,
        input_tokens=pricing_pb2.TokenDistribution(histogram=histogram),
        output_tokens=pricing_pb2.TokenDistribution(histogram=histogram),
        batch_share=batch_share,
    )
    return pricing_pb2.QuoteWorkloadRequest(workload=workload).SerializeToString()


class _Sampler:
    """Calls `probe` in a loop on a thread, keeping (latency, ok) until stopped."""

    def __init__(self, probe: Callable[[], bool], pause_s: float = 0.01) -> None:
        self.results: list[tuple[float, bool]] = []
        self._probe = probe
        self._pause_s = pause_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> _Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.perf_counter()
            try:
                ok = self._probe()
            except Exception:
                ok = False
            self.results.append((time.perf_counter() - started, ok))
            time.sleep(self._pause_s)

    def summary(self) -> dict[str, object]:
        latencies = [latency for latency, _ in self.results]
        return {
            "calls": len(self.results),
            "failed": sum(1 for _, ok in self.results if not ok),
            "p50_ms": _ms(_percentile(latencies, 0.5)),
            "p99_ms": _ms(_percentile(latencies, 0.99)),
            "max_ms": _ms(max(latencies, default=0.0)),
        }


def _route_probe(address: str) -> tuple[Callable[[], bool], Callable[[], None]]:
    """Route with the SDK's defaults (1 s deadline, fail-open): ok = a real decision."""
    from tierwise.sdk import TierwiseClient

    client = TierwiseClient(address, fail_open_tier="sonnet")
    return (lambda: not client.route(EASY).fail_open), client.close


def _health_probe(channel: grpc.Channel) -> Callable[[], bool]:
    stub = health_pb2_grpc.HealthStub(channel)

    def probe() -> bool:
        response = stub.Check(health_pb2.HealthCheckRequest(), timeout=PROBE_TIMEOUT_S)
        return bool(response.status == health_pb2.HealthCheckResponse.SERVING)

    return probe


def pricing_flood(
    server: ServerProcess, *, requests: int = 8, buckets: int = 200, window_s: float = 4.0
) -> dict[str, object]:
    """`requests` QuoteWorkload calls of buckets×buckets with 1 s deadlines, while Route (SDK
    defaults) and health (1 s probe timeout) are sampled for `window_s`."""
    payload = histogram_workload(buckets)
    route, close = _route_probe(server.address)
    with grpc.insecure_channel(server.address) as channel:
        for _ in range(20):  # warm-up: connections, model sessions
            route()
        with _Sampler(route) as idle:
            time.sleep(1.0)
        quote = _raw(channel, QUOTE_WORKLOAD)
        codes: dict[str, int] = {}
        with _Sampler(route) as routes, _Sampler(_health_probe(channel), 0.05) as health:
            futures = [quote.future(payload, timeout=1.0) for _ in range(requests)]
            time.sleep(window_s)
        for future in futures:
            error = future.exception()
            name = "OK" if error is None else error.code().name
            codes[name] = codes.get(name, 0) + 1
        close()
    return {
        "attack": f"{requests}x QuoteWorkload {buckets}x{buckets} buckets, 1 s deadline",
        "route_idle": idle.summary(),
        "route_under_flood": routes.summary(),
        "health_under_flood": health.summary(),
        "quote_codes": codes,
    }


def _flood_worker(address: str, payload: bytes, callers: int, seconds: float, out: Any) -> None:
    """In its own process (so the flood's client work does not share the sampler's GIL):
    `callers` threads sending QuoteWorkload back to back for `seconds`; status code counts."""
    codes: dict[str, int] = {}
    lock = threading.Lock()
    end = time.monotonic() + seconds
    with grpc.insecure_channel(address) as channel:
        quote = _raw(channel, QUOTE_WORKLOAD)

        def caller() -> None:
            while time.monotonic() < end:
                try:
                    quote(payload, timeout=1.0)
                    name = "OK"
                except grpc.RpcError as error:
                    name = error.code().name
                with lock:
                    codes[name] = codes.get(name, 0) + 1

        threads = [threading.Thread(target=caller) for _ in range(callers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    out.put(codes)


def sustained_pricing_flood(
    server: ServerProcess, *, callers: int = 8, buckets: int = 50, window_s: float = 4.0
) -> dict[str, object]:
    """`callers` clients sending in-budget QuoteWorkload (buckets×buckets) back to back from
    another process for `window_s`, while Route (SDK defaults) is sampled."""
    import multiprocessing

    payload = histogram_workload(buckets)
    route, close = _route_probe(server.address)
    for _ in range(20):
        route()
    with _Sampler(route) as idle:
        time.sleep(1.0)
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    flood = context.Process(
        target=_flood_worker, args=(server.address, payload, callers, window_s + 1.0, out)
    )
    flood.start()
    time.sleep(0.5)  # the flood is up before sampling starts
    with _Sampler(route) as routes:
        time.sleep(window_s)
    codes = out.get(timeout=30)
    flood.join(timeout=30)
    close()
    return {
        "attack": f"{callers} callers x QuoteWorkload {buckets}x{buckets} back to back "
        f"(in budget), {window_s} s",
        "route_idle": idle.summary(),
        "route_under_flood": routes.summary(),
        "quote_codes": codes,
    }


def _sample_rss(server: ServerProcess, stop: threading.Event, peak: list[int]) -> None:
    while not stop.is_set():
        peak[0] = max(peak[0], server.rss_kb())
        time.sleep(0.005)


def memory_flood(
    server: ServerProcess, *, calls: int, query_bytes: int, token: str | None
) -> dict[str, object]:
    """`calls` concurrent Route calls with a `query_bytes` query; RSS before, peak, after."""
    payload = router_pb2.RouteRequest(query="x" * query_bytes).SerializeToString()
    metadata = (("authorization", f"Bearer {token}"),) if token else None
    with grpc.insecure_channel(
        server.address, options=[("grpc.max_send_message_length", 64 * 2**20)]
    ) as channel:
        route = _raw(channel, ROUTE)
        # Warm-up so the baseline includes a loaded model and a connection.
        light = router_pb2.RouteRequest(query=EASY).SerializeToString()
        warm_meta = (("authorization", f"Bearer {TOKEN}"),)
        for _ in range(5):
            route(light, timeout=5, metadata=warm_meta)
        time.sleep(0.3)
        before = server.rss_kb()
        peak = [before]
        stop = threading.Event()
        sampler = threading.Thread(target=_sample_rss, args=(server, stop, peak), daemon=True)
        sampler.start()
        futures: list[Future[Any]] = [
            route.future(payload, timeout=30, metadata=metadata) for _ in range(calls)
        ]
        codes: dict[str, int] = {}
        for future in futures:
            error = future.exception()
            name = "OK" if error is None else error.code().name
            codes[name] = codes.get(name, 0) + 1
        time.sleep(0.5)
        stop.set()
        sampler.join()
        after = server.rss_kb()
    return {
        "attack": f"{calls} concurrent Route, {query_bytes / 2**20:.1f} MiB query, "
        + ("with token" if token else "no token"),
        "rss_before_mib": round(before / 1024, 1),
        "rss_peak_mib": round(peak[0] / 1024, 1),
        "rss_rise_mib": round((peak[0] - before) / 1024, 1),
        "rss_after_mib": round(after / 1024, 1),
        "codes": codes,
    }


def anonymous_reload(address: str) -> str:
    """An anonymous ReloadPolicy with the active policy text: the status code's name."""
    with grpc.insecure_channel(address) as channel:
        try:
            current = admin_pb2.GetPolicyResponse.FromString(
                _raw(channel, GET_POLICY)(admin_pb2.GetPolicyRequest().SerializeToString())
            )
        except grpc.RpcError as error:
            return str(error.code().name)
        request = admin_pb2.ReloadPolicyRequest(policy_toml=current.policy_toml)
        try:
            _raw(channel, RELOAD)(request.SerializeToString(), timeout=5)
        except grpc.RpcError as error:
            return str(error.code().name)
    return "OK"


def _metrics_text(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return str(response.read().decode())


def _counted(text: str, code: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith("tierwise_requests_total{") and f'code="{code}"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def back_pressure(server: ServerProcess, metrics_port: int, *, burst: int) -> dict[str, object]:
    """A burst of concurrent Route calls: RESOURCE_EXHAUSTED answered vs counted; then calls
    to made-up method names: series created."""
    payload = router_pb2.RouteRequest(query="hello " * 20_000).SerializeToString()
    with grpc.insecure_channel(server.address) as channel:
        route = _raw(channel, ROUTE)
        futures = [route.future(payload, timeout=30) for _ in range(burst)]
        answered = 0
        for future in futures:
            error = future.exception()
            if error is not None and error.code() is grpc.StatusCode.RESOURCE_EXHAUSTED:
                answered += 1
        counted = _counted(_metrics_text(metrics_port), "RESOURCE_EXHAUSTED")
        for index in range(500):
            bogus = _raw(channel, f"/tierwise.v1.RouterService/Made{index}Up")
            with contextlib.suppress(grpc.RpcError):
                bogus(b"", timeout=5)
        text = _metrics_text(metrics_port)
    series = sum(1 for line in text.splitlines() if line.startswith("tierwise_"))
    return {
        "attack": f"burst of {burst} concurrent Route; 500 calls to made-up methods",
        "resource_exhausted_answered": answered,
        "resource_exhausted_counted": counted,
        "tierwise_series_after_bogus_methods": series,
        "metrics_bytes": len(text),
    }


def _timed_routes(client: Any, count: int, pause_s: float) -> tuple[list[float], int]:
    """`count` sequential routes: their latencies and how many failed open."""
    latencies, failed_open = [], 0
    for _ in range(count):
        started = time.perf_counter()
        failed_open += client.route(EASY).fail_open
        latencies.append(time.perf_counter() - started)
        time.sleep(pause_s)
    return latencies, failed_open


async def _timed_routes_async(client: Any, count: int, pause_s: float) -> tuple[list[float], int]:
    import asyncio

    latencies, failed_open = [], 0
    for _ in range(count):
        started = time.perf_counter()
        failed_open += (await client.route(EASY)).fail_open
        latencies.append(time.perf_counter() - started)
        await asyncio.sleep(pause_s)
    return latencies, failed_open


def frozen_replica(
    first: ServerProcess,
    second: ServerProcess,
    *,
    routes: int = 200,
    pause_s: float = 0.02,
    use_asyncio: bool = False,
) -> dict[str, object]:
    """Two replicas, one SIGSTOPped for `routes` sequential routes `pause_s` apart (≈ 4 s by
    default: several ejection/re-probe cycles): routes slower than 2× normal, failed open."""
    import asyncio

    from tierwise.sdk import AsyncTierwiseClient, ClientSettings, TierwiseClient

    target = f"ipv4:{first.address},{second.address}"
    settings = ClientSettings(target=target, fail_open_tier="sonnet")

    def measure(run: Callable[[int, float], tuple[list[float], int]]) -> dict[str, object]:
        # The same pacing as under the attack: an idle gap makes each call a little slower.
        normal, normal_failed = run(40, pause_s)
        assert not normal_failed
        baseline = _percentile(normal, 0.5)
        first.signal(signal.SIGSTOP)
        try:
            latencies, failed_open = run(routes, pause_s)
        finally:
            first.signal(signal.SIGCONT)
        slow = sum(1 for latency in latencies if latency > 2 * max(baseline, 0.002))
        return {
            "attack": f"2 replicas, one SIGSTOPped, {routes} sequential routes {pause_s} s "
            f"apart ({'asyncio' if use_asyncio else 'sync'} client, SDK defaults)",
            "normal_p50_ms": _ms(baseline),
            "slow_fraction": round(slow / routes, 3),
            "failed_open": failed_open,
            "p50_ms": _ms(_percentile(latencies, 0.5)),
            "p99_ms": _ms(_percentile(latencies, 0.99)),
            "max_ms": _ms(max(latencies)),
        }

    if not use_asyncio:
        with TierwiseClient(target, settings=settings) as client:
            return measure(lambda count, pause: _timed_routes(client, count, pause))

    async def run_async() -> dict[str, object]:
        async with AsyncTierwiseClient(target, settings=settings) as client:
            loop = asyncio.get_running_loop()
            # measure() blocks (SIGSTOP waits on /proc): it runs on a thread, routes on the loop.
            return await asyncio.to_thread(
                measure,
                lambda count, pause: asyncio.run_coroutine_threadsafe(
                    _timed_routes_async(client, count, pause), loop
                ).result(),
            )

    return asyncio.run(run_async())


def _run(name: str, model_dir: Path, policy: Path, scratch: Path) -> dict[str, object]:
    token_file = scratch / "tokens"
    token_file.write_text(TOKEN + "\n")
    admin_file = scratch / "admin-tokens"
    admin_file.write_text(ADMIN_TOKEN + "\n")
    if name == "pricing":
        server = ServerProcess(model_dir, policy)
        server.start()
        try:
            return pricing_flood(server)
        finally:
            server.stop()
    if name == "pricing-in-budget":
        server = ServerProcess(model_dir, policy)
        server.start()
        try:
            return sustained_pricing_flood(server)
        finally:
            server.stop()
    if name == "memory":
        server = ServerProcess(model_dir, policy, extra_args=["--auth-token-file", str(token_file)])
        server.start()
        try:
            unauth = memory_flood(server, calls=128, query_bytes=5 * 2**20, token=None)
            authed = memory_flood(server, calls=64, query_bytes=int(3.8 * 2**20), token=TOKEN)
            return {"unauthenticated_oversized": unauth, "authenticated_in_limit": authed}
        finally:
            server.stop()
    if name == "admin":
        server = ServerProcess(model_dir, policy)
        server.start()
        try:
            return {
                "attack": "anonymous ReloadPolicy, default flags",
                "code": anonymous_reload(server.address),
            }
        finally:
            server.stop()
    if name == "metrics":
        port = free_port()
        server = ServerProcess(
            model_dir, policy, extra_args=["--metrics-address", f"127.0.0.1:{port}"]
        )
        server.start()
        try:
            return back_pressure(server, port, burst=300)
        finally:
            server.stop()
    if name == "frozen":
        first, second = ServerProcess(model_dir, policy), ServerProcess(model_dir, policy)
        first.start()
        second.start()
        try:
            return {
                "sync": frozen_replica(first, second),
                "asyncio": frozen_replica(first, second, use_asyncio=True),
            }
        finally:
            first.kill()
            second.kill()
    raise ValueError(f"unknown attack {name!r}")


ATTACKS = ("pricing", "pricing-in-budget", "memory", "admin", "metrics", "frozen")


def main(argv: Sequence[str] | None = None) -> int:
    from tiny_router import TEST_POLICY, build_tiny_bundle

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("attack", choices=[*ATTACKS, "all"])
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        model_dir = build_tiny_bundle(scratch / "bundle")
        policy = scratch / "policy.toml"
        policy.write_text(TEST_POLICY)
        for name in ATTACKS if args.attack == "all" else (args.attack,):
            print(json.dumps({name: _run(name, model_dir, policy, scratch)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    sys.exit(main())
