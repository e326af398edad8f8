"""Tier skill vectors: parsed and validated with the policy, applied by Route through the SDK."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from tiny_router import TEST_POLICY, TINY_SKILLS

from tierwise.classifier.runtime import RouterModel
from tierwise.sdk import InvalidArgumentError, TierwiseClient
from tierwise.server.errors import PolicyError
from tierwise.server.routing.policy import parse_policy

# "what" and "is" sit on the tiny graph's skill axes (tiny_router: 4 x embedding[2:4]).
QUERY = "what is the capital of france"
OPUS_SKILLS = TEST_POLICY.replace('version = "test-policy-1"', 'version = "skills"').replace(
    "ability = 4.0", "ability = 4.0\nskills = [-3.0, 0.5]"
)


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def test_skill_vector_parsed_and_applied_on_the_logit_scale() -> None:
    policy = parse_policy(OPUS_SKILLS)
    assert policy.tiers["opus"].skills == (-3.0, 0.5)
    assert policy.tiers["haiku"].skills == ()
    skills = (0.2, 0.1)
    shift = _logit(policy.p_success("opus", 1.0, skills)) - _logit(policy.p_success("opus", 1.0))
    assert shift == pytest.approx(-3.0 * 0.2 + 0.5 * 0.1)
    # A tier without a vector ignores the query's profile.
    assert policy.p_success("haiku", 1.0, skills) == policy.p_success("haiku", 1.0)


@pytest.mark.parametrize(
    ("replacement", "key"),
    [
        ('skills = "strong"', "tiers.opus.skills"),
        ('skills = [1.0, "x"]', "tiers.opus.skills[1]"),
        ("skills = [1.0, 1e9]", "tiers.opus.skills[1]"),
    ],
)
def test_bad_skill_vectors_name_the_key(replacement: str, key: str) -> None:
    with pytest.raises(PolicyError) as raised:
        parse_policy(TEST_POLICY.replace("ability = 4.0", f"ability = 4.0\n{replacement}"))
    assert key in str(raised.value)


def test_route_uses_the_skill_vector(client: TierwiseClient, tiny_bundle: Path) -> None:
    before = {e.tier: e.p_success for e in client.route(QUERY).estimates}
    client.reload_policy(OPUS_SKILLS)
    decision = client.route(QUERY)
    after = {e.tier: e.p_success for e in decision.estimates}
    profile = RouterModel.load(tiny_bundle).predict([QUERY]).skills[0].astype(np.float64)
    assert np.any(profile != 0.0)
    expected = _logit(before["opus"]) + float(profile @ np.array([-3.0, 0.5]))
    assert _logit(after["opus"]) == pytest.approx(expected, abs=1e-6)
    assert {t: p for t, p in after.items() if t != "opus"} == {
        t: p for t, p in before.items() if t != "opus"
    }


def test_wrong_length_is_rejected_and_the_old_policy_keeps_serving(
    client: TierwiseClient,
) -> None:
    wrong = OPUS_SKILLS.replace("skills = [-3.0, 0.5]", "skills = [1.0, 2.0, 3.0]")
    with pytest.raises(InvalidArgumentError) as raised:
        client.reload_policy(wrong)
    assert "tiers.opus.skills" in raised.value.message
    assert f"{TINY_SKILLS}" in raised.value.message
    assert client.get_policy().policy_version == "test-policy-1"
