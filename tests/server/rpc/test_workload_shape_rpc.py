"""QuoteWorkload with a traffic shape and purchase options, through the real server and SDK."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from tierwise.cost_tables.tables import load_tier_table
from tierwise.cost_tables.workload import TokenDistribution, Workload, quote_workload
from tierwise.sdk import AsyncTierwiseClient, InvalidArgumentError, TierwiseClient
from tierwise.server.rpc.app import TierwiseServer
from tierwise.v1 import pricing_pb2, pricing_pb2_grpc

TWO_LEVEL = [1.0] * 12 + [3.0] * 12


def _local(**kw: object) -> Workload:
    return Workload(5e6, TokenDistribution.from_mean(1500), TokenDistribution.from_mean(400), **kw)  # type: ignore[arg-type]


def test_peak_factor_and_spot_match_the_domain(client: TierwiseClient) -> None:
    quote = client.quote_workload(
        calls_per_month=5e6,
        input_tokens=1500,
        output_tokens=400,
        peak_to_average=3,
        purchase="spot",
    )
    expected = quote_workload(load_tier_table(), _local(peak_to_average=3, purchase="spot"))
    sh = next(t for t in quote.tiers if t.tier == "self-hosted")
    want = expected.get("self-hosted")
    assert sh.purchase == "spot" and quote.purchase == "spot" and quote.peak_factor == 3
    assert sh.monthly_usd == pytest.approx(want.monthly_usd)
    assert sh.instances == want.instances
    assert sh.idle_usd == pytest.approx(want.idle_usd)
    assert sh.idle_usd is not None and 0 < sh.idle_usd < sh.monthly_usd
    assert sh.mean_instances == pytest.approx(want.mean_instances)
    api = next(t for t in quote.tiers if t.tier == "haiku")
    assert api.idle_usd is None and api.purchase is None
    assert [o.purchase for o in quote.purchase_options] == ["on-demand", "reserved", "spot"]
    assert quote.purchase_option("self-hosted", "spot").monthly_usd == pytest.approx(sh.monthly_usd)
    assert [b.calls_per_month for b in quote.break_even] == pytest.approx(
        [b.calls_per_month for b in expected.break_even]
    )


def test_default_is_on_demand_at_the_default_peak(client: TierwiseClient) -> None:
    quote = client.quote_workload(calls_per_month=5e6, input_tokens=1500, output_tokens=400)
    assert quote.purchase == "on-demand" and quote.peak_factor == 2.0
    sh = next(t for t in quote.tiers if t.tier == "self-hosted")
    assert sh.purchase == "on-demand"


def test_async_client_autoscales_a_profile(tiny_server: TierwiseServer) -> None:
    async def main() -> None:
        async with AsyncTierwiseClient(f"127.0.0.1:{tiny_server.port}") as client:
            quote = await client.quote_workload(
                calls_per_month=5e7,
                input_tokens=1500,
                output_tokens=400,
                hourly_profile=TWO_LEVEL,
                autoscale=True,
            )
        expected = quote_workload(
            load_tier_table(),
            Workload(
                5e7,
                TokenDistribution.from_mean(1500),
                TokenDistribution.from_mean(400),
                hourly_profile=tuple(TWO_LEVEL),
                autoscale=True,
            ),
        ).get("self-hosted")
        sh = next(t for t in quote.tiers if t.tier == "self-hosted")
        assert quote.peak_factor == pytest.approx(1.5)
        assert sh.mean_instances == pytest.approx(expected.mean_instances)
        assert sh.mean_instances is not None and sh.instances is not None
        assert sh.mean_instances < sh.instances
        reserved = quote.purchase_option("self-hosted", "reserved")
        assert not reserved.autoscaled and reserved.mean_instances == reserved.instances

    asyncio.run(main())


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"peak_to_average": 3, "hourly_profile": TWO_LEVEL}, "hourly_profile"),
        ({"hourly_profile": [1.0] * 23}, "hourly_profile"),
        ({"peak_to_average": -1}, "peak_to_average"),
        ({"autoscale": True}, "autoscale"),
        ({"hourly_profile": TWO_LEVEL, "autoscale": True, "purchase": "reserved"}, "autoscale"),
    ],
)
def test_bad_shapes_are_invalid_argument_naming_the_field(
    client: TierwiseClient, kwargs: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidArgumentError) as raised:
        client.quote_workload(
            calls_per_month=1000,
            input_tokens=100,
            output_tokens=10,
            **kwargs,  # type: ignore[arg-type]
        )
    assert field in str(raised.value)


def test_sdk_rejects_an_unknown_purchase_option(client: TierwiseClient) -> None:
    with pytest.raises(InvalidArgumentError, match="purchase"):
        client.quote_workload(
            calls_per_month=1000,
            input_tokens=100,
            output_tokens=10,
            purchase="lease",  # type: ignore[arg-type]
        )


def test_unknown_purchase_enum_on_the_wire_is_invalid_argument(client: TierwiseClient) -> None:
    workload = pricing_pb2.Workload(
        calls_per_month=1000,
        input_tokens=pricing_pb2.TokenDistribution(mean=100),
        output_tokens=pricing_pb2.TokenDistribution(mean=10),
        purchase=7,  # type: ignore[arg-type]
    )
    with grpc.insecure_channel(client.settings.target) as channel:
        stub = pricing_pb2_grpc.PricingServiceStub(channel)
        with pytest.raises(grpc.RpcError) as raised:
            stub.QuoteWorkload(pricing_pb2.QuoteWorkloadRequest(workload=workload), timeout=5)
    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "workload.purchase" in (raised.value.details() or "")
