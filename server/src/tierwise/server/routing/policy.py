"""The routing policy: tier abilities and skill vectors, quality target, out-of-distribution
escalation.

A policy is a TOML document, validated in full before it can replace the active one.
"""

from __future__ import annotations

import json
import math
import re
import threading
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from tierwise.classifier import success
from tierwise.server.errors import PolicyError
from tierwise.server.routing.cascade_policy import (
    DEFAULT_CASCADE,
    CascadeSettings,
    parse_cascade,
    render_cascade,
)
from tierwise.server.routing.latency_constraints import (
    DEFAULT_LATENCY,
    LatencySettings,
    parse_latency,
    render_latency,
)

DEFAULT_POLICY_RESOURCE: Final = "policy.toml"
# What a policy file accepts (replay clips its fits to the same bounds).
ABILITY_LIMIT: Final = 20.0  # |ability|
DISCRIMINATION_RANGE: Final = (0.01, 20.0)
SKILL_LIMIT: Final = 100.0  # |each skill-vector entry|
_TOP_KEYS: Final = {
    "version",
    "quality_target",
    "discrimination",
    "tiers",
    "ood",
    "description",
    "head",
    "cascade",
    "latency",
}
_HEAD_KEYS: Final = {"encoder", "weights", "bias", "note"}
_TIER_KEYS: Final = {"ability", "output_tokens_multiplier", "skills"}
_OOD_KEYS: Final = {"min_centroid_similarity", "escalate_truncated", "escalate_out_of_distribution"}


@dataclass(frozen=True)
class TierPolicy:
    """A tier's place on the router's ability scale, and its skill vector."""

    ability: float
    output_tokens_multiplier: float = 1.0
    # u_t: P(success) gains skills(query) · u_t on the logit scale. Empty: no skill term, the
    # tier is placed by its ability alone.
    skills: tuple[float, ...] = ()


@dataclass(frozen=True)
class LinearHead:
    """A difficulty head re-fitted on a user's own labels (by replay): difficulty =
    weights · embedding + bias, on the embedding of the named encoder."""

    encoder: str
    weights: tuple[float, ...]
    bias: float

    def difficulty(self, embedding: Iterable[float]) -> float:
        return self.bias + math.fsum(
            w * float(x) for w, x in zip(self.weights, embedding, strict=True)
        )


@dataclass(frozen=True)
class Policy:
    version: str
    quality_target: float
    # IRT slope: P(success) = sigmoid(discrimination * (ability - difficulty) + skills · u).
    discrimination: float
    tiers: Mapping[str, TierPolicy]
    # None: use the encoder's own threshold from the model manifest (each encoder has its
    # own similarity scale).
    min_centroid_similarity: float | None
    escalate_truncated: bool
    # The document it was parsed from (what GetPolicy returns); not part of the policy's
    # value: two documents that parse to the same numbers are the same policy.
    source_text: str = field(compare=False)
    # Escalate one tier when the query is far from the training distribution. Like every
    # escalation rule, kept on by default only where replay measured that it pays.
    escalate_out_of_distribution: bool = True
    head: LinearHead | None = None
    # Strategy, tier order and acceptance thresholds for cascade plans (routing/plan.py).
    cascade: CascadeSettings = DEFAULT_CASCADE
    # Default latency SLOs, by caller and feature (routing/latency_constraints.py).
    latency: LatencySettings = DEFAULT_LATENCY

    def p_success(self, tier_id: str, difficulty: float, skills: Sequence[float] = ()) -> float:
        """P(tier solves the query); ``skills`` is the query's skill profile (model output)."""
        tier = self.tiers[tier_id]
        offset = success.skill_term(tuple(skills), tier.skills)
        return success.p_success(
            success.success_logit(tier.ability, difficulty, self.discrimination, offset)
        )

    def check_skills(self, skill_dims: int) -> None:
        """A tier's skill vector must match the model's skill profile, element for element."""
        for tier_id, tier in self.tiers.items():
            if tier.skills and len(tier.skills) != skill_dims:
                raise PolicyError(
                    self.version,
                    f"tiers.{tier_id}.skills",
                    f"has {len(tier.skills)} numbers, the model's skill profile has {skill_dims}",
                )

    def by_ability(self, tier_ids: Iterable[str]) -> list[str]:
        """Tier ids from least to most capable."""
        return sorted(tier_ids, key=lambda t: self.tiers[t].ability)

    def check_head(self, encoder: str, embedding_dim: int) -> None:
        """A re-fitted head only fits the encoder (and embedding size) it was fitted on."""
        if self.head is None:
            return
        if self.head.encoder != encoder:
            raise PolicyError(
                self.version,
                "head.encoder",
                f"fitted for encoder {self.head.encoder!r}, the server runs {encoder!r}",
            )
        if len(self.head.weights) != embedding_dim:
            raise PolicyError(
                self.version,
                "head.weights",
                f"has {len(self.head.weights)} weights, the encoder embeds in {embedding_dim}",
            )

    def check_tiers(self, tier_ids: Iterable[str]) -> None:
        """Every tier of the cost table needs an ability, and the policy may name no others."""
        known = set(tier_ids)
        missing = sorted(known - set(self.tiers))
        if missing:
            raise PolicyError(self.version, "tiers", f"no ability for tier(s) {', '.join(missing)}")
        unknown = sorted(set(self.tiers) - known)
        if unknown:
            raise PolicyError(
                self.version,
                "tiers",
                f"unknown tier(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}",
            )


def _number(source: str, key: str, value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PolicyError(source, key, f"must be a number (got {value!r})")
    number = float(value)
    if not math.isfinite(number) or not low <= number <= high:
        raise PolicyError(source, key, f"must be between {low} and {high} (got {value!r})")
    return number


def _unknown_keys(source: str, prefix: str, table: Mapping[str, Any], allowed: set[str]) -> None:
    extra = sorted(set(table) - allowed)
    if extra:
        raise PolicyError(source, f"{prefix}{extra[0]}", f"unknown key; allowed: {sorted(allowed)}")


def parse_policy(text: str, source: str = "<inline>") -> Policy:
    """Parse and validate a policy document; PolicyError names the source and key."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise PolicyError(source, "<document>", f"invalid TOML: {error}") from error
    _unknown_keys(source, "", data, _TOP_KEYS)
    version = data.get("version")
    if not isinstance(version, str) or not version.strip():
        raise PolicyError(source, "version", "required non-empty string")
    tiers_table = data.get("tiers")
    if not isinstance(tiers_table, dict) or not tiers_table:
        raise PolicyError(source, "tiers", "required table with one sub-table per tier")
    tiers: dict[str, TierPolicy] = {}
    for tier_id, entry in tiers_table.items():
        if not isinstance(entry, dict):
            raise PolicyError(source, f"tiers.{tier_id}", "must be a table")
        _unknown_keys(source, f"tiers.{tier_id}.", entry, _TIER_KEYS)
        if "ability" not in entry:
            raise PolicyError(source, f"tiers.{tier_id}.ability", "required")
        tiers[tier_id] = TierPolicy(
            ability=_number(
                source, f"tiers.{tier_id}.ability", entry["ability"], -ABILITY_LIMIT, ABILITY_LIMIT
            ),
            output_tokens_multiplier=_number(
                source,
                f"tiers.{tier_id}.output_tokens_multiplier",
                entry.get("output_tokens_multiplier", 1.0),
                0.01,
                100,
            ),
            skills=_skills(source, f"tiers.{tier_id}.skills", entry.get("skills", [])),
        )
    ood = data.get("ood", {})
    if not isinstance(ood, dict):
        raise PolicyError(source, "ood", "must be a table")
    _unknown_keys(source, "ood.", ood, _OOD_KEYS)
    escalate_truncated = ood.get("escalate_truncated", True)
    if not isinstance(escalate_truncated, bool):
        raise PolicyError(source, "ood.escalate_truncated", "must be true or false")
    escalate_ood = ood.get("escalate_out_of_distribution", True)
    if not isinstance(escalate_ood, bool):
        raise PolicyError(source, "ood.escalate_out_of_distribution", "must be true or false")
    return Policy(
        head=_head(source, data.get("head")),
        version=version.strip(),
        quality_target=_number(source, "quality_target", data.get("quality_target"), 0, 1),
        discrimination=_number(
            source, "discrimination", data.get("discrimination", 1.0), *DISCRIMINATION_RANGE
        ),
        tiers=MappingProxyType(tiers),
        min_centroid_similarity=(
            None
            if "min_centroid_similarity" not in ood
            else _number(
                source, "ood.min_centroid_similarity", ood["min_centroid_similarity"], -1, 1
            )
        ),
        escalate_truncated=escalate_truncated,
        escalate_out_of_distribution=escalate_ood,
        source_text=text,
        cascade=parse_cascade(source, data.get("cascade"), list(tiers)),
        latency=parse_latency(source, data.get("latency")),
    )


def _skills(source: str, key: str, value: Any) -> tuple[float, ...]:
    if not isinstance(value, list):
        raise PolicyError(source, key, "must be an array of numbers")
    return tuple(
        _number(source, f"{key}[{i}]", x, -SKILL_LIMIT, SKILL_LIMIT) for i, x in enumerate(value)
    )


def _head(source: str, table: Any) -> LinearHead | None:
    if table is None:
        return None
    if not isinstance(table, dict):
        raise PolicyError(source, "head", "must be a table")
    _unknown_keys(source, "head.", table, _HEAD_KEYS)
    encoder = table.get("encoder")
    if not isinstance(encoder, str) or not encoder.strip():
        # Which encoders exist is the model's business: PolicyHolder.check_head compares.
        raise PolicyError(source, "head.encoder", "must name an encoder of the model")
    weights = table.get("weights")
    if not isinstance(weights, list) or not weights:
        raise PolicyError(source, "head.weights", "must be a non-empty array of numbers")
    return LinearHead(
        encoder=encoder,
        weights=tuple(
            _number(source, f"head.weights[{i}]", w, -1e6, 1e6) for i, w in enumerate(weights)
        ),
        bias=_number(source, "head.bias", table.get("bias"), -1e6, 1e6),
    )


_BARE_KEY: Final = re.compile(r"^[A-Za-z0-9_-]+$")


def _toml_key(name: str) -> str:
    if _BARE_KEY.match(name):
        return name
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _toml_string(text: str) -> str:
    # JSON's escapes (\\, \", \n, \uXXXX) are TOML basic-string escapes too; TOML also
    # forbids a raw DEL.
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _toml_bool(value: bool) -> str:
    return "true" if value else "false"


def render_policy(
    policy: Policy, *, description: str = "", head_note: str = "", comment: str = ""
) -> str:
    """The TOML document of ``policy``: ``parse_policy(render_policy(p)) == p``.

    Floats are written with repr, so the file reads back to exactly the same numbers. The
    version is the first line after ``comment`` (each of its lines becomes a ``#`` line);
    ``description`` and ``head_note`` are annotations the parser accepts and drops.
    """
    lines = [f"# {line}".rstrip() for line in comment.splitlines()]
    lines.append(f"version = {_toml_string(policy.version)}")
    if description:
        lines.append(f"description = {_toml_string(description)}")
    lines += [
        f"quality_target = {float(policy.quality_target)!r}",
        f"discrimination = {float(policy.discrimination)!r}",
        "",
    ]
    for tier_id, tier in policy.tiers.items():
        lines.append(f"[tiers.{_toml_key(tier_id)}]")
        lines.append(f"ability = {float(tier.ability)!r}")
        if tier.skills:
            lines.append(f"skills = [{', '.join(repr(float(x)) for x in tier.skills)}]")
        if tier.output_tokens_multiplier != 1.0:
            lines.append(f"output_tokens_multiplier = {float(tier.output_tokens_multiplier)!r}")
        lines.append("")
    lines.append("[ood]")
    if policy.min_centroid_similarity is not None:
        lines.append(f"min_centroid_similarity = {float(policy.min_centroid_similarity)!r}")
    lines.append(f"escalate_truncated = {_toml_bool(policy.escalate_truncated)}")
    ood_rule = _toml_bool(policy.escalate_out_of_distribution)
    lines.append(f"escalate_out_of_distribution = {ood_rule}")
    lines.append("")
    if policy.head is not None:
        lines.append("[head]")
        lines.append(f"encoder = {_toml_string(policy.head.encoder)}")
        if head_note:
            lines.append(f"note = {_toml_string(head_note)}")
        lines.append(f"bias = {float(policy.head.bias)!r}")
        lines.append(f"weights = [{', '.join(repr(float(w)) for w in policy.head.weights)}]")
        lines.append("")
    lines.extend(render_cascade(policy.cascade))
    lines.extend(render_latency(policy.latency))
    return "\n".join(lines)


def load_policy(path: Path | None = None) -> Policy:
    """Read a policy file (None: the packaged default)."""
    if path is None:
        text = resources.files("tierwise.server").joinpath("data", DEFAULT_POLICY_RESOURCE)
        return parse_policy(
            text.read_text(encoding="utf-8"), f"<packaged {DEFAULT_POLICY_RESOURCE}>"
        )
    try:
        text_content = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise PolicyError(str(path), "<file>", f"cannot read: {error}") from error
    return parse_policy(text_content, str(path))


class PolicyHolder:
    """The active policy, swapped atomically after validation."""

    def __init__(
        self,
        policy: Policy,
        tier_ids: Iterable[str],
        path: Path | None,
        *,
        encoder: str,
        embedding_dim: int,
        skill_dims: int,
        default: Policy | None = None,
    ) -> None:
        self._tier_ids = tuple(tier_ids)
        # What a reload without a policy file returns to (None: the packaged policy file).
        self._default = default
        self._encoder = encoder
        self._embedding_dim = embedding_dim
        self._skill_dims = skill_dims
        self.check(policy)
        self._policy = policy
        self._path = path
        self._lock = threading.Lock()

    def check(self, policy: Policy) -> None:
        """Everything a policy must agree with: the cost table's tiers and the model."""
        policy.check_tiers(self._tier_ids)
        policy.check_head(self._encoder, self._embedding_dim)
        policy.check_skills(self._skill_dims)

    @property
    def current(self) -> Policy:
        return self._policy

    def replace(self, candidate: Policy) -> Policy:
        """Validate `candidate` against the tier table; on success make it active.

        Returns the policy it replaced. On error the active policy is untouched."""
        self.check(candidate)
        with self._lock:
            previous, self._policy = self._policy, candidate
        return previous

    def reload_from_file(self) -> Policy:
        if self._path is None and self._default is not None:
            return self.replace(self._default)
        return self.replace(load_policy(self._path))
