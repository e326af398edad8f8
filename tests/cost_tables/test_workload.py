"""Workload quotes: exact expected API cost, capacity-based self-hosting, break-even."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from tierwise.cost_tables.errors import InvalidInputError, UnknownIdError
from tierwise.cost_tables.tables import TierTable, load_tier_table
from tierwise.cost_tables.workload import (
    DEFAULT_SELF_HOSTED_OPS_USD_PER_MONTH,
    HOURS_PER_MONTH,
    TokenDistribution,
    Workload,
    quote_workload,
)

D = TokenDistribution


@pytest.fixture(scope="module")
def table() -> TierTable:
    return load_tier_table()


def _w(calls: float, tokens_in: int = 1000, tokens_out: int = 500, **kw: object) -> Workload:
    return Workload(calls, D.from_mean(tokens_in), D.from_mean(tokens_out), **kw)  # type: ignore[arg-type]


# ---- token distributions -------------------------------------------------------------


def test_distribution_normalises_and_means() -> None:
    d = D(((1000, 3), (250_000, 1)))
    assert d.buckets == ((1000, 0.75), (250_000, 0.25))
    assert d.mean() == pytest.approx(0.75 * 1000 + 0.25 * 250_000)


def test_fractional_mean_keeps_whole_tokens_and_exact_mean() -> None:
    d = D.from_mean(812.25)
    assert [t for t, _ in d.buckets] == [812, 813]
    assert d.mean() == pytest.approx(812.25)
    assert D.from_mean(400).buckets == ((400, 1.0),)


@pytest.mark.parametrize(
    ("buckets", "field"),
    [
        ((), "buckets"),
        (((100, 0.0),), "buckets[0].weight"),
        (((100, 1.0), (200, -1.0)), "buckets[1].weight"),
        (((-1, 1.0),), "buckets[0].tokens"),
        (((20_000_000, 1.0),), "buckets[0].tokens"),
    ],
)
def test_bad_distributions(buckets: tuple[tuple[int, float], ...], field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        D(buckets)
    assert info.value.field == field


def test_bad_mean() -> None:
    with pytest.raises(InvalidInputError, match="mean: must be >= 0"):
        D.from_mean(-3)


# ---- workload validation --------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"calls": 0}, "calls_per_month"),
        ({"calls": -10}, "calls_per_month"),
        ({"calls": 1e13}, "calls_per_month"),
        ({"cache_hit_rate": 1.5}, "cache_hit_rate"),
        ({"batch_share": -0.1}, "batch_share"),
        ({"routed_mix": {"haiku": 0.5, "sonnet": 0.4}}, "routed_mix"),
        ({"routed_mix": {}}, "routed_mix"),
        ({"routed_mix": {"haiku": 1.2, "sonnet": -0.2}}, "routed_mix.haiku"),
        ({"self_hosted_fixed_usd_per_month": -1.0}, "self_hosted_fixed_usd_per_month"),
        ({"peak_to_average": 0.5}, "peak_to_average"),
    ],
)
def test_bad_workloads(kwargs: dict[str, object], field: str) -> None:
    calls = kwargs.pop("calls", 1000.0)
    with pytest.raises(InvalidInputError) as info:
        _w(calls, **kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


def test_empty_workload_message() -> None:
    with pytest.raises(InvalidInputError, match="empty workload"):
        _w(0)


def test_mix_with_unknown_tier(table: TierTable) -> None:
    with pytest.raises(UnknownIdError, match="unknown tier 'gpt5'"):
        quote_workload(table, _w(1000, routed_mix={"haiku": 0.5, "gpt5": 0.5}))


# ---- API tiers: exact expectation over the bucket cross-product ---------------------


def test_sonnet_long_context_bucket_by_bucket(table: TierTable) -> None:
    w = Workload(1e5, D(((1000, 3), (250_000, 1))), D.from_mean(400))
    sonnet = quote_workload(table, w).get("sonnet")
    per_call = 0.75 * (1000 * 3 + 400 * 15) / 1e6 + 0.25 * (250_000 * 6 + 400 * 22.5) / 1e6
    assert sonnet.usd_per_call == pytest.approx(per_call, rel=1e-12)
    assert sonnet.monthly_usd == pytest.approx(per_call * 1e5, rel=1e-12)
    # A mean-only workload (63,250 tokens) would miss the long-context rate entirely.
    flat = quote_workload(table, Workload(1e5, D.from_mean(63_250), D.from_mean(400)))
    assert flat.get("sonnet").usd_per_call < per_call


def test_cache_hit_rate_and_batch_share_by_hand(table: TierTable) -> None:
    w = _w(2e6, 10_000, 1_000, cache_hit_rate=0.5, batch_share=0.4)
    haiku = quote_workload(table, w).get("haiku")
    plain = (5_000 * 1 + 5_000 * 0.1 + 1_000 * 5) / 1e6  # 0.0105
    per_call = 0.6 * plain + 0.4 * plain * 0.5  # 0.0084
    assert haiku.usd_per_call == pytest.approx(per_call, rel=1e-12)
    assert haiku.cache_usd == pytest.approx(5_000 * 0.1 / 1e6 * (0.6 + 0.4) * 2e6)
    assert haiku.batch_discount_usd == pytest.approx(0.4 * plain * 0.5 * 2e6)
    parts = haiku.input_usd + haiku.output_usd + haiku.cache_usd - haiku.batch_discount_usd
    assert parts == pytest.approx(haiku.monthly_usd)
    assert haiku.instances is None and haiku.utilisation is None


def test_cache_hits_below_minimum_do_not_discount(table: TierTable) -> None:
    # 2,000-token prompts at 50% hit: 1,000 cached < Haiku's 4,096 minimum -> no discount.
    hit = quote_workload(table, _w(1e5, 2_000, 100, cache_hit_rate=0.5)).get("haiku")
    miss = quote_workload(table, _w(1e5, 2_000, 100)).get("haiku")
    assert hit.monthly_usd == pytest.approx(miss.monthly_usd)


# ---- self-hosted: capacity, not per token ---------------------------------------------


def test_self_hosted_minimum_is_one_instance_all_month(table: TierTable) -> None:
    sh_tier = table.get("self-hosted")
    assert sh_tier.derivation is not None
    gpus = sh_tier.derivation.gpus
    instance = gpus * sh_tier.derivation.usd_per_gpu_hour * HOURS_PER_MONTH
    sh = quote_workload(table, _w(1000)).get("self-hosted")
    assert sh.instances == 1
    assert sh.monthly_usd == pytest.approx(instance + DEFAULT_SELF_HOSTED_OPS_USD_PER_MONTH)
    assert sh.fixed_usd == DEFAULT_SELF_HOSTED_OPS_USD_PER_MONTH
    assert sh.utilisation is not None and 0 < sh.utilisation < 0.01
    assert sh.input_usd + sh.output_usd + sh.cache_usd == pytest.approx(instance)


def test_self_hosted_instances_scale_with_peak_load(table: TierTable) -> None:
    est = table.get("self-hosted").derivation
    assert est is not None
    gpu_s_per_call = 1000 * est.prefill_gpu_s_per_token + 500 * est.decode_gpu_s_per_token
    capacity_gpu_s = HOURS_PER_MONTH * 3600 * est.gpus
    # Calls whose peak (2x mean) needs exactly 2.5 instances -> 3 instances.
    calls = 2.5 * capacity_gpu_s / gpu_s_per_call / 2.0
    sh = quote_workload(table, _w(calls)).get("self-hosted")
    assert sh.instances == 3
    assert sh.utilisation == pytest.approx(1.25 / 3)
    # All-batch traffic can fill the troughs: sized for the mean, 1.25 -> 2 instances.
    batch = quote_workload(table, _w(calls, batch_share=1.0)).get("self-hosted")
    assert batch.instances == 2
    flat = quote_workload(table, _w(calls, peak_to_average=1.0)).get("self-hosted")
    assert flat.instances == 2


def test_self_hosted_cost_is_a_nondecreasing_step_function(table: TierTable) -> None:
    costs = [
        quote_workload(table, _w(c)).get("self-hosted").monthly_usd
        for c in (1e3, 1e5, 1e6, 1e7, 3e7, 1e8, 3e8, 1e9)
    ]
    assert costs == sorted(costs)
    per_call = [
        quote_workload(table, _w(c)).get("self-hosted").usd_per_call for c in (1e5, 1e6, 1e7)
    ]
    assert per_call == sorted(per_call, reverse=True)


# ---- routed mix -------------------------------------------------------------------------


def test_routed_mix_sums_tiers_at_their_share(table: TierTable) -> None:
    w = _w(4e6, routed_mix={"haiku": 0.7, "sonnet": 0.3})
    q = quote_workload(table, w)
    assert q.routed is not None
    assert q.routed.tier_id == "routed"
    expected = 0.7 * q.get("haiku").monthly_usd + 0.3 * q.get("sonnet").monthly_usd
    assert q.routed.monthly_usd == pytest.approx(expected)
    assert q.routed.instances is None


def test_routed_mix_with_self_hosted_pays_its_capacity(table: TierTable) -> None:
    w = _w(4e6, routed_mix={"self-hosted": 0.6, "opus": 0.4})
    q = quote_workload(table, w)
    assert q.routed is not None
    sh_alone = quote_workload(table, _w(4e6 * 0.6)).get("self-hosted").monthly_usd
    assert q.routed.monthly_usd == pytest.approx(sh_alone + 0.4 * q.get("opus").monthly_usd)
    assert q.routed.instances == 1 and q.routed.fixed_usd == DEFAULT_SELF_HOSTED_OPS_USD_PER_MONTH


def test_no_mix_no_routed(table: TierTable) -> None:
    assert quote_workload(table, _w(1e4)).routed is None


# ---- break-even -------------------------------------------------------------------------


def test_break_even_is_a_real_crossing(table: TierTable) -> None:
    q = quote_workload(table, _w(1e6))
    assert [(b.api_tier_id, b.self_hosted_tier_id) for b in q.break_even] == [
        ("haiku", "self-hosted"),
        ("sonnet", "self-hosted"),
        ("opus", "self-hosted"),
    ]
    for b in q.break_even:
        assert b.calls_per_month is not None and b.monthly_usd_at_break_even is not None
        below = quote_workload(table, _w(b.calls_per_month * 0.99))
        above = quote_workload(table, _w(b.calls_per_month * 1.01))
        assert below.get("self-hosted").monthly_usd > below.get(b.api_tier_id).monthly_usd
        assert above.get("self-hosted").monthly_usd < above.get(b.api_tier_id).monthly_usd


def test_break_even_monotonic(table: TierTable) -> None:
    evens = {b.api_tier_id: b.calls_per_month for b in quote_workload(table, _w(1e6)).break_even}
    # Dearer API per call -> self-hosting pays off sooner.
    assert evens["opus"] < evens["sonnet"] < evens["haiku"]  # type: ignore[operator]
    # More fixed ops cost -> later break-even.
    base = evens["haiku"]
    later = quote_workload(table, _w(1e6, self_hosted_fixed_usd_per_month=10_000.0))
    assert later.break_even[0].calls_per_month > base  # type: ignore[operator]
    # Longer outputs cost the API more per call than they cost our idle GPU -> sooner.
    longer = quote_workload(table, _w(1e6, 1000, 2000))
    assert longer.break_even[0].calls_per_month < base  # type: ignore[operator]


def test_break_even_never(tmp_path: Path) -> None:
    text = load_default_text().replace(
        "usd_per_mtok_input = 1.0\nusd_per_mtok_output = 5.0",
        "usd_per_mtok_input = 0.001\nusd_per_mtok_output = 0.001",
    )
    path = tmp_path / "tiers.toml"
    path.write_text(text)
    cheap = quote_workload(load_tier_table(path), _w(1e6))
    haiku = next(b for b in cheap.break_even if b.api_tier_id == "haiku")
    assert haiku.calls_per_month is None and haiku.monthly_usd_at_break_even is None


def test_design_rule_of_thumb_scenario(table: TierTable) -> None:
    """DESIGN §4: <1M calls/month API cheaper; >10M self-host usually < half of API.

    Scenario: a chat assistant, 1,500-token prompts and 300-token answers, compared with the
    API tier of the same quality class as the self-hosted model (gpt-oss-120b ~ Haiku), with
    default ops cost and 2x peak-to-average. Nothing here is hard-coded: the numbers come
    from the price table and the hardware-derived capacity.
    """

    def costs(calls: float) -> tuple[float, float]:
        q = quote_workload(table, _w(calls, 1_500, 300))
        return q.get("self-hosted").monthly_usd, q.get("haiku").monthly_usd

    for calls in (1e5, 5e5, 9.9e5):
        self_hosted, api = costs(calls)
        assert api < self_hosted, f"{calls:g} calls: API should win"
    for calls in (1e7, 3e7, 1e8):
        self_hosted, api = costs(calls)
        assert self_hosted < 0.5 * api, f"{calls:g} calls: self-host should be < half"
    evens = quote_workload(table, _w(1e6, 1_500, 300)).break_even
    haiku = next(b for b in evens if b.api_tier_id == "haiku")
    assert haiku.calls_per_month is not None and 1e6 < haiku.calls_per_month < 1e7


def load_default_text() -> str:
    from tierwise.cost_tables._toml import packaged_data_path

    return packaged_data_path("tiers.toml").read_text()


def test_hours_per_month_convention() -> None:
    assert math.isclose(HOURS_PER_MONTH * 12, 8760)
