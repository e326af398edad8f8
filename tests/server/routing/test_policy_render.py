"""The one policy writer: parse_policy(render_policy(p)) == p, and the server loads its output."""

from __future__ import annotations

import dataclasses
import tomllib
from types import MappingProxyType

import pytest
from tiny_router import TEST_POLICY

from tierwise.sdk import TierwiseClient
from tierwise.server.routing.latency_constraints import LatencyConstraints, LatencySettings
from tierwise.server.routing.policy import (
    LinearHead,
    Policy,
    TierPolicy,
    load_policy,
    parse_policy,
    render_policy,
)


def _full_policy() -> Policy:
    return Policy(
        version='v "quoted" \\ back\tslash',
        quality_target=0.615,
        discrimination=1.8291115760803223,
        tiers=MappingProxyType(
            {
                "self-hosted": TierPolicy(0.1 + 0.2, 1.0, (0.019051, -1e-7, 3.0)),
                "tier.with.dots": TierPolicy(-19.5, 2.5, (0.0, 1.0, -100.0)),
            }
        ),
        min_centroid_similarity=-0.25,
        escalate_truncated=False,
        source_text="",
        escalate_out_of_distribution=False,
        head=LinearHead("fast", (1e-300, -2.5, 7.0), -0.125),
        latency=LatencySettings(
            defaults=LatencyConstraints(max_latency_ms=0.1 + 0.2),
            callers=(
                (
                    "chat-frontend",
                    LatencyConstraints(max_ttft_ms=800.0, min_output_tokens_per_s=40),
                ),
                ('odd "caller" name', LatencyConstraints(max_ttft_ms=1e-3)),
                ("no-limits", LatencyConstraints()),
            ),
            features=(("autocomplete", LatencyConstraints(max_latency_ms=86_400_000.0)),),
        ),
    )


@pytest.mark.parametrize(
    "policy",
    [
        pytest.param(_full_policy(), id="skills-head-ood"),
        pytest.param(
            dataclasses.replace(
                _full_policy(),
                tiers=MappingProxyType({"haiku": TierPolicy(1.0), "opus": TierPolicy(2.0)}),
                head=None,
                min_centroid_similarity=None,
                escalate_truncated=True,
                escalate_out_of_distribution=True,
                latency=LatencySettings(),
            ),
            id="no-skills",
        ),
        pytest.param(load_policy(), id="packaged"),
        pytest.param(parse_policy(TEST_POLICY), id="test-policy"),
    ],
)
def test_round_trip(policy: Policy) -> None:
    text = render_policy(policy, description="a\nb", head_note="n", comment="line 1\n\nline 3")
    parsed = parse_policy(text)
    assert parsed == policy
    assert parsed.source_text == text
    assert list(parsed.tiers) == list(policy.tiers)  # tier order survives
    assert render_policy(parsed, description="a\nb", head_note="n", comment="line 1\n\nline 3") == (
        text
    )
    assert text.startswith("# line 1\n#\n# line 3\nversion = ")
    assert tomllib.loads(text)["description"] == "a\nb"


def test_a_changed_number_changes_the_policy() -> None:
    policy = _full_policy()
    tiers = dict(policy.tiers)
    tiers["self-hosted"] = dataclasses.replace(tiers["self-hosted"], skills=(0.019051, -1e-7, 3.1))
    changed = dataclasses.replace(policy, tiers=MappingProxyType(tiers))
    assert parse_policy(render_policy(changed)) != policy


def test_rendered_policy_is_accepted_by_the_server(client: TierwiseClient) -> None:
    rendered = render_policy(dataclasses.replace(parse_policy(TEST_POLICY), version="rendered"))
    info = client.reload_policy(rendered)
    assert info.policy_version == "rendered"
    assert client.get_policy().policy_toml == rendered


def test_a_changed_latency_rule_changes_the_policy() -> None:
    policy = _full_policy()
    callers = (("chat-frontend", LatencyConstraints(max_ttft_ms=801.0)),)
    changed = dataclasses.replace(
        policy, latency=dataclasses.replace(policy.latency, callers=callers)
    )
    assert parse_policy(render_policy(changed)) == changed != policy
