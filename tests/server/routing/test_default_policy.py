"""The default policy comes from the model manifest and the tier table: a new tier is one
table entry plus its price, routed to by the real server without retraining."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from repo_paths import REPO

from tierwise.classifier.runtime import Manifest, default_bundle_dir
from tierwise.cost_tables._toml import packaged_data_path
from tierwise.cost_tables.tables import load_tier_table
from tierwise.sdk import TierwiseClient
from tierwise.server.config import ServerSettings
from tierwise.server.errors import StartupError
from tierwise.server.routing.default_policy import default_policy
from tierwise.server.routing.policy import load_policy
from tierwise.server.rpc.app import TierwiseServer, load_components

PACKAGED_POLICY = REPO / "server/src/tierwise/server/data/policy.toml"
# An API tier placed three Mixtral-to-GPT-4 gaps above GPT-4: the only one that meets a
# 0.99 quality target on an ordinary query.
NEW_TIER = """
[tiers.frontier]
kind = "api"
model = "frontier-1"
display_name = "Frontier 1"
usd_per_mtok_input = 10.0
usd_per_mtok_output = 40.0
cache_write_5m_multiplier = 1.25
cache_write_1h_multiplier = 2.0
cache_read_multiplier = 0.1
batch_discount = 0.5
min_cacheable_tokens = 1024
[tiers.frontier.ability]
anchor = "gpt-4-1106-preview"
offset = 3.0
gap = "mixtral-to-gpt4"
[tiers.frontier.provenance]
source = "a test"
as_of = "2026-11-22"
"""


def _shipped_manifest() -> Manifest:
    return Manifest.from_file(default_bundle_dir() / "manifest.json")


def test_packaged_policy_is_the_default_policy_exactly() -> None:
    derived = default_policy(_shipped_manifest(), load_tier_table())
    assert derived.source_text == PACKAGED_POLICY.read_text(encoding="utf-8")
    assert derived == load_policy()


def test_default_policy_needs_no_tier_keys_in_the_manifest() -> None:
    raw = json.loads((default_bundle_dir() / "manifest.json").read_text())
    for key in ("tier_abilities", "tier_profiles"):
        raw.pop(key, None)
        raw["skills"].pop(key, None)
    derived = default_policy(Manifest._parse(raw), load_tier_table())
    assert derived == load_policy()


def test_default_policy_without_a_skill_term() -> None:
    raw = json.loads((default_bundle_dir() / "manifest.json").read_text())
    del raw["skills"]
    derived = default_policy(Manifest._parse(raw), load_tier_table())
    assert all(t.skills == () for t in derived.tiers.values())
    packaged = load_policy()
    assert {t: p.ability for t, p in derived.tiers.items()} == {
        t: p.ability for t, p in packaged.tiers.items()
    }


@pytest.fixture
def new_tier_server(tmp_path: Path) -> Iterator[TierwiseServer]:
    tiers = tmp_path / "tiers.toml"
    tiers.write_text(packaged_data_path("tiers.toml").read_text() + NEW_TIER)
    settings = ServerSettings(address="127.0.0.1:0", tiers_file=tiers, encoder="fast")
    server = TierwiseServer(settings, load_components(settings))
    server.start()
    yield server
    server.stop(0)


def test_a_new_tier_is_routed_to_without_retraining(new_tier_server: TierwiseServer) -> None:
    query = "What is the capital of France?"
    with TierwiseClient(f"127.0.0.1:{new_tier_server.port}") as client:
        policy = client.get_policy()
        assert "[tiers.frontier]" in policy.policy_toml
        only = client.route(query, allowed_tiers=["frontier"])
        assert only.tier == "frontier" and only.model == "frontier-1"
        by_tier = {e.tier: e for e in only.estimates}
        assert set(by_tier) == {"self-hosted", "haiku", "sonnet", "opus", "frontier"}
        assert by_tier["frontier"].p_success > by_tier["opus"].p_success
        assert by_tier["frontier"].quoted_usd > by_tier["opus"].quoted_usd > 0
        demanding = client.route(query, quality_target=0.99)
        meeting = [e.tier for e in demanding.estimates if e.meets_target]
        assert meeting == ["frontier"] and demanding.tier == "frontier"
        assert demanding.reason_code == "CHEAPEST_MEETING_TARGET"
        # Everyday routing still picks a cheaper tier.
        assert client.route(query).tier != "frontier"


def test_a_reload_without_a_policy_file_keeps_the_default(
    new_tier_server: TierwiseServer,
) -> None:
    before = new_tier_server.components.policies.current
    new_tier_server.reload_policy()
    after = new_tier_server.components.policies.current
    assert after == before and "frontier" in after.tiers


def test_a_tier_without_placement_or_with_an_unknown_model_refuses_to_start(
    tmp_path: Path,
) -> None:
    tiers = tmp_path / "tiers.toml"
    unplaced = NEW_TIER.replace('[tiers.frontier.ability]\nanchor = "gpt-4-1106-preview"\n', "")
    unplaced = unplaced.replace('offset = 3.0\ngap = "mixtral-to-gpt4"\n', "")
    tiers.write_text(packaged_data_path("tiers.toml").read_text() + unplaced)
    with pytest.raises(StartupError, match=r"tiers\.toml: tiers\.frontier\.ability: missing"):
        load_components(ServerSettings(tiers_file=tiers, encoder="fast"))
    tiers.write_text(
        packaged_data_path("tiers.toml").read_text()
        + NEW_TIER.replace('anchor = "gpt-4-1106-preview"', 'anchor = "gpt-9"')
    )
    with pytest.raises(StartupError) as raised:
        load_components(ServerSettings(tiers_file=tiers, encoder="fast"))
    assert "tiers.frontier.ability.anchor" in str(raised.value) and "gpt-9" in str(raised.value)
