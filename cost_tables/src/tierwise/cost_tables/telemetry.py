"""Read a user's own latency measurements (CSV or JSONL, one row per tier) into latency
figures: the format is documented in docs/latency.md.

Each row gives a tier's TTFT percentiles, its output speed either as tokens/s or as time per
output token (TPOT, ms), and how many requests the percentiles summarise. Every problem is
reported with the file, the line and the field.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from tierwise.cost_tables.errors import CostTableError
from tierwise.cost_tables.latency import MAX_TOKENS_PER_S, MAX_TTFT_MS, LatencyFigures

# Fewer requests than this make a p90 mostly noise (the 90th of 20 samples is the 18th).
DEFAULT_MIN_SAMPLES: Final = 20
TelemetryFormat = Literal["csv", "jsonl"]
FIELDS: Final = (
    "tier",
    "ttft_ms_p50",
    "ttft_ms_p90",
    "output_tokens_per_s_p50",
    "output_tokens_per_s_p90",
    "tpot_ms_p50",
    "tpot_ms_p90",
    "samples",
    "as_of",
    "note",
)
MAX_TPOT_MS: Final = 60_000.0


class TelemetryFileError(CostTableError):
    """A telemetry row is invalid; the message names file, line and field."""

    def __init__(self, path: str, line: int | None, field: str, problem: str) -> None:
        where = f"{path}" if line is None else f"{path} line {line}"
        super().__init__(f"telemetry {where}: {field}: {problem}")
        self.path = path
        self.line = line
        self.field = field


@dataclass(frozen=True)
class TierTelemetry:
    tier: str
    line: int
    figures: LatencyFigures


def format_of(path: Path, given: str | None) -> TelemetryFormat:
    """``given`` if set, else from the file name (.csv, .jsonl or .json)."""
    chosen = given or {".csv": "csv", ".jsonl": "jsonl", ".json": "jsonl"}.get(path.suffix.lower())
    if chosen == "csv":
        return "csv"
    if chosen == "jsonl":
        return "jsonl"
    raise TelemetryFileError(str(path), None, "<format>", "say --format csv or --format jsonl")


def _rows(
    path: Path, text: str, kind: TelemetryFormat
) -> Iterator[tuple[int, Mapping[str, object]]]:
    shown = str(path)
    if kind == "jsonl":
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise TelemetryFileError(shown, number, "<line>", f"not JSON: {error}") from None
            if not isinstance(row, dict):
                raise TelemetryFileError(shown, number, "<line>", "must be a JSON object")
            yield number, row
        return
    reader = csv.DictReader(io.StringIO(text), restkey="<extra>")
    if reader.fieldnames is None:
        raise TelemetryFileError(shown, 1, "<header>", "empty file: no header row")
    unknown = [name for name in reader.fieldnames if name not in FIELDS]
    if unknown:
        raise TelemetryFileError(
            shown, 1, unknown[0], f"unknown column; known: {', '.join(FIELDS)}"
        )
    for row in reader:
        if "<extra>" in row:
            raise TelemetryFileError(shown, reader.line_num, "<line>", "more cells than columns")
        # Empty cells are absent values (CSV cannot tell "" from missing).
        yield reader.line_num, {k: v for k, v in row.items() if v not in ("", None)}


class _Row:
    def __init__(self, path: str, line: int, data: Mapping[str, object]) -> None:
        self.path, self.line, self.data = path, line, data

    def error(self, field: str, problem: str) -> TelemetryFileError:
        return TelemetryFileError(self.path, self.line, field, problem)

    def number(self, field: str, maximum: float) -> float | None:
        value = self.data.get(field)
        if value is None:
            return None
        if isinstance(value, bool):
            raise self.error(field, f"must be a number (got {value!r})")
        try:
            number = float(value) if isinstance(value, int | float | str) else math.nan
        except ValueError:
            raise self.error(field, f"must be a number (got {value!r})") from None
        if not math.isfinite(number):
            raise self.error(field, f"must be a finite number (got {value!r})")
        if number <= 0:
            raise self.error(field, f"must be > 0 (got {value!r})")
        if number > maximum:
            raise self.error(field, f"must be <= {maximum:g} (got {value!r}; check the unit)")
        return number

    def text(self, field: str) -> str | None:
        value = self.data.get(field)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.error(field, f"must be a string (got {value!r})")
        return value.strip() or None


def _speed(row: _Row) -> tuple[float, float | None]:
    """(median tokens/s, slow-tail tokens/s) from either the speed or the TPOT columns."""
    speed = row.number("output_tokens_per_s_p50", MAX_TOKENS_PER_S)
    speed_p90 = row.number("output_tokens_per_s_p90", MAX_TOKENS_PER_S)
    tpot = row.number("tpot_ms_p50", MAX_TPOT_MS)
    tpot_p90 = row.number("tpot_ms_p90", MAX_TPOT_MS)
    if (speed is not None or speed_p90 is not None) and (tpot is not None or tpot_p90 is not None):
        raise row.error("tpot_ms_p50", "give output_tokens_per_s_* or tpot_ms_*, not both")
    if tpot is not None:
        if tpot_p90 is not None and tpot_p90 < tpot:
            raise row.error("tpot_ms_p90", f"must be >= tpot_ms_p50 {tpot:g} (got {tpot_p90:g})")
        return 1000.0 / tpot, None if tpot_p90 is None else 1000.0 / tpot_p90
    if speed is None:
        field = "tpot_ms_p50" if tpot_p90 is not None else "output_tokens_per_s_p50"
        raise row.error(field, "required: the median output speed (tokens/s) or TPOT (ms)")
    if speed_p90 is not None and speed_p90 > speed:
        raise row.error(
            "output_tokens_per_s_p90",
            f"is the slow tail (speed at the p90 TPOT): must be <= the median {speed:g}",
        )
    return speed, speed_p90


def _tier(row: _Row, known: Collection[str], min_samples: int, default_as_of: str) -> TierTelemetry:
    extra = sorted(set(row.data) - set(FIELDS))
    if extra:
        raise row.error(extra[0], f"unknown field; known: {', '.join(FIELDS)}")
    tier = row.text("tier")
    if tier is None:
        raise row.error("tier", "required")
    if tier not in known:
        raise row.error("tier", f"unknown tier {tier!r}; known: {', '.join(known)}")
    ttft = row.number("ttft_ms_p50", MAX_TTFT_MS)
    if ttft is None:
        raise row.error("ttft_ms_p50", "required")
    ttft_p90 = row.number("ttft_ms_p90", MAX_TTFT_MS)
    if ttft_p90 is not None and ttft_p90 < ttft:
        raise row.error("ttft_ms_p90", f"must be >= ttft_ms_p50 {ttft:g} (got {ttft_p90:g})")
    speed, speed_p90 = _speed(row)
    samples_raw = row.data.get("samples")
    if samples_raw is None:
        raise row.error("samples", "required: how many requests the percentiles summarise")
    try:
        samples = int(str(samples_raw)) if not isinstance(samples_raw, bool | float) else -1
    except ValueError:
        samples = -1
    if samples < 0:
        raise row.error("samples", f"must be a whole number (got {samples_raw!r})")
    if samples < min_samples:
        raise row.error(
            "samples", f"{samples} requests are too few for percentiles (at least {min_samples})"
        )
    figures = LatencyFigures(
        ttft_ms_p50=ttft,
        ttft_ms_p90=ttft_p90,
        output_tokens_per_s_p50=speed,
        output_tokens_per_s_p90=speed_p90,
        source=f"telemetry imported from {Path(row.path).name} line {row.line}",
        as_of=row.text("as_of") or default_as_of,
        samples=samples,
        note=row.text("note") or "",
    )
    return TierTelemetry(tier=tier, line=row.line, figures=figures)


def read_telemetry(
    path: Path,
    known_tiers: Collection[str],
    *,
    kind: TelemetryFormat,
    default_as_of: str,
    min_samples: int = DEFAULT_MIN_SAMPLES,
) -> dict[str, LatencyFigures]:
    """Tier id → figures, validated in full (TelemetryFileError at the first problem)."""
    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise TelemetryFileError(shown, None, "<file>", "file not found") from None
    except UnicodeDecodeError as error:
        raise TelemetryFileError(shown, None, "<file>", f"not UTF-8 (byte {error.start})") from None
    except OSError as error:
        raise TelemetryFileError(shown, None, "<file>", f"cannot read: {error.strerror}") from None
    seen: dict[str, TierTelemetry] = {}
    for line, data in _rows(path, text, kind):
        entry = _tier(_Row(shown, line, data), known_tiers, min_samples, default_as_of)
        if entry.tier in seen:
            raise TelemetryFileError(
                shown, line, "tier", f"{entry.tier!r} again (first on line {seen[entry.tier].line})"
            )
        seen[entry.tier] = entry
    if not seen:
        raise TelemetryFileError(shown, None, "<file>", "no rows: give one row per tier")
    return {tier: entry.figures for tier, entry in seen.items()}
