"""The benchmark harness end to end with tiny counts: real server, SDK, floor, naive baseline.

Asserts only that every reported number is there and positive, never timings."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from repo_paths import REPO

SHIPPED = REPO / "classifier" / "src" / "tierwise" / "classifier" / "shipped" / "manifest.json"
PER_ENCODER = (
    "p50_ms_1client",
    "p90_ms_1client",
    "p99_ms_1client",
    "throughput_rps_4clients",
    "p99_ms_4clients",
    "throughput_rps_16clients",
    "p99_ms_16clients",
    "floor_p50_ms",
    "ratio_e2e_to_floor",
    "naive_p50_ms",
    "ratio_naive_to_e2e",
    "cold_start_s",
    "rss_mb",
    "p50_ms_1client_cache_miss",
    "p50_ms_1client_cache_hit",
    "ratio_cache_hit_to_grpc_empty",
)
REQUIRED = (
    *PER_ENCODER,
    *(f"fast_{key}" for key in PER_ENCODER),
    "fast_ratio_e2e_to_grpc_empty",
    "grpc_empty_p50_ms",
)


@pytest.mark.slow
@pytest.mark.skipif(not SHIPPED.is_file(), reason="no shipped router bundle")
def test_quick_bench_reports_every_key(tmp_path: Path) -> None:
    output = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", "--output", str(output)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    results = json.loads(output.read_text(encoding="utf-8"))
    for key in REQUIRED:
        value = results.get(key)
        assert isinstance(value, int | float), f"{key}: {value!r}"
        assert math.isfinite(value) and value > 0, f"{key}: {value!r}"
    meta = results["metadata"]
    assert meta["cpu_count"] >= 1
    assert meta["query_count"] > 0
    assert meta["versions"]["onnxruntime"]
    assert "route p50, 1 client" in done.stdout  # the table is printed
    # The latency phases ran without the decision cache; the cache phase on its own server.
    servers = meta["details"]["servers"]["fast"]
    assert "--decision-cache-entries=0" in servers["server_command"]
    assert "--decision-cache-entries=0" not in servers["cache_server_command"]
