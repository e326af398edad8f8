"""Cost-table subcommands for the ``tierwise`` CLI: quote, quote-workload, cost-table,
hw-estimate.

``register(subparsers)`` adds them; each handler returns an exit code and raises
``CostTableError`` for bad input (the main CLI prints ``error: <message>`` and exits 2).
Domain modules are imported inside the handlers so building the parser stays cheap.
"""

from __future__ import annotations

import argparse
from typing import Any

from tierwise.cost_tables.render import FORMATS

_FORMAT_HELP = "output format (default: table)"


def _int(text: str) -> int:
    try:
        return int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def _concurrency(text: str) -> int | str:
    if text == "max":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected 'max' or a whole number, got {text!r}"
        ) from None


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    q = subparsers.add_parser("quote", help="price one request on one tier or all tiers")
    q.add_argument("--tier", required=True, help="tier id, or 'all'")
    q.add_argument("--input-tokens", type=_int, required=True, help="whole prompt, in tokens")
    q.add_argument("--output-tokens", type=_int, required=True)
    q.add_argument(
        "--cached-tokens", type=_int, default=0, help="prompt tokens read from the cache"
    )
    q.add_argument("--cache-write-5m-tokens", type=_int, default=0)
    q.add_argument("--cache-write-1h-tokens", type=_int, default=0)
    q.add_argument("--batch", action="store_true", help="sent through the batch API")
    q.add_argument("--tiers-file", help="tier table TOML (default: the packaged table)")
    q.add_argument("--format", choices=FORMATS, default="table", help=_FORMAT_HELP)
    q.set_defaults(handler=_run_quote)

    w = subparsers.add_parser("quote-workload", help="monthly cost per tier and break-even")
    w.add_argument("--calls-per-month", type=_float, required=True)
    src_in = w.add_mutually_exclusive_group(required=True)
    src_in.add_argument("--input-tokens-mean", type=_float)
    src_in.add_argument("--input-tokens-dist", help='"tokens:weight,tokens:weight,..."')
    src_out = w.add_mutually_exclusive_group(required=True)
    src_out.add_argument("--output-tokens-mean", type=_float)
    src_out.add_argument("--output-tokens-dist", help='"tokens:weight,tokens:weight,..."')
    w.add_argument("--cache-hit-rate", type=_float, default=0.0, help="fraction 0..1")
    w.add_argument("--batch-share", type=_float, default=0.0, help="fraction of calls, 0..1")
    w.add_argument("--mix", help='routed mix "tier=share,tier=share" (shares sum to 1)')
    w.add_argument("--ops-usd-per-month", type=_float, help="self-hosted fixed ops cost")
    w.add_argument("--tiers-file", help="tier table TOML (default: the packaged table)")
    w.add_argument("--format", choices=FORMATS, default="table", help=_FORMAT_HELP)
    w.set_defaults(handler=_run_quote_workload)

    t = subparsers.add_parser("cost-table", help="active tiers, $/M tokens and provenance")
    t.add_argument("--tiers-file", help="tier table TOML (default: the packaged table)")
    t.add_argument("--format", choices=FORMATS, default="table", help=_FORMAT_HELP)
    t.set_defaults(handler=_run_cost_table)

    h = subparsers.add_parser("hw-estimate", help="throughput and $/M of a GPU deployment")
    h.add_argument("--model", required=True)
    h.add_argument("--gpu", required=True)
    h.add_argument("--gpus", type=_int, required=True, help="GPUs per instance")
    h.add_argument("--precision", required=True, help="bf16, fp8 or fp4")
    h.add_argument("--isl", type=_int, required=True, help="input sequence length")
    h.add_argument("--osl", type=_int, required=True, help="output sequence length")
    h.add_argument("--concurrency", type=_concurrency, default="max", help="'max' or N")
    h.add_argument("--mode", choices=("roofline", "naive"), default="roofline")
    h.add_argument("--usd-per-gpu-hour", type=_float, help="default: catalog on-demand price")
    h.add_argument("--format", choices=("table", "json"), default="table", help=_FORMAT_HELP)
    h.set_defaults(handler=_run_hw_estimate)


_QUOTE_COLUMNS = (
    "tier_id",
    "model",
    "input_usd",
    "cache_write_usd",
    "cache_read_usd",
    "output_usd",
    "batch_discount_usd",
    "total_usd",
    "energy_wh",
    "notes",
)


def _run_quote(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from tierwise.cost_tables.quote import RequestUsage, quote_request
    from tierwise.cost_tables.render import render_json, render_rows
    from tierwise.cost_tables.tables import load_tier_table

    table = load_tier_table(args.tiers_file)
    usage = RequestUsage(
        input_tokens=args.input_tokens,
        output_tokens=args.output_tokens,
        cache_read_tokens=args.cached_tokens,
        cache_write_5m_tokens=args.cache_write_5m_tokens,
        cache_write_1h_tokens=args.cache_write_1h_tokens,
        batch=args.batch,
    )
    tiers = table.tiers if args.tier == "all" else (table.get(args.tier),)
    quotes = [quote_request(t, usage) for t in tiers]
    if args.format == "json":
        # One tier: an object with total_usd at top level; --tier all: a list of them.
        print(render_json(quotes if args.tier == "all" else quotes[0]))
    else:
        print(render_rows([asdict(q) for q in quotes], _QUOTE_COLUMNS, args.format))
    return 0


def _distribution(field: str, mean: float | None, dist: str | None) -> Any:
    from tierwise.cost_tables.errors import InvalidInputError
    from tierwise.cost_tables.workload import TokenDistribution

    if mean is not None:
        return TokenDistribution.from_mean(mean)
    assert dist is not None  # argparse: one of the pair is required
    buckets: list[tuple[int, float]] = []
    for part in dist.split(","):
        tokens, sep, weight = part.strip().partition(":")
        try:
            if not sep:
                raise ValueError
            buckets.append((int(tokens), float(weight)))
        except ValueError:
            raise InvalidInputError(
                field, f'expected "tokens:weight,tokens:weight,..." (bad part {part!r})'
            ) from None
    return TokenDistribution(tuple(buckets))


def _mix(text: str | None) -> dict[str, float] | None:
    from tierwise.cost_tables.errors import InvalidInputError

    if text is None:
        return None
    mix: dict[str, float] = {}
    for part in text.split(","):
        tier, sep, share = part.strip().partition("=")
        try:
            if not sep or not tier:
                raise ValueError
            mix[tier] = float(share)
        except ValueError:
            raise InvalidInputError(
                "mix", f'expected "tier=share,tier=share" (bad part {part!r})'
            ) from None
    return mix


_WORKLOAD_COLUMNS = (
    "tier_id",
    "model",
    "monthly_usd",
    "usd_per_call",
    "input_usd",
    "output_usd",
    "cache_usd",
    "batch_discount_usd",
    "instances",
    "utilisation",
    "fixed_usd",
)


def _run_quote_workload(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from tierwise.cost_tables.render import render_json, render_rows
    from tierwise.cost_tables.tables import load_tier_table
    from tierwise.cost_tables.workload import (
        DEFAULT_SELF_HOSTED_OPS_USD_PER_MONTH,
        Workload,
        quote_workload,
    )

    table = load_tier_table(args.tiers_file)
    workload = Workload(
        calls_per_month=args.calls_per_month,
        input_tokens=_distribution(
            "input_tokens_dist", args.input_tokens_mean, args.input_tokens_dist
        ),
        output_tokens=_distribution(
            "output_tokens_dist", args.output_tokens_mean, args.output_tokens_dist
        ),
        cache_hit_rate=args.cache_hit_rate,
        batch_share=args.batch_share,
        routed_mix=_mix(args.mix),
        self_hosted_fixed_usd_per_month=(
            DEFAULT_SELF_HOSTED_OPS_USD_PER_MONTH
            if args.ops_usd_per_month is None
            else args.ops_usd_per_month
        ),
    )
    quote = quote_workload(table, workload)
    if args.format == "json":
        print(render_json(quote))
        return 0
    rows = [asdict(t) for t in quote.tiers]
    if quote.routed is not None:
        rows.append(asdict(quote.routed))
    print(render_rows(rows, _WORKLOAD_COLUMNS, args.format))
    print()
    evens = [
        {
            "api_tier": b.api_tier_id,
            "self_hosted_tier": b.self_hosted_tier_id,
            "break_even_calls_per_month": b.calls_per_month,
            "monthly_usd_at_break_even": b.monthly_usd_at_break_even,
        }
        for b in quote.break_even
    ]
    print(
        render_rows(
            evens,
            (
                "api_tier",
                "self_hosted_tier",
                "break_even_calls_per_month",
                "monthly_usd_at_break_even",
            ),
            args.format,
        )
    )
    return 0


_TABLE_COLUMNS = (
    "tier_id",
    "kind",
    "model",
    "usd_per_mtok_input",
    "usd_per_mtok_output",
    "cache_write_5m_multiplier",
    "cache_write_1h_multiplier",
    "cache_read_multiplier",
    "batch_discount",
    "min_cacheable_tokens",
    "long_context",
    "source",
    "as_of",
)


def _run_cost_table(args: argparse.Namespace) -> int:
    from tierwise.cost_tables.render import render_json, render_rows
    from tierwise.cost_tables.tables import load_tier_table

    table = load_tier_table(args.tiers_file)
    if args.format == "json":
        print(
            render_json(
                {"version": table.version, "source_path": table.source_path, "tiers": table.tiers}
            )
        )
        return 0
    rows: list[dict[str, object]] = []
    for t in table.tiers:
        lc = t.long_context
        rows.append(
            {
                "tier_id": t.tier_id,
                "kind": t.kind,
                "model": t.model,
                "usd_per_mtok_input": t.usd_per_mtok_input,
                "usd_per_mtok_output": t.usd_per_mtok_output,
                "cache_write_5m_multiplier": t.cache_write_5m_multiplier,
                "cache_write_1h_multiplier": t.cache_write_1h_multiplier,
                "cache_read_multiplier": t.cache_read_multiplier,
                "batch_discount": t.batch_discount,
                "min_cacheable_tokens": t.min_cacheable_tokens,
                "long_context": (
                    None
                    if lc is None
                    else f">{lc.threshold_input_tokens}: ${lc.usd_per_mtok_input:g}"
                    f" / ${lc.usd_per_mtok_output:g}"
                ),
                "source": t.provenance.source,
                "as_of": t.provenance.as_of,
            }
        )
    print(f"tier table {table.version} ({table.source_path})")
    print(render_rows(rows, _TABLE_COLUMNS, args.format))
    for t in table.tiers:
        if t.derivation is not None:
            print()
            print(f"{t.tier_id}: derived from hardware")
            prefix = "- " if args.format == "markdown" else "  "
            for line in t.derivation.explanation:
                print(prefix + line)
    return 0


_HW_KEYS = (
    "mode",
    "model_id",
    "gpu_id",
    "gpus",
    "precision",
    "isl",
    "osl",
    "batch",
    "max_batch_that_fits",
    "output_tokens_per_s_per_gpu",
    "input_tokens_per_s_per_gpu",
    "tokens_per_s_per_user",
    "usd_per_mtok_input",
    "usd_per_mtok_output",
    "wh_per_query",
    "decode_step_s",
    "prefill_s_per_query",
    "weights_gb",
    "kv_gb",
    "memory_gb",
    "experts_touched_per_layer",
    "bound",
    "usd_per_gpu_hour",
)


def _run_hw_estimate(args: argparse.Namespace) -> int:
    from tierwise.cost_tables.hardware import estimate
    from tierwise.cost_tables.render import cell, render_json

    est = estimate(
        args.model,
        args.gpu,
        args.gpus,
        args.precision,
        args.isl,
        args.osl,
        concurrency=args.concurrency,
        mode=args.mode,
        usd_per_gpu_hour=args.usd_per_gpu_hour,
    )
    if args.format == "json":
        print(render_json(est.as_dict()))
        return 0
    width = max(len(k) for k in _HW_KEYS)
    for key in _HW_KEYS:
        print(f"{key.ljust(width)}  {cell(getattr(est, key))}")
    print("explanation:")
    for line in est.explanation:
        print(f"  {line}")
    return 0
