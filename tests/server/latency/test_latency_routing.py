"""Latency as a routing constraint, through the SDK against a real server on port 0."""

from __future__ import annotations

import asyncio
import dataclasses
import math
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from latency_fixtures import SELF_HOSTED_UNDER_LOAD, TELEMETRY
from tiny_router import TEST_POLICY

from tierwise.sdk import (
    AsyncTierwiseClient,
    Decision,
    InvalidArgumentError,
    LatencyConstraints,
    TierEstimate,
    TierwiseClient,
)
from tierwise.server.config import ServerSettings
from tierwise.server.rpc.app import TierwiseServer, load_components

EASY = "what is 2 + 2"
LATENCY_FIELDS = ("max_ttft_ms", "max_latency_ms", "min_output_tokens_per_s")


def _serve(settings: ServerSettings) -> TierwiseServer:
    server = TierwiseServer(settings, load_components(settings))
    server.start()
    return server


@pytest.fixture
def served(tiny_settings: ServerSettings, tmp_path: Path) -> Iterator[tuple[TierwiseServer, Path]]:
    """A server with a telemetry file (empty of overrides at first: published figures only
    would need no file, so it starts with the self-hosted observation only)."""
    latency_file = tmp_path / "latency.toml"
    latency_file.write_text(SELF_HOSTED_UNDER_LOAD)
    server = _serve(dataclasses.replace(tiny_settings, latency_file=latency_file))
    yield server, latency_file
    server.stop(0)


def _client(server: TierwiseServer) -> TierwiseClient:
    return TierwiseClient(f"127.0.0.1:{server.port}")


def _cheapest_first(decision: Decision) -> list[TierEstimate]:
    return sorted(decision.estimates, key=lambda e: e.quoted_usd)


def test_every_estimate_carries_latency_and_its_source(client: TierwiseClient) -> None:
    decision = client.route(EASY)
    assert decision.latency_constraints == LatencyConstraints()
    for estimate in decision.estimates:
        assert estimate.ttft_ms > 0 and estimate.output_tokens_per_s > 0
        expected = estimate.ttft_ms + 1000 * (
            estimate.predicted_output_tokens / estimate.output_tokens_per_s
        )
        assert estimate.latency_ms == pytest.approx(expected)
        assert estimate.meets_latency  # no constraint: every tier meets it
        if estimate.tier == "self-hosted":
            # The hardware model's queueing term gives a tail; speed at a full batch is its
            # slowest, so the p90 latency is TTFT p90 plus the same decode time.
            assert estimate.ttft_ms_p90 is not None and estimate.latency_ms_p90 is not None
            assert estimate.ttft_ms_p90 >= estimate.ttft_ms
            assert estimate.latency_ms_p90 == pytest.approx(
                estimate.latency_ms - estimate.ttft_ms + estimate.ttft_ms_p90
            )
        else:
            # No published source gives a p90.
            assert estimate.ttft_ms_p90 is None and estimate.latency_ms_p90 is None
    assert decision.estimate("self-hosted").latency_source.startswith("hardware model")
    for tier in ("haiku", "sonnet", "opus"):
        assert decision.estimate(tier).latency_source.startswith("published")
    assert decision.estimate("haiku").ttft_ms == pytest.approx(1336.0)
    assert decision.estimate("opus").latency_source.count("estimate") >= 1


def test_a_nightly_job_without_constraints_keeps_the_cheapest_tier(client: TierwiseClient) -> None:
    decision = client.route(
        EASY, caller="nightly-batch", feature="nightly-summary", batch=True, output_tokens=1000
    )
    assert decision.tier == "self-hosted" == _cheapest_first(decision)[0].tier
    assert decision.reason_code == "CHEAPEST_MEETING_TARGET"
    # ... although it is not the fastest tier for this answer.
    fastest = min(decision.estimates, key=lambda e: e.latency_ms)
    assert fastest.tier != "self-hosted"


def test_max_ttft_below_the_self_hosted_ttft_routes_elsewhere(
    served: tuple[TierwiseServer, Path],
) -> None:
    server, _ = served
    with _client(server) as sdk:
        free = sdk.route(EASY)
        self_hosted = free.estimate("self-hosted")
        assert free.tier == "self-hosted"
        assert self_hosted.ttft_ms == pytest.approx(2500.0)
        assert self_hosted.ttft_ms_p90 == pytest.approx(6000.0)
        limit = self_hosted.ttft_ms - 1.0
        decision = sdk.route(EASY, max_ttft_ms=limit)
    assert decision.tier != "self-hosted"
    assert decision.reason_code == "TTFT_LIMITED"
    assert "self-hosted misses max_ttft_ms" in decision.reason
    assert not decision.estimate("self-hosted").meets_latency
    chosen = decision.estimate(decision.tier)
    assert chosen.meets_latency and chosen.ttft_ms <= limit
    # The cheapest tier meeting both quality and latency.
    meeting = [
        e for e in _cheapest_first(decision) if e.allowed and e.meets_target and e.meets_latency
    ]
    assert chosen == meeting[0]
    assert decision.latency_constraints == LatencyConstraints(max_ttft_ms=limit)


@pytest.mark.parametrize("field", LATENCY_FIELDS)
def test_each_constraint_is_named_by_its_reason_code(client: TierwiseClient, field: str) -> None:
    free = client.route(EASY, output_tokens=1000)
    self_hosted, haiku = free.estimate("self-hosted"), free.estimate("haiku")
    figures = {
        "max_ttft_ms": (self_hosted.ttft_ms, haiku.ttft_ms),
        "max_latency_ms": (self_hosted.latency_ms, haiku.latency_ms),
        "min_output_tokens_per_s": (self_hosted.output_tokens_per_s, haiku.output_tokens_per_s),
    }[field]
    if field == "max_ttft_ms" and figures[0] <= figures[1]:
        # The hardware model's TTFT (one prefill + one step) beats every API tier: the limit
        # below it is met by nobody, and the fastest tier stays.
        decision = client.route(EASY, output_tokens=1000, max_ttft_ms=figures[0] * 0.9)
        assert decision.reason_code == "NONE_MEETS_LATENCY"
        assert decision.tier == min(decision.estimates, key=lambda e: e.ttft_ms).tier
        return
    limit = math.sqrt(figures[0] * figures[1])  # between the two
    decision = client.route(EASY, output_tokens=1000, **{field: limit})
    code = {"max_ttft_ms": "TTFT", "max_latency_ms": "LATENCY"}.get(field, "SPEED") + "_LIMITED"
    assert (decision.tier, decision.reason_code) == ("haiku", code)
    assert getattr(decision.latency_constraints, field) == pytest.approx(limit)


def test_when_no_tier_meets_the_slo_the_fastest_allowed_is_chosen(client: TierwiseClient) -> None:
    decision = client.route(EASY, max_latency_ms=1.0, allowed_tiers=["haiku", "sonnet", "opus"])
    assert decision.reason_code == "NONE_MEETS_LATENCY"
    allowed = [e for e in decision.estimates if e.allowed]
    assert decision.tier == min(allowed, key=lambda e: e.latency_ms).tier == "haiku"
    assert "no allowed tier meets max_latency_ms 1" in decision.reason
    assert not any(e.meets_latency for e in decision.estimates)


@pytest.mark.parametrize("field", LATENCY_FIELDS)
@pytest.mark.parametrize("value", [-1.0, 0.0, math.nan, math.inf, -math.inf])
def test_bad_constraints_are_invalid_argument_naming_the_field(
    client: TierwiseClient, field: str, value: float
) -> None:
    with pytest.raises(InvalidArgumentError) as raised:
        client.route(EASY, **{field: value})
    assert raised.value.code is grpc.StatusCode.INVALID_ARGUMENT
    assert field in raised.value.message
    with pytest.raises(InvalidArgumentError) as batch:
        client.route_many([EASY, EASY], **{field: value})
    assert f"requests[0].{field}" in batch.value.message


SLO_POLICY = (
    TEST_POLICY.replace('version = "test-policy-1"', 'version = "slo-policy"')
    + """
[latency.defaults]
max_latency_ms = 600000.0

[latency.callers.chat-frontend]
max_ttft_ms = 2000.0
min_output_tokens_per_s = 75.0

[latency.features.autocomplete]
max_ttft_ms = 1000.0
"""
)


def test_policy_defaults_apply_by_caller_and_feature(client: TierwiseClient) -> None:
    client.reload_policy(SLO_POLICY)
    nightly = client.route(EASY, caller="nightly-batch")
    assert nightly.latency_constraints == LatencyConstraints(max_latency_ms=600000.0)
    assert nightly.tier == "self-hosted"
    chat = client.route(EASY, caller="chat-frontend")
    assert chat.latency_constraints == LatencyConstraints(
        max_ttft_ms=2000.0, max_latency_ms=600000.0, min_output_tokens_per_s=75.0
    )
    assert (chat.tier, chat.reason_code) == ("haiku", "SPEED_LIMITED")
    # The feature rule is more specific than the caller's; the request's own value wins.
    typing = client.route(EASY, caller="chat-frontend", feature="autocomplete")
    assert typing.latency_constraints.max_ttft_ms == 1000.0
    assert typing.reason_code == "NONE_MEETS_LATENCY"
    lifted = client.route(EASY, caller="chat-frontend", min_output_tokens_per_s=1.0)
    assert lifted.latency_constraints.min_output_tokens_per_s == 1.0
    assert lifted.tier == "self-hosted"
    assert client.get_policy().policy_toml == SLO_POLICY


def test_bad_latency_rules_in_a_policy_are_rejected(client: TierwiseClient) -> None:
    for document, key in [
        (TEST_POLICY + "[latency.defaults]\nmax_ttft_ms = -5\n", "latency.defaults.max_ttft_ms"),
        (TEST_POLICY + "[latency.callers.x]\nmax_ttfb_ms = 5\n", "latency.callers.x.max_ttfb_ms"),
        (TEST_POLICY + "[latency.defaults]\nmax_ttft_ms = nan\n", "latency.defaults.max_ttft_ms"),
        (TEST_POLICY + "[latency.teams.x]\nmax_ttft_ms = 5\n", "latency.teams"),
    ]:
        with pytest.raises(InvalidArgumentError) as raised:
            client.reload_policy(document)
        assert key in raised.value.message
    assert client.get_policy().policy_version == "test-policy-1"


def test_telemetry_changes_the_api_tiers_latency_and_the_decisions(
    client: TierwiseClient, tiny_server: TierwiseServer
) -> None:
    published = client.route(EASY, min_output_tokens_per_s=75.0)
    assert (published.tier, published.reason_code) == ("haiku", "SPEED_LIMITED")
    bound = tiny_server.metrics.latency_bound
    assert bound.labels(constraint="min_output_tokens_per_s")._value.get() == 1
    assert bound.labels(constraint="none_meets")._value.get() == 0
    info = client.reload_latency(TELEMETRY)
    assert info.latency_version.startswith("telemetry telemetry-test-1")
    assert info.previous_latency_version.startswith("published")
    # The same request again: the decision cache must not answer with the old figures.
    observed = client.route(EASY, min_output_tokens_per_s=75.0)
    haiku, sonnet = observed.estimate("haiku"), observed.estimate("sonnet")
    assert sonnet.meets_latency and sonnet.output_tokens_per_s == 150.0
    assert haiku.output_tokens_per_s == 12.0 and haiku.ttft_ms == 900.0
    assert haiku.latency_source.startswith("telemetry <reload request>")
    assert haiku.ttft_ms_p90 == 2100.0
    assert haiku.latency_ms_p90 == pytest.approx(
        2100.0 + 1000 * haiku.predicted_output_tokens / 8.0
    )
    assert not haiku.meets_latency
    assert (observed.tier, observed.reason_code) == ("sonnet", "SPEED_LIMITED")
    # Tiers the file does not list keep their published figures.
    assert observed.estimate("opus").latency_source.startswith("published")


def test_telemetry_file_reload_on_sighup_changes_decisions(
    served: tuple[TierwiseServer, Path],
) -> None:
    server, latency_file = served
    with _client(server) as sdk:
        before = sdk.route(EASY, min_output_tokens_per_s=75.0)
        assert before.tier == "haiku"
        latency_file.write_text(TELEMETRY)
        server.reload_configuration()  # what SIGHUP runs
        after = sdk.route(EASY, min_output_tokens_per_s=75.0)
    assert after.tier == "sonnet"
    assert after.estimate("haiku").latency_source.startswith(f"telemetry {latency_file}")
    # The file no longer lists self-hosted: back to the hardware model.
    assert after.estimate("self-hosted").latency_source.startswith("hardware model")


BAD_TELEMETRY = [
    ("not = = toml", "invalid TOML"),
    (TELEMETRY.replace("[tiers.sonnet]", "[tiers.gpt-9]"), "tiers.gpt-9: unknown tier"),
    (TELEMETRY.replace("ttft_ms_p50 = 900.0", "ttft_ms_p50 = -900.0"), "tiers.haiku.ttft_ms_p50"),
    (TELEMETRY.replace("ttft_ms_p50 = 900.0", "ttft_ms_p50 = nan"), "tiers.haiku.ttft_ms_p50"),
    (TELEMETRY.replace("ttft_ms_p90 = 2100.0", "ttft_ms_p90 = 100.0"), "tiers.haiku.ttft_ms_p90"),
    (TELEMETRY.replace("samples = 5000", "samples = 0", 1), "tiers.haiku.samples"),
    (TELEMETRY.replace("output_tokens_per_s_p50 = 12.0", "tpot = 3"), "output_tokens_per_s_p50"),
    ('version = "empty"\n', "no [models.<id>] or [tiers.<id>] entries"),
]


@pytest.mark.parametrize(("document", "key"), BAD_TELEMETRY)
def test_bad_telemetry_on_reload_is_rejected_and_the_old_table_kept(
    client: TierwiseClient, tiny_server: TierwiseServer, document: str, key: str
) -> None:
    client.reload_latency(TELEMETRY)
    with pytest.raises(InvalidArgumentError) as raised:
        client.reload_latency(document)
    assert key in raised.value.message
    decision = client.route(EASY)
    assert decision.estimate("haiku").output_tokens_per_s == 12.0  # still the old table
    rejected = tiny_server.metrics.latency_reloads.labels(result="rejected")._value.get()
    assert rejected == 1


def test_a_corrupted_latency_file_on_sighup_keeps_the_old_table(
    served: tuple[TierwiseServer, Path],
) -> None:
    server, latency_file = served
    latency_file.write_text("garbage [[[")
    server.reload_configuration()
    with _client(server) as sdk:
        assert sdk.route(EASY).estimate("self-hosted").ttft_ms == 2500.0
        with pytest.raises(InvalidArgumentError, match="invalid TOML"):
            sdk.reload_latency()  # the admin RPC re-reading the file answers with the error
    assert server.metrics.latency_reloads.labels(result="rejected")._value.get() == 2


def test_a_bad_latency_file_at_start_up_is_a_clear_error(
    tiny_settings: ServerSettings, tmp_path: Path
) -> None:
    from tierwise.server.errors import StartupError

    bad = tmp_path / "latency.toml"
    bad.write_text(TELEMETRY.replace("[tiers.sonnet]", "[tiers.gpt-9]"))
    with pytest.raises(StartupError, match=r"latency\.toml: tiers\.gpt-9: unknown tier"):
        load_components(dataclasses.replace(tiny_settings, latency_file=bad))


def test_cascade_plans_carry_latency(client: TierwiseClient) -> None:
    decision = client.route(EASY, strategy="cascade", output_tokens=200)
    assert decision.plan is not None
    by_tier = {e.tier: e for e in decision.estimates}
    for step in decision.plan.steps:
        assert step.latency_ms == pytest.approx(by_tier[step.tier].latency_ms)
    expected = sum(s.p_reached * s.latency_ms for s in decision.plan.steps)
    assert decision.plan.expected_latency_ms == pytest.approx(expected)
    assert decision.plan.expected_latency_ms > decision.plan.steps[0].latency_ms


def test_async_client_sends_constraints_and_reloads_latency(tiny_server: TierwiseServer) -> None:
    async def scenario() -> tuple[str, str, str]:
        async with AsyncTierwiseClient(f"127.0.0.1:{tiny_server.port}") as aclient:
            before = await aclient.route(EASY, min_output_tokens_per_s=75.0)
            await aclient.reload_latency(TELEMETRY)
            after = await aclient.route(EASY, min_output_tokens_per_s=75.0)
            return before.tier, after.tier, after.reason_code

    assert asyncio.run(scenario()) == ("haiku", "sonnet", "SPEED_LIMITED")


def test_a_tier_without_any_latency_figure_never_meets_a_constraint(
    tiny_settings: ServerSettings, tmp_path: Path
) -> None:
    from tierwise.cost_tables._toml import packaged_data_path

    tiers = packaged_data_path("tiers.toml").read_text()
    custom = tmp_path / "tiers.toml"
    custom.write_text(tiers.replace('model = "claude-haiku-4-5"', 'model = "acme-small-1"'))
    server = _serve(dataclasses.replace(tiny_settings, tiers_file=custom))
    try:
        with _client(server) as sdk:
            free = sdk.route(EASY, allowed_tiers=["haiku", "sonnet"])
            haiku = free.estimate("haiku")
            assert haiku.latency_source.startswith("unknown")
            assert (haiku.ttft_ms, haiku.latency_ms) == (0.0, 0.0) and haiku.meets_latency
            assert free.tier == "haiku"
            limited = sdk.route(EASY, allowed_tiers=["haiku", "sonnet"], max_latency_ms=1e7)
            assert not limited.estimate("haiku").meets_latency
            assert (limited.tier, limited.reason_code) == ("sonnet", "LATENCY_LIMITED")
            alone = sdk.route(EASY, allowed_tiers=["haiku"], max_latency_ms=1e7)
            assert (alone.tier, alone.reason_code) == ("haiku", "NONE_MEETS_LATENCY")
            assert "haiku latency unknown" in alone.reason
    finally:
        server.stop(0)
