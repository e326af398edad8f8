"""`tierwise latency import|check|apply|show`: the user's latency telemetry."""

from __future__ import annotations

import argparse
import datetime
import json
from pathlib import Path
from typing import Any

from tierwise.server.cli.common import add_client_arguments, client_from_args, existing_file


def register(subparsers: Any) -> None:
    latency: argparse.ArgumentParser = subparsers.add_parser(
        "latency", help="per-tier latency: import your own telemetry, check, apply, show"
    )
    actions = latency.add_subparsers(dest="latency_command", metavar="ACTION", required=True)

    imports = actions.add_parser(
        "import", help="validate a CSV/JSONL of observed per-tier latency and write the file "
        "`tierwise serve --latency-file` loads (format: docs/latency.md)",
    )  # fmt: skip
    imports.add_argument("file", type=existing_file)
    imports.add_argument("--out", required=True, type=Path, help="latency TOML to write")
    imports.add_argument("--format", choices=["csv", "jsonl"], help="default: from the extension")
    imports.add_argument("--tiers-file", type=existing_file, help="cost table TOML (tier ids)")
    imports.add_argument("--version", dest="file_version", help="version of the written file")
    imports.add_argument(
        "--min-samples",
        type=int,
        default=None,
        help="fewest requests a row may summarise (default: telemetry.DEFAULT_MIN_SAMPLES)",
    )
    imports.set_defaults(handler=_run_import)

    check = actions.add_parser("check", help="validate a latency file against the cost table")
    check.add_argument("file", type=existing_file)
    check.add_argument("--tiers-file", type=existing_file, help="cost table TOML")
    check.set_defaults(handler=_run_check)

    show = actions.add_parser("show", help="print the per-tier figures a server would use")
    show.add_argument("--latency-file", type=existing_file, help="telemetry file (optional)")
    show.add_argument("--tiers-file", type=existing_file, help="cost table TOML")
    show.set_defaults(handler=_run_show)

    apply = actions.add_parser(
        "apply", help="activate a latency file on a running server (no file: re-read its own)"
    )
    apply.add_argument("file", type=existing_file, nargs="?")
    add_client_arguments(apply)
    apply.set_defaults(handler=_run_apply)


def _run_import(args: argparse.Namespace) -> int:
    from tierwise.cost_tables.latency import render_tier_figures
    from tierwise.cost_tables.tables import load_tier_table
    from tierwise.cost_tables.telemetry import DEFAULT_MIN_SAMPLES, format_of, read_telemetry
    from tierwise.server.routing.latency import load_latency_model

    table = load_tier_table(args.tiers_file)
    min_samples = DEFAULT_MIN_SAMPLES if args.min_samples is None else args.min_samples
    if min_samples < 1:
        raise ValueError("--min-samples: must be >= 1")
    today = datetime.datetime.now(datetime.UTC).date().isoformat()
    figures = read_telemetry(
        args.file,
        table.ids(),
        kind=format_of(args.file, args.format),
        default_as_of=today,
        min_samples=min_samples,
    )
    version = args.file_version or f"telemetry-{today}"
    text = render_tier_figures(
        version,
        figures,
        comment=f"Observed latency per tier, imported from {args.file.name} by "
        "`tierwise latency import`.\nServe it with `tierwise serve --latency-file`; tiers not "
        "listed keep the published figures.",
    )
    args.out.write_text(text, encoding="utf-8")
    # Read back through the server's own loader: what was written is what will be served.
    load_latency_model(table, args.out)
    print(f"wrote {args.out}: {len(figures)} tier(s) ({', '.join(figures)}), version {version}")
    return 0


def _run_check(args: argparse.Namespace) -> int:
    from tierwise.cost_tables.tables import load_tier_table
    from tierwise.server.routing.latency import load_latency_model

    model = load_latency_model(load_tier_table(args.tiers_file), args.file)
    print(f"ok: latency {model.version} is valid")
    return 0


def _run_show(args: argparse.Namespace) -> int:
    from tierwise.cost_tables.tables import load_tier_table
    from tierwise.server.routing.latency import load_latency_model

    model = load_latency_model(load_tier_table(args.tiers_file), args.latency_file)
    rows = {}
    for tier_id, entry in model.tiers.items():
        f = entry.figures
        rows[tier_id] = {
            "ttft_ms_p50": None if f is None else f.ttft_ms_p50,
            "ttft_ms_p90": None if f is None else f.ttft_ms_p90,
            "output_tokens_per_s_p50": None if f is None else f.output_tokens_per_s_p50,
            "output_tokens_per_s_p90": None if f is None else f.output_tokens_per_s_p90,
            "source": entry.source,
        }
    print(json.dumps({"version": model.version, "tiers": rows}, indent=2))
    return 0


def _run_apply(args: argparse.Namespace) -> int:
    from tierwise.cost_tables.latency import load_latency_table

    if args.file is not None:
        load_latency_table(args.file)  # fail fast, locally, with the file's name in the message
    text = "" if args.file is None else args.file.read_text(encoding="utf-8")
    with client_from_args(args) as client:
        info = client.reload_latency(text)
    print(f"applied latency {info.latency_version} (was {info.previous_latency_version})")
    return 0
