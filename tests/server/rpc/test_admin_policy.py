"""Policy reload through the SDK (admin RPC) and SIGHUP-style file reload."""

from __future__ import annotations

from pathlib import Path

import pytest
from tiny_router import TEST_POLICY

from tierwise.sdk import InvalidArgumentError, TierwiseClient
from tierwise.server.config import ServerSettings
from tierwise.server.rpc.app import TierwiseServer, load_components

EASY = "what is 2 + 2"
STRICT = TEST_POLICY.replace('version = "test-policy-1"', 'version = "strict"').replace(
    "quality_target = 0.8", "quality_target = 0.95"
)


def test_reload_changes_decisions_and_get_policy_reports_it(client: TierwiseClient) -> None:
    assert client.route(EASY).tier == "self-hosted"
    info = client.reload_policy(STRICT)
    assert (info.policy_version, info.previous_policy_version) == ("strict", "test-policy-1")
    decision = client.route(EASY)
    assert decision.policy_version == "strict"
    assert decision.quality_target == pytest.approx(0.95)
    assert decision.tier != "self-hosted"
    assert client.get_policy().policy_toml == STRICT


@pytest.mark.parametrize(
    ("document", "key"),
    [
        ("not toml = = =", "invalid TOML"),
        ('version = "x"\nquality_target = 2.0\n[tiers.haiku]\nability = 1', "quality_target"),
        (TEST_POLICY.replace("[tiers.opus]\nability = 4.0\n", ""), "opus"),
        (TEST_POLICY + "[tiers.gpt9]\nability = 9\n", "gpt9"),
        (TEST_POLICY.replace("ability = 1.5", 'ability = "high"'), "tiers.haiku.ability"),
        (TEST_POLICY + "surprise = 1\n", "surprise"),
    ],
)
def test_bad_policy_is_rejected_and_the_old_one_keeps_serving(
    client: TierwiseClient, document: str, key: str
) -> None:
    with pytest.raises(InvalidArgumentError) as raised:
        client.reload_policy(document)
    assert key in raised.value.message
    assert client.get_policy().policy_version == "test-policy-1"
    assert client.route(EASY).policy_version == "test-policy-1"


def test_file_reload_rejects_a_corrupted_file(tiny_bundle: Path, tmp_path: Path) -> None:
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text(TEST_POLICY)
    settings = ServerSettings(address="127.0.0.1:0", model_dir=tiny_bundle, policy_file=policy_file)
    server = TierwiseServer(settings, load_components(settings))
    server.start()
    try:
        policy_file.write_text(STRICT)
        server.reload_policy()
        assert server.components.policies.current.version == "strict"
        policy_file.write_text("garbage [[[")
        server.reload_policy()
        assert server.components.policies.current.version == "strict"
        rejected = server.metrics.policy_reloads.labels(result="rejected")._value.get()
        assert rejected == 1
    finally:
        server.stop(0)
