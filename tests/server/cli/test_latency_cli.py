"""`tierwise latency import` from a user's CSV/JSONL, `serve --latency-file`, route/score flags."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest
from cli_process import TIERWISE, serving
from tiny_router import TEST_POLICY

from tierwise.cost_tables.latency import load_latency_table
from tierwise.sdk import TierwiseClient
from tierwise.server.cli import main
from tierwise.server.rpc.app import TierwiseServer

CSV = """\
tier,ttft_ms_p50,ttft_ms_p90,tpot_ms_p50,tpot_ms_p90,samples,as_of
haiku,900,2100,80,125,5000,2026-12-01
sonnet,700,1500,6.5,9,4200,2026-12-01
"""
JSONL = (
    '{"tier": "haiku", "ttft_ms_p50": 900, "output_tokens_per_s_p50": 12.5, "samples": 5000}\n'
    "\n"
    '{"tier": "sonnet", "ttft_ms_p50": 700, "ttft_ms_p90": 1500, '
    '"output_tokens_per_s_p50": 150, "output_tokens_per_s_p90": 110, "samples": 4200}\n'
)


def _printed_json(out: str) -> dict[str, object]:
    """The JSON document the command printed (the in-process server logs to stdout too)."""
    start = out.index("{\n")
    parsed: dict[str, object] = json.loads(out[start : out.index("\n}\n", start) + 3])
    return parsed


def _import(tmp_path: Path, name: str, text: str, *extra: str) -> tuple[int, Path]:
    source = tmp_path / name
    source.write_text(text)
    out = tmp_path / "latency.toml"
    return main(["latency", "import", str(source), "--out", str(out), *extra]), out


def test_import_csv_with_tpot_writes_the_file_the_server_loads(tmp_path: Path) -> None:
    rc, out = _import(tmp_path, "metrics.csv", CSV, "--version", "ops-2026-12")
    assert rc == 0
    table = load_latency_table(out)
    assert table.version == "ops-2026-12"
    haiku = table.tiers["haiku"]
    assert (haiku.ttft_ms_p50, haiku.ttft_ms_p90) == (900.0, 2100.0)
    assert haiku.output_tokens_per_s_p50 == pytest.approx(1000 / 80)
    assert haiku.output_tokens_per_s_p90 == pytest.approx(1000 / 125)  # the slow tail
    assert haiku.samples == 5000 and haiku.as_of == "2026-12-01"
    assert "metrics.csv line 2" in haiku.source
    assert set(table.tiers) == {"haiku", "sonnet"}


def test_import_jsonl_with_speeds(tmp_path: Path) -> None:
    rc, out = _import(tmp_path, "metrics.jsonl", JSONL)
    assert rc == 0
    table = load_latency_table(out)
    assert table.tiers["sonnet"].output_tokens_per_s_p90 == 110.0
    assert table.tiers["haiku"].ttft_ms_p90 is None
    assert "metrics.jsonl line 3" in table.tiers["sonnet"].source


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("m.csv", CSV.replace("sonnet,", "gpt-9,"), "m.csv line 3: tier: unknown tier 'gpt-9'"),
        ("m.csv", CSV.replace("haiku,900", "haiku,-900"), "line 2: ttft_ms_p50: must be > 0"),
        ("m.csv", CSV.replace("haiku,900", "haiku,nan"), "line 2: ttft_ms_p50: must be a finite"),
        ("m.csv", CSV.replace(",5000,", ",5,"), "line 2: samples: 5 requests are too few"),
        ("m.csv", CSV.replace(",5000,", ",,"), "line 2: samples: required"),
        ("m.csv", CSV.replace("2100", "100"), "line 2: ttft_ms_p90: must be >= ttft_ms_p50"),
        ("m.csv", CSV.replace("80,125", "80,40"), "line 2: tpot_ms_p90: must be >= tpot_ms_p50"),
        ("m.csv", CSV.replace("tpot_ms_p90", "tpot_p90"), "line 1: tpot_p90: unknown column"),
        ("m.csv", CSV + "haiku,1,2,3,4,500,x\n", "line 4: tier: 'haiku' again (first on line 2)"),
        ("m.csv", "tier,ttft_ms_p50,samples\nhaiku,900,500\n", "output_tokens_per_s_p50: required"),
        ("m.csv", "", "no header row"),
        ("m.jsonl", "not json\n", "m.jsonl line 1: <line>: not JSON"),
        ("m.jsonl", JSONL.replace("12.5", '"fast"'), "line 1: output_tokens_per_s_p50: must be"),
        ("m.jsonl", JSONL.replace("12.5", "1e309"), "line 1: output_tokens_per_s_p50: must be"),
        ("m.jsonl", JSONL.replace('"samples": 5000', '"samples": 5000, "p99": 1'), "p99"),
        (
            "m.jsonl",
            JSONL.replace("12.5,", '12.5, "tpot_ms_p50": 80,'),
            "line 1: tpot_ms_p50: give output_tokens_per_s_* or tpot_ms_*, not both",
        ),
        ("m.txt", CSV, "say --format csv or --format jsonl"),
    ],
)
def test_bad_telemetry_is_a_clear_error_with_line_and_field(
    tmp_path: Path, name: str, text: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, out = _import(tmp_path, name, text)
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith("error: telemetry ") and message in err, err
    assert "Traceback" not in err
    assert not out.exists()


def test_min_samples_can_be_lowered(tmp_path: Path) -> None:
    rc, _ = _import(tmp_path, "m.csv", CSV.replace(",5000,", ",5,"), "--min-samples", "5")
    assert rc == 0


def test_route_and_apply_from_the_cli(
    tmp_path: Path, tiny_server: TierwiseServer, capsys: pytest.CaptureFixture[str]
) -> None:
    address = f"127.0.0.1:{tiny_server.port}"
    argv = ["route", "what is 2 + 2", "--address", address, "--min-output-tokens-per-s", "75"]
    assert main(argv) == 0
    decision = _printed_json(capsys.readouterr().out)
    assert (decision["tier"], decision["reason_code"]) == ("haiku", "SPEED_LIMITED")
    assert decision["latency_constraints"] == {
        "max_ttft_ms": None,
        "max_latency_ms": None,
        "min_output_tokens_per_s": 75.0,
    }
    rc, out = _import(tmp_path, "metrics.jsonl", JSONL)
    assert rc == 0
    capsys.readouterr()
    assert main(["latency", "apply", str(out), "--address", address]) == 0
    assert "applied latency telemetry" in capsys.readouterr().out
    assert main(argv) == 0
    assert _printed_json(capsys.readouterr().out)["tier"] == "sonnet"
    assert main(["route", "x", "--address", address, "--max-ttft-ms", "-1"]) == 2
    assert "max_ttft_ms" in capsys.readouterr().err


def test_score_takes_constraints_per_line_and_from_flags(
    tmp_path: Path,
    tiny_bundle: Path,
    test_policy_file: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source = tmp_path / "queries.jsonl"
    rows = [
        {"query": "what is 2 + 2"},
        {"query": "what is 2 + 2", "min_output_tokens_per_s": 1.0},
        {"query": "what is 2 + 2", "max_ttft_ms": -3},
    ]
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    argv = ["score", "--input", str(source), "--model-dir", str(tiny_bundle)]
    argv += ["--policy-file", str(test_policy_file), "--min-output-tokens-per-s", "75"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    scored = [json.loads(line) for line in captured.out.splitlines()]
    assert (scored[0]["tier"], scored[0]["reason_code"]) == ("haiku", "SPEED_LIMITED")
    assert scored[1]["tier"] == "self-hosted"  # the line's own value wins over the flag
    assert not scored[0]["meets_latency"]["self-hosted"]
    assert "max_ttft_ms" in scored[2]["error"]


def test_serve_with_a_bad_latency_file_exits_with_a_clear_error(
    tmp_path: Path, tiny_bundle: Path
) -> None:
    bad = tmp_path / "latency.toml"
    bad.write_text('version = "x"\n[tiers.haiku]\nttft_ms_p50 = -1\n')
    result = subprocess.run(
        [*TIERWISE, "serve", "--address", "127.0.0.1:0", "--model-dir", str(tiny_bundle),
         "--latency-file", str(bad)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "latency.toml: tiers.haiku.ttft_ms_p50: must be > 0" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_reloads_the_latency_file_on_sighup(tmp_path: Path, tiny_bundle: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(TEST_POLICY)
    rc, latency_file = _import(tmp_path, "metrics.jsonl", JSONL.replace("12.5", "99"))
    assert rc == 0
    args = ("--model-dir", str(tiny_bundle), "--policy-file", str(policy))
    with serving(*args, "--latency-file", str(latency_file)) as (process, address):
        with TierwiseClient(address) as sdk:
            assert sdk.route("what is 2 + 2", min_output_tokens_per_s=75.0).tier == "haiku"
            (tmp_path / "metrics.jsonl").write_text(JSONL)
            argv = [
                "latency",
                "import",
                str(tmp_path / "metrics.jsonl"),
                "--out",
                str(latency_file),
            ]
            assert main(argv) == 0
            process.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 10
            while sdk.route("what is 2 + 2", min_output_tokens_per_s=75.0).tier != "sonnet":
                assert time.monotonic() < deadline, "SIGHUP did not reload the latency file"
                time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
        assert process.stderr is not None
        events = [json.loads(x)["event"] for x in process.stderr.read().splitlines() if x]
        assert "latency.applied" in events
