"""PricingService through the SDK: quotes equal hand-computed prices."""

from __future__ import annotations

import grpc
import pytest

from tierwise.sdk import InvalidArgumentError, TierwiseClient

M = 1_000_000


def test_sonnet_cache_read_and_batch_by_hand(client: TierwiseClient) -> None:
    quote = client.quote(
        "sonnet", input_tokens=10_000, output_tokens=2_000, cache_read_tokens=4_000, batch=True
    ).for_tier("sonnet")
    uncached = 6_000 * 3 / M
    cache_read = 4_000 * 3 * 0.1 / M
    output = 2_000 * 15 / M
    subtotal = uncached + cache_read + output
    assert quote.input_usd == pytest.approx(uncached)
    assert quote.cache_read_usd == pytest.approx(cache_read)
    assert quote.output_usd == pytest.approx(output)
    assert quote.subtotal_usd == pytest.approx(subtotal)
    assert quote.batch_discount_usd == pytest.approx(subtotal / 2)
    assert quote.total_usd == pytest.approx(subtotal / 2)
    assert quote.energy_wh is None


def test_haiku_plain_and_opus_cache_writes_by_hand(client: TierwiseClient) -> None:
    haiku = client.quote("haiku", input_tokens=10_000, output_tokens=2_000).for_tier("haiku")
    assert haiku.total_usd == pytest.approx(10_000 * 1 / M + 2_000 * 5 / M)
    opus = client.quote(
        "opus",
        input_tokens=8_000,
        output_tokens=1_000,
        cache_write_5m_tokens=5_000,
        cache_write_1h_tokens=2_000,
    ).for_tier("opus")
    expected = 1_000 * 5 / M + 5_000 * 5 * 1.25 / M + 2_000 * 5 * 2 / M + 1_000 * 25 / M
    assert opus.cache_write_usd == pytest.approx(5_000 * 5 * 1.25 / M + 2_000 * 5 * 2 / M)
    assert opus.total_usd == pytest.approx(expected)


def test_sonnet_long_context_reprices_the_whole_request(client: TierwiseClient) -> None:
    quote = client.quote("sonnet", input_tokens=250_000, output_tokens=1_000).for_tier("sonnet")
    assert quote.long_context_pricing
    assert quote.total_usd == pytest.approx(250_000 * 6 / M + 1_000 * 22.5 / M)
    below = client.quote("sonnet", input_tokens=200_000, output_tokens=1_000).for_tier("sonnet")
    assert not below.long_context_pricing
    assert below.total_usd == pytest.approx(200_000 * 3 / M + 1_000 * 15 / M)


def test_prompt_below_cache_minimum_is_billed_uncached(client: TierwiseClient) -> None:
    quote = client.quote(
        "haiku", input_tokens=2_000, output_tokens=100, cache_read_tokens=1_000
    ).for_tier("haiku")
    assert quote.cache_read_usd == 0
    assert quote.total_usd == pytest.approx(2_000 * 1 / M + 100 * 5 / M)
    assert any("cache" in note for note in quote.notes)


def test_all_tiers_quoted_with_energy_for_self_hosted(client: TierwiseClient) -> None:
    result = client.quote(input_tokens=1_000, output_tokens=500)
    assert [q.tier for q in result.quotes] == ["self-hosted", "haiku", "sonnet", "opus"]
    self_hosted = result.for_tier("self-hosted")
    assert self_hosted.energy_wh is not None and self_hosted.energy_wh > 0
    assert self_hosted.total_usd < result.for_tier("haiku").total_usd


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"input_tokens": -1, "output_tokens": 10}, "input_tokens"),
        ({"input_tokens": 10, "output_tokens": -3}, "output_tokens"),
        ({"input_tokens": 10**12, "output_tokens": 1}, "input_tokens"),
        ({"input_tokens": 100, "output_tokens": 1, "cache_read_tokens": 500}, "cache"),
    ],
)
def test_bad_token_counts_are_invalid_argument(
    client: TierwiseClient, kwargs: dict[str, int], field: str
) -> None:
    with pytest.raises(InvalidArgumentError) as raised:
        client.quote("haiku", **kwargs)
    assert field in raised.value.message


def test_unknown_tier_lists_known_ones(client: TierwiseClient) -> None:
    with pytest.raises(InvalidArgumentError) as raised:
        client.quote("gpt-9", input_tokens=1, output_tokens=1)
    assert "gpt-9" in raised.value.message and "haiku" in raised.value.message


def test_workload_per_tier_mix_and_break_even(client: TierwiseClient) -> None:
    quote = client.quote_workload(
        calls_per_month=5_000_000,
        input_tokens=1_500,
        output_tokens=400,
        cache_hit_rate=0.3,
        batch_share=0.1,
        routed_mix={"self-hosted": 0.5, "haiku": 0.3, "sonnet": 0.2},
    )
    by_tier = {c.tier: c for c in quote.tiers}
    assert set(by_tier) == {"self-hosted", "haiku", "sonnet", "opus"}
    assert (
        by_tier["haiku"].monthly_usd < by_tier["sonnet"].monthly_usd < by_tier["opus"].monthly_usd
    )
    assert by_tier["self-hosted"].instances is not None and by_tier["self-hosted"].instances >= 1
    assert quote.routed is not None
    expected_mix = (
        0.2 * by_tier["sonnet"].usd_per_call + 0.3 * by_tier["haiku"].usd_per_call
    ) * 5_000_000
    assert quote.routed.monthly_usd >= expected_mix  # plus the self-hosted share
    assert {b.api_tier for b in quote.break_even} == {"haiku", "sonnet", "opus"}


def test_empty_workload_is_invalid(client: TierwiseClient) -> None:
    with pytest.raises(InvalidArgumentError):
        client.quote_workload(calls_per_month=1000, input_tokens={}, output_tokens=10)
    with pytest.raises(InvalidArgumentError):
        client.quote_workload(
            calls_per_month=1000, input_tokens=100, output_tokens=10, routed_mix={"haiku": 0.4}
        )


def test_list_tiers_has_provenance(client: TierwiseClient) -> None:
    table = client.list_tiers()
    assert [t.id for t in table.tiers] == ["self-hosted", "haiku", "sonnet", "opus"]
    for tier in table.tiers:
        assert tier.provenance.source and tier.provenance.as_of
    self_hosted = table.tiers[0]
    assert self_hosted.kind == "self_hosted"
    assert self_hosted.derivation is not None
    assert self_hosted.derivation.output_tokens_per_s_per_gpu > 0
    sonnet = table.tiers[2]
    assert sonnet.long_context is not None
    assert sonnet.long_context.threshold_input_tokens == 200_000


def test_missing_usage_is_invalid_argument(client: TierwiseClient) -> None:
    from tierwise.v1 import pricing_pb2, pricing_pb2_grpc

    with grpc.insecure_channel(client.settings.target) as channel:
        stub = pricing_pb2_grpc.PricingServiceStub(channel)
        with pytest.raises(grpc.RpcError) as raised:
            stub.Quote(pricing_pb2.QuoteRequest(tier="haiku"), timeout=5)
    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT
