"""Issue #12: no cheap request starves Route, memory bounded before auth, every rejection
counted with bounded labels, a frozen replica does not fail routes open, and the small
items (health garbage, TLS key mismatch, invalid UTF-8 cost table, drain NOT_SERVING).

The attacks themselves live in tests/attack.py (`python tests/attack.py all` prints them).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from attack import (
    TOKEN,
    memory_flood,
    pricing_flood,
    sustained_pricing_flood,
)
from grpc_health.v1 import health_pb2, health_pb2_grpc
from soak import ServerProcess

from tierwise.sdk import TierwiseClient
from tierwise.sdk.errors import InvalidArgumentError
from tierwise.server.config import ServerSettings
from tierwise.server.errors import StartupError
from tierwise.server.logs import query_fields
from tierwise.server.rpc.app import TierwiseServer, load_components
from tierwise.v1 import router_pb2, router_pb2_grpc

POD_MEMORY_LIMIT_MIB = 512
ROUTE = "tierwise.v1.RouterService/Route"


@pytest.fixture
def server_process(tiny_bundle: Path, test_policy_file: Path) -> Iterator[ServerProcess]:
    process = ServerProcess(tiny_bundle, test_policy_file)
    process.start()
    yield process
    process.kill()


def test_quote_workload_flood_leaves_route_fast_and_health_serving(
    server_process: ServerProcess,
) -> None:
    result = pricing_flood(server_process, requests=8, buckets=200, window_s=2.0)
    print(result)
    routes, health = result["route_under_flood"], result["health_under_flood"]
    assert isinstance(routes, dict) and isinstance(health, dict)
    assert routes["failed"] == 0 and routes["calls"] > 50
    assert routes["p99_ms"] < 50
    assert health["failed"] == 0
    # Refused up front (cost budget), not computed past their deadline.
    assert result["quote_codes"] == {"INVALID_ARGUMENT": 8}


def test_in_budget_pricing_flood_leaves_route_fast(server_process: ServerProcess) -> None:
    # 50×50 is within the default budget: computed on the pricing class's one thread, which
    # shares the GIL with Route's. Priced over the whole cross-product this was ≈70 ms of
    # pure Python per call: Route p50 under the flood ≈6.5 ms (idle 1.4), p99 up to ≈110 ms,
    # ≈15 quotes/s. Linear in the buckets now (cost_tables/expected_cost.py): ≈200 quotes/s.
    result = sustained_pricing_flood(server_process, callers=8, buckets=50, window_s=2.5)
    print(result)
    idle, routes = result["route_idle"], result["route_under_flood"]
    assert isinstance(idle, dict) and isinstance(routes, dict)
    assert routes["failed"] == 0 and routes["p99_ms"] < 250
    # Starvation, not CPU sharing, is what this guards against: 8 pricing callers in another
    # process take their share of 2 cores, so Route's p50 rises a few ms (1.3 → 2–5 ms
    # measured); queued behind pricing it was ≈6.5 ms with p99 ≈110 ms. The ratio is
    # reported by `tests/attack.py pricing-in-budget`, not asserted here.
    assert routes["p50_ms"] < 4 * idle["p50_ms"] + 5.0
    codes = result["quote_codes"]
    assert isinstance(codes, dict) and codes.get("OK", 0) >= 100


def test_histogram_limits_name_the_limit(client: TierwiseClient) -> None:
    big = {100 + i: 1.0 for i in range(300)}
    with pytest.raises(InvalidArgumentError, match=r"histogram\.buckets: at most 256"):
        client.quote_workload(calls_per_month=1e6, input_tokens=big, output_tokens=500)
    square = {100 + i: 1.0 for i in range(100)}
    with pytest.raises(InvalidArgumentError, match="the limit is 20000"):
        client.quote_workload(calls_per_month=1e6, input_tokens=square, output_tokens=square)
    small = {100 + i: 1.0 for i in range(20)}
    assert client.quote_workload(calls_per_month=1e6, input_tokens=small, output_tokens=small)


def test_unauthenticated_oversized_calls_do_not_raise_memory(
    tiny_bundle: Path, test_policy_file: Path, tmp_path: Path
) -> None:
    tokens = tmp_path / "tokens"
    tokens.write_text(TOKEN + "\n")
    server = ServerProcess(
        tiny_bundle, test_policy_file, extra_args=["--auth-token-file", str(tokens)]
    )
    server.start()
    try:
        unauth = memory_flood(server, calls=128, query_bytes=5 * 2**20, token=None)
        print(unauth)
        assert unauth["codes"] == {"UNAUTHENTICATED": 128}
        assert isinstance(unauth["rss_rise_mib"], float) and unauth["rss_rise_mib"] < 100
        # In-limit, authenticated, concurrent: the pod's limit holds.
        authed = memory_flood(server, calls=64, query_bytes=int(3.8 * 2**20), token=TOKEN)
        print(authed)
        assert authed["codes"] == {"OK": 64}
        assert isinstance(authed["rss_peak_mib"], float)
        assert authed["rss_peak_mib"] < POD_MEMORY_LIMIT_MIB * 0.8
    finally:
        server.stop()


@pytest.fixture
def tight(tiny_settings: ServerSettings) -> Iterator[TierwiseServer]:
    import dataclasses

    settings = dataclasses.replace(tiny_settings, max_workers=1, max_concurrent_rpcs=2)
    server = TierwiseServer(settings, load_components(settings))
    server.start()
    yield server
    server.stop(0)


def _count(server: TierwiseServer, method: str, code: str) -> float:
    value: float = server.metrics.requests.labels(method=method, code=code)._value.get()
    return value


def test_every_resource_exhausted_is_counted_and_labels_are_bounded(
    tight: TierwiseServer,
) -> None:
    payload = router_pb2.RouteRequest(query="hello " * 20_000)
    with grpc.insecure_channel(f"127.0.0.1:{tight.port}") as channel:
        stub = router_pb2_grpc.RouterServiceStub(channel)
        futures = [stub.Route.future(payload, timeout=30) for _ in range(40)]
        answered = sum(
            1
            for f in futures
            if f.exception() is not None
            and f.exception().code() is grpc.StatusCode.RESOURCE_EXHAUSTED  # type: ignore[union-attr]
        )
        assert answered > 0
        assert _count(tight, ROUTE, "RESOURCE_EXHAUSTED") == answered
        for index in range(200):
            bogus = channel.unary_unary(f"/tierwise.v1.RouterService/Bogus{index}")
            with pytest.raises(grpc.RpcError):
                bogus(b"", timeout=5)
    assert _count(tight, "unknown", "UNIMPLEMENTED") == 200
    methods = {labels.get("method") for m in tight.metrics.registry.collect()
               for labels in (s.labels for s in m.samples)}  # fmt: skip
    assert not any(str(m).startswith("tierwise.v1.RouterService/Bogus") for m in methods)


def test_caller_and_feature_are_bounded_labels(tiny_settings: ServerSettings) -> None:
    import dataclasses

    settings = dataclasses.replace(tiny_settings, metric_callers=("checkout",))
    server = TierwiseServer(settings, load_components(settings))
    server.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stub = router_pb2_grpc.RouterServiceStub(channel)
            for caller in ("checkout", "made-up-1", "made-up-2", ""):
                stub.Route(router_pb2.RouteRequest(query="hi", caller=caller), timeout=5)
        counter = server.metrics.routes_by_caller
        assert counter.labels(caller="checkout", feature="none")._value.get() == 1
        assert counter.labels(caller="other", feature="none")._value.get() == 2
        assert counter.labels(caller="none", feature="none")._value.get() == 1
    finally:
        server.stop(0)


def test_health_garbage_is_invalid_argument(tiny_server: TierwiseServer) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{tiny_server.port}") as channel:
        check = channel.unary_unary("/grpc.health.v1.Health/Check")
        with pytest.raises(grpc.RpcError) as raised:
            check(b"\xff\xff\xff\xff", timeout=5)
        assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT
        stub = health_pb2_grpc.HealthStub(channel)
        status = stub.Check(health_pb2.HealthCheckRequest(), timeout=5).status
        assert status == health_pb2.HealthCheckResponse.SERVING


def test_health_reports_not_serving_while_draining(server_process: ServerProcess) -> None:
    with grpc.insecure_channel(server_process.address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        assert stub.Check(health_pb2.HealthCheckRequest(), timeout=5).status == 1
        server_process.signal(signal.SIGTERM)
        deadline = time.monotonic() + 2.0
        seen = None
        while time.monotonic() < deadline:
            try:
                seen = stub.Check(health_pb2.HealthCheckRequest(), timeout=0.5).status
            except grpc.RpcError:
                break
            if seen == health_pb2.HealthCheckResponse.NOT_SERVING:
                break
            time.sleep(0.02)
        assert seen == health_pb2.HealthCheckResponse.NOT_SERVING
    assert server_process.stop() == 0


def test_admin_on_a_network_address_needs_its_token(tiny_settings: ServerSettings) -> None:
    import dataclasses

    exposed = dataclasses.replace(tiny_settings, address="0.0.0.0:0")
    with pytest.raises(StartupError, match="--admin-token-file"):
        TierwiseServer(exposed)
    for allowed in (
        dataclasses.replace(exposed, insecure_admin=True),
        dataclasses.replace(exposed, enable_admin=False),
        dataclasses.replace(exposed, admin_tokens=("secret-admin-token",)),
    ):
        server = TierwiseServer(allowed, load_components(allowed))
        server.start()
        server.stop(0)


def test_tls_key_mismatch_is_named(tiny_settings: ServerSettings, tmp_path: Path) -> None:
    import dataclasses

    from tierwise.server.config import TlsFiles

    for name in ("a", "b"):
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
             "-subj", "/CN=localhost", "-keyout", f"{name}.key", "-out", f"{name}.crt"],
            cwd=tmp_path, check=True, capture_output=True,
        )  # fmt: skip
    tls = TlsFiles(tmp_path / "a.crt", tmp_path / "b.key")
    server = TierwiseServer(dataclasses.replace(tiny_settings, tls=tls))
    with pytest.raises(StartupError, match=r"b\.key is not the key of .*a\.crt"):
        server.start()
    server.stop(0)


def _serve(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tierwise.server.cli", "serve", *args],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_invalid_utf8_cost_table_is_named(tmp_path: Path) -> None:
    table = tmp_path / "tiers.toml"
    table.write_bytes(b'version = "x"\n# \xff\xfe\n')
    result = _serve("--tiers-file", str(table))
    assert result.returncode == 2
    assert str(table) in result.stderr and "UTF-8" in result.stderr


def test_log_query_text_without_debug_is_refused() -> None:
    result = _serve("--log-query-text")
    assert result.returncode == 2
    assert "--log-level debug" in result.stderr


def test_query_hash_is_keyed() -> None:
    import hashlib

    fields = query_fields("yes", include_text=False)
    assert fields["query_sha256"] != hashlib.sha256(b"yes").hexdigest()[:16]
    assert fields == query_fields("yes", include_text=False)  # stable within the process
