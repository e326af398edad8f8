"""The `tierwise` command line: score ≡ Route, policy apply, serve as a real process."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import grpc
import pytest
from cli_process import serving
from grpc_health.v1 import health_pb2, health_pb2_grpc
from tiny_router import TEST_POLICY

from tierwise.sdk import TierwiseClient
from tierwise.server.cli import main
from tierwise.server.rpc.app import TierwiseServer


def test_score_gives_the_same_numbers_as_route(
    tmp_path: Path,
    tiny_bundle: Path,
    test_policy_file: Path,
    client: TierwiseClient,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source = tmp_path / "queries.jsonl"
    queries = ["what is 2 + 2", "prove the riemann hypothesis", "hello cats"]
    lines = [json.dumps({"id": "a", "query": queries[0], "extra": 1})]
    lines += [json.dumps({"query": q}) for q in queries[1:]]
    source.write_text("\n".join(lines) + "\n")
    output = tmp_path / "scored.jsonl"
    argv = ["score", "--input", str(source), "--output", str(output)]
    argv += ["--model-dir", str(tiny_bundle), "--policy-file", str(test_policy_file)]
    assert main(argv) == 0
    rows = [json.loads(line) for line in output.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["a", 2, 3]
    for query, row in zip(queries, rows, strict=True):
        decision = client.route(query)
        assert row["tier"] == decision.tier
        assert row["difficulty"] == decision.difficulty
        for estimate in decision.estimates:
            assert row["p_success"][estimate.tier] == estimate.p_success
            assert row["predicted_output_tokens"][estimate.tier] == estimate.predicted_output_tokens


def test_score_reports_bad_lines_with_their_numbers(
    tmp_path: Path,
    tiny_bundle: Path,
    test_policy_file: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source = tmp_path / "mixed.jsonl"
    source.write_text('{"query": "hello"}\nnot json\n{"text": "no query"}\n{"query": "  "}\n')
    argv = ["score", "--input", str(source), "--model-dir", str(tiny_bundle)]
    argv += ["--policy-file", str(test_policy_file)]
    assert main(argv) == 0
    captured = capsys.readouterr()
    rows = [json.loads(line) for line in captured.out.splitlines()]
    assert len(rows) == 4 and "tier" in rows[0]
    assert [r.get("error") is not None for r in rows] == [False, True, True, True]
    assert "mixed.jsonl:2" in captured.err and "3 of 4 lines" in captured.err
    assert main([*argv, "--strict"]) == 2
    assert "error: " in capsys.readouterr().err


def test_policy_apply_and_show(
    tmp_path: Path, tiny_server: TierwiseServer, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = tmp_path / "strict.toml"
    policy.write_text(TEST_POLICY.replace("test-policy-1", "from-cli"))
    address = f"127.0.0.1:{tiny_server.port}"
    assert main(["policy", "apply", str(policy), "--address", address]) == 0
    assert "applied policy from-cli" in capsys.readouterr().out
    assert main(["policy", "show", "--address", address]) == 0
    assert 'version = "from-cli"' in capsys.readouterr().out
    broken = tmp_path / "broken.toml"
    broken.write_text('version = "x"\n')
    assert main(["policy", "apply", str(broken), "--address", address]) == 2
    assert "broken.toml" in capsys.readouterr().err


def test_cli_errors_are_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["quote", "--tier", "gpt-9", "--input-tokens", "10", "--output-tokens", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "gpt-9" in err and "Traceback" not in err
    assert main(["route", "hi", "--address", "127.0.0.1:1", "--timeout-s", "0.3"]) == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_serve_runs_reloads_on_sighup_and_drains_on_sigterm(
    tmp_path: Path, tiny_bundle: Path
) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(TEST_POLICY)
    model_args = ("--model-dir", str(tiny_bundle), "--policy-file", str(policy))
    with serving(*model_args, "--grace-s", "1") as (process, address):
        with grpc.insecure_channel(address) as channel:
            health = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=5
            )
            assert health.status == health_pb2.HealthCheckResponse.SERVING
        with TierwiseClient(address) as sdk_client:
            assert sdk_client.route("what is 2 + 2").policy_version == "test-policy-1"
            policy.write_text(TEST_POLICY.replace("test-policy-1", "after-hup"))
            process.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 10
            while sdk_client.get_policy().policy_version != "after-hup":
                assert time.monotonic() < deadline, "SIGHUP did not reload the policy"
                time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
        assert process.stderr is not None
        events = [json.loads(x)["event"] for x in process.stderr.read().splitlines() if x]
        assert "server.started" in events and "policy.applied" in events
        assert "server.stopped" in events


def test_logs_never_contain_the_query_text(tmp_path: Path, tiny_bundle: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(TEST_POLICY)
    secret = "what is the capital of france"
    model_args = ("--model-dir", str(tiny_bundle), "--policy-file", str(policy))
    with serving(*model_args, "--log-level", "debug") as (
        process,
        address,
    ):
        with TierwiseClient(address) as sdk_client:
            sdk_client.route(secret)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)
        assert process.stderr is not None
        log = process.stderr.read()
    decided = [json.loads(x) for x in log.splitlines() if "route.decided" in x]
    assert decided and decided[0]["query_chars"] == len(secret)
    assert "query_sha256" in decided[0]
    assert "capital of france" not in log
