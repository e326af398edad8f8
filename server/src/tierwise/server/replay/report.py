"""report.md (tables, chosen point, confidence intervals, warnings) and frontier.png."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Final

from tierwise.server.replay.results import PartResult, ReplayResult
from tierwise.server.replay.sweep import Interval

# Rows of the frontier table in the report (the full sweep is in the plot).
MAX_FRONTIER_ROWS: Final = 25
NO_MATPLOTLIB: Final = (
    "matplotlib is not installed: frontier.png was not drawn "
    "(pip install 'tierwise-server[replay]')"
)


def _usd(value: float) -> str:
    return f"${value * 1000:.4f}"


def _ci(interval: Interval, fmt: str = "{:.3f}", scale: float = 1.0) -> str:
    return (
        fmt.format(interval.estimate * scale)
        + f" [{fmt.format(interval.low * scale)}, {fmt.format(interval.high * scale)}]"
    )


def _ci_usd(interval: Interval) -> str:
    return f"{_usd(interval.estimate)} [{_usd(interval.low)}, {_usd(interval.high)}]"


def _mix(part: PartResult) -> str:
    return ", ".join(f"{t} {share:.0%}" for t, share in part.mix.items())


def _part_table(result: ReplayResult, part: PartResult) -> list[str]:
    reference = part.singles[result.best_single_tier]
    chosen = result.targets.index(result.chosen_target)
    lines = [
        "| strategy | quality | cost / 1k queries | saving vs best single tier |",
        "|---|---|---|---|",
    ]

    def row(name: str, quality: float, cost: float) -> str:
        saving = 1 - cost / reference.cost_usd if reference.cost_usd > 0 else 0.0
        return f"| {name} | {quality:.3f} | {_usd(cost)} | {saving:+.1%} |"

    point = part.points[chosen]
    lines.append(
        row(f"**replayed policy** (target {result.chosen_target:g})", point.quality, point.cost_usd)
    )
    lines.append(
        row(
            f"current policy ({result.base_policy_version})",
            part.current_policy.quality,
            part.current_policy.cost_usd,
        )
    )
    for tier, single in part.singles.items():
        marker = " (best single tier)" if tier == result.best_single_tier else ""
        lines.append(row(f"always {tier}{marker}", single.quality, single.cost_usd))
    lines.append(row("random mix, same cost", part.random_quality, point.cost_usd))
    lines.append(
        row("oracle (cheapest tier that succeeds)", part.oracle.quality, part.oracle.cost_usd)
    )
    return lines


def _rule_table(result: ReplayResult) -> list[str]:
    """Each escalation rule's effect on the validation part."""
    rows = [
        "## Escalation rules (validation part)",
        "",
        f"The written policy escalates {result.escalation_rate:.1%} of validation queries one "
        f"tier (the policy replay started from: {result.validation.escalation_rate:.1%}). "
        "A rule stays on only if, on the tuning part, the quality it buys per extra "
        "dollar is at least the policy's own marginal rate (raising the quality target would "
        "otherwise buy the same quality for less).",
        "",
        "| rule | in the written policy | escalates | quality gain | extra cost / 1k "
        "| quality per $ | policy's marginal quality per $ |",
        "|---|---|---|---|---|---|---|",
    ]
    for e in result.rule_effects:
        rate = "—" if e.quality_per_usd is None else f"{e.quality_per_usd:.1f}"
        margin = "—" if e.marginal_quality_per_usd is None else f"{e.marginal_quality_per_usd:.1f}"
        rows.append(
            f"| {e.rule} | {'on' if e.enabled else 'off'} | {e.escalated_share:.1%} | "
            f"{e.quality_gain:+.4f} | {_usd(e.extra_cost_usd)} | {rate} | {margin} |"
        )
    return rows


def render_markdown(result: ReplayResult) -> str:
    pct = f"{result.quality_target:.0%}"
    conf = "95%"
    tune, val = result.tune, result.validation
    best = result.best_single_tier
    out = [
        f"# Tierwise replay: {result.input_path.name}",
        "",
        f"Policy written: `{result.policy_path.name}` version `{result.policy_version}` "
        f"(from `{result.base_policy_version}`); router `{result.router_version}` "
        f"({result.encoder} encoder), cost table `{result.table_version}`.",
        "",
        f"- Input: {result.lines_read} lines, {result.usable_lines} usable, "
        f"{result.skipped_lines} skipped.",
        f"- Split (seeded): {tune.size} tuning queries (fit and choice), {val.size} validation "
        "queries (measured only).",
        f"- Tiers: {', '.join(result.tiers)}.",
        f"- Latency: {result.latency_constrained} queries routed under a latency constraint "
        f"(their line's or the policy's `[latency]` rules); the constraint changed "
        f"{result.latency_changed} of the starting policy's decisions. The tuning below "
        "ignores latency.",
        f"- Scoring {result.scoring_s:.1f} s, analysis {result.analysis_s:.1f} s.",
        "",
        "## Chosen operating point",
        "",
        f"Goal: the cheapest quality target that keeps at least {pct} of the best single tier's "
        f"quality (best single tier on the tuning part: **{result.best_single_tier}**).",
        "",
        f"- `quality_target` = **{result.chosen_target:g}** (bootstrap {conf} interval of the "
        f"whole selection: [{result.target_interval.low:g}, {result.target_interval.high:g}])"
        + ("" if result.feasible else " — target not reachable, highest quality chosen"),
        "",
        f"| part | quality [{conf} CI] | cost / 1k queries [{conf} CI] | saving vs {best} "
        f"[{conf} CI] | quality / {best} | escalated |",
        "|---|---|---|---|---|---|",
    ]
    for name, part in (("tuning", tune), ("**validation**", val)):
        out.append(
            f"| {name} | {_ci(part.quality)} | {_ci_usd(part.cost_usd)} | "
            f"{_ci(part.saving, '{:.1f}%', 100)} | {_ci(part.quality_ratio)} | "
            f"{part.escalation_rate:.1%} |"
        )
    out += [
        "",
        f"Tier mix — tuning: {_mix(tune)}; validation: {_mix(val)}.",
        "",
        f"Without a router, the best random mix of two adjacent tiers at the policy's "
        f"validation cost reaches quality {result.adjacent_mix_quality:.3f} (policy "
        f"{val.quality.estimate:.3f}, {val.quality.estimate - result.adjacent_mix_quality:+.3f}).",
        "",
        *_rule_table(result),
        "",
        "## Validation part (not used for fitting or choosing)",
        "",
        *_part_table(result, val),
        "",
        "## Tuning part",
        "",
        *_part_table(result, tune),
        "",
        "## Re-fitted policy parameters",
        "",
        "| tier | ability before | ability after | successes / failures (tuning) |",
        "|---|---|---|---|",
    ]
    for tier in result.tiers:
        successes, failures = result.tier_counts[tier]
        out.append(
            f"| {tier} | {result.abilities_before[tier]:.3f} | {result.abilities_after[tier]:.3f}"
            f" | {successes} / {failures} |"
        )
    how = "re-fitted jointly" if result.discrimination_refitted else "kept"
    skills = "re-fitted" if result.skills_refitted else "carried over from the base policy"
    tried = ", ".join(f"{name} {loss:.4f}" for name, loss in result.cv_log_loss.items())
    out += [
        "",
        f"Discrimination {result.discrimination_before:.3f} → {result.discrimination_after:.3f} "
        f"({how}); tier skill vectors {skills}. The parameter set with the lowest 5-fold CV "
        f"log-loss on the tuning part won: {tried}.",
        "",
    ]
    if result.head is not None:
        head = result.head
        verdict = (
            "**adopted** (written into the policy's `[head]`)"
            if head.adopted
            else ("**not adopted** (it does not beat the shipped head on the validation part)")
        )
        out += [
            "## Difficulty head (--fit-head)",
            "",
            f"Ridge from the encoder's embedding to per-query difficulties, λ = "
            f"{head.ridge_lambda:.2g} by 5-fold CV (log-loss {head.cv_log_loss:.4f}); {verdict}.",
            "",
            "| head | validation log-loss | validation Brier |",
            "|---|---|---|",
            f"| shipped | {head.shipped_log_loss:.4f} | {head.shipped_brier:.4f} |",
            f"| re-fitted | {head.refitted_log_loss:.4f} | {head.refitted_brier:.4f} |",
            "",
        ]
    out += [
        "## Cost–quality frontier (tuning part)",
        "",
        "| quality_target | quality | cost / 1k queries | validation quality "
        "| validation cost / 1k |",
        "|---|---|---|---|---|",
    ]
    frontier = list(tune.frontier)
    step = max(1, len(frontier) // MAX_FRONTIER_ROWS)
    shown = sorted(set(frontier[::step]) | {frontier[-1]})
    chosen = result.targets.index(result.chosen_target)
    for i in shown if chosen in frontier else sorted({*shown, chosen}):
        mark = " ←" if i == chosen else ""
        t, v = tune.points[i], val.points[i]
        out.append(
            f"| {result.targets[i]:g}{mark} | {t.quality:.3f} | {_usd(t.cost_usd)} | "
            f"{v.quality:.3f} | {_usd(v.cost_usd)} |"
        )
    if result.cascade is not None:
        from tierwise.server.replay.cascade import markdown

        out += ["", *markdown(result.cascade)]
    out += ["", "## Warnings", ""]
    out += [f"- {w}" for w in result.warnings] or ["- none"]
    if result.issues:
        out += ["", "Skipped lines (first ones):", ""]
        out += [f"- `{message}`" for message in result.issues]
    out += [
        "",
        "## How to read this",
        "",
        "Quality is the mean outcome (0..1) of the tier each strategy picks; cost is the mean "
        "cost per query from the cost table (real token counts where the input gave them, the "
        "router's predictions otherwise), shown per 1,000 queries. Intervals are percentile "
        f"bootstraps ({conf}). Apply the policy with "
        f"`tierwise policy apply {result.policy_path}`.",
        "",
    ]
    return "\n".join(out)


def draw_frontier(result: ReplayResult, path: Path) -> bool:
    """frontier.png; False when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    tune, val = result.tune, result.validation
    figure, axes = plt.subplots(figsize=(8, 5.5), dpi=110)
    for part, style, name in ((tune, "-", "tuning"), (val, "--", "validation")):
        xs = [part.points[i].cost_usd * 1000 for i in part.frontier]
        ys = [part.points[i].quality for i in part.frontier]
        axes.plot(xs, ys, style, drawstyle="steps-post", label=f"frontier ({name})", color="C0")
    for tier, single in tune.singles.items():
        axes.scatter([single.cost_usd * 1000], [single.quality], marker="s", color="C7")
        axes.annotate(
            tier,
            (single.cost_usd * 1000, single.quality),
            textcoords="offset points",
            xytext=(4, -10),
            fontsize=8,
        )
    lo = min(tune.singles.values(), key=lambda p: p.cost_usd)
    hi = max(tune.singles.values(), key=lambda p: p.cost_usd)
    axes.plot(
        [lo.cost_usd * 1000, hi.cost_usd * 1000],
        [lo.quality, hi.quality],
        ":",
        color="C7",
        label="random mix",
    )
    axes.scatter(
        [tune.oracle.cost_usd * 1000],
        [tune.oracle.quality],
        marker="*",
        s=120,
        color="C2",
        label="oracle",
    )
    chosen = result.targets.index(result.chosen_target)
    for part, color, name in ((tune, "C3", "chosen (tuning)"), (val, "C1", "chosen (validation)")):
        axes.errorbar(
            [part.cost_usd.estimate * 1000],
            [part.quality.estimate],
            xerr=[
                [(part.cost_usd.estimate - part.cost_usd.low) * 1000],
                [(part.cost_usd.high - part.cost_usd.estimate) * 1000],
            ],
            yerr=[
                [part.quality.estimate - part.quality.low],
                [part.quality.high - part.quality.estimate],
            ],
            fmt="o",
            color=color,
            capsize=3,
            label=name,
        )
    axes.set_xlabel("cost per 1,000 queries (USD)")
    axes.set_ylabel("quality (mean outcome)")
    axes.set_title(f"Tierwise replay — quality_target {result.targets[chosen]:g}")
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right", fontsize=8)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return True


def write_artefacts(result: ReplayResult) -> ReplayResult:
    """Draw the plot (if possible) and write the report; returns the final result."""
    plot_path = result.out_dir / "frontier.png"
    if draw_frontier(result, plot_path):
        result = dataclasses.replace(result, plot_path=plot_path)
    else:
        result = dataclasses.replace(result, warnings=(*result.warnings, NO_MATPLOTLIB))
    result.report_path.write_text(render_markdown(result), encoding="utf-8")
    return result
