"""Tier placements in the tier table: parsed with errors naming file and key, resolved on a
model's ability scale."""

from __future__ import annotations

from pathlib import Path

import pytest

from tierwise.cost_tables._toml import packaged_data_path
from tierwise.cost_tables.errors import TableFileError
from tierwise.cost_tables.tables import load_tier_table

DEFAULT = packaged_data_path("tiers.toml").read_text()
ABILITIES = {"mixtral-8x7b-instruct": 0.5, "gpt-4-1106-preview": 1.5, "other": -1.0}
PROFILES = {"mixtral-8x7b-instruct": (1.0, 0.0), "gpt-4-1106-preview": (0.0, 2.0)}
OPUS = (
    "[tiers.opus.ability]\n"
    "# Half a Mixtral-to-GPT-4 gap above GPT-4, with GPT-4's skill vector.\n"
    'anchor = "gpt-4-1106-preview"\n'
    "offset = 0.5\n"
    'gap = "mixtral-to-gpt4"\n'
)


def _table_with_opus(tmp_path: Path, placement: str) -> Path:
    assert OPUS in DEFAULT
    path = tmp_path / "tiers.toml"
    path.write_text(DEFAULT.replace(OPUS, f"[tiers.opus.ability]\n{placement}\n"))
    return path


def test_packaged_placements() -> None:
    table = load_tier_table()
    placed = {t.tier_id: t.placement for t in table.tiers}
    assert all(p is not None for p in placed.values())
    abilities = {t: p.ability(ABILITIES) for t, p in placed.items() if p is not None}
    assert abilities == {"self-hosted": 0.5, "haiku": 1.0, "sonnet": 1.5, "opus": 2.0}
    skills = {t: p.skills(PROFILES) for t, p in placed.items() if p is not None}
    assert skills == {
        "self-hosted": (1.0, 0.0),
        "haiku": (0.5, 1.0),
        "sonnet": (0.0, 2.0),
        "opus": (0.0, 2.0),
    }


def test_explicit_value_and_no_skills(tmp_path: Path) -> None:
    table = load_tier_table(_table_with_opus(tmp_path, "value = 3.25"))
    placement = table.get("opus").placement
    assert placement is not None
    assert placement.ability({}) == 3.25 and placement.skills(PROFILES) == ()
    table = load_tier_table(_table_with_opus(tmp_path, 'anchor = "other"\nskills_of = []'))
    placement = table.get("opus").placement
    assert placement is not None
    assert placement.ability(ABILITIES) == -1.0 and placement.skills({}) == ()


@pytest.mark.parametrize(
    ("placement", "key", "problem"),
    [
        ("", "tiers.opus.ability", "exactly one of"),
        ('anchor = "x"\nvalue = 1.0', "tiers.opus.ability", "exactly one of"),
        ("value = 99", "tiers.opus.ability.value", "<= 20"),
        ('value = 1\ngap = "mixtral-to-gpt4"', "tiers.opus.ability.gap", "only with `anchor`"),
        ('anchor = "x"\noffset = 1\ngap = "nope"', "tiers.opus.ability.gap", "unknown gap"),
        ('anchor = "x"\noffset = 1', "tiers.opus.ability.gap", "missing required key"),
        ('anchor = "x"\ngap = "mixtral-to-gpt4"', "tiers.opus.ability.offset", "missing"),
        ('anchor = "x"\nskills_of = "x"', "tiers.opus.ability.skills_of", "list of model"),
        ('anchor = "x"\nskills_of = ["x", "x"]', "tiers.opus.ability.skills_of", "twice"),
        ('anchor = "x"\nancor = 1', "tiers.opus.ability.ancor", "unknown key"),
    ],
)
def test_bad_placements_name_file_and_key(
    tmp_path: Path, placement: str, key: str, problem: str
) -> None:
    with pytest.raises(TableFileError) as raised:
        load_tier_table(_table_with_opus(tmp_path, placement))
    message = str(raised.value)
    assert "tiers.toml" in message and key in message and problem in message


def test_bad_gap_names_its_key(tmp_path: Path) -> None:
    path = tmp_path / "tiers.toml"
    path.write_text(DEFAULT.replace('to = "gpt-4-1106-preview"', 'to = "mixtral-8x7b-instruct"'))
    with pytest.raises(TableFileError, match=r"tiers\.toml.*ability_gaps\.mixtral-to-gpt4\.to"):
        load_tier_table(path)


def test_models_the_router_does_not_know_are_named(tmp_path: Path) -> None:
    table = load_tier_table(
        _table_with_opus(tmp_path, 'anchor = "unknown-model"\nskills_of = ["ghost"]')
    )
    placement = table.get("opus").placement
    assert placement is not None
    with pytest.raises(TableFileError) as raised:
        placement.ability(ABILITIES)
    assert "tiers.opus.ability.anchor" in str(raised.value) and "unknown-model" in str(raised.value)
    with pytest.raises(TableFileError, match=r"tiers\.opus\.ability\.skills_of.*'ghost'"):
        placement.skills(PROFILES)
