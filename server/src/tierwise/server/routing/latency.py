"""Per-tier latency: the user's telemetry where given, else the published figures of the
tier's model (cost_tables data/latency.toml), else the self-hosted tier's hardware model.

The telemetry file is reloadable like the policy: a candidate is validated against the tier
table in full before it replaces the active figures, and a bad one leaves them in place.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Final

from tierwise.cost_tables.errors import CostTableError
from tierwise.cost_tables.latency import (
    LatencyFigures,
    LatencyTable,
    load_latency_table,
    parse_latency_table,
)
from tierwise.cost_tables.tables import TierPricing, TierTable
from tierwise.server.errors import LatencyTableError

UNKNOWN_SOURCE: Final = "unknown: no telemetry, no published figure, no hardware model"


@dataclass(frozen=True)
class TierLatency:
    """Where a tier's figures come from; ``figures`` None when nothing is known."""

    figures: LatencyFigures | None
    source: str


@dataclass(frozen=True)
class LatencyModel:
    """The figures every decision uses, one entry per tier of the cost table."""

    version: str
    tiers: Mapping[str, TierLatency]

    def of(self, tier_id: str) -> TierLatency:
        return self.tiers.get(tier_id, TierLatency(None, UNKNOWN_SOURCE))


def _hardware(tier: TierPricing) -> TierLatency | None:
    point = tier.operating_point
    if point is None:
        return None
    est = point.estimate
    # Speed is the roofline's with every slot of the batch busy: the slowest a user sees at
    # this operating point, so it serves as the slow tail too.
    figures = LatencyFigures(
        ttft_ms_p50=point.ttft_ms,
        ttft_ms_p90=point.ttft_ms_p90,
        output_tokens_per_s_p50=est.tokens_per_s_per_user,
        output_tokens_per_s_p90=est.tokens_per_s_per_user,
        source="hardware model",
        as_of="derived on load",
    )
    where = (
        f"hardware model: {est.gpus}x {est.gpu_id} at batch {est.batch}"
        f" (SLO {point.slo.describe()}; ISL/OSL {est.isl}/{est.osl};"
        f" queueing at {point.target_load:.0%} load)"
    )
    return TierLatency(figures, where)


def _published(figures: LatencyFigures, version: str) -> str:
    estimate = ", estimate" if figures.estimate else ""
    return f"published ({version}{estimate}): {figures.source}"


def _telemetry(figures: LatencyFigures, path: str) -> str:
    samples = f", {figures.samples} requests" if figures.samples is not None else ""
    return f"telemetry {path} ({figures.as_of}{samples})"


def build_latency_model(
    table: TierTable, published: LatencyTable, telemetry: LatencyTable | None
) -> LatencyModel:
    """Resolve each tier's figures; LatencyTableError when the telemetry names unknown tiers."""
    if telemetry is not None:
        unknown = sorted(set(telemetry.tiers) - set(table.ids()))
        if unknown:
            raise LatencyTableError(
                f"latency file {telemetry.source_path}: tiers.{unknown[0]}: unknown tier; "
                f"known: {', '.join(table.ids())}"
            )
        if telemetry.models:
            raise LatencyTableError(
                f"latency file {telemetry.source_path}: models: a telemetry file gives "
                "[tiers.<id>] entries (what you observed per tier), not [models.<id>]"
            )
    resolved: dict[str, TierLatency] = {}
    for tier in table.tiers:
        observed = None if telemetry is None else telemetry.tiers.get(tier.tier_id)
        if observed is not None:
            assert telemetry is not None
            resolved[tier.tier_id] = TierLatency(
                observed, _telemetry(observed, telemetry.source_path)
            )
            continue
        hardware = _hardware(tier)
        listed = published.models.get(tier.model)
        if hardware is not None:
            resolved[tier.tier_id] = hardware
        elif listed is not None:
            resolved[tier.tier_id] = TierLatency(listed, _published(listed, published.version))
        else:
            resolved[tier.tier_id] = TierLatency(None, UNKNOWN_SOURCE)
    version = f"published {published.version}"
    if telemetry is not None:
        version = f"telemetry {telemetry.version} over {version}"
    return LatencyModel(version=version, tiers=MappingProxyType(resolved))


def _load(path: Path | None) -> LatencyTable:
    try:
        return load_latency_table(path)
    except CostTableError as error:
        raise LatencyTableError(str(error)) from error
    except UnicodeDecodeError as error:
        raise LatencyTableError(
            f"latency file {path}: not UTF-8 text (byte {error.start})"
        ) from error


def load_latency_model(
    table: TierTable, telemetry_path: Path | None, published_path: Path | None = None
) -> LatencyModel:
    """Read the published table (None: the packaged one) and the telemetry file (None: none)."""
    published = _load(published_path)
    telemetry = None if telemetry_path is None else _load(telemetry_path)
    return build_latency_model(table, published, telemetry)


class LatencyHolder:
    """The active latency figures, swapped atomically after validation."""

    def __init__(
        self,
        table: TierTable,
        telemetry_path: Path | None = None,
        published_path: Path | None = None,
    ) -> None:
        self._table = table
        self._telemetry_path = telemetry_path
        self._published_path = published_path
        self._lock = threading.Lock()
        self._model = load_latency_model(table, telemetry_path, published_path)

    @property
    def current(self) -> LatencyModel:
        return self._model

    @property
    def telemetry_path(self) -> Path | None:
        return self._telemetry_path

    def _swap(self, candidate: LatencyModel) -> LatencyModel:
        with self._lock:
            previous, self._model = self._model, candidate
        return previous

    def reload_from_file(self) -> LatencyModel:
        """Re-read the configured files; returns the figures replaced (on error: unchanged)."""
        return self._swap(
            load_latency_model(self._table, self._telemetry_path, self._published_path)
        )

    def replace_text(self, document: str) -> LatencyModel:
        """Activate a telemetry document sent inline (admin RPC); nothing is written to disk."""
        try:
            telemetry = parse_latency_table(document, "<reload request>")
        except CostTableError as error:
            raise LatencyTableError(str(error)) from error
        return self._swap(build_latency_model(self._table, _load(self._published_path), telemetry))
