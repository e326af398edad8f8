"""`tierwise replay`: re-fit the policy on labelled queries and write policy, report, plot."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from tierwise.server.cli.common import existing_file
from tierwise.server.cli.score import add_model_arguments


def _fraction(value: str) -> float:
    try:
        number = float(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a number: {value}") from error
    return number


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "replay",
        help="re-fit the routing policy on labelled queries (frontier, report, policy file)",
        description=(
            "Read JSONL lines {query, outcomes: {tier: 0..1}, id?, input_tokens?, "
            "output_tokens?}, score each query once, re-fit tier abilities, sweep the quality "
            "target and write DIR/policy.toml, report.md, frontier.png and decisions.jsonl."
        ),
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--input", type=existing_file, help="labelled JSONL")
    source.add_argument(
        "--from-store",
        metavar="URL",
        help="build the labelled set from stored outcomes (SQLite path or postgresql://…)",
    )
    parser.add_argument(
        "--since",
        default="7d",
        help="with --from-store: outcomes reported in the last N d/h/m (default %(default)s)",
    )
    parser.add_argument(
        "--strategy",
        choices=["classifier", "cascade", "hybrid", "all"],
        default="classifier",
        help="replay up-front routing only (default), a cascade, a hybrid, or all side by side",
    )
    parser.add_argument(
        "--verifier-auc",
        type=_fraction,
        default=None,
        help="simulate a verifier of this AUC when the input has no `verifier` scores",
    )
    parser.add_argument("--out", required=True, type=Path, help="output directory")
    parser.add_argument(
        "--quality-target",
        type=_fraction,
        default=0.95,
        help="keep this share of the best single tier's quality (default %(default)s)",
    )
    parser.add_argument(
        "--validation-fraction",
        type=_fraction,
        default=0.5,
        help="share of queries held out to measure the result (default %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=0, help="split/bootstrap seed")
    parser.add_argument(
        "--tiers", nargs="+", default=[], metavar="TIER", help="tiers to route among (default: all)"
    )
    parser.add_argument(
        "--map",
        nargs="+",
        default=[],
        dest="tier_map",
        metavar="OLD=NEW",
        help="rename outcome keys to tier ids, e.g. gpt-4=opus",
    )
    parser.add_argument(
        "--fit-head",
        action="store_true",
        help="also re-fit the difficulty head (adopted only if it wins on validation)",
    )
    parser.add_argument(
        "--bootstrap", type=int, default=1000, help="bootstrap resamples (default %(default)s)"
    )
    parser.add_argument(
        "--strict", action="store_true", help="stop at the first bad line instead of skipping it"
    )
    add_model_arguments(parser)
    parser.set_defaults(handler=_run_replay)


def _run_replay(args: argparse.Namespace) -> int:
    from tierwise.server.cli.common import Progress
    from tierwise.server.cli.score import load_local_router
    from tierwise.server.replay import ReplayOptions, run_replay
    from tierwise.server.replay.dataset import count_lines

    input_path = args.input
    if args.from_store:
        from tierwise.server.replay.from_store import export_labelled, parse_since

        input_path = args.out / "from_store.jsonl"
        exported = export_labelled(args.from_store, parse_since(args.since), input_path)
        print(f"{exported.written} labelled queries from the store ({exported.summary()})")
    options = ReplayOptions(
        input_path=input_path,
        out_dir=args.out,
        quality_target=args.quality_target,
        validation_fraction=args.validation_fraction,
        seed=args.seed,
        tiers=tuple(args.tiers),
        tier_map=tuple(args.tier_map),
        fit_head=args.fit_head,
        strict=args.strict,
        bootstrap_resamples=args.bootstrap,
        strategy=args.strategy,
        verifier_auc=args.verifier_auc,
    )
    router = load_local_router(args)
    result = run_replay(router, options, Progress("scored", count_lines(input_path)))
    val = result.validation
    print(f"policy {result.policy_version}: quality_target {result.chosen_target:g}")
    print(
        f"validation ({val.size} queries): quality {val.quality.estimate:.3f} "
        f"[{val.quality.low:.3f}, {val.quality.high:.3f}], saving vs {result.best_single_tier} "
        f"{val.saving.estimate:.1%} [{val.saving.low:.1%}, {val.saving.high:.1%}]"
    )
    if result.cascade is not None:
        print(f"strategies on validation ({result.cascade.verifier_source}):")
        best = result.cascade.best_single_tier
        for r in result.cascade.results:
            q, c, ratio = r.quality, r.cost_usd, r.cost_ratio
            print(
                f"  {r.strategy:<10} quality {q.estimate:.3f} [{q.low:.3f}, {q.high:.3f}] "
                f"({r.quality_ratio.estimate:.1%} of always {best}), cost/1k "
                f"${c.estimate * 1e3:.4f} [{c.low * 1e3:.4f}, {c.high * 1e3:.4f}] "
                f"({ratio.estimate:.1%} [{ratio.low:.1%}, {ratio.high:.1%}] of always {best}), "
                f"escalated {r.escalation_rate:.1%}"
            )
        print(f"recommended: {result.cascade.recommended} ({result.cascade.why})")
    if result.head is not None:
        print(f"re-fitted head: {'adopted' if result.head.adopted else 'not adopted'}")
    if result.skipped_lines:
        print(f"{result.skipped_lines} of {result.lines_read} lines skipped (see the report)")
    for name in ("policy_path", "report_path", "plot_path", "decisions_path"):
        path = getattr(result, name)
        if path is not None:
            print(f"wrote {path}")
    return 0
