"""The policy's `[cascade]` table: default strategy, tier order and acceptance thresholds.

    [cascade]
    default_strategy = "classifier"   # or "cascade", "hybrid"
    tiers = ["haiku", "sonnet", "opus"]  # order a cascade tries; default: every tier by ability
    verifier_auc = 0.8                # assumed quality of the caller's scorer, for plan estimates
    [cascade.thresholds]
    haiku = 0.72                      # accept haiku's answer when its score is at least this
    sonnet = 0.64

and `hybrid_quality_target = 0.4`: a hybrid plan starts at the least capable allowed tier
whose P(success) reaches it (unset: at the tier the classifier picks).

Kept apart from policy.py so the cascade settings have one owner; policy.py only calls
`parse_cascade`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final, Literal

from tierwise.server.errors import PolicyError

Strategy = Literal["classifier", "cascade", "hybrid"]
STRATEGIES: Final[tuple[Strategy, ...]] = ("classifier", "cascade", "hybrid")
# Without a tuned threshold a tier's answer is accepted when the scorer is more sure than not.
DEFAULT_ACCEPT_THRESHOLD: Final = 0.5
# A scorer of this AUC is what the plan's expected cost and quality assume until replay (or
# the operator) says otherwise: the middle of the range published verifiers reach.
DEFAULT_VERIFIER_AUC: Final = 0.8
_KEYS: Final = {
    "default_strategy",
    "tiers",
    "thresholds",
    "verifier_auc",
    "note",
    "hybrid_quality_target",
}


@dataclass(frozen=True)
class CascadeSettings:
    default_strategy: Strategy = "classifier"
    # Empty: every tier of the policy, least to most capable.
    tiers: tuple[str, ...] = ()
    thresholds: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    verifier_auc: float = DEFAULT_VERIFIER_AUC
    note: str = ""
    hybrid_quality_target: float | None = None

    def threshold(self, tier: str) -> float:
        return self.thresholds.get(tier, DEFAULT_ACCEPT_THRESHOLD)


DEFAULT_CASCADE: Final = CascadeSettings()


def parse_cascade(source: str, table: Any, tier_ids: Sequence[str]) -> CascadeSettings:
    """Validate the `[cascade]` table (None: the defaults); PolicyError names the key."""
    if table is None:
        return DEFAULT_CASCADE
    if not isinstance(table, dict):
        raise PolicyError(source, "cascade", "must be a table")
    extra = sorted(set(table) - _KEYS)
    if extra:
        raise PolicyError(source, f"cascade.{extra[0]}", f"unknown key; allowed: {sorted(_KEYS)}")
    strategy = table.get("default_strategy", "classifier")
    if strategy not in STRATEGIES:
        raise PolicyError(
            source, "cascade.default_strategy", f"must be one of {', '.join(STRATEGIES)}"
        )
    tiers = table.get("tiers", [])
    if not isinstance(tiers, list) or not all(isinstance(t, str) for t in tiers):
        raise PolicyError(source, "cascade.tiers", "must be an array of tier ids")
    unknown = [t for t in tiers if t not in tier_ids]
    if unknown:
        raise PolicyError(source, "cascade.tiers", f"unknown tier(s) {', '.join(unknown)}")
    if len(set(tiers)) != len(tiers):
        raise PolicyError(source, "cascade.tiers", "names a tier twice")
    thresholds_table = table.get("thresholds", {})
    if not isinstance(thresholds_table, dict):
        raise PolicyError(source, "cascade.thresholds", "must be a table {tier: 0..1}")
    thresholds: dict[str, float] = {}
    for tier, value in thresholds_table.items():
        key = f"cascade.thresholds.{tier}"
        if tier not in tier_ids:
            raise PolicyError(source, key, "unknown tier")
        thresholds[tier] = _unit(source, key, value, 0.0, 1.0)
    auc = _unit(source, "cascade.verifier_auc", table.get("verifier_auc", DEFAULT_VERIFIER_AUC))
    if not 0.5 < auc < 1.0:
        raise PolicyError(source, "cascade.verifier_auc", f"must be in (0.5, 1) (got {auc})")
    note = table.get("note", "")
    if not isinstance(note, str):
        raise PolicyError(source, "cascade.note", "must be a string")
    hybrid_target = table.get("hybrid_quality_target")
    return CascadeSettings(
        default_strategy=strategy,
        tiers=tuple(tiers),
        thresholds=MappingProxyType(thresholds),
        verifier_auc=auc,
        note=note,
        hybrid_quality_target=(
            None
            if hybrid_target is None
            else _unit(source, "cascade.hybrid_quality_target", hybrid_target)
        ),
    )


def _unit(source: str, key: str, value: Any, low: float = 0.0, high: float = 1.0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PolicyError(source, key, f"must be a number (got {value!r})")
    number = float(value)
    if not math.isfinite(number) or not low <= number <= high:
        raise PolicyError(source, key, f"must be between {low} and {high} (got {value!r})")
    return number


def _string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def render_cascade(settings: CascadeSettings) -> list[str]:
    """TOML lines for the `[cascade]` table (none when everything is the default)."""
    if settings == DEFAULT_CASCADE:
        return []
    lines = ["[cascade]", f"default_strategy = {_string(settings.default_strategy)}"]
    if settings.tiers:
        lines.append(f"tiers = [{', '.join(_string(t) for t in settings.tiers)}]")
    lines.append(f"verifier_auc = {settings.verifier_auc!r}")
    if settings.hybrid_quality_target is not None:
        lines.append(f"hybrid_quality_target = {settings.hybrid_quality_target!r}")
    if settings.note:
        lines.append(f"note = {_string(settings.note)}")
    lines.append("")
    if settings.thresholds:
        lines.append("[cascade.thresholds]")
        for tier, value in settings.thresholds.items():
            key = tier if tier.replace("-", "").replace("_", "").isalnum() else _string(tier)
            lines.append(f"{key} = {value!r}")
        lines.append("")
    return lines
