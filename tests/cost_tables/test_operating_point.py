"""The SLO search, the TTFT model (chunked prefill + Erlang-C queueing) and the CLI commands
that expose them (hw-estimate --min-tokens-per-s-per-user, hw-curve)."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import pytest

from tierwise.cost_tables.cli import register
from tierwise.cost_tables.errors import InvalidInputError
from tierwise.cost_tables.hardware import estimate
from tierwise.cost_tables.operating_point import (
    Deployment,
    Slo,
    SloUnreachableError,
    curve,
    erlang_c,
    fixed_point,
    operating_point,
    ttft,
)

GPT_OSS = Deployment("gpt-oss-120b", "h100-sxm", 2, "fp8", 1500, 400)
DEPLOYMENT_ARGS = ["--model", "gpt-oss-120b", "--gpu", "h100-sxm", "--gpus", "2",
                   "--precision", "fp8", "--isl", "1500", "--osl", "400"]  # fmt: skip


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    parser = argparse.ArgumentParser(prog="tierwise")
    register(parser.add_subparsers())
    args = parser.parse_args(argv)
    rc = args.handler(args)
    return rc, capsys.readouterr().out


def test_erlang_c_matches_textbook_values() -> None:
    # M/M/1: P(wait) = rho. M/M/2 at a = 1: C = 1/3 (Kleinrock table).
    assert erlang_c(1, 0.7) == pytest.approx(0.7)
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    assert erlang_c(10, 0.0) == 0.0 and erlang_c(4, 4.0) == 1.0
    # Pooling: the same 70 % load queues far less on more servers.
    assert erlang_c(512, 0.7 * 512) < 1e-6 < erlang_c(8, 0.7 * 8)


@pytest.mark.parametrize("floor", [20.0, 50.0, 100.0])
def test_slo_search_picks_the_largest_batch_meeting_the_floor(floor: float) -> None:
    point = operating_point(GPT_OSS, Slo(min_tokens_per_s_per_user=floor))
    e = point.estimate
    assert e.tokens_per_s_per_user >= floor
    one_more = estimate("gpt-oss-120b", "h100-sxm", 2, "fp8", 1500, 400, concurrency=e.batch + 1)
    assert one_more.tokens_per_s_per_user < floor
    assert point.binding == "min_tokens_per_s_per_user"
    # No batch that meets the floor is cheaper per output token.
    for b in range(1, e.batch):
        other = estimate("gpt-oss-120b", "h100-sxm", 2, "fp8", 1500, 400, concurrency=b)
        assert other.usd_per_mtok_output >= e.usd_per_mtok_output


def test_faster_slo_costs_more_per_output_token() -> None:
    prices = [
        operating_point(GPT_OSS, Slo(min_tokens_per_s_per_user=n)).estimate.usd_per_mtok_output
        for n in (20.0, 50.0, 100.0)
    ]
    assert prices == sorted(prices) and prices[2] > 5 * prices[0]


def test_without_slo_the_max_throughput_batch() -> None:
    point = operating_point(GPT_OSS)
    assert point.binding == "max_batch" and point.estimate.batch == point.max_batch == 512
    assert point.estimate == estimate("gpt-oss-120b", "h100-sxm", 2, "fp8", 1500, 400)


def test_ttft_slo_binds_through_queueing() -> None:
    # Small batches at 70 % load queue for a slot: the p90 TTFT limit rules them out.
    fast = Slo(min_tokens_per_s_per_user=100.0)
    point = operating_point(GPT_OSS, fast)
    assert point.ttft.queue_ms_p90 > 500
    with pytest.raises(SloUnreachableError, match="no batch meets the SLO") as info:
        operating_point(GPT_OSS, Slo(min_tokens_per_s_per_user=100.0, max_ttft_ms=500.0))
    assert "Use faster or more GPUs" in str(info.value)
    lighter = operating_point(
        GPT_OSS, Slo(min_tokens_per_s_per_user=100.0, max_ttft_ms=500.0), target_load=0.3
    )
    assert lighter.ttft_ms_p90 <= 500.0


def test_ttft_parts() -> None:
    e = estimate("gpt-oss-120b", "h100-sxm", 2, "fp8", 20000, 400, concurrency=16)
    t = ttft(e, 0.7, 8192)
    # Three chunks of <= 8192 tokens, each waiting for one decode step of the batch.
    assert t.prefill_ms == pytest.approx((e.prefill_s_per_query + 3 * e.decode_step_s) * 1e3)
    lifetime = t.prefill_ms / 1e3 + 400 / e.tokens_per_s_per_user
    c = erlang_c(16, 0.7 * 16)
    rate = (16 - 0.7 * 16) / lifetime
    assert t.wait_probability == pytest.approx(c)
    assert t.queue_ms_mean == pytest.approx(c / rate * 1e3)
    expected_p90 = math.log(c / 0.1) / rate * 1e3 if c > 0.1 else 0.0
    assert t.queue_ms_p90 == pytest.approx(expected_p90)
    assert t.p90_ms >= t.p50_ms >= t.prefill_ms


def test_bad_slo_and_load_are_named() -> None:
    with pytest.raises(InvalidInputError, match="min_tokens_per_s_per_user"):
        Slo(min_tokens_per_s_per_user=-1.0)
    with pytest.raises(InvalidInputError, match="max_ttft_ms"):
        Slo(max_ttft_ms=math.nan)
    with pytest.raises(InvalidInputError, match="target_load"):
        operating_point(GPT_OSS, target_load=1.0)
    with pytest.raises(InvalidInputError, match="prefill_chunk_tokens"):
        fixed_point(GPT_OSS, 8, prefill_chunk_tokens=0)
    with pytest.raises(InvalidInputError, match="batches"):
        curve(GPT_OSS, batches=(0,))
    with pytest.raises(InvalidInputError, match="exceeds the largest batch"):
        curve(GPT_OSS, batches=(4096,))


def test_curve_trades_speed_for_throughput() -> None:
    points = curve(GPT_OSS)
    batches = [p.estimate.batch for p in points]
    assert batches[0] == 1 and batches[-1] == 512 and batches == sorted(batches)
    speeds = [p.estimate.tokens_per_s_per_user for p in points]
    per_gpu = [p.estimate.output_tokens_per_s_per_gpu for p in points]
    assert speeds == sorted(speeds, reverse=True)
    assert per_gpu == sorted(per_gpu)


def test_hw_estimate_slo_json_keys(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out = run(
        ["hw-estimate", *DEPLOYMENT_ARGS, "--min-tokens-per-s-per-user", "50",
         "--max-ttft-ms", "1000", "--format", "json"],
        capsys,
    )  # fmt: skip
    assert rc == 0
    data = json.loads(out)
    for key in ("output_tokens_per_s_per_gpu", "tokens_per_s_per_user", "ttft_ms",
                "usd_per_mtok_input", "usd_per_mtok_output"):  # fmt: skip
        assert isinstance(data[key], float) and data[key] > 0
    assert data["tokens_per_s_per_user"] >= 50 and data["ttft_ms_p90"] <= 1000
    assert data["slo_min_tokens_per_s_per_user"] == 50 and data["slo_max_ttft_ms"] == 1000
    expected = operating_point(GPT_OSS, Slo(50.0, 1000.0))
    assert data["batch"] == expected.estimate.batch
    assert data["explanation"][0].startswith("operating point: SLO >= 50 tok/s per user")


def test_hw_estimate_slo_table_and_errors(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out = run(["hw-estimate", *DEPLOYMENT_ARGS, "--min-tokens-per-s-per-user", "20"], capsys)
    assert rc == 0 and "binding" in out and "min_tokens_per_s_per_user" in out
    with pytest.raises(SloUnreachableError, match="no batch meets the SLO"):
        run(["hw-estimate", *DEPLOYMENT_ARGS, "--min-tokens-per-s-per-user", "5000"], capsys)
    with pytest.raises(InvalidInputError, match="naive"):
        run(["hw-estimate", *DEPLOYMENT_ARGS, "--mode", "naive", "--max-ttft-ms", "900"], capsys)
    with pytest.raises(SystemExit):  # a fixed concurrency and an SLO contradict each other
        run(["hw-estimate", *DEPLOYMENT_ARGS, "--concurrency", "8",
             "--min-tokens-per-s-per-user", "20"], capsys)  # fmt: skip


def test_hw_curve_table_json_and_png(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    png = tmp_path / "curve.png"
    rc, out = run(["hw-curve", *DEPLOYMENT_ARGS, "--png", str(png)], capsys)
    assert rc == 0 and "tokens_per_s_per_user" in out and f"wrote {png}" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    rc, out = run(["hw-curve", *DEPLOYMENT_ARGS, "--batches", "1,16,64", "--format", "json"],
                  capsys)  # fmt: skip
    points = json.loads(out)["points"]
    assert [p["batch"] for p in points] == [1, 16, 64]
    assert points[0]["usd_per_mtok_output"] > points[2]["usd_per_mtok_output"]
    with pytest.raises(InvalidInputError, match="batches"):
        run(["hw-curve", *DEPLOYMENT_ARGS, "--batches", "1,x"], capsys)
    with pytest.raises(InvalidInputError, match="cannot write"):
        run(["hw-curve", *DEPLOYMENT_ARGS, "--png", str(tmp_path / "no" / "dir.png")], capsys)
