"""Traffic shape (peak factor, hourly profile, autoscale), purchase options and idle capacity."""

from __future__ import annotations

import math

import pytest

from tierwise.cost_tables.catalog import load_catalog
from tierwise.cost_tables.errors import InvalidInputError
from tierwise.cost_tables.purchase import SPOT_PREEMPTION_OVERHEAD, usd_per_gpu_hour
from tierwise.cost_tables.tables import TierTable, load_tier_table
from tierwise.cost_tables.workload import (
    DEFAULT_SELF_HOSTED_OPS_USD_PER_MONTH,
    HOURS_PER_MONTH,
    TokenDistribution,
    Workload,
    quote_workload,
)

D = TokenDistribution
OPS = DEFAULT_SELF_HOSTED_OPS_USD_PER_MONTH
TWO_LEVEL = (1.0,) * 12 + (3.0,) * 12  # mean 2, peak 3: peak factor 1.5


@pytest.fixture(scope="module")
def table() -> TierTable:
    return load_tier_table()


def _w(calls: float, **kw: object) -> Workload:
    return Workload(calls, D.from_mean(1000), D.from_mean(500), **kw)  # type: ignore[arg-type]


def _calls_for_mean_instances(table: TierTable, instances: float) -> float:
    """Calls per month whose mean GPU load fills ``instances`` instances exactly."""
    est = table.get("self-hosted").derivation
    assert est is not None
    gpu_s_per_call = 1000 * est.prefill_gpu_s_per_token + 500 * est.decode_gpu_s_per_token
    return instances * HOURS_PER_MONTH * 3600 * est.gpus / gpu_s_per_call


def _instance_month(table: TierTable, usd_per_gpu_hour: float) -> float:
    est = table.get("self-hosted").derivation
    assert est is not None
    return est.gpus * usd_per_gpu_hour * HOURS_PER_MONTH


def _catalog_ratio(table: TierTable, option: str) -> float:
    est = table.get("self-hosted").derivation
    assert est is not None
    gpu = load_catalog().gpu(est.gpu_id)
    price = gpu.usd_per_gpu_hour_spot if option == "spot" else gpu.usd_per_gpu_hour_reserved
    return price / gpu.usd_per_gpu_hour_on_demand


# ---- validation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"peak_to_average": 3.0, "hourly_profile": TWO_LEVEL}, "hourly_profile"),
        ({"hourly_profile": (1.0,) * 23}, "hourly_profile"),
        ({"hourly_profile": (0.0,) * 24}, "hourly_profile"),
        ({"hourly_profile": (1.0,) * 23 + (-1.0,)}, "hourly_profile[23]"),
        ({"hourly_profile": (1.0,) * 23 + (math.nan,)}, "hourly_profile[23]"),
        ({"peak_to_average": -2.0}, "peak_to_average"),
        ({"peak_to_average": 0.5}, "peak_to_average"),
        ({"autoscale": True}, "autoscale"),  # autoscale needs a profile
        ({"hourly_profile": TWO_LEVEL, "autoscale": True, "purchase": "reserved"}, "autoscale"),
        ({"purchase": "lease"}, "purchase"),
    ],
)
def test_bad_shapes_and_purchases(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        _w(1000, **kwargs)
    assert info.value.field == field


def test_peak_factor_of_a_profile_is_max_over_mean() -> None:
    assert _w(1000, hourly_profile=TWO_LEVEL).peak_factor == pytest.approx(1.5)
    assert _w(1000).peak_factor == 2.0  # the named default
    assert _w(1000, peak_to_average=3).peak_factor == 3


# ---- sizing for the peak, utilisation at the mean, idle capacity ---------------------


def test_peak_factor_sizes_instances_and_idle_is_the_unused_share(table: TierTable) -> None:
    est = table.get("self-hosted").derivation
    assert est is not None
    # Mean load 0.9 instance; peak 3x = 2.7 -> 3 instances on demand, utilisation 0.9/3.
    calls = _calls_for_mean_instances(table, 0.9)
    sh = quote_workload(table, _w(calls, peak_to_average=3)).get("self-hosted")
    gpu_usd = 3 * _instance_month(table, est.usd_per_gpu_hour)
    assert sh.instances == 3 and sh.mean_instances == 3
    assert sh.utilisation == pytest.approx(0.3)
    assert sh.idle_usd == pytest.approx(gpu_usd * 0.7)
    assert sh.monthly_usd == pytest.approx(gpu_usd + OPS)
    assert sh.purchase == "on-demand"


def test_spot_pays_the_spot_price_for_capacity_plus_preemption_overhead(
    table: TierTable,
) -> None:
    est = table.get("self-hosted").derivation
    assert est is not None
    calls = _calls_for_mean_instances(table, 0.9)
    quote = quote_workload(table, _w(calls, peak_to_average=3, purchase="spot"))
    sh = quote.get("self-hosted")
    # 2.7 instances at the peak x (1 + overhead) = 3.24 -> 4 instances.
    assert math.ceil(2.7 * (1 + SPOT_PREEMPTION_OVERHEAD)) == 4
    spot_price = est.usd_per_gpu_hour * _catalog_ratio(table, "spot")
    gpu_usd = 4 * _instance_month(table, spot_price)
    assert sh.instances == 4 and sh.purchase == "spot"
    assert sh.utilisation == pytest.approx(0.9 / 4)
    assert sh.monthly_usd == pytest.approx(gpu_usd + OPS)
    assert sh.idle_usd == pytest.approx(gpu_usd * (1 - 0.9 / 4))
    # All three options side by side, the chosen one matching the tier row.
    options = {o.purchase: o for o in quote.purchase_options}
    assert set(options) == {"on-demand", "reserved", "spot"}
    assert options["spot"].monthly_usd == pytest.approx(sh.monthly_usd)
    assert options["on-demand"].instances == options["reserved"].instances == 3
    reserved_price = est.usd_per_gpu_hour * _catalog_ratio(table, "reserved")
    assert options["reserved"].usd_per_gpu_hour == pytest.approx(reserved_price)
    assert options["reserved"].monthly_usd == pytest.approx(
        3 * _instance_month(table, reserved_price) + OPS
    )
    assert options["on-demand"].monthly_usd > options["reserved"].monthly_usd


def test_fixed_fleet_runs_the_peak_count_all_month(table: TierTable) -> None:
    # Mean 1.8 instances, profile peak 1.5x = 2.7 -> 3 instances every hour.
    calls = _calls_for_mean_instances(table, 1.8)
    sh = quote_workload(table, _w(calls, hourly_profile=TWO_LEVEL)).get("self-hosted")
    assert sh.instances == 3 and sh.mean_instances == 3
    assert sh.utilisation == pytest.approx(0.6)


def test_autoscale_pays_each_hour_for_what_it_needs(table: TierTable) -> None:
    est = table.get("self-hosted").derivation
    assert est is not None
    # Mean 1.8 instances: low hours carry 0.9 -> 1 instance, high hours 2.7 -> 3 instances,
    # so 2 instances on average and utilisation 1.8 / 2.
    calls = _calls_for_mean_instances(table, 1.8)
    quote = quote_workload(table, _w(calls, hourly_profile=TWO_LEVEL, autoscale=True))
    sh = quote.get("self-hosted")
    assert sh.instances == 3
    assert sh.mean_instances == pytest.approx(2.0)
    assert sh.utilisation == pytest.approx(0.9)
    gpu_usd = 2 * _instance_month(table, est.usd_per_gpu_hour)
    assert sh.monthly_usd == pytest.approx(gpu_usd + OPS)
    assert sh.idle_usd == pytest.approx(gpu_usd * 0.1)
    # Reserved cannot follow the hours: the comparison prices it as a 3-instance fleet.
    reserved = next(o for o in quote.purchase_options if o.purchase == "reserved")
    assert not reserved.autoscaled and reserved.mean_instances == 3
    assert all(o.autoscaled for o in quote.purchase_options if o.purchase != "reserved")


def test_autoscaled_hours_keep_at_least_one_instance(table: TierTable) -> None:
    night_off = (0.0,) * 12 + (1.0,) * 12
    sh = quote_workload(table, _w(1000, hourly_profile=night_off, autoscale=True)).get(
        "self-hosted"
    )
    assert sh.instances == 1 and sh.mean_instances == pytest.approx(1.0)


def test_routed_mix_reports_idle_capacity(table: TierTable) -> None:
    calls = _calls_for_mean_instances(table, 1.8)
    w = _w(calls, peak_to_average=3, routed_mix={"self-hosted": 0.5, "haiku": 0.5})
    quote = quote_workload(table, w)
    alone = quote_workload(table, _w(calls / 2, peak_to_average=3)).get("self-hosted")
    assert quote.routed is not None
    assert quote.routed.idle_usd == pytest.approx(alone.idle_usd)


# ---- break-even under the chosen option and shape ------------------------------------


def test_spot_break_even_is_the_cheaper_one_and_a_real_crossing(table: TierTable) -> None:
    est = table.get("self-hosted").derivation
    assert est is not None
    on_demand = quote_workload(table, _w(1000, peak_to_average=3))
    spot = quote_workload(table, _w(1000, peak_to_average=3, purchase="spot"))
    for od, sp in zip(on_demand.break_even, spot.break_even, strict=True):
        assert sp.calls_per_month is not None and od.calls_per_month is not None
        assert sp.calls_per_month < od.calls_per_month
    haiku = next(b for b in spot.break_even if b.api_tier_id == "haiku")
    assert haiku.calls_per_month is not None
    # At Haiku's break-even one spot instance carries the load: cost = instance-month + ops.
    instance = _instance_month(table, est.usd_per_gpu_hour * _catalog_ratio(table, "spot"))
    assert haiku.monthly_usd_at_break_even == pytest.approx(instance + OPS)


@pytest.mark.parametrize("purchase", ["on-demand", "spot"])
def test_autoscaled_break_even_is_a_real_crossing(table: TierTable, purchase: str) -> None:
    profile = tuple(1.0 + (h % 6) for h in range(24))
    quote = quote_workload(
        table, _w(1000, hourly_profile=profile, autoscale=True, purchase=purchase)
    )
    for b in quote.break_even:
        assert b.calls_per_month is not None
        api_per_call = quote_workload(table, _w(1000)).get(b.api_tier_id).usd_per_call

        def self_hosted(calls: float) -> float:
            w = _w(calls, hourly_profile=profile, autoscale=True, purchase=purchase)
            return quote_workload(table, w).get("self-hosted").monthly_usd

        above = b.calls_per_month * 1.0001
        below = b.calls_per_month * 0.9999
        assert self_hosted(above) < api_per_call * above
        assert self_hosted(below) >= api_per_call * below


# ---- prices ----------------------------------------------------------------------------


def test_every_catalog_gpu_has_a_reserved_price_between_spot_and_on_demand() -> None:
    for gpu in load_catalog().gpus.values():
        assert gpu.usd_per_gpu_hour_spot < gpu.usd_per_gpu_hour_reserved
        assert gpu.usd_per_gpu_hour_reserved < gpu.usd_per_gpu_hour_on_demand
        assert "reserved" in gpu.provenance.price_source


def test_deployment_price_keeps_the_catalog_discount() -> None:
    gpu = load_catalog().gpu("h100-sxm")
    ratio = gpu.usd_per_gpu_hour_reserved / gpu.usd_per_gpu_hour_on_demand
    assert usd_per_gpu_hour("h100-sxm", 3.0, "reserved") == pytest.approx(3.0 * ratio)
    assert usd_per_gpu_hour("h100-sxm", 3.0, "on-demand") == 3.0
    assert usd_per_gpu_hour("no-such-gpu", 3.0, "spot") is None
    assert usd_per_gpu_hour("no-such-gpu", 3.0, "on-demand") == 3.0
