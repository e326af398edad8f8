"""The cost-table subcommands, driven through a tiny parser as the main CLI wires them."""

from __future__ import annotations

import argparse
import csv
import io
import json

import pytest

from tierwise.cost_tables.cli import register
from tierwise.cost_tables.errors import (
    DeploymentDoesNotFitError,
    InvalidInputError,
    UnknownIdError,
)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    parser = argparse.ArgumentParser(prog="tierwise")
    register(parser.add_subparsers())
    args = parser.parse_args(argv)
    rc = args.handler(args)
    return rc, capsys.readouterr().out


def test_quote_json_single(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out = run(
        [
            "quote", "--tier", "sonnet", "--input-tokens", "10000", "--output-tokens", "2000",
            "--cached-tokens", "4000", "--batch", "--format", "json",
        ],
        capsys,
    )  # fmt: skip
    assert rc == 0
    data = json.loads(out)
    assert data["tier_id"] == "sonnet"
    assert data["total_usd"] == pytest.approx(0.0246)
    assert data["notes"] == ["batch: -50% on the whole request"]


def test_quote_all_json_is_a_list(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out = run(
        ["quote", "--tier", "all", "--input-tokens", "1000", "--output-tokens", "100",
         "--format", "json"],
        capsys,
    )  # fmt: skip
    assert rc == 0
    data = json.loads(out)
    assert [d["tier_id"] for d in data] == ["self-hosted", "haiku", "sonnet", "opus"]
    assert data[1]["total_usd"] == pytest.approx(1000 / 1e6 + 100 * 5 / 1e6)
    assert data[0]["energy_wh"] > 0


@pytest.mark.parametrize("fmt", ["table", "csv", "markdown"])
def test_quote_text_formats(fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out = run(
        ["quote", "--tier", "all", "--input-tokens", "300000", "--output-tokens", "10",
         "--format", fmt],
        capsys,
    )  # fmt: skip
    assert rc == 0
    assert "long-context pricing" in out
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(out)))
        sonnet = next(r for r in rows if r["tier_id"] == "sonnet")
        assert float(sonnet["total_usd"]) == pytest.approx(300_000 * 6 / 1e6 + 10 * 22.5 / 1e6)
    elif fmt == "markdown":
        assert out.startswith("| tier_id | model |")
    else:
        assert out.splitlines()[1].startswith("---")


def test_quote_write_flags_and_tiers_file(capsys: pytest.CaptureFixture[str]) -> None:
    from tierwise.cost_tables._toml import packaged_data_path

    rc, out = run(
        ["quote", "--tier", "opus", "--input-tokens", "20000", "--output-tokens", "0",
         "--cache-write-5m-tokens", "5000", "--cache-write-1h-tokens", "5000",
         "--tiers-file", str(packaged_data_path("tiers.toml")), "--format", "json"],
        capsys,
    )  # fmt: skip
    assert rc == 0
    data = json.loads(out)
    assert data["cache_write_usd"] == pytest.approx((5000 * 1.25 + 5000 * 2) * 5 / 1e6)


def test_quote_errors(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(UnknownIdError, match="unknown tier 'gpt5'"):
        run(["quote", "--tier", "gpt5", "--input-tokens", "1", "--output-tokens", "1"], capsys)
    with pytest.raises(InvalidInputError, match=r"input_tokens: must be >= 0 \(got -5\)"):
        run(["quote", "--tier", "all", "--input-tokens", "-5", "--output-tokens", "1"], capsys)


def test_argparse_level_errors(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        run(["quote", "--tier", "all", "--input-tokens", "lots", "--output-tokens", "1"], capsys)
    assert "expected a whole number, got 'lots'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        run(["quote", "--tier", "all", "--input-tokens", "1", "--output-tokens", "1",
             "--format", "xml"], capsys)  # fmt: skip
    with pytest.raises(SystemExit):
        run(["hw-estimate", "--model", "x", "--gpu", "y", "--gpus", "1", "--precision", "fp8",
             "--isl", "1", "--osl", "1", "--concurrency", "many"], capsys)  # fmt: skip
    assert "expected 'max' or a whole number" in capsys.readouterr().err


def test_quote_workload(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out = run(
        ["quote-workload", "--calls-per-month", "5e6", "--input-tokens-dist",
         "1000:3,250000:1", "--output-tokens-mean", "400", "--mix",
         "self-hosted=0.5,haiku=0.3,sonnet=0.2", "--cache-hit-rate", "0.3",
         "--batch-share", "0.2", "--ops-usd-per-month", "3000", "--format", "json"],
        capsys,
    )  # fmt: skip
    data = json.loads(out)
    assert [t["tier_id"] for t in data["tiers"]] == ["self-hosted", "haiku", "sonnet", "opus"]
    assert data["routed"]["tier_id"] == "routed"
    assert data["tiers"][0]["fixed_usd"] == 3000
    assert len(data["break_even"]) == 3
    rc, out = run(
        ["quote-workload", "--calls-per-month", "1e6", "--input-tokens-mean", "1000",
         "--output-tokens-mean", "300"],
        capsys,
    )  # fmt: skip
    assert rc == 0 and "break_even_calls_per_month" in out and "self-hosted" in out


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        (["--input-tokens-dist", "1000-3"], "input_tokens_dist"),
        (["--input-tokens-mean", "100", "--mix", "haiku"], "mix"),
        (["--input-tokens-mean", "100", "--mix", "haiku=0.5,sonnet=0.2"], "routed_mix"),
        (["--input-tokens-mean", "100", "--cache-hit-rate", "2"], "cache_hit_rate"),
    ],
)
def test_quote_workload_errors(
    extra: list[str], field: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(InvalidInputError) as info:
        run(
            ["quote-workload", "--calls-per-month", "1000", "--output-tokens-mean", "10", *extra],
            capsys,
        )
    assert info.value.field == field


def test_quote_workload_needs_a_token_source(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        run(["quote-workload", "--calls-per-month", "1000", "--output-tokens-mean", "10"], capsys)


@pytest.mark.parametrize("fmt", ["table", "csv", "markdown"])
def test_cost_table_text(fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out = run(["cost-table", "--format", fmt], capsys)
    assert rc == 0
    for tier in ("self-hosted", "haiku", "sonnet", "opus"):
        assert tier in out
    assert "derived from hardware" in out and "anthropic.com/pricing" in out


def test_cost_table_json(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out = run(["cost-table", "--format", "json"], capsys)
    assert rc == 0
    data = json.loads(out)
    sh = data["tiers"][0]
    assert sh["kind"] == "self-hosted"
    assert sh["derivation"]["model_id"] == "gpt-oss-120b"
    assert sh["derivation"]["explanation"]
    assert data["tiers"][2]["long_context"]["usd_per_mtok_output"] == 22.5


HW_KEYS = (
    "output_tokens_per_s_per_gpu",
    "input_tokens_per_s_per_gpu",
    "tokens_per_s_per_user",
    "usd_per_mtok_input",
    "usd_per_mtok_output",
    "wh_per_query",
)


def test_hw_estimate_json(capsys: pytest.CaptureFixture[str]) -> None:
    _, out = run(
        ["hw-estimate", "--model", "llama-3.3-70b", "--gpu", "h100-sxm", "--gpus", "2",
         "--precision", "fp8", "--isl", "1000", "--osl", "1000", "--format", "json"],
        capsys,
    )  # fmt: skip
    data = json.loads(out)
    for key in HW_KEYS:
        assert data[key] > 0
    assert data["mode"] == "roofline" and data["explanation"]


def test_hw_estimate_naive_table(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out = run(
        ["hw-estimate", "--model", "deepseek-r1", "--gpu", "h100-sxm", "--gpus", "8",
         "--precision", "bf16", "--isl", "1000", "--osl", "1000", "--concurrency", "32",
         "--mode", "naive", "--usd-per-gpu-hour", "2"],
        capsys,
    )  # fmt: skip
    assert rc == 0
    for key in HW_KEYS:
        assert key in out
    assert "'45 passes/s'" in out and "$3.08/M output" in out and "$0.003/M input" in out


def test_hw_estimate_does_not_fit(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(DeploymentDoesNotFitError):
        run(
            ["hw-estimate", "--model", "deepseek-r1", "--gpu", "h100-sxm", "--gpus", "8",
             "--precision", "bf16", "--isl", "1000", "--osl", "1000"],
            capsys,
        )  # fmt: skip


_WORKLOAD_BASE = [
    "quote-workload", "--calls-per-month", "5e6", "--input-tokens-mean", "1500",
    "--output-tokens-mean", "400",
]  # fmt: skip


def test_quote_workload_peak_factor_and_spot(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out = run([*_WORKLOAD_BASE, "--peak-to-average", "3", "--purchase", "spot"], capsys)
    assert rc == 0
    assert "peak hour = 3 x mean hour; self-hosted: spot" in out
    assert "idle_usd" in out and "purchase options" in out
    for option in ("on-demand", "reserved", "spot"):
        assert option in out
    rc, out = run(
        [*_WORKLOAD_BASE, "--peak-to-average", "3", "--purchase", "spot", "--format", "json"],
        capsys,
    )
    data = json.loads(out)
    sh = data["tiers"][0]
    assert sh["purchase"] == "spot" and sh["idle_usd"] > 0
    assert data["peak_factor"] == 3
    options = {o["purchase"]: o for o in data["purchase_options"]}
    assert options["spot"]["monthly_usd"] == pytest.approx(sh["monthly_usd"])
    assert options["spot"]["monthly_usd"] < options["reserved"]["monthly_usd"]
    assert options["reserved"]["monthly_usd"] < options["on-demand"]["monthly_usd"]


def test_quote_workload_hourly_profile_autoscale(capsys: pytest.CaptureFixture[str]) -> None:
    profile = ",".join(["1"] * 12 + ["3"] * 12)
    rc, out = run(
        [*_WORKLOAD_BASE, "--hourly-profile", profile, "--autoscale", "--format", "json"], capsys
    )
    data = json.loads(out)
    assert rc == 0 and data["peak_factor"] == pytest.approx(1.5)
    assert {o["purchase"]: o["autoscaled"] for o in data["purchase_options"]} == {
        "on-demand": True,
        "reserved": False,
        "spot": True,
    }
    rc, out = run([*_WORKLOAD_BASE, "--hourly-profile", profile, "--format", "csv"], capsys)
    header = next(csv.reader(io.StringIO(out)))
    assert header[0] == "tier_id" and "idle_usd" in header  # notes stay out of CSV


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        (["--hourly-profile", ",".join(["1"] * 23)], "hourly_profile"),
        (["--hourly-profile", ",".join(["1"] * 23 + ["x"])], "hourly_profile"),
        (["--hourly-profile", ",".join(["1"] * 23 + ["-1"])], "hourly_profile[23]"),
        (["--peak-to-average", "-3"], "peak_to_average"),
        (["--autoscale"], "autoscale"),
        (
            ["--hourly-profile", ",".join(["1"] * 24), "--autoscale", "--purchase", "reserved"],
            "autoscale",
        ),
    ],
)
def test_quote_workload_shape_errors(
    extra: list[str], field: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(InvalidInputError) as info:
        run([*_WORKLOAD_BASE, *extra], capsys)
    assert info.value.field == field


@pytest.mark.parametrize(
    ("extra", "flag"),
    [
        (["--peak-to-average", "3", "--hourly-profile", ",".join(["1"] * 24)], "--hourly-profile"),
        (["--purchase", "lease"], "--purchase"),
    ],
)
def test_quote_workload_shape_usage_errors(
    extra: list[str], flag: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        run([*_WORKLOAD_BASE, *extra], capsys)
    assert info.value.code == 2
    assert f"argument {flag}" in capsys.readouterr().err
