"""`tierwise replay`: artefacts, server round trip, bad input, tier renames, head adoption."""

from __future__ import annotations

import itertools
import json
import random
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from replay_data import TRUE_ABILITY, labelled, replay, write_jsonl

from tierwise.sdk import TierwiseClient
from tierwise.server.cli import main
from tierwise.server.config import ServerSettings
from tierwise.server.replay.fit import (
    TierParameters,
    fit_abilities,
    fit_policy_parameters,
    should_adopt_head,
)
from tierwise.server.routing.policy import load_policy
from tierwise.server.routing.router import Router
from tierwise.server.rpc.app import TierwiseServer, load_components


def model_args(tiny_bundle: Path, test_policy_file: Path) -> list[str]:
    return ["--model-dir", str(tiny_bundle), "--policy-file", str(test_policy_file)]


def test_cli_writes_artefacts_and_the_server_follows_the_written_policy(
    tmp_path: Path,
    tiny_bundle: Path,
    test_policy_file: Path,
    tiny_server: TierwiseServer,
    client: TierwiseClient,
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows = labelled(240)
    source = write_jsonl(tmp_path / "labelled.jsonl", rows)
    out = tmp_path / "out"
    argv = ["replay", "--input", str(source), "--out", str(out), "--seed", "3"]
    assert main(argv + model_args(tiny_bundle, test_policy_file)) == 0
    printed = capsys.readouterr().out
    assert "validation (120 queries)" in printed
    for name in ("policy.toml", "report.md", "frontier.png", "decisions.jsonl"):
        assert (out / name).stat().st_size > 0, name
    assert (out / "frontier.png").read_bytes()[:4] == b"\x89PNG"
    report = (out / "report.md").read_text()
    assert "Chosen operating point" in report and "validation" in report

    policy = load_policy(out / "policy.toml")
    assert policy.version.startswith("replay-")
    tiny_server.components.policies.check(policy)  # what the server checks on reload
    decisions = [json.loads(line) for line in (out / "decisions.jsonl").read_text().splitlines()]
    assert len(decisions) == len(rows)
    assert {d["split"] for d in decisions} == {"tune", "validation"}
    assert set(decisions[0]) >= {"id", "split", "tier", "difficulty", "p_success", "cost_usd"}

    queries = {r["id"]: r["query"] for r in rows}
    before = {d["id"]: client.route(queries[d["id"]]).tier for d in decisions}
    argv = [
        "policy",
        "apply",
        str(out / "policy.toml"),
        "--address",
        f"127.0.0.1:{tiny_server.port}",
    ]
    assert main(argv) == 0
    after = {}
    for d in decisions:
        decision = client.route(queries[d["id"]])
        assert decision.policy_version == policy.version
        assert decision.difficulty == pytest.approx(d["difficulty"])
        after[d["id"]] = decision.tier
    assert after == {d["id"]: d["tier"] for d in decisions}  # replay predicted the server
    assert after != before  # and the new policy changed its decisions


def test_bad_lines_are_reported_with_line_numbers(router: Router, tmp_path: Path) -> None:
    good = labelled(80)
    bad = [
        "not json\n",
        {"outcomes": good[0]["outcomes"]},
        {"query": "hello", "outcomes": {**good[0]["outcomes"], "haiku": 1.5}},
        {"query": "hello", "outcomes": {**good[0]["outcomes"], "gpt-9": 1.0}},
    ]
    source = write_jsonl(tmp_path / "mixed.jsonl", [good[0], *bad, *good[1:]])
    result = replay(router, source, tmp_path / "out", bootstrap_resamples=200)
    assert (result.usable_lines, result.skipped_lines, result.lines_read) == (80, 4, 84)
    assert [m.split(": ", 1)[0] for m in result.issues] == [f"{source}:{i}" for i in (2, 3, 4, 5)]
    assert "not valid JSON" in result.issues[0]
    assert "`query`" in result.issues[1]
    assert "in [0, 1]" in result.issues[2]
    assert "known tiers: self-hosted, haiku, sonnet, opus" in result.issues[3]
    report = result.report_path.read_text()
    assert "4 of 84 input lines were skipped" in report and f"{source}:5" in report


def test_strict_fails_on_the_first_bad_line(
    tmp_path: Path,
    tiny_bundle: Path,
    test_policy_file: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows: list[Any] = labelled(60)
    rows.insert(3, {"query": "x", "outcomes": {"opus": -0.1}})
    source = write_jsonl(tmp_path / "in.jsonl", rows)
    argv = ["replay", "--input", str(source), "--out", str(tmp_path / "o"), "--strict"]
    assert main(argv + model_args(tiny_bundle, test_policy_file)) == 2
    assert f"error: {source}:4: outcomes.opus must be in [0, 1]" in capsys.readouterr().err
    assert not (tmp_path / "o" / "policy.toml").exists()


def test_too_few_usable_lines_is_an_error_with_advice(router: Router, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "small.jsonl", labelled(30))
    with pytest.raises(ValueError, match=r"30 usable labelled line\(s\).*at least 50"):
        replay(router, source, tmp_path / "out")
    empty = write_jsonl(tmp_path / "empty.jsonl", ["\n"])
    with pytest.raises(ValueError, match="0 usable"):
        replay(router, empty, tmp_path / "out")


def test_unknown_tiers_need_map(router: Router, tmp_path: Path) -> None:
    keys = {"self-hosted": "small", "haiku": "medium", "sonnet": "large", "opus": "xl"}
    source = write_jsonl(tmp_path / "renamed.jsonl", labelled(100, keys=keys))
    with pytest.raises(ValueError, match="known tiers: self-hosted, haiku, sonnet, opus"):
        replay(router, source, tmp_path / "out")
    mapping = tuple(f"{new}={old}" for old, new in keys.items())
    result = replay(router, source, tmp_path / "out", tier_map=mapping, bootstrap_resamples=200)
    assert result.usable_lines == 100
    with pytest.raises(ValueError, match="unknown tier 'gpt'; known: self-hosted"):
        replay(router, source, tmp_path / "out", tier_map=("xl=gpt",))
    with pytest.raises(ValueError, match="--tiers: unknown tier"):
        replay(router, source, tmp_path / "out", tiers=("nope",))


def test_tier_subset_routes_only_among_those_tiers(router: Router, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", labelled(120))
    result = replay(
        router, source, tmp_path / "out", tiers=("haiku", "opus"), bootstrap_resamples=200
    )
    assert result.tiers == ("haiku", "opus")
    decided = {json.loads(line)["tier"] for line in result.decisions_path.read_text().splitlines()}
    assert decided <= {"haiku", "opus"}
    policy = load_policy(result.policy_path)
    assert policy.tiers["sonnet"].ability == 3.0  # not replayed: kept as it was


def test_fit_head_is_adopted_only_when_it_wins_on_validation(
    router: Router, tmp_path: Path
) -> None:
    # The shipped head calls hard words hard; here they are easy: a re-fitted head wins.
    source = write_jsonl(tmp_path / "reversed.jsonl", labelled(300, reverse=True))
    result = replay(router, source, tmp_path / "a", fit_head=True, bootstrap_resamples=200)
    assert result.head is not None and result.head.adopted
    assert result.head.refitted_log_loss < result.head.shipped_log_loss
    policy = load_policy(result.policy_path)
    assert policy.head is not None and len(policy.head.weights) == 4
    router.policies.check(policy)
    assert "**adopted**" in result.report_path.read_text()

    # Outcomes that carry no signal a head could learn: the shipped head stays.
    rng = random.Random(5)
    noise = [
        {**row, "outcomes": {t: float(rng.random() < 0.5) for t in TRUE_ABILITY}}
        for row in labelled(300)
    ]
    source = write_jsonl(tmp_path / "noise.jsonl", noise)
    result = replay(router, source, tmp_path / "b", fit_head=True, bootstrap_resamples=200)
    assert result.head is not None and not result.head.adopted
    assert load_policy(result.policy_path).head is None
    assert "**not adopted**" in result.report_path.read_text()

    assert should_adopt_head(0.60, 0.55) and not should_adopt_head(0.60, 0.5995)


def test_confidence_intervals_and_frontier(router: Router, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", labelled(300, seed=2))
    result = replay(router, source, tmp_path / "out", quality_target=0.9)
    for part in (result.tune, result.validation):
        for interval in (part.quality, part.cost_usd, part.saving):
            assert interval.low <= interval.estimate <= interval.high
            assert interval.low < interval.high
        frontier = [part.points[i] for i in part.frontier]
        assert len(frontier) >= 3
        for cheaper, dearer in itertools.pairwise(frontier):
            assert dearer.cost_usd >= cheaper.cost_usd and dearer.quality > cheaper.quality
    assert result.target_interval.low <= result.chosen_target <= result.target_interval.high
    best = result.tune.singles[result.best_single_tier].quality
    assert result.tune.quality.estimate >= 0.9 * best
    assert load_policy(result.policy_path).quality_target == result.chosen_target


def test_report_without_matplotlib(
    router: Router, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    source = write_jsonl(tmp_path / "in.jsonl", labelled(60))
    result = replay(router, source, tmp_path / "out", bootstrap_resamples=200)
    assert result.plot_path is None and not (tmp_path / "out" / "frontier.png").exists()
    assert "matplotlib is not installed" in result.report_path.read_text()


def test_ability_fit_recovers_the_truth_and_the_prior_holds_small_samples() -> None:
    rng = np.random.default_rng(0)
    b = rng.normal(0, 1.5, 20_000)
    theta_true = np.array([-1.0, 0.0, 1.0])
    p = 1 / (1 + np.exp(-1.7 * (theta_true[None, :] - b[:, None])))
    y = (rng.random(p.shape) < p).astype(float)
    start = TierParameters(np.zeros(3), 1.0, np.zeros((3, 0)))
    no_skills = np.zeros((len(b), 0))
    fitted = fit_abilities(b, y, start, no_skills, fit_discrimination=True, fit_skills=False)
    assert fitted.theta == pytest.approx(theta_true, abs=0.05)
    assert fitted.discrimination == pytest.approx(1.7, abs=0.05)
    # Three queries that every tier solves: abilities move, but stay finite.
    fitted = fit_abilities(
        np.zeros(3),
        np.ones((3, 3)),
        start,
        np.zeros((3, 0)),
        fit_discrimination=True,
        fit_skills=False,
    )
    assert np.all(np.isfinite(fitted.theta)) and np.all(fitted.theta < 3)
    assert fitted.discrimination < 5


def test_skill_vectors_are_recovered_and_chosen_only_when_they_help() -> None:
    rng = np.random.default_rng(1)
    n = 4_000
    b = rng.normal(0, 1.5, n)
    s = rng.normal(0, 1, (n, 2))
    theta_true = np.array([-1.0, 0.0, 1.0])
    u_true = np.array([[1.0, 0.0], [0.0, 0.0], [-1.0, 0.5]])
    start = TierParameters(np.zeros(3), 1.0, np.zeros((3, 2)))

    def outcomes(u: np.ndarray) -> np.ndarray:
        z = theta_true[None, :] - b[:, None] + s @ u.T
        return (rng.random(z.shape) < 1 / (1 + np.exp(-z))).astype(float)

    y = outcomes(u_true)
    fitted = fit_abilities(b, y, start, s, fit_discrimination=False, fit_skills=True)
    assert fitted.skills == pytest.approx(u_true, abs=0.12)
    assert fitted.theta == pytest.approx(theta_true, abs=0.12)
    chosen = fit_policy_parameters(b, y, start, s, np.random.default_rng(2))
    assert chosen.skills_refitted
    assert chosen.cv_log_loss["abilities+skills"] < chosen.cv_log_loss["abilities"]
    # Outcomes without any skill effect: the extra parameters do not win cross-validation.
    plain = fit_policy_parameters(b, outcomes(np.zeros((3, 2))), start, s, np.random.default_rng(3))
    assert not plain.skills_refitted
    # A fixed skill term is an offset: abilities are fitted around it.
    fixed = TierParameters(np.zeros(3), 1.0, u_true)
    fitted = fit_abilities(b, y, fixed, s, fit_discrimination=False, fit_skills=False)
    assert fitted.skills is u_true
    assert fitted.theta == pytest.approx(theta_true, abs=0.12)


def test_skill_vectors_survive_replay_and_decisions_use_them(
    tiny_bundle: Path, tmp_path: Path
) -> None:
    from tiny_router import TEST_POLICY

    from tierwise.classifier.runtime import RouterModel

    base = TEST_POLICY.replace("ability = 4.0", "ability = 4.0\nskills = [-3.0, 0.5]")
    policy_file = tmp_path / "base.toml"
    policy_file.write_text(base)
    router = load_components(ServerSettings(model_dir=tiny_bundle, policy_file=policy_file)).router
    rows = labelled(200, seed=5)
    result = replay(router, write_jsonl(tmp_path / "in.jsonl", rows), tmp_path / "out")
    written = load_policy(result.policy_path)
    router.policies.check(written)
    opus = written.tiers["opus"].skills
    assert len(opus) == 2
    if not result.skills_refitted:
        assert opus == (-3.0, 0.5)
        assert all(not written.tiers[t].skills for t in ("self-hosted", "haiku", "sonnet"))
    assert "tier skill vectors" in result.report_path.read_text()
    model = RouterModel.load(tiny_bundle)
    queries = {r["id"]: r["query"] for r in rows}
    decisions = [json.loads(line) for line in result.decisions_path.read_text().splitlines()]
    for d in decisions[:40]:
        profile = tuple(model.predict([queries[d["id"]]]).skills[0].tolist())
        for tier, p in d["p_success"].items():
            assert p == pytest.approx(written.p_success(tier, d["difficulty"], profile), abs=1e-9)
