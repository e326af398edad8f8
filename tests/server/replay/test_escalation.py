"""Replay judges each escalation rule by the quality it buys per extra dollar."""

from __future__ import annotations

from pathlib import Path

import pytest
from replay_data import labelled, replay, write_jsonl

from tierwise.server.replay.escalation import (
    RULES,
    adjacent_mix_quality,
    marginal_rate,
    with_rule,
)
from tierwise.server.replay.sweep import Point
from tierwise.server.routing.policy import load_policy
from tierwise.server.routing.router import Router


def test_adjacent_mix_interpolates_on_the_upper_hull() -> None:
    singles = [Point(0.5, 1.0), Point(0.55, 3.0), Point(0.9, 4.0), Point(0.8, 9.0)]
    # (0.55, 3) lies under the chord (1, 0.5) → (4, 0.9): the hull skips it; (9, 0.8) is worse.
    assert adjacent_mix_quality(singles, 2.5) == pytest.approx(0.5 + 0.5 * 0.4)
    assert adjacent_mix_quality(singles, 0.1) == 0.5
    assert adjacent_mix_quality(singles, 20.0) == 0.9


def test_marginal_rate_is_the_slope_of_the_frontier_segment() -> None:
    points = [Point(0.5, 1.0), Point(0.7, 2.0), Point(0.8, 4.0)]
    assert marginal_rate(points, [0, 1, 2], points[1]) == pytest.approx(0.1 / 2.0)
    assert marginal_rate(points, [0, 1, 2], points[2]) == pytest.approx(0.1 / 2.0)
    assert marginal_rate(points, [0], points[0]) is None


def test_with_rule_switches_exactly_one_rule(router: Router) -> None:
    policy = router.policies.current
    for rule in RULES:
        off = with_rule(policy, rule, False)
        on = with_rule(off, rule, True)
        assert on == with_rule(policy, rule, True)
        assert off != on
    with pytest.raises(ValueError, match="unknown escalation rule"):
        with_rule(policy, "moon_phase", True)


def test_replay_reports_every_rule_and_writes_only_rules_that_pay(
    router: Router, tmp_path: Path
) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", labelled(300, seed=5))
    result = replay(router, source, tmp_path / "out", quality_target=0.9)
    assert [e.rule for e in result.rule_effects] == list(RULES)
    written = load_policy(result.policy_path)
    for effect in result.rule_effects:
        assert effect.enabled == getattr(written, RULES[effect.rule])
        assert 0.0 <= effect.escalated_share <= 1.0
        if effect.extra_cost_usd <= 0 and effect.quality_gain <= 0:
            assert not effect.pays
    report = result.report_path.read_text()
    assert "## Escalation rules (validation part)" in report
    assert "best random mix of two adjacent tiers" in report
    for rule in RULES:
        assert f"| {rule} |" in report
