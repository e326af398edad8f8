"""Property-based fuzzing of every RPC on the wire (hypothesis).

Raw bytes go through `channel.unary_unary(path)` without serializers: random bytes, hand-made
messages with invalid UTF-8 / lone surrogates in string fields, and well-formed messages with
hostile values (huge and negative numbers, NaN/inf, empty and oversized repeated fields,
random tier ids and chat roles). Allowed answers: OK, INVALID_ARGUMENT, RESOURCE_EXHAUSTED,
FAILED_PRECONDITION; never INTERNAL or UNKNOWN, and the server stays healthy.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tiny_router import TEST_POLICY

from tierwise.server.config import ServerSettings
from tierwise.server.rpc.app import TierwiseServer, load_components
from tierwise.v1 import admin_pb2, pricing_pb2, router_pb2

ALLOWED = {
    grpc.StatusCode.OK,
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.FAILED_PRECONDITION,
}
METHODS = {
    "Route": "/tierwise.v1.RouterService/Route",
    "RouteBatch": "/tierwise.v1.RouterService/RouteBatch",
    "Quote": "/tierwise.v1.PricingService/Quote",
    "QuoteWorkload": "/tierwise.v1.PricingService/QuoteWorkload",
    "ListTiers": "/tierwise.v1.PricingService/ListTiers",
    "ReloadPolicy": "/tierwise.v1.AdminService/ReloadPolicy",
    "GetPolicy": "/tierwise.v1.AdminService/GetPolicy",
}
EXAMPLES = 150
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SENT: Counter[str] = Counter()
TIERS = ["self-hosted", "haiku", "sonnet", "opus"]


def _server(policy_file: Path, bundle: Path) -> TierwiseServer:
    settings_ = ServerSettings(
        address="127.0.0.1:0",
        model_dir=bundle,
        policy_file=policy_file,
        max_message_bytes=256 * 1024,
        max_batch_requests=64,
    )
    server = TierwiseServer(settings_, load_components(settings_))
    server.start()
    return server


class Wire:
    """A raw-bytes channel to one server."""

    def __init__(self, port: int) -> None:
        self.channel = grpc.insecure_channel(
            f"127.0.0.1:{port}", options=[("grpc.max_send_message_length", 8 * 1024 * 1024)]
        )

    def call(self, rpc: str, payload: bytes) -> grpc.StatusCode:
        SENT[rpc] += 1
        method = self.channel.unary_unary(METHODS[rpc])
        try:
            method(payload, timeout=10)
        except grpc.RpcError as error:
            code: grpc.StatusCode = error.code()
            assert code in ALLOWED, (rpc, code, error.details(), payload[:200])
            if code is grpc.StatusCode.INVALID_ARGUMENT:
                assert "Traceback" not in (error.details() or "")
            return code
        return grpc.StatusCode.OK

    def healthy(self) -> bool:
        stub = health_pb2_grpc.HealthStub(self.channel)
        reply = stub.Check(health_pb2.HealthCheckRequest(), timeout=5)
        return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


@pytest.fixture(scope="module")
def wire(tiny_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Wire]:
    policy = tmp_path_factory.mktemp("fuzz") / "policy.toml"
    policy.write_text(TEST_POLICY)
    server = _server(policy, tiny_bundle)
    client = Wire(server.port)
    yield client
    assert client.healthy()
    client.channel.close()
    server.stop(0)


@pytest.fixture(scope="module")
def admin_wire(tiny_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Wire]:
    """A server of its own: fuzzed ReloadPolicy calls may apply odd but valid policies."""
    policy = tmp_path_factory.mktemp("fuzz-admin") / "policy.toml"
    policy.write_text(TEST_POLICY)
    server = _server(policy, tiny_bundle)
    client = Wire(server.port)
    yield client
    assert client.healthy()
    client.channel.close()
    server.stop(0)


# --- wire-level helpers ------------------------------------------------------------------


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited field (strings, bytes, sub-messages)."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


# Any code point, lone surrogates included, encoded the way a buggy client would send them.
any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=60)
raw_text = any_text.map(lambda s: s.encode("utf-8", "surrogatepass")) | st.binary(max_size=60)
int64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
doubles = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(
    [math.nan, math.inf, -math.inf, 0.0, -0.0, 1e308, -1e308, 5e-324]
)
tier_ids = st.sampled_from([*TIERS, "", "gpt-9", "HAIKU", " haiku"]) | st.text(max_size=12)
valid_text = st.text(max_size=200)
roles = st.sampled_from(["user", "assistant", "system", "", "USER", "tool"]) | st.text(max_size=8)


@st.composite
def route_requests(draw: st.DrawFn) -> router_pb2.RouteRequest:
    request = router_pb2.RouteRequest()
    kind = draw(st.sampled_from(["query", "chat", "none"]))
    if kind == "query":
        request.query = draw(valid_text | st.just("what is 2 + 2 " * 400))
    elif kind == "chat":
        messages = draw(st.lists(st.tuples(roles, valid_text), max_size=6))
        request.chat.SetInParent()
        for role, content in messages:
            request.chat.messages.add(role=role, content=content)
    for name in ("input_tokens", "output_tokens"):
        if draw(st.booleans()):
            setattr(request, name, draw(int64))
    if draw(st.booleans()):
        request.cache_read_tokens = draw(int64)
    if draw(st.booleans()):
        request.quality_target = draw(doubles)
    if draw(st.booleans()):
        request.max_cost_usd = draw(doubles)
    request.allowed_tiers.extend(draw(st.lists(tier_ids, max_size=5)))
    request.batch = draw(st.booleans())
    request.caller = draw(valid_text)
    return request


def _invalid_utf8_route() -> st.SearchStrategy[tuple[bytes, tuple[bytes, ...]]]:
    """(wire payload, the raw string fields inside it)."""
    query = raw_text.map(lambda b: (_field(1, b), (b,)))
    chat = st.tuples(raw_text, raw_text).map(
        lambda rc: (_field(2, _field(1, _field(1, rc[0]) + _field(2, rc[1]))), rc)
    )
    tier = raw_text.map(lambda b: (_field(1, b"what is 2 + 2") + _field(6, b), (b,)))
    return query | chat | tier


def _all_utf8(strings: tuple[bytes, ...]) -> bool:
    try:
        for raw in strings:
            raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# --- the properties ---------------------------------------------------------------------


@FUZZ
@given(payload=st.binary(max_size=300))
def test_random_bytes_to_every_rpc(wire: Wire, payload: bytes) -> None:
    for rpc in METHODS:
        if rpc != "ReloadPolicy":
            wire.call(rpc, payload)


@FUZZ
@given(case=_invalid_utf8_route())
def test_route_raw_strings(wire: Wire, case: tuple[bytes, tuple[bytes, ...]]) -> None:
    payload, strings = case
    code = wire.call("Route", payload)
    if not _all_utf8(strings):
        assert code is grpc.StatusCode.INVALID_ARGUMENT


@FUZZ
@given(request=route_requests())
def test_route_messages(wire: Wire, request: router_pb2.RouteRequest) -> None:
    wire.call("Route", request.SerializeToString())


@FUZZ
@given(
    requests=st.lists(route_requests(), max_size=8)
    | st.integers(65, 80).map(lambda n: [router_pb2.RouteRequest(query="hello")] * n),
    poison=st.none() | _invalid_utf8_route().map(lambda case: case[0]),
)
def test_route_batch_messages(
    wire: Wire, requests: list[router_pb2.RouteRequest], poison: bytes | None
) -> None:
    payload = router_pb2.RouteBatchRequest(requests=requests).SerializeToString()
    if poison is not None:
        payload += _field(1, poison)
    code = wire.call("RouteBatch", payload)
    if len(requests) > 64:
        assert code is grpc.StatusCode.INVALID_ARGUMENT


@st.composite
def quote_requests(draw: st.DrawFn) -> bytes:
    if draw(st.booleans()):
        return _field(1, draw(raw_text)) + _field(2, b"")
    request = pricing_pb2.QuoteRequest(tier=draw(tier_ids))
    if draw(st.integers(0, 9)):
        usage = request.usage
        usage.SetInParent()
        for name in (
            "input_tokens",
            "output_tokens",
            "cache_read_tokens",
            "cache_write_5m_tokens",
            "cache_write_1h_tokens",
        ):
            setattr(usage, name, draw(int64 | st.integers(0, 300_000)))
        usage.batch = draw(st.booleans())
    return request.SerializeToString()


@FUZZ
@given(payload=quote_requests())
def test_quote(wire: Wire, payload: bytes) -> None:
    wire.call("Quote", payload)


@st.composite
def distributions(draw: st.DrawFn, target: pricing_pb2.TokenDistribution) -> None:
    shape = draw(st.sampled_from(["mean", "histogram", "none"]))
    if shape == "mean":
        target.mean = draw(doubles)
    elif shape == "histogram":
        target.histogram.SetInParent()
        for tokens, weight in draw(st.lists(st.tuples(int64, doubles), max_size=5)):
            target.histogram.buckets.add(tokens=tokens, weight=weight)


@st.composite
def workload_requests(draw: st.DrawFn) -> bytes:
    if draw(st.integers(0, 9)) == 0:
        key = draw(raw_text)
        entry = _field(1, key) + b"\x11" + b"\x00" * 7 + b"\x3f"  # double 0.5-ish
        return _field(1, _field(6, entry))
    request = pricing_pb2.QuoteWorkloadRequest()
    if draw(st.integers(0, 9)):
        workload = request.workload
        workload.SetInParent()
        workload.calls_per_month = draw(doubles | st.floats(0, 1e9))
        draw(distributions(workload.input_tokens))
        draw(distributions(workload.output_tokens))
        workload.cache_hit_rate = draw(doubles | st.floats(0, 1))
        workload.batch_share = draw(doubles | st.floats(0, 1))
        for tier, share in draw(st.dictionaries(tier_ids, doubles, max_size=5)).items():
            workload.routed_mix[tier] = share
        if draw(st.booleans()):
            workload.self_hosted_fixed_usd_per_month = draw(doubles)
    return request.SerializeToString()


@FUZZ
@given(payload=workload_requests())
def test_quote_workload(wire: Wire, payload: bytes) -> None:
    wire.call("QuoteWorkload", payload)


@FUZZ
@given(payload=st.binary(max_size=100), unknown=any_text)
def test_list_tiers_and_get_policy(wire: Wire, payload: bytes, unknown: str) -> None:
    for rpc in ("ListTiers", "GetPolicy"):
        wire.call(rpc, payload)
        # An unknown field (even with invalid UTF-8) in an empty request is ignored.
        unknown_field = _field(7, unknown.encode("utf-8", "surrogatepass"))
        assert wire.call(rpc, unknown_field) is grpc.StatusCode.OK


toml_keys = st.sampled_from(
    ["version", "quality_target", "discrimination", "description", "surprise", "ability"]
)
toml_values = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=True).map(repr),
    st.sampled_from(["nan", "inf", "-inf", "true", "[]", "{}", '"x"', '""', "1e999"]),
    valid_text.map(lambda s: '"' + s.replace("\\", "").replace('"', "") + '"'),
)


TABLES = [*(f"tiers.{t}" for t in TIERS), "ood", "head", "x"]


@st.composite
def toml_documents(draw: st.DrawFn) -> bytes:
    kind = draw(st.integers(0, 3))
    if kind == 0:  # the test policy with one value replaced
        lines = TEST_POLICY.splitlines()
        index = draw(st.sampled_from([i for i, line in enumerate(lines) if "=" in line]))
        key = lines[index].split("=")[0]
        lines[index] = f"{key}= {draw(toml_values)}"
        text = "\n".join(lines)
    elif kind == 1:  # random key/value lines and tables
        parts = []
        for _ in range(draw(st.integers(0, 8))):
            if draw(st.booleans()):
                parts.append(f"[{draw(st.sampled_from(TABLES))}]")
            parts.append(f"{draw(toml_keys)} = {draw(toml_values)}")
        text = "\n".join(parts)
    elif kind == 2:
        text = draw(any_text)
    else:
        return _field(1, draw(raw_text))
    return admin_pb2.ReloadPolicyRequest(policy_toml=text).SerializeToString()


@FUZZ
@given(payload=toml_documents())
def test_reload_policy(admin_wire: Wire, payload: bytes) -> None:
    admin_wire.call("ReloadPolicy", payload)
    # Whatever was applied, the server still routes.
    route = router_pb2.RouteRequest(query="what is 2 + 2").SerializeToString()
    assert admin_wire.call("Route", route) is grpc.StatusCode.OK


def test_zz_fuzzing_report(wire: Wire, admin_wire: Wire) -> None:
    assert wire.healthy() and admin_wire.healthy()
    total = sum(SENT.values())
    print(f"\nfuzzed requests per RPC: {dict(sorted(SENT.items()))}; total {total}")
    if total:  # empty when this test runs alone
        assert all(SENT[rpc] >= EXAMPLES for rpc in METHODS), SENT
