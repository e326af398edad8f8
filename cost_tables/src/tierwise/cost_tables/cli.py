"""Cost-table subcommands for the ``tierwise`` CLI: quote, quote-workload, cost-table,
hw-estimate, hw-curve.

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
    shape = w.add_mutually_exclusive_group()
    shape.add_argument(
        "--peak-to-average",
        type=_float,
        help="busiest hour's load / mean hour's load, >= 1 (default 2)",
    )
    shape.add_argument(
        "--hourly-profile", help='24 relative hourly loads "h0,h1,...,h23" (peak = max/mean)'
    )
    w.add_argument(
        "--autoscale",
        action="store_true",
        help="with --hourly-profile: pay each hour only for the instances it needs",
    )
    w.add_argument(
        "--purchase",
        choices=("on-demand", "reserved", "spot"),
        default="on-demand",
        help="how self-hosted GPUs are bought (all three are compared either way)",
    )
    w.add_argument("--tiers-file", help="tier table TOML (default: the packaged table)")
    w.add_argument("--format", choices=FORMATS, default="table", help=_FORMAT_HELP)
    w.set_defaults(handler=_run_quote_workload)

    t = subparsers.add_parser("cost-table", help="active tiers, $/M tokens and provenance")
    t.add_argument("--tiers-file", help="tier table TOML (default: the packaged table)")
    t.add_argument("--format", choices=FORMATS, default="table", help=_FORMAT_HELP)
    t.set_defaults(handler=_run_cost_table)

    h = subparsers.add_parser("hw-estimate", help="throughput and $/M of a GPU deployment")
    _deployment_arguments(h)
    batch = h.add_mutually_exclusive_group()
    batch.add_argument("--concurrency", type=_concurrency, default="max", help="'max' or N")
    batch.add_argument(
        "--min-tokens-per-s-per-user",
        type=_float,
        help="SLO: price the largest batch whose users all stream at least this fast",
    )
    h.add_argument("--max-ttft-ms", type=_float, help="SLO: latest p90 time to first token (ms)")
    h.add_argument("--mode", choices=("roofline", "naive"), default="roofline")
    h.add_argument("--format", choices=("table", "json"), default="table", help=_FORMAT_HELP)
    h.set_defaults(handler=_run_hw_estimate)

    c = subparsers.add_parser(
        "hw-curve", help="cost-interactivity curve of a GPU deployment (table and PNG)"
    )
    _deployment_arguments(c)
    c.add_argument("--batches", help='batch sizes "1,8,64" (default: powers of two to the limit)')
    c.add_argument("--png", help="also draw the curve to this PNG file")
    c.add_argument("--format", choices=FORMATS, default="table", help=_FORMAT_HELP)
    c.set_defaults(handler=_run_hw_curve)


def _deployment_arguments(p: argparse.ArgumentParser) -> None:
    from tierwise.cost_tables.operating_point import (
        DEFAULT_PREFILL_CHUNK_TOKENS,
        DEFAULT_TARGET_LOAD,
    )

    p.add_argument("--model", required=True)
    p.add_argument("--gpu", required=True)
    p.add_argument("--gpus", type=_int, required=True, help="GPUs per instance")
    p.add_argument("--precision", required=True, help="bf16, fp8 or fp4")
    p.add_argument("--isl", type=_int, required=True, help="input sequence length")
    p.add_argument("--osl", type=_int, required=True, help="output sequence length")
    p.add_argument("--usd-per-gpu-hour", type=_float, help="default: catalog on-demand price")
    p.add_argument(
        "--target-load",
        type=_float,
        default=DEFAULT_TARGET_LOAD,
        help=f"mean share of batch slots busy, for TTFT queueing (default {DEFAULT_TARGET_LOAD})",
    )
    p.add_argument(
        "--prefill-chunk-tokens",
        type=_int,
        default=DEFAULT_PREFILL_CHUNK_TOKENS,
        help=f"chunked-prefill token budget per step (default {DEFAULT_PREFILL_CHUNK_TOKENS})",
    )


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


def _hourly_profile(text: str | None) -> tuple[float, ...] | None:
    from tierwise.cost_tables.errors import InvalidInputError

    if text is None:
        return None
    loads: list[float] = []
    for part in text.split(","):
        try:
            loads.append(float(part))
        except ValueError:
            raise InvalidInputError(
                "hourly_profile", f'expected 24 numbers "h0,h1,...,h23" (bad part {part!r})'
            ) from None
    return tuple(loads)


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
    "idle_usd",
    "purchase",
)
_PURCHASE_COLUMNS = (
    "tier_id",
    "purchase",
    "usd_per_gpu_hour",
    "monthly_usd",
    "instances",
    "mean_instances",
    "utilisation",
    "idle_usd",
    "autoscaled",
)


def _run_quote_workload(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from tierwise.cost_tables.purchase import SPOT_PREEMPTION_OVERHEAD
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
        peak_to_average=args.peak_to_average,
        hourly_profile=_hourly_profile(args.hourly_profile),
        autoscale=args.autoscale,
        purchase=args.purchase,
    )
    quote = quote_workload(table, workload)
    if args.format == "json":
        print(render_json(quote))
        return 0
    rows = [asdict(t) for t in quote.tiers]
    if quote.routed is not None:
        rows.append(asdict(quote.routed))
    notes = args.format != "csv"  # keep CSV output machine-readable
    if notes:
        print(f"peak hour = {quote.peak_factor:.3g} x mean hour; self-hosted: {quote.purchase}")
    print(render_rows(rows, _WORKLOAD_COLUMNS, args.format))
    print()
    if quote.purchase_options:
        if notes:
            print(
                "self-hosted purchase options (instances at the peak hour; spot sized "
                f"+{SPOT_PREEMPTION_OVERHEAD:.0%} for preemptions; reserved never autoscales)"
            )
        print(
            render_rows([asdict(o) for o in quote.purchase_options], _PURCHASE_COLUMNS, args.format)
        )
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


def _deployment(args: argparse.Namespace) -> Any:
    from tierwise.cost_tables.operating_point import Deployment

    return Deployment(
        model_id=args.model,
        gpu_id=args.gpu,
        gpus=args.gpus,
        precision=args.precision,
        isl=args.isl,
        osl=args.osl,
        usd_per_gpu_hour=args.usd_per_gpu_hour,
    )


def _run_hw_estimate(args: argparse.Namespace) -> int:
    from tierwise.cost_tables.errors import InvalidInputError
    from tierwise.cost_tables.hardware import estimate
    from tierwise.cost_tables.operating_point import Slo, fixed_point, operating_point
    from tierwise.cost_tables.render import cell, render_json

    slo = Slo(args.min_tokens_per_s_per_user, args.max_ttft_ms)
    if args.mode == "naive":
        if slo.any():
            raise InvalidInputError("mode", "the naive napkin has no latency model; drop the SLO")
        est = estimate(
            args.model, args.gpu, args.gpus, args.precision, args.isl, args.osl,
            concurrency=args.concurrency, mode="naive", usd_per_gpu_hour=args.usd_per_gpu_hour,
        )  # fmt: skip
        values: dict[str, object] = est.as_dict()
        keys: tuple[str, ...] = _HW_KEYS
    else:
        deployment = _deployment(args)
        if slo.any():
            point = operating_point(deployment, slo, args.target_load, args.prefill_chunk_tokens)
        else:
            point = fixed_point(
                deployment, args.concurrency, args.target_load, args.prefill_chunk_tokens
            )
        values = point.as_dict()
        keys = _HW_KEYS + _OPERATING_POINT_KEYS
    if args.format == "json":
        print(render_json(values))
        return 0
    width = max(len(k) for k in keys)
    for key in keys:
        print(f"{key.ljust(width)}  {cell(values[key])}")
    print("explanation:")
    explanation = values["explanation"]
    assert isinstance(explanation, list)
    for line in explanation:
        print(f"  {line}")
    return 0


_OPERATING_POINT_KEYS = (
    "ttft_ms",
    "ttft_ms_p90",
    "slot_wait_probability",
    "slo_min_tokens_per_s_per_user",
    "slo_max_ttft_ms",
    "target_load",
    "binding",
    "max_batch",
)
_CURVE_COLUMNS = (
    "batch",
    "tokens_per_s_per_user",
    "output_tokens_per_s_per_gpu",
    "ttft_ms",
    "ttft_ms_p90",
    "usd_per_mtok_input",
    "usd_per_mtok_output",
    "bound",
)


def _batches(text: str | None) -> tuple[int, ...] | None:
    from tierwise.cost_tables.errors import InvalidInputError

    if text is None:
        return None
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise InvalidInputError(
            "batches", f'expected whole numbers "1,8,64" (got {text!r})'
        ) from None


def _run_hw_curve(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tierwise.cost_tables.operating_point import curve
    from tierwise.cost_tables.render import render_json, render_rows

    deployment = _deployment(args)
    points = curve(
        deployment, args.target_load, args.prefill_chunk_tokens, batches=_batches(args.batches)
    )
    if args.png is not None:
        from tierwise.cost_tables.curve_plot import write_curve_png

        write_curve_png(points, deployment.describe(), Path(args.png))
    rows = [{k: p.as_dict()[k] for k in _CURVE_COLUMNS} for p in points]
    if args.format == "json":
        print(render_json({"deployment": deployment.describe(), "points": rows}))
    else:
        print(
            f"{deployment.describe()}: cost vs interactivity (TTFT at {args.target_load:.0%} load)"
        )
        print(render_rows(rows, _CURVE_COLUMNS, args.format))
        if args.png is not None:
            print(f"wrote {args.png}")
    return 0
