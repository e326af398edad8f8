"""Latency tables: time to first token and output speed per model (published figures,
``data/latency.toml``) or per tier (a user's telemetry, written by ``tierwise latency import``).

Both files share one format; the published table keys its entries by model id under
``[models.<id>]``, a telemetry file by tier id under ``[tiers.<id>]``. A request's latency to
the last token is ``ttft + output_tokens / speed``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from tierwise.cost_tables._toml import Section, packaged_data_path, read_toml
from tierwise.cost_tables.errors import TableFileError

# Bounds that catch unit mistakes (seconds typed as ms, ms per token typed as tokens/s).
MAX_TTFT_MS = 600_000.0
MAX_TOKENS_PER_S = 100_000.0
MAX_SAMPLES = 10**12


class LatencyFileError(TableFileError):
    """A latency file is malformed (the message says "latency file", not "cost table")."""

    def __init__(self, path: str, key: str, problem: str) -> None:
        super().__init__(path, key, problem)
        self.args = (f"latency file {path}: {key}: {problem}",)


@dataclass(frozen=True)
class LatencyFigures:
    """TTFT and output speed of one model or tier. The p90 speed is the slow tail: the
    speed at the 90th percentile of time per output token (so it is <= the median)."""

    ttft_ms_p50: float
    output_tokens_per_s_p50: float
    source: str
    as_of: str
    ttft_ms_p90: float | None = None
    output_tokens_per_s_p90: float | None = None
    # True when the figure is not a measurement of this exact model (note says why).
    estimate: bool = False
    # Requests behind a telemetry figure; None for published figures.
    samples: int | None = None
    note: str = ""

    def latency_ms(self, output_tokens: int) -> float:
        """Median time to the last token of an answer of ``output_tokens``."""
        return self.ttft_ms_p50 + 1000.0 * output_tokens / self.output_tokens_per_s_p50

    def latency_ms_p90(self, output_tokens: int) -> float | None:
        """Sum of the p90 TTFT and the slow-tail decode time: an upper bound on the p90 of
        the total (the two tails rarely coincide); None unless both p90 figures are known."""
        if self.ttft_ms_p90 is None or self.output_tokens_per_s_p90 is None:
            return None
        return self.ttft_ms_p90 + 1000.0 * output_tokens / self.output_tokens_per_s_p90


@dataclass(frozen=True)
class LatencyTable:
    version: str
    source_path: str
    models: Mapping[str, LatencyFigures]
    tiers: Mapping[str, LatencyFigures]


def _optional_number(sec: Section, name: str, maximum: float) -> float | None:
    if not sec.has(name):
        return None
    return sec.number(name, positive=True, maximum=maximum)


def parse_figures(sec: Section) -> LatencyFigures:
    """One entry; TableFileError names the file and the dotted key at fault."""
    ttft = sec.number("ttft_ms_p50", positive=True, maximum=MAX_TTFT_MS)
    speed = sec.number("output_tokens_per_s_p50", positive=True, maximum=MAX_TOKENS_PER_S)
    ttft_p90 = _optional_number(sec, "ttft_ms_p90", MAX_TTFT_MS)
    speed_p90 = _optional_number(sec, "output_tokens_per_s_p90", MAX_TOKENS_PER_S)
    if ttft_p90 is not None and ttft_p90 < ttft:
        raise sec.error("ttft_ms_p90", f"must be >= ttft_ms_p50 {ttft:g} (got {ttft_p90:g})")
    if speed_p90 is not None and speed_p90 > speed:
        raise sec.error(
            "output_tokens_per_s_p90",
            f"is the slow tail: must be <= output_tokens_per_s_p50 {speed:g} (got {speed_p90:g})",
        )
    estimate = sec.raw("estimate") if sec.has("estimate") else False
    if not isinstance(estimate, bool):
        raise sec.error("estimate", f"must be true or false (got {estimate!r})")
    samples = sec.integer("samples", minimum=1, maximum=MAX_SAMPLES) if sec.has("samples") else None
    figures = LatencyFigures(
        ttft_ms_p50=ttft,
        output_tokens_per_s_p50=speed,
        ttft_ms_p90=ttft_p90,
        output_tokens_per_s_p90=speed_p90,
        source=sec.string("source"),
        as_of=sec.string("as_of"),
        estimate=estimate,
        samples=samples,
        note=sec.opt_string("note", ""),
    )
    sec.finish()
    return figures


def _entries(root: Section, name: str) -> Mapping[str, LatencyFigures]:
    sec = root.opt_table(name)
    if sec is None:
        return MappingProxyType({})
    return MappingProxyType({key: parse_figures(sub) for key, sub in sec.subtables()})


def _table(shown: str, data: Mapping[str, object]) -> LatencyTable:
    root = Section(shown, "", data)
    version = root.string("version")
    table = LatencyTable(
        version=version,
        source_path=shown,
        models=_entries(root, "models"),
        tiers=_entries(root, "tiers"),
    )
    root.finish()
    if not table.models and not table.tiers:
        raise TableFileError(shown, "<file>", "no [models.<id>] or [tiers.<id>] entries")
    return table


def _as_latency_error(error: TableFileError) -> LatencyFileError:
    return LatencyFileError(error.path, error.key, error.problem)


def load_latency_table(path: str | Path | None = None) -> LatencyTable:
    """Load and validate a latency table (default: the packaged ``data/latency.toml``)."""
    source = packaged_data_path("latency.toml") if path is None else Path(path)
    try:
        shown, data = read_toml(source)
        return _table(shown, data)
    except LatencyFileError:
        raise
    except TableFileError as error:
        raise _as_latency_error(error) from None


def parse_latency_table(text: str, source: str) -> LatencyTable:
    """A latency table sent as text (``source`` names it in errors)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LatencyFileError(source, "<file>", f"invalid TOML: {exc}") from None
    try:
        return _table(source, data)
    except TableFileError as error:
        raise _as_latency_error(error) from None


def _toml_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n").replace("\t", "\\t") + '"'


def render_tier_figures(version: str, tiers: Mapping[str, LatencyFigures], comment: str) -> str:
    """A telemetry file (``[tiers.<id>]`` entries): ``load_latency_table`` reads it back to
    the same figures."""
    lines = [f"# {line}".rstrip() for line in comment.splitlines()]
    lines.append(f"version = {_toml_string(version)}")
    for tier_id, f in tiers.items():
        lines += ["", f"[tiers.{_toml_string(tier_id)}]"]
        lines.append(f"ttft_ms_p50 = {f.ttft_ms_p50!r}")
        if f.ttft_ms_p90 is not None:
            lines.append(f"ttft_ms_p90 = {f.ttft_ms_p90!r}")
        lines.append(f"output_tokens_per_s_p50 = {f.output_tokens_per_s_p50!r}")
        if f.output_tokens_per_s_p90 is not None:
            lines.append(f"output_tokens_per_s_p90 = {f.output_tokens_per_s_p90!r}")
        if f.samples is not None:
            lines.append(f"samples = {f.samples}")
        lines.append(f"source = {_toml_string(f.source)}")
        lines.append(f"as_of = {_toml_string(f.as_of)}")
        if f.note:
            lines.append(f"note = {_toml_string(f.note)}")
    return "\n".join(lines) + "\n"
