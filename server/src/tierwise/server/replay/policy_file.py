"""Render the replayed policy as TOML the server loads as is."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, datetime

from tierwise.server.routing.policy import LinearHead, Policy

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(name: str) -> str:
    if _BARE_KEY.match(name):
        return name
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def render_policy(
    base: Policy,
    *,
    quality_target: float,
    discrimination: float,
    abilities: Mapping[str, float],
    skills: Mapping[str, tuple[float, ...]],
    head: LinearHead | None,
    description: str,
    head_note: str = "",
    today: datetime | None = None,
) -> str:
    """TOML for ``base`` with the replayed numbers (a tier missing from ``abilities`` or
    ``skills`` keeps the base's); other settings (output-token multipliers, out-of-distribution
    escalation) are carried over. Floats are written with repr, so the
    file reads back to exactly the numbers replay measured."""
    lines = [
        f"description = {_string(description)}",
        f"quality_target = {float(quality_target)!r}",
        f"discrimination = {float(discrimination)!r}",
        "",
    ]
    for tier, entry in base.tiers.items():
        lines.append(f"[tiers.{_key(tier)}]")
        lines.append(f"ability = {float(abilities.get(tier, entry.ability))!r}")
        vector = skills.get(tier, entry.skills)
        if vector:
            lines.append(f"skills = [{', '.join(repr(float(x)) for x in vector)}]")
        if entry.output_tokens_multiplier != 1.0:
            lines.append(f"output_tokens_multiplier = {entry.output_tokens_multiplier!r}")
        lines.append("")
    lines.append("[ood]")
    if base.min_centroid_similarity is not None:
        lines.append(f"min_centroid_similarity = {base.min_centroid_similarity!r}")
    lines.append(f"escalate_truncated = {'true' if base.escalate_truncated else 'false'}")
    ood_rule = "true" if base.escalate_out_of_distribution else "false"
    lines.append(f"escalate_out_of_distribution = {ood_rule}")
    lines.append("")
    if head is not None:
        lines.append("[head]")
        lines.append(f"encoder = {_string(head.encoder)}")
        if head_note:
            lines.append(f"note = {_string(head_note)}")
        lines.append(f"bias = {float(head.bias)!r}")
        weights = ", ".join(repr(float(w)) for w in head.weights)
        lines.append(f"weights = [{weights}]")
        lines.append("")
    body = "\n".join(lines)
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()[:10]
    stamp = (today or datetime.now(UTC)).strftime("%Y%m%d")
    return f'version = "replay-{stamp}-{digest}"\n{body}'
