"""`tierwise score`: route a JSONL file locally, one decision per line."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from tierwise.server.cli.common import Progress, add_latency_arguments, existing_file

# Per-line options a JSONL record may carry besides `query` (and `id`); the CLI flags of the
# same name are the default for lines without them.
LATENCY_FIELDS = ("max_ttft_ms", "max_latency_ms", "min_output_tokens_per_s")


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    from tierwise.server.config import DEFAULT_ENCODER

    parser.add_argument(
        "--encoder",
        default=DEFAULT_ENCODER,
        help="an encoder the bundle's manifest.json lists (default %(default)s)",
    )
    parser.add_argument("--model-dir", type=Path, help="router model bundle directory")
    parser.add_argument("--tiers-file", type=existing_file, help="cost table TOML")
    parser.add_argument("--policy-file", type=existing_file, help="routing policy TOML")


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "score", help="score queries from a JSONL file (one decision per line, no server needed)"
    )
    parser.add_argument("--input", required=True, type=existing_file, help="JSONL with `query`")
    parser.add_argument("--output", type=Path, help="output JSONL (default: stdout)")
    parser.add_argument(
        "--strict", action="store_true", help="stop at the first bad line instead of reporting it"
    )
    add_model_arguments(parser)
    parser.add_argument(
        "--latency-file", type=existing_file, help="observed latency (`tierwise latency import`)"
    )
    add_latency_arguments(parser)
    parser.set_defaults(handler=_run_score)


def load_local_router(args: argparse.Namespace) -> Any:
    from tierwise.server.config import ServerSettings
    from tierwise.server.rpc.app import load_components

    settings = ServerSettings(
        encoder=args.encoder,
        model_dir=args.model_dir,
        tiers_file=args.tiers_file,
        policy_file=args.policy_file,
        latency_file=getattr(args, "latency_file", None),
    )
    return load_components(settings).router


def _latency_options(record: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    options = dict(defaults)
    for name in LATENCY_FIELDS:
        if name in record:
            value = record[name]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"`{name}` must be a number")
            options[name] = float(value)
    for name in ("caller", "feature"):
        if name in record:
            if not isinstance(record[name], str):
                raise ValueError(f"`{name}` must be a string")
            options[name] = record[name]
    return options


def score_record(
    router: Any, record: Any, line_number: int, defaults: dict[str, Any] | None = None
) -> dict[str, Any]:
    """One input object → one output object (ValueError names what is wrong). ``defaults``:
    latency options for records without their own."""
    from tierwise.server.errors import InvalidRequestError
    from tierwise.server.routing.router import RouteInput

    if not isinstance(record, dict):
        raise ValueError("expected a JSON object")
    query = record.get("query")
    if not isinstance(query, str):
        raise ValueError("`query` must be a string")
    record_id = record.get("id", line_number)
    try:
        item = RouteInput.create(
            query=query,
            known_tiers=router.table.ids(),
            **_latency_options(record, defaults or {}),
        )
    except InvalidRequestError as error:
        raise ValueError(str(error)) from error
    decision = router.route(item)
    return {
        "id": record_id,
        "difficulty": decision.difficulty,
        "p_success": {e.tier: e.p_success for e in decision.estimates},
        "predicted_output_tokens": {e.tier: e.predicted_output_tokens for e in decision.estimates},
        "quoted_usd": {e.tier: e.quoted_usd for e in decision.estimates},
        "ttft_ms": {e.tier: e.ttft_ms for e in decision.estimates},
        "latency_ms": {e.tier: e.latency_ms for e in decision.estimates},
        "meets_latency": {e.tier: e.meets_latency for e in decision.estimates},
        "tier": decision.tier,
        "reason_code": decision.reason_code.value,
        "reason": decision.reason,
        "escalated": decision.escalated,
        "out_of_distribution": decision.out_of_distribution,
        "truncated": decision.truncated,
    }


def read_jsonl(path: Path) -> Iterator[tuple[int, Any | ValueError]]:
    """(line number, parsed object or the error) for every non-blank line."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                yield number, json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as error:
                yield number, ValueError(f"not valid JSON: {error}")


@contextlib.contextmanager
def _output(path: Path | None) -> Iterator[IO[str]]:
    if path is None:
        yield sys.stdout
        return
    with path.open("w", encoding="utf-8") as handle:
        yield handle


def _count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for line in handle if line.strip())


def _run_score(args: argparse.Namespace) -> int:
    router = load_local_router(args)
    defaults = {
        name: getattr(args, name) for name in LATENCY_FIELDS if getattr(args, name) is not None
    }
    progress = Progress("scored", _count_lines(args.input))
    failures = total = 0
    with _output(args.output) as out:
        for number, record in read_jsonl(args.input):
            total += 1
            try:
                if isinstance(record, ValueError):
                    raise record
                row = score_record(router, record, number, defaults)
            except ValueError as error:
                if args.strict:
                    raise ValueError(f"{args.input}:{number}: {error}") from error
                failures += 1
                print(f"warning: {args.input}:{number}: {error}", file=sys.stderr)
                row = {"id": number, "error": str(error)}
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            progress.advance()
    progress.close()
    if failures:
        print(f"{failures} of {total} lines could not be scored", file=sys.stderr)
    if total == 0:
        raise ValueError(f"{args.input}: no input lines")
    return 1 if failures == total else 0
