"""Per-request prices, checked against hand computation for every tier and billing rule."""

from __future__ import annotations

import pytest

from tierwise.cost_tables.errors import InvalidInputError
from tierwise.cost_tables.quote import RequestUsage, quote_request
from tierwise.cost_tables.tables import TierTable, load_tier_table

EXACT = 1e-12  # float noise only: these are the same products written two ways


@pytest.fixture(scope="module")
def table() -> TierTable:
    return load_tier_table()


def test_sonnet_cache_read_and_batch_by_hand(table: TierTable) -> None:
    # 10k prompt of which 4k read from cache, 2k out, batch API.
    q = quote_request(
        table.get("sonnet"), RequestUsage(10_000, 2_000, cache_read_tokens=4_000, batch=True)
    )
    assert q.input_usd == pytest.approx(6_000 * 3 / 1e6, abs=EXACT)  # 0.018
    assert q.cache_read_usd == pytest.approx(4_000 * 3 * 0.1 / 1e6, abs=EXACT)  # 0.0012
    assert q.output_usd == pytest.approx(2_000 * 15 / 1e6, abs=EXACT)  # 0.03
    assert q.subtotal_usd == pytest.approx(0.0492, abs=EXACT)
    assert q.batch_discount_usd == pytest.approx(0.0246, abs=EXACT)
    assert q.total_usd == pytest.approx(0.0246, abs=EXACT)
    assert q.energy_wh is None
    assert not q.long_context_pricing


@pytest.mark.parametrize(
    ("tier", "usd_in", "usd_out"), [("haiku", 1.0, 5.0), ("sonnet", 3.0, 15.0), ("opus", 5.0, 25.0)]
)
def test_plain_prices(table: TierTable, tier: str, usd_in: float, usd_out: float) -> None:
    # 100k in / 100k out: a tenth of each $/M price (and below Sonnet's 200K rule).
    q = quote_request(table.get(tier), RequestUsage(100_000, 100_000))
    assert q.input_usd == pytest.approx(usd_in / 10, abs=EXACT)
    assert q.output_usd == pytest.approx(usd_out / 10, abs=EXACT)
    assert q.total_usd == pytest.approx((usd_in + usd_out) / 10, abs=EXACT)
    assert q.batch_discount_usd == 0.0
    assert q.notes == ()


@pytest.mark.parametrize(("tier", "usd_in", "usd_out"), [("haiku", 1.0, 5.0), ("opus", 5.0, 25.0)])
def test_cache_writes_reads_and_batch_by_hand(
    table: TierTable, tier: str, usd_in: float, usd_out: float
) -> None:
    # 20k prompt: 8k read, 5k written for 5 min, 4,096 written for 1 h, rest uncached.
    usage = RequestUsage(
        20_000,
        1_500,
        cache_read_tokens=8_000,
        cache_write_5m_tokens=5_000,
        cache_write_1h_tokens=4_096,
        batch=True,
    )
    q = quote_request(table.get(tier), usage)
    uncached = 20_000 - 8_000 - 5_000 - 4_096
    expect_in = uncached * usd_in / 1e6
    expect_write = (5_000 * 1.25 + 4_096 * 2.0) * usd_in / 1e6
    expect_read = 8_000 * 0.1 * usd_in / 1e6
    expect_out = 1_500 * usd_out / 1e6
    subtotal = expect_in + expect_write + expect_read + expect_out
    assert q.input_usd == pytest.approx(expect_in, abs=EXACT)
    assert q.cache_write_usd == pytest.approx(expect_write, abs=EXACT)
    assert q.cache_read_usd == pytest.approx(expect_read, abs=EXACT)
    assert q.output_usd == pytest.approx(expect_out, abs=EXACT)
    assert q.batch_discount_usd == pytest.approx(subtotal / 2, abs=EXACT)
    assert q.total_usd == pytest.approx(subtotal / 2, abs=EXACT)


def test_haiku_numbers_spelled_out(table: TierTable) -> None:
    # 6k prompt, 5k of it read from cache, 1k out, no batch:
    # 1k x $1/M + 5k x $0.10/M + 1k x $5/M = 0.001 + 0.0005 + 0.005 = 0.0065
    q = quote_request(table.get("haiku"), RequestUsage(6_000, 1_000, cache_read_tokens=5_000))
    assert q.total_usd == pytest.approx(0.0065, abs=EXACT)


@pytest.mark.parametrize(("tier", "minimum"), [("haiku", 4096), ("sonnet", 1024), ("opus", 4096)])
def test_below_cache_minimum_is_billed_uncached(table: TierTable, tier: str, minimum: int) -> None:
    t = table.get(tier)
    below = quote_request(t, RequestUsage(minimum + 500, 10, cache_read_tokens=minimum - 1))
    plain = quote_request(t, RequestUsage(minimum + 500, 10))
    assert below.total_usd == pytest.approx(plain.total_usd, abs=EXACT)
    assert below.cache_read_usd == 0.0
    assert any(f"{minimum}-token cache minimum" in n for n in below.notes)
    at = quote_request(t, RequestUsage(minimum + 500, 10, cache_read_tokens=minimum))
    assert at.cache_read_usd > 0
    assert at.total_usd < plain.total_usd
    assert at.notes == ()


def test_sonnet_long_context_bills_whole_request(table: TierTable) -> None:
    sonnet = table.get("sonnet")
    at_threshold = quote_request(sonnet, RequestUsage(200_000, 1_000))
    assert not at_threshold.long_context_pricing
    assert at_threshold.total_usd == pytest.approx(200_000 * 3 / 1e6 + 1_000 * 15 / 1e6)
    q = quote_request(sonnet, RequestUsage(250_000, 2_000, cache_read_tokens=100_000, batch=True))
    assert q.long_context_pricing
    assert any("long-context pricing: input > 200000 tokens" in n for n in q.notes)
    # Whole request at $6 / $22.50, cache multiplier on the long-context input rate.
    subtotal = 150_000 * 6 / 1e6 + 100_000 * 0.1 * 6 / 1e6 + 2_000 * 22.5 / 1e6
    assert q.subtotal_usd == pytest.approx(subtotal, abs=EXACT)  # 0.9 + 0.06 + 0.045
    assert q.total_usd == pytest.approx(subtotal / 2, abs=EXACT)


@pytest.mark.parametrize("tier", ["haiku", "opus"])
def test_long_context_rule_only_where_configured(table: TierTable, tier: str) -> None:
    q = quote_request(table.get(tier), RequestUsage(300_000, 0))
    assert not q.long_context_pricing


def test_self_hosted_uses_derived_prices_and_energy(table: TierTable) -> None:
    t = table.get("self-hosted")
    assert t.derivation is not None
    q = quote_request(t, RequestUsage(3_000, 700, cache_read_tokens=1_000, batch=True))
    assert q.input_usd == pytest.approx(2_000 * t.usd_per_mtok_input / 1e6, abs=EXACT)
    assert q.cache_read_usd == 0.0  # a prefix-cache hit skips prefill
    assert q.output_usd == pytest.approx(700 * t.usd_per_mtok_output / 1e6, abs=EXACT)
    assert q.batch_discount_usd == 0.0
    est = t.derivation
    expected_wh = (
        2_000 * est.watts_per_gpu * est.prefill_gpu_s_per_token / 3600
        + 700 * est.watts_per_gpu * est.decode_gpu_s_per_token / 3600
    )
    assert q.energy_wh == pytest.approx(expected_wh, rel=1e-12)
    # At the derivation's own ISL/OSL, energy equals the estimate's Wh/query.
    own = quote_request(t, RequestUsage(est.isl, est.osl))
    assert own.energy_wh == pytest.approx(est.wh_per_query, rel=1e-9)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"input_tokens": -5, "output_tokens": 1}, "input_tokens"),
        ({"input_tokens": 5, "output_tokens": -1}, "output_tokens"),
        ({"input_tokens": 10_000_001, "output_tokens": 1}, "input_tokens"),
        ({"input_tokens": 5, "output_tokens": 2.5}, "output_tokens"),
        ({"input_tokens": True, "output_tokens": 1}, "input_tokens"),
        ({"input_tokens": 5, "output_tokens": 1, "cache_read_tokens": -1}, "cache_read_tokens"),
        ({"input_tokens": 5, "output_tokens": 1, "batch": "yes"}, "batch"),
    ],
)
def test_bad_usage_names_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        RequestUsage(**kwargs)  # type: ignore[arg-type]
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")


def test_negative_message_format() -> None:
    with pytest.raises(InvalidInputError, match=r"^input_tokens: must be >= 0 \(got -5\)$"):
        RequestUsage(-5, 1)


def test_cache_tokens_must_fit_in_prompt() -> None:
    with pytest.raises(InvalidInputError, match="must be <= input_tokens"):
        RequestUsage(1_000, 1, cache_read_tokens=600, cache_write_5m_tokens=500)
