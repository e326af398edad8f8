"""Labelled replay input: parse, validate and stream JSONL lines.

One line: ``{"query": str, "outcomes": {tier: score in [0, 1]}, "id"?: str | int,
"input_tokens"?: int, "output_tokens"?: int | {tier: int}, "max_ttft_ms"?: number,
"max_latency_ms"?: number, "min_output_tokens_per_s"?: number, "caller"?: str,
"feature"?: str}`` (the latency fields and caller/feature as in a RouteRequest).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from tierwise.cost_tables.quote import MAX_TOKENS_PER_REQUEST
from tierwise.server.errors import InvalidRequestError
from tierwise.server.routing.latency_constraints import (
    NO_CONSTRAINTS,
    LatencyConstraints,
    check_request_value,
)

LATENCY_FIELDS: Final = ("max_ttft_ms", "max_latency_ms", "min_output_tokens_per_s")

MIN_USABLE_LINES: Final = 50
# Bad lines quoted in warnings and in the "too few lines" error (the count is always given).
MAX_QUOTED_ISSUES: Final = 20


@dataclass(frozen=True)
class LabelledQuery:
    """One usable input line (tier ids already renamed by --map)."""

    line: int
    id: str | int
    query: str
    outcomes: Mapping[str, float]  # replay tier -> score in [0, 1]
    input_tokens: int | None
    output_tokens: Mapping[str, int]  # replay tier -> real output tokens, when given
    latency: LatencyConstraints = NO_CONSTRAINTS
    caller: str = ""
    feature: str = ""


@dataclass
class InputIssues:
    """Bad lines seen while streaming: how many, and the first few messages."""

    path: Path
    count: int = 0
    lines_read: int = 0
    messages: list[str] = field(default_factory=list)

    def add(self, line: int, message: str) -> None:
        self.count += 1
        if len(self.messages) < MAX_QUOTED_ISSUES:
            self.messages.append(f"{self.path}:{line}: {message}")


def parse_tier_map(pairs: Sequence[str], known: Sequence[str]) -> dict[str, str]:
    """``old=new`` pairs (``--map``) → {old: new}; ``new`` must be a known tier."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        old, sep, new = pair.partition("=")
        old, new = old.strip(), new.strip()
        if not sep or not old or not new:
            raise ValueError(f"--map {pair!r}: expected OLD=NEW, e.g. gpt-4=opus")
        if new not in known:
            raise ValueError(f"--map {pair!r}: unknown tier {new!r}; known: {', '.join(known)}")
        if old in mapping:
            raise ValueError(f"--map: {old!r} is mapped twice")
        mapping[old] = new
    return mapping


def _tier_key(raw: str, mapping: Mapping[str, str], known: Sequence[str], what: str) -> str:
    tier = mapping.get(raw, raw)
    if tier not in known:
        raise ValueError(
            f"{what}: unknown tier {raw!r}; known tiers: {', '.join(known)} "
            "(rename with --map OLD=NEW)"
        )
    return tier


def _token_count(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what} must be an integer (got {value!r})")
    if not 0 <= value <= MAX_TOKENS_PER_REQUEST:
        raise ValueError(f"{what} must be between 0 and {MAX_TOKENS_PER_REQUEST} (got {value})")
    return value


def parse_record(
    record: Any,
    line: int,
    *,
    tiers: Sequence[str],
    known: Sequence[str],
    mapping: Mapping[str, str],
) -> LabelledQuery:
    """Validate one decoded line; ValueError says what is wrong (without the location).

    ``tiers``: the tiers being replayed (each needs an outcome); ``known``: every active tier
    (outcomes for known tiers outside ``tiers`` are ignored, unknown ones are errors)."""
    if not isinstance(record, dict):
        raise ValueError("expected a JSON object")
    query = record.get("query")
    if not isinstance(query, str) or not query.strip():
        raise ValueError("`query` must be a non-empty string")
    raw_outcomes = record.get("outcomes")
    if not isinstance(raw_outcomes, dict) or not raw_outcomes:
        raise ValueError("`outcomes` must be an object {tier: score in [0, 1]}")
    outcomes: dict[str, float] = {}
    for raw_tier, score in raw_outcomes.items():
        tier = _tier_key(str(raw_tier), mapping, known, "outcomes")
        if isinstance(score, bool) or not isinstance(score, int | float):
            raise ValueError(f"outcomes.{raw_tier} must be a number in [0, 1] (got {score!r})")
        value = float(score)
        if not math.isfinite(value) or not 0.0 <= value <= 1.0:
            raise ValueError(f"outcomes.{raw_tier} must be in [0, 1] (got {score!r})")
        if tier in outcomes:
            raise ValueError(f"outcomes: two entries for tier {tier!r} (after --map)")
        if tier in tiers:
            outcomes[tier] = value
    missing = [t for t in tiers if t not in outcomes]
    if missing:
        raise ValueError(f"outcomes: no score for tier(s) {', '.join(missing)}")
    record_id = record.get("id", line)
    if isinstance(record_id, bool) or not isinstance(record_id, str | int):
        raise ValueError(f"`id` must be a string or an integer (got {record_id!r})")
    input_tokens = record.get("input_tokens")
    if input_tokens is not None:
        input_tokens = _token_count(input_tokens, "input_tokens")
    output_tokens: dict[str, int] = {}
    raw_output = record.get("output_tokens")
    if isinstance(raw_output, dict):
        for raw_tier, count in raw_output.items():
            tier = _tier_key(str(raw_tier), mapping, known, "output_tokens")
            if tier in tiers:
                output_tokens[tier] = _token_count(count, f"output_tokens.{raw_tier}")
    elif raw_output is not None:
        count = _token_count(raw_output, "output_tokens")
        output_tokens = dict.fromkeys(tiers, count)
    caller, feature = record.get("caller", ""), record.get("feature", "")
    if not isinstance(caller, str) or not isinstance(feature, str):
        raise ValueError("`caller` and `feature` must be strings")
    return LabelledQuery(
        line=line,
        id=record_id,
        query=query,
        outcomes=outcomes,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        latency=_latency(record),
        caller=caller,
        feature=feature,
    )


def _latency(record: Mapping[str, Any]) -> LatencyConstraints:
    values: dict[str, float | None] = {}
    for name in LATENCY_FIELDS:
        raw = record.get(name)
        if raw is not None and (isinstance(raw, bool) or not isinstance(raw, int | float)):
            raise ValueError(f"`{name}` must be a number (got {raw!r})")
        try:
            values[name] = check_request_value(name, None if raw is None else float(raw))
        except InvalidRequestError as error:
            raise ValueError(str(error)) from error
    return LatencyConstraints(**values)


def count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for raw in handle if raw.strip())


def read_labelled(
    path: Path,
    *,
    tiers: Sequence[str],
    known: Sequence[str],
    mapping: Mapping[str, str],
    strict: bool,
    issues: InputIssues,
) -> Iterator[LabelledQuery]:
    """Stream usable lines. Bad lines are recorded in ``issues`` (or, when ``strict``, raise
    ValueError naming file:line)."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            issues.lines_read += 1
            try:
                try:
                    record = json.loads(raw.decode("utf-8"))
                except (UnicodeDecodeError, json.JSONDecodeError) as error:
                    raise ValueError(f"not valid JSON: {error}") from error
                item = parse_record(record, number, tiers=tiers, known=known, mapping=mapping)
            except ValueError as error:
                if strict:
                    raise ValueError(f"{path}:{number}: {error}") from error
                issues.add(number, str(error))
                continue
            yield item
