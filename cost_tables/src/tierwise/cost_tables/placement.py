"""Where a tier sits on the router's ability scale, declared in the tier table.

The router is trained on outcomes of named models; its manifest gives each an ability
(``irt.model_abilities``) and a skill profile (``skills.model_profiles``). A tier is placed
relative to those models, so a new tier is one table entry, never a retraining:

    [ability_gaps.mixtral-to-gpt4]         # a unit: ability(to) − ability(from)
    from = "mixtral-8x7b-instruct"
    to = "gpt-4-1106-preview"

    [tiers.haiku.ability]
    anchor = "mixtral-8x7b-instruct"       # the anchor model's ability ...
    offset = 0.5                            # ... plus offset × the gap below
    gap = "mixtral-to-gpt4"
    skills_of = ["mixtral-8x7b-instruct", "gpt-4-1106-preview"]   # mean profile

or, for a tier no trained model stands for, an explicit number: ``value = 0.9`` (and
``skills_of`` naming models, or no skill term). ``skills_of`` defaults to ``[anchor]``.
This module only reads numbers it is given; it does not know the classifier.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from tierwise.cost_tables._toml import Section
from tierwise.cost_tables.errors import TableFileError

# The router's ability scale is a logit scale around 0: beyond these a placement is a typo.
MAX_ABS_ABILITY: Final = 20.0
MAX_ABS_OFFSET_GAPS: Final = 10.0


@dataclass(frozen=True)
class AbilityGap:
    """The ability difference between two trained models, a unit for tier offsets."""

    name: str
    from_model: str
    to_model: str


@dataclass(frozen=True)
class TierPlacement:
    """A tier's ability = the anchor model's + offset × gap, or an explicit value; its skill
    vector = the mean skill profile of ``skills_of`` (empty: no skill term)."""

    source_path: str  # the tier table, for errors found when the placement is resolved
    key: str  # dotted key of the placement, e.g. "tiers.haiku.ability"
    anchor: str | None
    value: float | None
    offset: float
    gap: AbilityGap | None
    skills_of: tuple[str, ...]

    def ability(self, model_abilities: Mapping[str, float]) -> float:
        """The tier's ability on the scale of ``model_abilities`` (the router manifest's)."""
        if self.value is not None:
            return self.value
        assert self.anchor is not None  # parse_placement guarantees anchor or value
        base = self._model_ability(model_abilities, self.anchor, "anchor")
        if self.gap is None or self.offset == 0.0:
            return base
        top = self._model_ability(model_abilities, self.gap.to_model, f"gap ({self.gap.name})")
        bottom = self._model_ability(model_abilities, self.gap.from_model, f"gap ({self.gap.name})")
        ability = base + self.offset * (top - bottom)
        if not abs(ability) <= MAX_ABS_ABILITY:
            raise TableFileError(
                self.source_path, self.key, f"places the tier at {ability:g}, beyond ±20"
            )
        return ability

    def skills(self, model_profiles: Mapping[str, Sequence[float]]) -> tuple[float, ...]:
        """Mean skill profile of ``skills_of`` (element-wise); () without any."""
        if not self.skills_of:
            return ()
        vectors = []
        for model in self.skills_of:
            if model not in model_profiles:
                raise TableFileError(
                    self.source_path,
                    f"{self.key}.skills_of",
                    f"model {model!r} has no skill profile in the router model "
                    f"(skills.model_profiles has {_names(model_profiles)})",
                )
            vectors.append(tuple(float(x) for x in model_profiles[model]))
        width = len(vectors[0])
        if any(len(v) != width for v in vectors):
            raise TableFileError(
                self.source_path, f"{self.key}.skills_of", "skill profiles differ in length"
            )
        if len(vectors) == 1:
            return vectors[0]
        return tuple(math.fsum(column) / len(vectors) for column in zip(*vectors, strict=True))

    def _model_ability(self, model_abilities: Mapping[str, float], model: str, what: str) -> float:
        if model not in model_abilities:
            key = f"{self.key}.anchor" if what == "anchor" else f"{self.key}.gap"
            raise TableFileError(
                self.source_path,
                key,
                f"{what} model {model!r} is not in the router model's irt.model_abilities "
                f"(has {_names(model_abilities)})",
            )
        return float(model_abilities[model])


def _names(mapping: Mapping[str, object]) -> str:
    return ", ".join(sorted(mapping)) or "none"


def parse_gaps(sec: Section | None) -> dict[str, AbilityGap]:
    """``[ability_gaps]``: name → {from, to}."""
    if sec is None:
        return {}
    gaps: dict[str, AbilityGap] = {}
    for name, entry in sec.subtables():
        gap = AbilityGap(name, entry.string("from"), entry.string("to"))
        if gap.from_model == gap.to_model:
            raise entry.error("to", "must name a different model than `from`")
        entry.finish()
        gaps[name] = gap
    return gaps


def parse_placement(sec: Section, gaps: Mapping[str, AbilityGap]) -> TierPlacement:
    """``[tiers.<id>.ability]``: exactly one of ``anchor`` (+ ``offset`` × ``gap``) and
    ``value``; ``skills_of`` optional."""
    if sec.has("anchor") == sec.has("value"):
        raise TableFileError(
            sec.path, sec.key, "give exactly one of `anchor` (a trained model) and `value`"
        )
    anchor = value = gap = None
    offset = 0.0
    if sec.has("value"):
        value = sec.number("value", minimum=-MAX_ABS_ABILITY, maximum=MAX_ABS_ABILITY)
        for key in ("offset", "gap"):
            if sec.has(key):
                raise sec.error(key, "only with `anchor` (an explicit value has no offset)")
    else:
        anchor = sec.string("anchor")
        if sec.has("offset") or sec.has("gap"):
            offset = sec.number("offset", minimum=-MAX_ABS_OFFSET_GAPS, maximum=MAX_ABS_OFFSET_GAPS)
            name = sec.string("gap")
            if name not in gaps:
                raise sec.error("gap", f"unknown gap {name!r}; [ability_gaps] has {_names(gaps)}")
            gap = gaps[name]
    default_skills = () if anchor is None else (anchor,)
    skills_of = _model_list(sec, "skills_of", default_skills)
    sec.finish()
    return TierPlacement(sec.path, sec.key, anchor, value, offset, gap, skills_of)


def _model_list(sec: Section, name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    if not sec.has(name):
        return default
    raw = sec.raw(name)
    if not isinstance(raw, list) or not all(isinstance(v, str) and v.strip() for v in raw):
        raise sec.error(name, f"must be a list of model names (got {raw!r})")
    if len(set(raw)) != len(raw):
        raise sec.error(name, "names a model twice")
    return tuple(raw)
