"""Replay orchestration: read → score once → split → fit → sweep → choose → validate → write."""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Final

import numpy as np

from tierwise.server.cli.common import Progress
from tierwise.server.replay import cascade, escalation, fit, report, sweep
from tierwise.server.replay.dataset import (
    MIN_USABLE_LINES,
    InputIssues,
    parse_tier_map,
    read_labelled,
)
from tierwise.server.replay.policy_file import replay_policy_text
from tierwise.server.replay.results import HeadResult, PartResult, ReplayResult
from tierwise.server.replay.scoring import ScoredSet, score_queries
from tierwise.server.replay.sweep import Interval, Point
from tierwise.server.routing.cascade_policy import CascadeSettings, Strategy
from tierwise.server.routing.policy import (
    ABILITY_LIMIT,
    DISCRIMINATION_RANGE,
    LinearHead,
    Policy,
    TierPolicy,
    parse_policy,
)
from tierwise.server.routing.router import Router

MIN_PART_SIZE: Final = 20
# Warnings: a tier needs this many successes and failures among the tuning queries for its
# ability to be more than the prior; more than this share out of distribution is worth a word.
MIN_CLASS_COUNT: Final = 10
MAX_OOD_SHARE: Final = 0.2
BIMODAL_ABOVE: Final = 5.0 / 9.0


@dataclass(frozen=True)
class ReplayOptions:
    input_path: Path
    out_dir: Path
    quality_target: float = 0.95  # share of the best single tier's quality to keep
    validation_fraction: float = 0.5
    seed: int = 0
    tiers: tuple[str, ...] = ()  # tiers to route among; empty: every tier of the cost table
    tier_map: tuple[str, ...] = ()  # OLD=NEW renames of outcome keys
    fit_head: bool = False
    strict: bool = False
    bootstrap_resamples: int = 1000
    confidence: float = 0.95
    # classifier (up-front routing only), cascade, hybrid or all (side by side).
    strategy: str = "classifier"
    # Simulate a verifier of this AUC when the input carries no `verifier` scores.
    verifier_auc: float | None = None

    def __post_init__(self) -> None:
        if self.strategy not in cascade.STRATEGY_CHOICES:
            raise ValueError(
                f"--strategy must be one of {', '.join(cascade.STRATEGY_CHOICES)} "
                f"(got {self.strategy!r})"
            )
        if self.verifier_auc is not None and not 0.5 < self.verifier_auc < 1.0:
            raise ValueError(f"--verifier-auc must be in (0.5, 1) (got {self.verifier_auc})")
        if not (math.isfinite(self.quality_target) and 0.0 < self.quality_target <= 1.0):
            raise ValueError(f"--quality-target must be in (0, 1] (got {self.quality_target})")
        if not 0.0 < self.validation_fraction < 1.0:
            raise ValueError(
                f"--validation-fraction must be in (0, 1) (got {self.validation_fraction})"
            )
        if self.bootstrap_resamples < 100:
            raise ValueError(f"--bootstrap must be >= 100 (got {self.bootstrap_resamples})")
        if not 0.5 <= self.confidence < 1.0:
            raise ValueError(f"confidence must be in [0.5, 1) (got {self.confidence})")


def _skill_matrix(policy: Policy, tiers: tuple[str, ...], dims: int) -> np.ndarray:
    """[T, dims] tier skill vectors of the policy; a tier without one gets zeros."""
    out = np.zeros((len(tiers), dims))
    for i, tier in enumerate(tiers):
        vector = policy.tiers[tier].skills
        if vector:
            out[i] = vector
    return out


def _tiers(requested: Sequence[str], known: tuple[str, ...]) -> tuple[str, ...]:
    names = [t.strip() for item in requested for t in item.split(",") if t.strip()]
    unknown = [t for t in names if t not in known]
    if unknown:
        raise ValueError(
            f"--tiers: unknown tier(s) {', '.join(unknown)}; known: {', '.join(known)}"
        )
    return tuple(t for t in known if t in names) if names else known


def _too_few(scored: ScoredSet, issues: InputIssues) -> ValueError:
    detail = ""
    if issues.messages:
        detail = "\nfirst problems:\n  " + "\n  ".join(issues.messages[:5])
    return ValueError(
        f"{issues.path}: {scored.size} usable labelled line(s) of {issues.lines_read} "
        f"({issues.count} skipped); replay needs at least {MIN_USABLE_LINES} to fit anything "
        "and a few hundred for useful confidence intervals. Each line needs `query` and "
        "`outcomes` with a score in [0, 1] for every replayed tier (rename tiers with --map "
        f"OLD=NEW, restrict them with --tiers).{detail}"
    )


def _split(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    n_validation = round(n * fraction)
    validation, tune = np.sort(order[:n_validation]), np.sort(order[n_validation:])
    if min(len(tune), len(validation)) < MIN_PART_SIZE:
        raise ValueError(
            f"--validation-fraction {fraction} leaves {len(tune)} tuning and {len(validation)} "
            f"validation queries; each part needs at least {MIN_PART_SIZE}"
        )
    return tune, validation


def _head_difficulties(head: LinearHead, embeddings: np.ndarray) -> np.ndarray:
    """Exactly the server's arithmetic (LinearHead.difficulty on the embedding's floats)."""
    return np.array([head.difficulty(tuple(float(x) for x in row)) for row in embeddings])


def _measure(
    scored: ScoredSet,
    table: sweep.DecisionTable,
    rows: np.ndarray,
    swept: sweep.Sweep,
    chosen: int,
    reference_tier: int,
    ability_order: Sequence[int],
    resamples: int,
    confidence: float,
    rng: np.random.Generator,
) -> PartResult:
    tiers = scored.tiers
    points = swept.points()
    singles = sweep.single_tiers(scored, rows)
    columns = np.column_stack(
        [
            swept.quality[:, chosen],
            swept.cost[:, chosen],
            scored.outcomes[rows, reference_tier],
            scored.cost_usd[rows, reference_tier],
        ]
    )
    means = sweep.bootstrap_means(columns, resamples, rng)
    point = points[chosen]
    ref = singles[reference_tier]
    with np.errstate(divide="ignore", invalid="ignore"):
        savings = 1.0 - means[:, 1] / means[:, 3]
        ratios = means[:, 0] / means[:, 2]
    saving = 1.0 - point.cost_usd / ref.cost_usd if ref.cost_usd > 0 else 0.0
    ratio = point.quality / ref.quality if ref.quality > 0 else math.inf
    choice = swept.choice[:, chosen]
    counts = np.bincount(choice, minlength=len(tiers)) / len(rows)
    return PartResult(
        size=len(rows),
        quality=sweep.interval(means[:, 0], point.quality, confidence),
        cost_usd=sweep.interval(means[:, 1], point.cost_usd, confidence),
        saving=sweep.interval(np.nan_to_num(savings), saving, confidence),
        quality_ratio=sweep.interval(np.nan_to_num(ratios, posinf=0.0), ratio, confidence),
        mix=MappingProxyType({t: float(c) for t, c in zip(tiers, counts, strict=True)}),
        escalation_rate=float(table.escalation(float(swept.targets[chosen]), rows).mean()),
        singles=MappingProxyType(dict(zip(tiers, singles, strict=True))),
        oracle=sweep.point_of(scored, rows, sweep.oracle_choice(scored, rows, ability_order)),
        random_quality=sweep.random_quality(singles, point.cost_usd),
        current_policy=sweep.point_of(scored, rows, scored.current_choice[rows]),
        points=tuple(points),
        frontier=tuple(sweep.frontier(points)),
    )


def _escalation_rules(
    router: Router,
    scored: ScoredSet,
    policy: Policy,
    target: float,
    difficulty: np.ndarray,
    allowed: tuple[str, ...],
    tune: np.ndarray,
    validation: np.ndarray,
    parts: tuple[PartResult, PartResult],
) -> tuple[Policy, list[escalation.RuleEffect], float]:
    """Keep each escalation rule only where it pays on the tuning part; report each rule and
    the written policy's escalation rate on the validation part."""
    at_target = dataclasses.replace(policy, quality_target=target)

    def effects(rows: np.ndarray, part: PartResult, base: Policy) -> list[escalation.RuleEffect]:
        point = Point(part.quality.estimate, part.cost_usd.estimate)
        marginal = escalation.marginal_rate(part.points, part.frontier, point)
        return escalation.rule_effects(router, scored, base, difficulty, allowed, rows, marginal)

    decided = at_target
    for effect in effects(tune, parts[0], at_target):
        decided = escalation.with_rule(decided, effect.rule, effect.pays)
    headless = dataclasses.replace(decided, head=None)
    _, _, rate = escalation.outcome_at(router, scored, headless, difficulty, allowed, validation)
    return (
        dataclasses.replace(decided, quality_target=policy.quality_target),
        effects(validation, parts[1], decided),
        rate,
    )


def _target_interval(
    swept: sweep.Sweep,
    scored: ScoredSet,
    rows: np.ndarray,
    options: ReplayOptions,
    estimate: float,
    rng: np.random.Generator,
) -> Interval:
    """Re-run the whole selection on bootstrap resamples of the tuning part."""
    grid = len(swept.targets)
    columns = np.column_stack([swept.quality, swept.cost, scored.outcomes[rows]])
    means = sweep.bootstrap_means(columns, options.bootstrap_resamples, rng)
    picks = [
        swept.targets[
            sweep.select(m[:grid], m[grid : 2 * grid], m[2 * grid :], options.quality_target)[0]
        ]
        for m in means
    ]
    return sweep.interval(np.asarray(picks, dtype=np.float64), estimate, options.confidence)


def run_replay(
    router: Router, options: ReplayOptions, progress: Progress | None = None
) -> ReplayResult:
    """Run a replay end to end and write policy.toml, report.md, frontier.png and
    decisions.jsonl into ``options.out_dir``. ValueError: unusable input."""
    started = time.perf_counter()
    known = router.table.ids()
    tiers = _tiers(options.tiers, known)
    allowed = tiers if tiers != known else ()
    mapping = parse_tier_map(options.tier_map, known)
    policy = router.policies.current
    issues = InputIssues(options.input_path)
    items = read_labelled(
        options.input_path,
        tiers=tiers,
        known=known,
        mapping=mapping,
        strict=options.strict,
        issues=issues,
    )
    scored = score_queries(
        router, items, tiers, allowed, policy, keep_embeddings=options.fit_head, progress=progress
    )
    if progress is not None:
        progress.close()
    scoring_s = time.perf_counter() - started
    if scored.size < MIN_USABLE_LINES:
        raise _too_few(scored, issues)
    tune, validation = _split(scored.size, options.validation_fraction, options.seed)
    rng = np.random.default_rng(options.seed + 1)

    # 1. Abilities (and maybe discrimination) on the tuning part.
    start = fit.TierParameters(
        theta=np.array([policy.tiers[t].ability for t in tiers]),
        discrimination=policy.discrimination,
        skills=_skill_matrix(policy, tiers, scored.skills.shape[1]),
    )
    y_tune, y_val = scored.outcomes[tune], scored.outcomes[validation]
    difficulty = scored.difficulty
    profiles = scored.skills
    fitted = fit.fit_policy_parameters(difficulty[tune], y_tune, start, profiles[tune], rng)
    offset = fitted.parameters.offset(profiles)
    head = policy.head
    head_result: HeadResult | None = None

    # 2. Optional head: ridge on the embeddings, adopted only if it wins on validation.
    if options.fit_head:
        assert scored.embeddings is not None
        targets = fit.query_difficulties(
            difficulty[tune], y_tune, fitted.theta, fitted.discrimination, offset[tune]
        )
        ridge = fit.fit_head(
            scored.embeddings[tune],
            targets,
            y_tune,
            fitted.theta,
            fitted.discrimination,
            rng,
            offset[tune],
        )
        candidate = LinearHead(
            encoder=router.model.encoder,
            weights=tuple(float(w) for w in ridge.weights),
            bias=float(ridge.bias),
        )
        new_difficulty = _head_difficulties(candidate, scored.embeddings)
        refit = fit.fit_policy_parameters(new_difficulty[tune], y_tune, start, profiles[tune], rng)
        refit_offset = refit.parameters.offset(profiles)
        shipped_loss = fit.log_loss(
            difficulty[validation], y_val, fitted.theta, fitted.discrimination, offset[validation]
        )
        refit_loss = fit.log_loss(
            new_difficulty[validation],
            y_val,
            refit.theta,
            refit.discrimination,
            refit_offset[validation],
        )
        head_result = HeadResult(
            ridge_lambda=ridge.ridge_lambda,
            cv_log_loss=ridge.cv_log_loss,
            shipped_log_loss=shipped_loss,
            shipped_brier=fit.brier(
                difficulty[validation],
                y_val,
                fitted.theta,
                fitted.discrimination,
                offset[validation],
            ),
            refitted_log_loss=refit_loss,
            refitted_brier=fit.brier(
                new_difficulty[validation],
                y_val,
                refit.theta,
                refit.discrimination,
                refit_offset[validation],
            ),
            adopted=fit.should_adopt_head(shipped_loss, refit_loss),
        )
        if head_result.adopted:
            head, difficulty, fitted = candidate, new_difficulty, refit

    abilities = {
        t: float(np.clip(fitted.theta[i], -ABILITY_LIMIT, ABILITY_LIMIT))
        for i, t in enumerate(tiers)
    }
    skills = {
        t: tuple(float(x) for x in fitted.parameters.skills[i])
        for i, t in enumerate(tiers)
        if fitted.skills_refitted or policy.tiers[t].skills
    }
    candidate_policy = dataclasses.replace(
        policy,
        discrimination=fitted.discrimination,
        tiers=MappingProxyType(
            {
                t: TierPolicy(
                    abilities.get(t, entry.ability),
                    entry.output_tokens_multiplier,
                    skills.get(t, entry.skills),
                )
                for t, entry in policy.tiers.items()
            }
        ),
        head=head,
    )

    # 3. Sweep the quality target with the server's own decision rule.
    table = sweep.decision_table(router, scored, candidate_policy, difficulty, allowed)
    tune_sweep = sweep.sweep(table, scored, tune)
    val_sweep = sweep.sweep(table, scored, validation)
    tune_points = tune_sweep.points()
    tune_singles = sweep.single_tiers(scored, tune)
    reference = sweep.best_single(tune_singles)
    chosen, feasible = sweep.select(
        np.array([p.quality for p in tune_points]),
        np.array([p.cost_usd for p in tune_points]),
        np.array([p.quality for p in tune_singles]),
        options.quality_target,
    )
    chosen_target = float(sweep.TARGET_GRID[chosen])
    ability_order = [tiers.index(t) for t in candidate_policy.by_ability(tiers)]
    results = [
        _measure(
            scored,
            table,
            rows,
            swept,
            chosen=chosen,
            reference_tier=reference,
            ability_order=ability_order,
            resamples=options.bootstrap_resamples,
            confidence=options.confidence,
            rng=rng,
        )
        for rows, swept in ((tune, tune_sweep), (validation, val_sweep))
    ]
    tune_result, val_result = results
    target_interval = _target_interval(tune_sweep, scored, tune, options, chosen_target, rng)
    rules_policy, rule_effects, escalation_rate = _escalation_rules(
        router,
        scored,
        candidate_policy,
        chosen_target,
        difficulty,
        allowed,
        tune,
        validation,
        (tune_result, val_result),
    )

    comparison: cascade.CascadeComparison | None = None
    plan_paths: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    if options.strategy != "classifier":
        comparison, plan_paths, cascade_settings = _compare_strategies(
            router,
            scored,
            rules_policy,
            chosen_target,
            difficulty,
            allowed,
            mapping,
            tune,
            validation,
            options,
            fit.bimodality_coefficient(difficulty[tune]),
            rng,
        )
        rules_policy = dataclasses.replace(rules_policy, cascade=cascade_settings)

    # 4. The policy file, read back exactly as the server will read it.
    options.out_dir.mkdir(parents=True, exist_ok=True)
    policy_path = options.out_dir / "policy.toml"
    text = replay_policy_text(
        dataclasses.replace(rules_policy, quality_target=chosen_target),
        description=(
            f"tierwise replay of {options.input_path.name}: {len(tune)} tuning queries, "
            f"{len(validation)} validation; keeps {options.quality_target:g} of the best "
            f"single tier's quality (from policy {policy.version})"
        ),
        head_note="re-fitted by tierwise replay (ridge on the encoder's embedding)",
    )
    written = parse_policy(text, str(policy_path))
    router.policies.check(written)
    policy_path.write_text(text, encoding="utf-8")

    decisions_path = options.out_dir / "decisions.jsonl"
    mismatches = _write_decisions(
        decisions_path, router, scored, written, difficulty, allowed, tune, table
    )
    if plan_paths:
        ordered = [tiers[i] for i in ability_order]
        cascade.annotate_decisions(
            decisions_path,
            ordered,
            {t: i for i, t in enumerate(tiers)},
            scored.cost_usd,
            plan_paths,
        )

    counts = {
        t: (
            int(np.sum(y_tune[:, i] >= sweep.SUCCESS_AT)),
            int(np.sum(y_tune[:, i] < sweep.SUCCESS_AT)),
        )
        for i, t in enumerate(tiers)
    }
    bimodality = fit.bimodality_coefficient(difficulty[tune])
    warnings = _warnings(
        options,
        issues,
        scored,
        counts,
        bimodality,
        feasible,
        val_result,
        fitted,
        mismatches,
        float(
            router.model.ood_threshold
            if policy.min_centroid_similarity is None
            else policy.min_centroid_similarity
        ),
    )
    result = ReplayResult(
        input_path=options.input_path,
        out_dir=options.out_dir,
        policy_path=policy_path,
        report_path=options.out_dir / "report.md",
        decisions_path=decisions_path,
        plot_path=None,
        policy_version=written.version,
        base_policy_version=policy.version,
        router_version=router.router_version,
        table_version=router.table.version,
        encoder=router.model.encoder,
        tiers=tiers,
        lines_read=issues.lines_read,
        usable_lines=scored.size,
        skipped_lines=issues.count,
        issues=tuple(issues.messages),
        quality_target=options.quality_target,
        targets=tuple(float(t) for t in sweep.TARGET_GRID),
        chosen_target=chosen_target,
        target_interval=target_interval,
        feasible=feasible,
        best_single_tier=tiers[reference],
        abilities_before=MappingProxyType({t: policy.tiers[t].ability for t in tiers}),
        abilities_after=MappingProxyType(abilities),
        discrimination_before=policy.discrimination,
        discrimination_after=fitted.discrimination,
        discrimination_refitted=fitted.joint,
        skills_refitted=fitted.skills_refitted,
        cv_log_loss=MappingProxyType(fitted.cv_log_loss),
        tier_counts=MappingProxyType(counts),
        head=head_result,
        tune=tune_result,
        validation=val_result,
        rule_effects=tuple(rule_effects),
        escalation_rate=escalation_rate,
        adjacent_mix_quality=escalation.adjacent_mix_quality(
            list(val_result.singles.values()), val_result.cost_usd.estimate
        ),
        bimodality=bimodality,
        warnings=tuple(warnings),
        scoring_s=scoring_s,
        analysis_s=time.perf_counter() - started - scoring_s,
        cascade=comparison,
        latency_constrained=scored.latency_constrained,
        latency_changed=scored.latency_changed,
    )
    return report.write_artefacts(result)


def _compare_strategies(
    router: Router,
    scored: ScoredSet,
    policy: Policy,
    target: float,
    difficulty: np.ndarray,
    allowed: tuple[str, ...],
    mapping: Mapping[str, str],
    tune: np.ndarray,
    validation: np.ndarray,
    options: ReplayOptions,
    bimodality: float,
    rng: np.random.Generator,
) -> tuple[
    cascade.CascadeComparison,
    dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
    CascadeSettings,
]:
    """Verifier scores (given or simulated), then the strategies tuned and measured."""
    tiers = scored.tiers
    scores = cascade.read_verifier_scores(options.input_path, scored.lines, tiers, mapping)
    if scores is not None:
        source = "scores from the input's `verifier` fields"
    elif options.verifier_auc is not None:
        seed = options.seed + 2
        scores = cascade.simulate_verifier(scored.outcomes, options.verifier_auc, seed)
        source = (
            f"simulated (assumption: binormal verifier of AUC {options.verifier_auc:g}, "
            f"seed {seed})"
        )
    else:
        raise ValueError(
            f"--strategy {options.strategy} needs verifier scores: give each line "
            "`verifier: {tier: score}` or simulate one with --verifier-auc A"
        )
    headless = dataclasses.replace(policy, head=None, quality_target=target)
    choice = np.array(
        [
            tiers.index(
                router.decide(
                    scored.route_input(i, allowed),
                    scored.prediction(i, float(difficulty[i])),
                    headless,
                ).tier
            )
            for i in range(scored.size)
        ]
    )
    strategies: tuple[Strategy, ...] = (
        ("classifier", "cascade", "hybrid")
        if options.strategy == "all"
        else ("classifier", options.strategy)  # type: ignore[assignment]
    )
    order = [tiers.index(t) for t in policy.by_ability(tiers)]
    comparison, paths = cascade.compare(
        tiers=tiers,
        ability_order=order,
        outcomes=scored.outcomes,
        costs=scored.cost_usd,
        scores=scores,
        classifier_choice=choice,
        p_success=np.array(
            [
                [
                    headless.p_success(t, float(difficulty[i]), tuple(scored.skills[i]))
                    for t in tiers
                ]
                for i in range(scored.size)
            ]
        ),
        tune=tune,
        validation=validation,
        strategies=strategies,
        quality_target=options.quality_target,
        verifier_source=source,
        bimodality=bimodality,
        resamples=options.bootstrap_resamples,
        confidence=options.confidence,
        rng=rng,
    )
    measured = [a for a in comparison.verifier_auc.values() if math.isfinite(a)]
    auc = float(np.mean(measured)) if measured else (options.verifier_auc or 0.8)
    return comparison, dict(paths), cascade.settings_for(comparison, auc)


def _write_decisions(
    path: Path,
    router: Router,
    scored: ScoredSet,
    policy: Policy,
    difficulty: np.ndarray,
    allowed: tuple[str, ...],
    tune: np.ndarray,
    table: sweep.DecisionTable,
) -> int:
    """One line per query with the written policy's decision; returns how many differ from
    the sweep's (expected: none)."""
    headless = dataclasses.replace(policy, head=None)
    in_tune = np.zeros(scored.size, dtype=bool)
    in_tune[tune] = True
    swept = table.choose(policy.quality_target)
    mismatches = 0
    with path.open("w", encoding="utf-8") as out:
        for i in range(scored.size):
            decision = router.decide(
                scored.route_input(i, allowed), scored.prediction(i, float(difficulty[i])), headless
            )
            tier = scored.tiers.index(decision.tier)
            mismatches += int(tier != swept[i])
            row = {
                "id": scored.ids[i],
                "split": "tune" if in_tune[i] else "validation",
                "tier": decision.tier,
                "difficulty": decision.difficulty,
                "p_success": {e.tier: e.p_success for e in decision.estimates if e.allowed},
                "cost_usd": float(scored.cost_usd[i, tier]),
                "escalated": decision.escalated,
            }
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return mismatches


def _warnings(
    options: ReplayOptions,
    issues: InputIssues,
    scored: ScoredSet,
    counts: Mapping[str, tuple[int, int]],
    bimodality: float,
    feasible: bool,
    validation: PartResult,
    fitted: fit.AbilityFit,
    mismatches: int,
    ood_threshold: float,
) -> list[str]:
    out: list[str] = []
    if issues.count:
        out.append(
            f"{issues.count} of {issues.lines_read} input lines were skipped (bad JSON, missing "
            "`query`, outcomes outside [0, 1] or for unknown tiers); see the list below"
        )
    for tier, (successes, failures) in counts.items():
        if min(successes, failures) < MIN_CLASS_COUNT:
            out.append(
                f"tier {tier}: only {successes} successes and {failures} failures among the "
                f"tuning queries (< {MIN_CLASS_COUNT}); its ability leans on the prior"
            )
    if bimodality > BIMODAL_ABOVE:
        out.append(
            f"difficulty looks dual-peaked (bimodality coefficient {bimodality:.2f} > 0.555): "
            "the traffic may mix two kinds of queries; one threshold may fit neither well "
            "(consider separate replays and policies per kind)"
        )
    if not feasible:
        out.append(
            f"no quality target reaches {options.quality_target:g} of the best single tier's "
            "quality on the tuning part; chose the highest-quality operating point instead"
        )
    if validation.quality_ratio.estimate < options.quality_target:
        out.append(
            f"on the validation part the chosen point keeps {validation.quality_ratio.estimate:.3f}"
            f" of the best single tier's quality, below the asked {options.quality_target:g}"
        )
    ood = float(np.mean(scored.centroid_similarity < ood_threshold))
    if ood > MAX_OOD_SHARE:
        out.append(
            f"{ood:.0%} of the queries are out of distribution for the router (they are "
            "escalated one tier): its difficulty estimates are less reliable on this traffic"
        )
    low, high = DISCRIMINATION_RANGE
    if fitted.discrimination <= low * 1.001 or fitted.discrimination >= high * 0.999:
        out.append(f"discrimination hit its bound ({fitted.discrimination:g})")
    if validation.size < 200:
        out.append(f"only {validation.size} validation queries: confidence intervals are wide")
    if mismatches:
        out.append(f"{mismatches} decisions differ between the sweep and the written policy")
    return out
