"""Bounded soak: 16 concurrent SDK clients against a `tierwise serve` subprocess, a fixed
request count, no errors, bounded RSS growth. (`python tests/soak.py` runs the long one.)"""

from __future__ import annotations

from pathlib import Path

from soak import soak

CLIENTS = 16
REQUESTS_PER_CLIENT = 400
MAX_RSS_GROWTH_MB = 25.0


def test_soak_16_clients(tiny_bundle: Path, test_policy_file: Path) -> None:
    summary = soak(
        tiny_bundle,
        test_policy_file,
        clients=CLIENTS,
        warmup_requests=20,
        requests_per_client=REQUESTS_PER_CLIENT,
        duration_s=None,
    )
    print(f"\nsoak: {summary}")
    assert summary["warmup_errors"] == 0
    assert summary["requests"] == CLIENTS * REQUESTS_PER_CLIENT
    assert summary["errors"] == 0, summary["first_errors"]
    growth = summary["rss_growth_mb"]
    assert isinstance(growth, float) and growth < MAX_RSS_GROWTH_MB, summary
    assert summary["server_exit_code"] == 0  # drained cleanly on SIGTERM
