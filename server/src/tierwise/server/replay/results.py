"""What a replay measured: the results run.py computes and report.py writes (their own
module, so neither imports the other's internals)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tierwise.server.replay import cascade, escalation
from tierwise.server.replay.sweep import Interval, Point


@dataclass(frozen=True)
class HeadResult:
    """The --fit-head comparison on the validation part (log-loss and Brier per outcome)."""

    ridge_lambda: float
    cv_log_loss: float
    shipped_log_loss: float
    shipped_brier: float
    refitted_log_loss: float
    refitted_brier: float
    adopted: bool


@dataclass(frozen=True)
class PartResult:
    """One part (tuning or validation) measured at the chosen quality target."""

    size: int
    quality: Interval
    cost_usd: Interval  # mean per query
    saving: Interval  # 1 − cost / cost of the best single tier (same queries)
    quality_ratio: Interval  # quality / quality of the best single tier
    mix: Mapping[str, float]  # share of queries per tier
    escalation_rate: float
    singles: Mapping[str, Point]
    oracle: Point
    random_quality: float  # random mix of cheapest and priciest tier at the same cost
    current_policy: Point  # the policy replay started from, at its own target
    points: tuple[Point, ...]  # one per swept target
    frontier: tuple[int, ...]  # indices into points/targets, cheapest first


@dataclass(frozen=True)
class ReplayResult:
    input_path: Path
    out_dir: Path
    policy_path: Path
    report_path: Path
    decisions_path: Path
    plot_path: Path | None  # None when matplotlib is not installed
    policy_version: str
    base_policy_version: str
    router_version: str
    table_version: str
    encoder: str
    tiers: tuple[str, ...]
    lines_read: int
    usable_lines: int
    skipped_lines: int
    issues: tuple[str, ...]
    quality_target: float  # of the best single tier
    targets: tuple[float, ...]  # swept P(success) targets
    chosen_target: float  # the policy's quality_target
    target_interval: Interval  # bootstrap of the whole selection on the tuning part
    feasible: bool
    best_single_tier: str
    abilities_before: Mapping[str, float]
    abilities_after: Mapping[str, float]
    discrimination_before: float
    discrimination_after: float
    discrimination_refitted: bool
    skills_refitted: bool  # tier skill vectors re-fitted (else carried over)
    cv_log_loss: Mapping[str, float]  # 5-fold CV log-loss of each parameter set tried
    tier_counts: Mapping[str, tuple[int, int]]  # tuning part: (successes, failures)
    head: HeadResult | None
    tune: PartResult
    validation: PartResult
    # Each escalation rule on the validation part, and the best mix of two adjacent tiers at
    # the policy's validation cost (what a user gets without a router).
    rule_effects: tuple[escalation.RuleEffect, ...]
    escalation_rate: float  # validation queries the written policy escalates
    adjacent_mix_quality: float
    bimodality: float
    warnings: tuple[str, ...]
    scoring_s: float
    analysis_s: float
    # Cascade and hybrid replayed next to the classifier (--strategy cascade|hybrid|all).
    cascade: cascade.CascadeComparison | None = None
    # Lines routed under a latency constraint, and how many decisions of the starting policy
    # it changed (the tuned thresholds themselves do not model latency).
    latency_constrained: int = 0
    latency_changed: int = 0
