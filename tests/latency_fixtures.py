"""Latency telemetry documents for the tests (the format `tierwise latency import` writes)."""

from __future__ import annotations

# An operator's own measurements: haiku slow today, sonnet fast (the opposite of the
# published table), self-hosted as their vLLM metrics report it under load.
TELEMETRY = """\
version = "telemetry-test-1"

[tiers.haiku]
ttft_ms_p50 = 900.0
ttft_ms_p90 = 2100.0
output_tokens_per_s_p50 = 12.0
output_tokens_per_s_p90 = 8.0
samples = 5000
source = "test telemetry"
as_of = "2026-12-01"

[tiers.sonnet]
ttft_ms_p50 = 700.0
ttft_ms_p90 = 1500.0
output_tokens_per_s_p50 = 150.0
output_tokens_per_s_p90 = 110.0
samples = 5000
source = "test telemetry"
as_of = "2026-12-01"
"""

SELF_HOSTED_UNDER_LOAD = """\
version = "self-hosted-observed"

[tiers.self-hosted]
ttft_ms_p50 = 2500.0
ttft_ms_p90 = 6000.0
output_tokens_per_s_p50 = 18.0
samples = 800
source = "vLLM metrics (test)"
as_of = "2026-12-01"
"""
