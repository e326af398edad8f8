"""The decision cache: same answers as without it, bounded, emptied by a policy change."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from tiny_router import TEST_POLICY

from tierwise.sdk import TierwiseClient
from tierwise.server.config import DEFAULT_DECISION_CACHE_ENTRIES, ServerSettings
from tierwise.server.routing.decision_cache import DecisionCache, cache_key
from tierwise.server.routing.latency_constraints import LatencyConstraints
from tierwise.server.routing.policy import Policy, load_policy
from tierwise.server.routing.router import RouteInput
from tierwise.server.rpc.app import TierwiseServer, load_components
from tierwise.v1 import router_pb2, router_pb2_grpc

EASY = "what is 2 + 2"
HARD = "prove the riemann hypothesis"
STRICT = TEST_POLICY.replace('version = "test-policy-1"', 'version = "strict"').replace(
    "quality_target = 0.8", "quality_target = 0.95"
)
# Same version string, different content: the cache must not trust version strings.
SAME_VERSION_STRICT = TEST_POLICY.replace("quality_target = 0.8", "quality_target = 0.95")
ROUTE_REQUESTS = (
    router_pb2.RouteRequest(query=EASY),
    router_pb2.RouteRequest(query=HARD),
    router_pb2.RouteRequest(query=EASY, quality_target=0.99),
    router_pb2.RouteRequest(query=EASY, allowed_tiers=["haiku", "opus"]),
    router_pb2.RouteRequest(query=EASY, max_cost_usd=0.0),
    router_pb2.RouteRequest(query=EASY, max_cost_usd=-0.0),
    router_pb2.RouteRequest(query=EASY, input_tokens=5000, cache_read_tokens=1000, batch=True),
    router_pb2.RouteRequest(query=EASY, output_tokens=7),
    router_pb2.RouteRequest(
        chat=router_pb2.ChatMessages(
            messages=[
                router_pb2.ChatMessage(role="user", content=HARD),
                router_pb2.ChatMessage(role="assistant", content="sure"),
                router_pb2.ChatMessage(role="user", content=EASY),
            ]
        )
    ),
    router_pb2.RouteRequest(query=EASY + " " + "x" * 5000),  # truncated for the encoder
)


def _serve(settings: ServerSettings) -> TierwiseServer:
    server = TierwiseServer(settings, load_components(settings))
    server.start()
    return server


@pytest.fixture
def servers(tiny_settings: ServerSettings) -> Iterator[tuple[TierwiseServer, TierwiseServer]]:
    cached = _serve(dataclasses.replace(tiny_settings, decision_cache_entries=64))
    uncached = _serve(dataclasses.replace(tiny_settings, decision_cache_entries=0))
    yield cached, uncached
    cached.stop(0)
    uncached.stop(0)


def _cache_count(server: TierwiseServer, result: str) -> float:
    value: float = server.metrics.decision_cache.labels(result=result)._value.get()
    return value


def test_cache_is_on_by_default() -> None:
    assert ServerSettings().decision_cache_entries == DEFAULT_DECISION_CACHE_ENTRIES > 0
    with pytest.raises(ValueError, match="decision_cache_entries"):
        ServerSettings(decision_cache_entries=-1)


def _without_id(response: router_pb2.RouteResponse, ids: set[str]) -> bytes:
    assert response.decision_id and response.decision_id not in ids
    ids.add(response.decision_id)
    response.decision_id = ""
    return response.SerializeToString()


def test_cached_responses_are_byte_identical_to_fresh_ones(
    servers: tuple[TierwiseServer, TierwiseServer],
) -> None:
    cached, uncached = servers
    with (
        grpc.insecure_channel(f"127.0.0.1:{cached.port}") as with_cache,
        grpc.insecure_channel(f"127.0.0.1:{uncached.port}") as without,
    ):
        fast = router_pb2_grpc.RouterServiceStub(with_cache)
        fresh = router_pb2_grpc.RouterServiceStub(without)
        ids: set[str] = set()
        for _round in range(3):
            for request in ROUTE_REQUESTS:
                expected = _without_id(fresh.Route(request, timeout=5), ids)
                assert _without_id(fast.Route(request, timeout=5), ids) == expected
        batch = router_pb2.RouteBatchRequest(requests=[*ROUTE_REQUESTS, *ROUTE_REQUESTS])
        fast_batch, fresh_batch = (
            fast.RouteBatch(batch, timeout=5),
            fresh.RouteBatch(batch, timeout=5),
        )
        for a, b in zip(fast_batch.responses, fresh_batch.responses, strict=True):
            assert _without_id(a, ids) == _without_id(b, ids)
        # Identical apart from the decision id, which every response has of its own.
        assert len(ids) == 2 * 3 * len(ROUTE_REQUESTS) + 2 * len(batch.requests)
    # Every distinct request missed once (0.0 and -0.0 are different requests); the rest hit.
    assert _cache_count(cached, "miss") == len(ROUTE_REQUESTS)
    assert _cache_count(cached, "hit") == 4 * len(ROUTE_REQUESTS)
    assert _cache_count(uncached, "hit") == _cache_count(uncached, "miss") == 0
    # Hits are decisions served: the per-tier counters match the uncached server's.
    for tier in ("self-hosted", "haiku", "sonnet", "opus"):
        decisions = [s.metrics.decisions.labels(tier=tier)._value.get() for s in servers]
        assert decisions[0] == decisions[1]


@pytest.mark.parametrize("document", [STRICT, SAME_VERSION_STRICT])
def test_a_policy_reload_empties_the_cache(
    servers: tuple[TierwiseServer, TierwiseServer], document: str
) -> None:
    cached, _ = servers
    with TierwiseClient(f"127.0.0.1:{cached.port}") as client:
        assert client.route(EASY).tier == client.route(EASY).tier == "self-hosted"
        assert _cache_count(cached, "hit") == 1
        client.reload_policy(document)
        decision = client.route(EASY)
        assert decision.quality_target == pytest.approx(0.95)
        assert decision.tier != "self-hosted"
    assert _cache_count(cached, "hit") == 1


def test_file_reload_empties_the_cache(tiny_bundle: Path, tmp_path: Path) -> None:
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text(TEST_POLICY)
    settings = ServerSettings(address="127.0.0.1:0", model_dir=tiny_bundle, policy_file=policy_file)
    server = _serve(settings)
    try:
        with TierwiseClient(f"127.0.0.1:{server.port}") as client:
            assert client.route(EASY).tier == client.route(EASY).tier == "self-hosted"
            policy_file.write_text(SAME_VERSION_STRICT)
            server.reload_policy()
            assert client.route(EASY).tier != "self-hosted"
    finally:
        server.stop(0)


def test_the_cache_keeps_at_most_max_entries_least_recently_used_out(
    tiny_settings: ServerSettings,
) -> None:
    components = load_components(tiny_settings)
    policy = components.policies.current
    cache = DecisionCache(2, components.policies)
    items = [RouteInput(text=text, prompt_chars=len(text)) for text in ("a b", "c d", "e f")]
    decisions = [components.router.route(item) for item in items]
    keys = [cache_key(item) for item in items]
    cache.put(keys[0], decisions[0], policy)
    cache.put(keys[1], decisions[1], policy)
    assert cache.get(keys[0]) is decisions[0]  # now the most recently used
    cache.put(keys[2], decisions[2], policy)
    assert len(cache) == 2
    assert cache.get(keys[1]) is None
    assert cache.get(keys[0]) is decisions[0]
    assert cache.get(keys[2]) is decisions[2]
    with pytest.raises(ValueError):
        DecisionCache(0, components.policies)


def test_a_decision_made_under_a_replaced_policy_is_not_stored(
    tiny_settings: ServerSettings,
) -> None:
    components = load_components(tiny_settings)
    holder = components.policies
    cache = DecisionCache(8, holder)
    item = RouteInput(text=EASY, prompt_chars=len(EASY))
    key = cache_key(item)
    old = holder.current
    stale = components.router.route(item)
    holder.replace(_reparsed(tiny_settings))
    assert cache.get(key) is None  # sees the new policy: empties itself
    cache.put(key, stale, old)  # routed before the reload finished: dropped
    assert cache.get(key) is None
    fresh = components.router.route(item)
    cache.put(key, fresh, holder.current)
    assert cache.get(key) is fresh


def _reparsed(settings: ServerSettings) -> Policy:
    """A new Policy object with the same content (what a reload of the same file makes)."""
    assert settings.policy_file is not None
    return load_policy(settings.policy_file)


def test_cache_key_tells_every_option_apart() -> None:
    base = RouteInput(text=EASY, prompt_chars=len(EASY))
    variants = [
        base,
        dataclasses.replace(base, text=EASY + "?"),
        dataclasses.replace(base, prompt_chars=100),
        dataclasses.replace(base, input_tokens=10),
        dataclasses.replace(base, output_tokens=10),
        dataclasses.replace(base, quality_target=0.5),
        dataclasses.replace(base, quality_target=0.0),
        dataclasses.replace(base, quality_target=-0.0),
        dataclasses.replace(base, allowed_tiers=("haiku",)),
        dataclasses.replace(base, allowed_tiers=("haiku", "opus")),
        dataclasses.replace(base, allowed_tiers=("opus", "haiku")),
        dataclasses.replace(base, max_cost_usd=0.0),
        dataclasses.replace(base, max_cost_usd=-0.0),
        dataclasses.replace(base, max_cost_usd=1.0),
        dataclasses.replace(base, cache_read_tokens=5),
        dataclasses.replace(base, batch=True),
        dataclasses.replace(base, latency=LatencyConstraints(max_ttft_ms=800.0)),
        dataclasses.replace(base, latency=LatencyConstraints(max_latency_ms=800.0)),
        dataclasses.replace(base, latency=LatencyConstraints(min_output_tokens_per_s=800.0)),
        dataclasses.replace(base, caller="chat"),
        dataclasses.replace(base, feature="chat"),
    ]
    keys = {cache_key(item) for item in variants}
    assert len(keys) == len(variants)
    assert cache_key(dataclasses.replace(base)) == cache_key(base)


def _changed(name: str, value: object, annotation: str) -> object:
    """Another value of the same field (extend this when RouteInput gets a new kind)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value + 0.25
    if isinstance(value, str):
        return value + "?"
    if isinstance(value, tuple):
        return (*value, "opus")
    if isinstance(value, enum.Enum):
        return next(m for m in type(value) if m is not value)
    if isinstance(value, LatencyConstraints):
        return dataclasses.replace(value, max_ttft_ms=(value.max_ttft_ms or 100.0) + 1.0)
    if value is None:
        for kind, sample in (("int", 7), ("float", 0.5), ("str", "x"), ("tuple", ("x",))):
            if kind in annotation:
                return sample
    pytest.fail(f"RouteInput.{name}: teach _changed a value of type {annotation}")


def test_every_route_input_field_is_part_of_the_key() -> None:
    base = RouteInput(text=EASY, prompt_chars=len(EASY))
    for field in dataclasses.fields(RouteInput):
        value = getattr(base, field.name)
        variant = dataclasses.replace(
            base, **{field.name: _changed(field.name, value, str(field.type))}
        )
        assert variant != base, field.name
        assert cache_key(variant) != cache_key(base), f"RouteInput.{field.name} not in the key"
