"""Replay for cascades: plan semantics, the simulated verifier, the strategies side by side,
thresholds in the written policy, decisions.jsonl attempts, and --from-store."""

from __future__ import annotations

import json
import random
from pathlib import Path

import grpc
import numpy as np
import pytest
from replay_data import labelled, write_jsonl

from tierwise.sdk import TierwiseClient
from tierwise.server.cli import main
from tierwise.server.config import ServerSettings
from tierwise.server.replay.cascade import measured_auc, run_plans, simulate_verifier
from tierwise.server.routing.policy import load_policy
from tierwise.server.rpc.app import TierwiseServer, load_components
from tierwise.v1 import outcomes_pb2, outcomes_pb2_grpc


def model_args(tiny_bundle: Path, test_policy_file: Path) -> list[str]:
    return ["--model-dir", str(tiny_bundle), "--policy-file", str(test_policy_file)]


def test_plans_accept_escalate_and_pay_for_every_attempt() -> None:
    outcomes = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0], [0.0, 0.0, 1.0], [1.0, 1.0, 0.0]])
    costs = np.array([[1.0, 10.0, 100.0]] * 4)
    scores = np.array([[0.9, 0.1, 0.5], [0.2, 0.8, 0.5], [0.1, 0.1, 0.1], [0.7, 0.9, 0.9]])
    thresholds = np.array([0.7, 0.8, 0.0])
    everything = np.ones(3, dtype=bool)
    start = np.zeros(4, dtype=np.int64)
    quality, cost, attempts = run_plans(outcomes, costs, scores, start, everything, thresholds)
    # q0 accepted at tier 0 (0.9 ≥ 0.7); q1 at tier 1 (0.8 ≥ 0.8); q2 falls to the last
    # tier, which accepts anything; q3 exactly at tier 0's threshold.
    assert attempts.tolist() == [1, 2, 3, 1]
    assert cost.tolist() == [1.0, 11.0, 111.0, 1.0]
    assert quality.tolist() == [1.0, 1.0, 1.0, 1.0]
    # Tier 1 left out of the plan: q1 goes straight from tier 0 to tier 2.
    skip = np.array([True, False, True])
    _, cost, attempts = run_plans(outcomes, costs, scores, start, skip, thresholds)
    assert attempts.tolist() == [1, 2, 2, 1] and cost.tolist() == [1.0, 101.0, 101.0, 1.0]
    # Hybrid: a query starting at tier 1 never pays for tier 0.
    _, cost, _ = run_plans(outcomes, costs, scores, np.array([1, 1, 2, 0]), everything, thresholds)
    assert cost.tolist() == [110.0, 10.0, 100.0, 1.0]


@pytest.mark.parametrize("auc", [0.7, 0.8, 0.9])
def test_simulated_verifier_has_the_stated_auc(auc: float) -> None:
    outcomes = (np.random.default_rng(1).random((20_000, 1)) < 0.5).astype(float)
    scores = simulate_verifier(outcomes, auc, seed=7)
    assert measured_auc(scores[:, 0], outcomes[:, 0]) == pytest.approx(auc, abs=0.015)
    assert np.array_equal(scores, simulate_verifier(outcomes, auc, seed=7))  # seeded


def test_replay_all_strategies_side_by_side(
    tmp_path: Path,
    tiny_bundle: Path,
    test_policy_file: Path,
    tiny_server: TierwiseServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows = labelled(240, seed=5)
    source = write_jsonl(tmp_path / "labelled.jsonl", rows)
    out = tmp_path / "out"
    argv = ["replay", "--input", str(source), "--out", str(out), "--strategy", "all"]
    argv += ["--verifier-auc", "0.8", "--bootstrap", "200"]
    assert main(argv + model_args(tiny_bundle, test_policy_file)) == 0
    printed = capsys.readouterr().out
    for strategy in ("classifier", "cascade", "hybrid"):
        assert f"  {strategy} " in printed
    assert "AUC 0.8" in printed and "recommended:" in printed
    report = (out / "report.md").read_text()
    assert "## Strategies side by side (validation part)" in report
    assert "binormal verifier of AUC 0.8" in report and "bimodality" in report
    policy = load_policy(out / "policy.toml")
    tiny_server.components.policies.check(policy)
    assert policy.cascade.default_strategy in {"classifier", "cascade", "hybrid"}
    assert policy.cascade.thresholds and policy.cascade.note.startswith("tuned by tierwise")
    decisions = [json.loads(line) for line in (out / "decisions.jsonl").read_text().splitlines()]
    assert len(decisions) == len(rows)
    for d in decisions:
        assert d["tiers_tried"] == [d["tier"]] and d["attempt_cost_usd"] == [d["cost_usd"]]
        for strategy in ("cascade", "hybrid"):
            run = d[strategy]
            assert run["tier"] == run["tiers_tried"][-1]
            assert len(run["attempt_cost_usd"]) == len(run["tiers_tried"]) >= 1
            assert all(c > 0 for c in run["attempt_cost_usd"])


def test_verifier_scores_from_the_input(
    tmp_path: Path, tiny_bundle: Path, test_policy_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = labelled(200, seed=2)
    rng = random.Random(0)
    # A perfect verifier (the score is the outcome, a little noise): a cascade approaches
    # the oracle, far cheaper than always using the best tier.
    for row in rows:
        row["verifier"] = {
            t: min(1.0, max(0.0, y + rng.uniform(-0.1, 0.1))) for t, y in row["outcomes"].items()
        }
    source = write_jsonl(tmp_path / "labelled.jsonl", rows)
    argv = ["replay", "--input", str(source), "--out", str(tmp_path / "o"), "--strategy"]
    argv += ["cascade", "--bootstrap", "200"]
    assert main(argv + model_args(tiny_bundle, test_policy_file)) == 0
    printed = capsys.readouterr().out
    assert "scores from the input's `verifier` fields" in printed
    line = next(x for x in printed.splitlines() if x.startswith("  cascade"))
    assert "escalated" in line
    # Without verifier scores and without --verifier-auc: a clear error.
    plain = write_jsonl(tmp_path / "plain.jsonl", labelled(200, seed=2))
    argv = ["replay", "--input", str(plain), "--out", str(tmp_path / "p"), "--strategy", "hybrid"]
    assert main(argv + model_args(tiny_bundle, test_policy_file)) == 2
    assert "--verifier-auc" in capsys.readouterr().err


def test_replay_from_the_outcome_store(
    tmp_path: Path, tiny_bundle: Path, test_policy_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "outcomes.sqlite"
    settings = ServerSettings(
        address="127.0.0.1:0",
        model_dir=tiny_bundle,
        policy_file=test_policy_file,
        outcome_store=str(store),
        store_query_text=True,
    )
    server = TierwiseServer(settings, load_components(settings))
    server.start()
    rows = labelled(80, seed=9)
    try:
        with TierwiseClient(f"127.0.0.1:{server.port}") as client:
            ids = [client.route(r["query"], strategy="cascade").decision_id for r in rows]
        request = outcomes_pb2.ReportOutcomesRequest()
        for decision_id, row in zip(ids, rows, strict=True):
            # A full evaluation: every tier tried and labelled (a sample of traffic).
            outcome = request.outcomes.add(decision_id=decision_id, final_tier="opus")
            for tier, label in row["outcomes"].items():
                outcome.attempts.add(tier=tier, score=label, quality=label, cost_usd=0.001)
        with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            reply = outcomes_pb2_grpc.OutcomeServiceStub(channel).ReportOutcomes(request)
        assert reply.accepted == len(rows)
    finally:
        server.stop(0)  # drains the writer
    out = tmp_path / "from_store"
    argv = ["replay", "--from-store", str(store), "--since", "1d", "--out", str(out)]
    argv += ["--strategy", "cascade", "--bootstrap", "200"]
    assert main(argv + model_args(tiny_bundle, test_policy_file)) == 0
    printed = capsys.readouterr().out
    assert f"{len(rows)} labelled queries from the store" in printed
    assert "validation (40 queries)" in printed
    exported = [json.loads(x) for x in (out / "from_store.jsonl").read_text().splitlines()]
    assert {r["query"] for r in exported} == {r["query"] for r in rows}
    assert all(set(r["verifier"]) == set(r["outcomes"]) for r in exported)
    argv = ["replay", "--from-store", str(store), "--since", "soon", "--out", str(out)]
    assert main(argv + model_args(tiny_bundle, test_policy_file)) == 2
    assert "--since 'soon'" in capsys.readouterr().err
