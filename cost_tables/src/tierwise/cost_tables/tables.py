"""Tier price tables (``data/tiers.toml``): validated, with provenance, self-hosted derived."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Literal

from tierwise.cost_tables._toml import Section, packaged_data_path, read_toml
from tierwise.cost_tables.errors import CostTableError, TableFileError, UnknownIdError
from tierwise.cost_tables.estimate_types import Efficiency, HardwareEstimate
from tierwise.cost_tables.operating_point import (
    DEFAULT_PREFILL_CHUNK_TOKENS,
    DEFAULT_TARGET_LOAD,
    MAX_PREFILL_CHUNK_TOKENS,
    MAX_SLO_TOKENS_PER_S,
    MAX_SLO_TTFT_MS,
    Deployment,
    OperatingPoint,
    Slo,
    fixed_point,
    operating_point,
)
from tierwise.cost_tables.placement import AbilityGap, TierPlacement, parse_gaps, parse_placement

# Upper bounds that catch unit mistakes ($/token typed as $/M, percent typed as fraction).
MAX_USD_PER_MTOK = 10_000.0
MAX_CACHE_MULTIPLIER = 10.0
MAX_MIN_CACHEABLE_TOKENS = 1_000_000


@dataclass(frozen=True)
class Provenance:
    source: str
    as_of: str
    note: str = ""


@dataclass(frozen=True)
class LongContextRule:
    """Above ``threshold_input_tokens`` of prompt the WHOLE request is billed at these rates."""

    threshold_input_tokens: int
    usd_per_mtok_input: float
    usd_per_mtok_output: float


@dataclass(frozen=True)
class TierPricing:
    tier_id: str
    model: str
    display_name: str
    kind: Literal["api", "self-hosted"]
    usd_per_mtok_input: float
    usd_per_mtok_output: float
    cache_write_5m_multiplier: float
    cache_write_1h_multiplier: float
    cache_read_multiplier: float
    batch_discount: float
    long_context: LongContextRule | None
    min_cacheable_tokens: int
    provenance: Provenance
    derivation: HardwareEstimate | None
    # Where the tier sits on the router's ability scale (the default policy is built from
    # it); None: only a policy file can place the tier.
    placement: TierPlacement | None = None
    # Self-hosted only: the batch the deployment runs at (its SLO's), with its TTFT model;
    # ``derivation`` is this point's roofline.
    operating_point: OperatingPoint | None = None


@dataclass(frozen=True)
class TierTable:
    version: str
    source_path: str
    tiers: tuple[TierPricing, ...]

    def get(self, tier_id: str) -> TierPricing:
        for tier in self.tiers:
            if tier.tier_id == tier_id:
                return tier
        raise UnknownIdError("tier", tier_id, self.ids())

    def ids(self) -> tuple[str, ...]:
        return tuple(t.tier_id for t in self.tiers)


def _efficiency(sec: Section) -> Efficiency:
    """Override the calibrated defaults key by key; unknown keys are typos, not ignored."""
    values: dict[str, float | int] = {}
    for f in fields(Efficiency):
        if not sec.has(f.name):
            continue
        if f.type in (int, "int"):
            values[f.name] = sec.integer(f.name, minimum=1)
        else:
            values[f.name] = sec.number(f.name, minimum=0)
    sec.finish()
    return Efficiency(**values)  # type: ignore[arg-type]


def _concurrency(sec: Section, slo: Slo | None) -> int | Literal["max"]:
    if slo is not None:
        if sec.has("concurrency"):
            raise sec.error(
                "concurrency", "give either a fixed concurrency or an [slo] to search it, not both"
            )
        return "max"
    raw = sec.raw("concurrency")
    if raw == "max":
        return "max"
    if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 1:
        return raw
    raise sec.error("concurrency", f'must be "max" or an integer >= 1 (got {raw!r})')


def _slo(sec: Section | None) -> Slo | None:
    """``[deployment.slo]``: the speed the tier promises; the batch is searched to meet it."""
    if sec is None:
        return None
    slo = Slo(
        min_tokens_per_s_per_user=(
            sec.number("min_tokens_per_s_per_user", positive=True, maximum=MAX_SLO_TOKENS_PER_S)
            if sec.has("min_tokens_per_s_per_user")
            else None
        ),
        max_ttft_ms=(
            sec.number("max_ttft_ms", positive=True, maximum=MAX_SLO_TTFT_MS)
            if sec.has("max_ttft_ms")
            else None
        ),
    )
    sec.finish()
    if not slo.any():
        raise TableFileError(
            sec.path, sec.key, "needs min_tokens_per_s_per_user or max_ttft_ms (or drop [slo])"
        )
    return slo


def _derive(sec: Section) -> OperatingPoint:
    deployment = Deployment(
        model_id=sec.string("model"),
        gpu_id=sec.string("gpu"),
        gpus=sec.integer("gpus", minimum=1),
        precision=sec.string("precision"),
        isl=sec.integer("isl", minimum=1),
        osl=sec.integer("osl", minimum=1),
        usd_per_gpu_hour=sec.number("usd_per_gpu_hour", positive=True, maximum=1000),
        efficiency=_efficiency(sec.table("efficiency")),
    )
    slo = _slo(sec.opt_table("slo"))
    concurrency = _concurrency(sec, slo)
    load = (
        sec.number("target_load", positive=True, maximum=0.999)
        if sec.has("target_load")
        else DEFAULT_TARGET_LOAD
    )
    chunk = (
        sec.integer("prefill_chunk_tokens", minimum=1, maximum=MAX_PREFILL_CHUNK_TOKENS)
        if sec.has("prefill_chunk_tokens")
        else DEFAULT_PREFILL_CHUNK_TOKENS
    )
    sec.finish()
    try:
        if slo is not None:
            return operating_point(deployment, slo, load, chunk)
        return fixed_point(deployment, concurrency, load, chunk)
    except TableFileError:
        raise
    except CostTableError as exc:
        # Unknown model/GPU, unsupported precision, does not fit, SLO unreachable: the file
        # is at fault.
        raise TableFileError(sec.path, sec.key, str(exc)) from exc


def _placement(sec: Section | None, gaps: Mapping[str, AbilityGap]) -> TierPlacement | None:
    return None if sec is None else parse_placement(sec, gaps)


def _provenance(sec: Section) -> Provenance:
    prov = Provenance(
        source=sec.string("source"), as_of=sec.string("as_of"), note=sec.opt_string("note", "")
    )
    sec.finish()
    return prov


def _tier(tier_id: str, sec: Section, gaps: Mapping[str, AbilityGap]) -> TierPricing:
    kind_raw = sec.string("kind", choices=("api", "self-hosted"))
    kind: Literal["api", "self-hosted"] = "api" if kind_raw == "api" else "self-hosted"
    derivation: HardwareEstimate | None = None
    point: OperatingPoint | None = None
    if kind == "self-hosted":
        for typed in ("usd_per_mtok_input", "usd_per_mtok_output", "model"):
            if sec.has(typed):
                raise sec.error(typed, "self-hosted prices and model come from [deployment]")
        point = _derive(sec.table("deployment"))
        derivation = point.estimate
        model = derivation.model_id
        usd_in = derivation.usd_per_mtok_input
        usd_out = derivation.usd_per_mtok_output
    else:
        model = sec.string("model")
        usd_in = sec.number("usd_per_mtok_input", minimum=0, maximum=MAX_USD_PER_MTOK)
        usd_out = sec.number("usd_per_mtok_output", minimum=0, maximum=MAX_USD_PER_MTOK)
    long_sec = sec.opt_table("long_context")
    long_context = None
    if long_sec is not None:
        long_context = LongContextRule(
            threshold_input_tokens=long_sec.integer("threshold_input_tokens", minimum=1),
            usd_per_mtok_input=long_sec.number(
                "usd_per_mtok_input", minimum=0, maximum=MAX_USD_PER_MTOK
            ),
            usd_per_mtok_output=long_sec.number(
                "usd_per_mtok_output", minimum=0, maximum=MAX_USD_PER_MTOK
            ),
        )
        long_sec.finish()
    tier = TierPricing(
        tier_id=tier_id,
        model=model,
        display_name=sec.string("display_name"),
        kind=kind,
        usd_per_mtok_input=usd_in,
        usd_per_mtok_output=usd_out,
        cache_write_5m_multiplier=sec.number(
            "cache_write_5m_multiplier", minimum=0, maximum=MAX_CACHE_MULTIPLIER
        ),
        cache_write_1h_multiplier=sec.number(
            "cache_write_1h_multiplier", minimum=0, maximum=MAX_CACHE_MULTIPLIER
        ),
        cache_read_multiplier=sec.number(
            "cache_read_multiplier", minimum=0, maximum=MAX_CACHE_MULTIPLIER
        ),
        batch_discount=sec.number("batch_discount", minimum=0, maximum=1),
        long_context=long_context,
        min_cacheable_tokens=sec.integer(
            "min_cacheable_tokens", minimum=0, maximum=MAX_MIN_CACHEABLE_TOKENS
        ),
        provenance=_provenance(sec.table("provenance")),
        derivation=derivation,
        placement=_placement(sec.opt_table("ability"), gaps),
        operating_point=point,
    )
    sec.finish()
    return tier


def load_tier_table(path: str | Path | None = None) -> TierTable:
    """Load and validate a tier table (default: the packaged ``data/tiers.toml``).

    Raises :class:`TableFileError` naming the file and the dotted key at fault.
    """
    source = packaged_data_path("tiers.toml") if path is None else Path(path)
    shown, data = read_toml(source)
    root = Section(shown, "", data)
    version = root.string("version")
    gaps = parse_gaps(root.opt_table("ability_gaps"))
    tiers = tuple(_tier(tier_id, sec, gaps) for tier_id, sec in root.table("tiers").subtables())
    root.finish()
    return TierTable(version=version, source_path=shown, tiers=tiers)
