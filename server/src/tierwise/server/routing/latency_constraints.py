"""Latency constraints (SLOs) of a request, and the policy's `[latency]` defaults for them.

    [latency.defaults]                  # every request without its own value
    max_ttft_ms = 3000
    [latency.callers.chat-frontend]     # RouteRequest.caller == "chat-frontend"
    max_ttft_ms = 1500
    min_output_tokens_per_s = 40
    [latency.features.autocomplete]     # RouteRequest.feature == "autocomplete"
    max_latency_ms = 4000

Field by field the most specific value wins: the request's own, then its feature's rule, then
its caller's, then the defaults. A request cannot lift a limit the policy sets except by
giving a larger one. Kept apart from policy.py so the latency rules have one owner.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, Final

from tierwise.server.errors import PolicyError

# A constraint above this is a unit mistake (hours typed as ms), not an SLO.
MAX_MS: Final = 86_400_000.0
MAX_TOKENS_PER_S: Final = 1_000_000.0
_RULE_TABLES: Final = ("callers", "features")


@dataclass(frozen=True)
class LatencyConstraints:
    """SLOs a tier must meet; None means no limit."""

    max_ttft_ms: float | None = None
    max_latency_ms: float | None = None
    min_output_tokens_per_s: float | None = None

    def any(self) -> bool:
        return any(getattr(self, f.name) is not None for f in fields(self))

    def over(self, base: LatencyConstraints) -> LatencyConstraints:
        """These values where set, ``base``'s elsewhere."""
        return LatencyConstraints(
            *(
                getattr(self, f.name)
                if getattr(self, f.name) is not None
                else getattr(base, f.name)
                for f in fields(self)
            )
        )

    def failures(self, ttft_ms: float, latency_ms: float, tokens_per_s: float) -> list[str]:
        """Names of the constraints these figures miss, in field order."""
        failed = []
        if self.max_ttft_ms is not None and not ttft_ms <= self.max_ttft_ms:
            failed.append("max_ttft_ms")
        if self.max_latency_ms is not None and not latency_ms <= self.max_latency_ms:
            failed.append("max_latency_ms")
        if self.min_output_tokens_per_s is not None and not (
            tokens_per_s >= self.min_output_tokens_per_s
        ):
            failed.append("min_output_tokens_per_s")
        return failed

    def shortfall(self, ttft_ms: float, latency_ms: float, tokens_per_s: float) -> float:
        """How far the figures are from meeting every constraint, as the worst ratio to its
        limit (<= 1 meets them all): ranks tiers when none meets the SLOs."""
        ratios = [0.0]
        if self.max_ttft_ms is not None:
            ratios.append(ttft_ms / self.max_ttft_ms)
        if self.max_latency_ms is not None:
            ratios.append(latency_ms / self.max_latency_ms)
        if self.min_output_tokens_per_s is not None:
            ratios.append(
                math.inf if tokens_per_s <= 0 else self.min_output_tokens_per_s / tokens_per_s
            )
        return max(ratios)

    def describe(self) -> str:
        parts = [
            f"{f.name} {getattr(self, f.name):g}"
            for f in fields(self)
            if getattr(self, f.name) is not None
        ]
        return ", ".join(parts) or "no latency constraint"


NO_CONSTRAINTS: Final = LatencyConstraints()


@dataclass(frozen=True)
class LatencySettings:
    defaults: LatencyConstraints = NO_CONSTRAINTS
    # (name, rule) pairs in file order: tuples keep the policy hashable and its order stable.
    callers: tuple[tuple[str, LatencyConstraints], ...] = ()
    features: tuple[tuple[str, LatencyConstraints], ...] = ()

    def resolve(self, request: LatencyConstraints, caller: str, feature: str) -> LatencyConstraints:
        """The constraints a request is routed under (see the module docstring)."""
        applied = self.defaults
        for rules, name in ((self.callers, caller), (self.features, feature)):
            for rule_name, rule in rules:
                if name and rule_name == name:
                    applied = rule.over(applied)
        return request.over(applied)


DEFAULT_LATENCY: Final = LatencySettings()


def check_request_value(field: str, value: float | None) -> float | None:
    """A request's constraint: unset, or a positive finite number (the caller's error names
    the field)."""
    from tierwise.server.errors import InvalidRequestError

    if value is None:
        return None
    limit = MAX_TOKENS_PER_S if field == "min_output_tokens_per_s" else MAX_MS
    if not (math.isfinite(value) and 0.0 < value <= limit):
        raise InvalidRequestError(field, f"must be > 0 and <= {limit:g} (got {value})")
    return value


def _constraints(source: str, key: str, table: Any) -> LatencyConstraints:
    if not isinstance(table, dict):
        raise PolicyError(source, key, "must be a table")
    names = [f.name for f in fields(LatencyConstraints)]
    extra = sorted(set(table) - set(names))
    if extra:
        raise PolicyError(source, f"{key}.{extra[0]}", f"unknown key; allowed: {names}")
    values: dict[str, float] = {}
    for name, value in table.items():
        limit = MAX_TOKENS_PER_S if name == "min_output_tokens_per_s" else MAX_MS
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise PolicyError(source, f"{key}.{name}", f"must be a number (got {value!r})")
        if not (math.isfinite(value) and 0.0 < value <= limit):
            raise PolicyError(source, f"{key}.{name}", f"must be > 0 and <= {limit:g}")
        values[name] = float(value)
    return LatencyConstraints(**values)


def _rules(source: str, key: str, table: Any) -> tuple[tuple[str, LatencyConstraints], ...]:
    if table is None:
        return ()
    if not isinstance(table, dict):
        raise PolicyError(source, key, "must be a table of rules, one sub-table per name")
    return tuple(
        (name, _constraints(source, f"{key}.{name}", rule)) for name, rule in table.items()
    )


def parse_latency(source: str, table: Any) -> LatencySettings:
    """Validate the `[latency]` table (None: no defaults); PolicyError names the key."""
    if table is None:
        return DEFAULT_LATENCY
    if not isinstance(table, dict):
        raise PolicyError(source, "latency", "must be a table")
    allowed = {"defaults", *_RULE_TABLES}
    extra = sorted(set(table) - allowed)
    if extra:
        raise PolicyError(source, f"latency.{extra[0]}", f"unknown key; allowed: {sorted(allowed)}")
    defaults = table.get("defaults")
    return LatencySettings(
        defaults=NO_CONSTRAINTS
        if defaults is None
        else _constraints(source, "latency.defaults", defaults),
        callers=_rules(source, "latency.callers", table.get("callers")),
        features=_rules(source, "latency.features", table.get("features")),
    )


def _key(name: str) -> str:
    if name and all(c.isalnum() or c in "-_" for c in name) and name.isascii():
        return name
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _table_lines(header: str, constraints: LatencyConstraints) -> list[str]:
    lines = [f"[{header}]"]
    for f in fields(constraints):
        value = getattr(constraints, f.name)
        if value is not None:
            lines.append(f"{f.name} = {float(value)!r}")
    return [*lines, ""]


def render_latency(settings: LatencySettings) -> list[str]:
    """TOML lines for the `[latency]` table (none when there are no rules)."""
    if settings == DEFAULT_LATENCY:
        return []
    lines: list[str] = []
    if settings.defaults != NO_CONSTRAINTS:
        lines += _table_lines("latency.defaults", settings.defaults)
    rule_sets: Mapping[str, Sequence[tuple[str, LatencyConstraints]]] = {
        "callers": settings.callers,
        "features": settings.features,
    }
    for kind, rules in rule_sets.items():
        for name, rule in rules:
            lines += _table_lines(f"latency.{kind}.{_key(name)}", rule)
    return lines
