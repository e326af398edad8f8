"""Where the time goes between the encoder floor and a served Route, in-process (no gRPC
transport): the server's own objects, called in the order a Route calls them.

    python -m bench.profile_path --encoder fast [--count 2000] [--cprofile]

Part 1, stages (mean µs per query): SDK request build, request parse, the `_guard` wrapper
(request id, log context, deadline, metrics; timed around a no-op), route_input, decision
cache key + lookup, tokenize + graph (the floor), Prediction.rows, decide, decision
metrics, response build + serialise, SDK decision conversion.

Part 2, the registered handler as grpc calls it (deserialiser → guard → RouterService.Route
→ serialiser) with a stand-in ServicerContext: once with the model call memoised (the
server's Python overhead per Route), once with the decision cache on and every query
already cached (the hit path). Neither includes grpc's own work (thread hand-off, HTTP/2,
C-core): compare with `bench.run`'s server CPU per route for that.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast

import grpc


class FakeContext:
    """The ServicerContext calls the guard and the servicer make, answered from memory."""

    @classmethod
    def make(cls) -> grpc.ServicerContext:
        return cast(grpc.ServicerContext, cls())

    def __init__(self) -> None:
        self._code: grpc.StatusCode | None = None

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return (("user-agent", "grpc-python"),)

    def set_trailing_metadata(self, metadata: Sequence[tuple[str, str]]) -> None:
        pass

    def time_remaining(self) -> float:
        return 1.0

    def code(self) -> grpc.StatusCode | None:
        return self._code

    def is_active(self) -> bool:
        return True

    def abort(self, code: grpc.StatusCode, details: str) -> None:
        raise RuntimeError(f"{code}: {details}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--encoder", default="fast", help="an encoder of the bundle's manifest")
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--model-dir", type=Path)
    parser.add_argument("--policy-file", type=Path)
    parser.add_argument("--cprofile", action="store_true", help="also print a cProfile top 25")
    args = parser.parse_args(argv)

    from bench.queries import load_queries
    from bench.run import SEED, _packaged_policy_exists, _policy_from_manifest
    from tierwise.sdk import _convert, _requests
    from tierwise.sdk._requests import RouteOptions
    from tierwise.server.config import DEFAULT_DECISION_CACHE_ENTRIES, ServerSettings
    from tierwise.server.logs import configure_logging
    from tierwise.server.metrics import Metrics
    from tierwise.server.routing.decision_cache import DecisionCache, cache_key
    from tierwise.server.routing.router import Prediction
    from tierwise.server.rpc import route_messages
    from tierwise.server.rpc.app import SERVICES, load_components
    from tierwise.server.rpc.handlers import InFlight, _guard, _safe_deserializer, service_handler
    from tierwise.server.rpc.router_service import RouterService
    from tierwise.v1 import router_pb2

    tmp = tempfile.TemporaryDirectory(prefix="tierwise-profile-")
    policy = args.policy_file
    if policy is None and not _packaged_policy_exists():
        policy = _policy_from_manifest(args.model_dir, Path(tmp.name))
    encoder: str = args.encoder
    settings = ServerSettings(model_dir=args.model_dir, policy_file=policy, encoder=encoder)
    components = load_components(settings)
    router = components.router
    model = components.model
    metrics = Metrics()
    log_stream = (Path(tmp.name) / "server.log").open("w", encoding="utf-8")
    configure_logging("info", log_stream)
    known = router.table.ids()
    queries = load_queries(400, SEED)
    options = RouteOptions()
    stages: dict[str, float] = {}
    parse = _safe_deserializer(router_pb2.RouteRequest, settings.max_message_bytes)
    service = RouterService(router, metrics, max_batch_requests=1024, log_query_text=False)
    empty = router_pb2.RouteResponse()
    guard = _guard("Route", lambda _r, _c: empty, parse, metrics, [], InFlight())
    cache = DecisionCache(DEFAULT_DECISION_CACHE_ENTRIES, components.policies)

    def timed(name: str, fn: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        value = fn()
        stages[name] = stages.get(name, 0.0) + time.perf_counter() - started
        return value

    def one(text: str) -> None:
        request = timed("sdk: build RouteRequest", lambda: _requests.route(text, options))
        wire = request.SerializeToString()
        parsed = timed("server: parse request", lambda: parse(wire))
        timed("server: _guard (around a no-op)", lambda: guard(iter([wire]), FakeContext.make()))
        item = timed("server: route_input", lambda: route_messages.route_input(parsed, known))
        timed("cache: key + lookup (a miss)", lambda: cache.get(cache_key(item)))
        outputs = timed("floor: predict (tokenize + ONNX)", lambda: model.predict([item.text]))
        prediction = timed("router: Prediction.rows", lambda: Prediction.rows(outputs)[0])
        policy_now = router.policies.current
        decision = timed("router: decide", lambda: router.decide(item, prediction, policy_now))
        timed("service: _record (metrics)", lambda: service._record(item, decision, False))
        response = timed(
            "server: build RouteResponse", lambda: route_messages.route_response(decision)
        )
        out = timed("server: serialise response", response.SerializeToString)
        back = router_pb2.RouteResponse.FromString(out)
        timed("sdk: decision conversion", lambda: _convert.decision(back))

    for text in queries[:50]:
        one(text)
    stages.clear()
    profiler = cProfile.Profile() if args.cprofile else None
    if profiler:
        profiler.enable()
    for index in range(args.count):
        one(queries[index % len(queries)])
    if profiler:
        profiler.disable()
    total = sum(stages.values())
    floor = stages["floor: predict (tokenize + ONNX)"]
    print(f"{args.encoder}: mean µs per query over {args.count} queries")
    for name, seconds in sorted(stages.items(), key=lambda kv: -kv[1]):
        print(f"  {name:<40}{seconds / args.count * 1e6:9.1f}")
    print(f"  {'total in-process':<40}{total / args.count * 1e6:9.1f}")
    print(f"  {'overhead beyond the floor':<40}{(total - floor) / args.count * 1e6:9.1f}")
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)

    # Part 2: the registered handler, as grpc's worker thread calls it.
    wires = [_requests.route(q, options).SerializeToString() for q in queries]
    memo = {q: model.predict([q]) for q in queries}
    real_predict = model.predict
    model.predict = lambda texts: memo[texts[0]]  # type: ignore[method-assign]
    for entries in (0, DEFAULT_DECISION_CACHE_ENTRIES):
        routed = RouterService(
            router,
            Metrics(),
            max_batch_requests=1024,
            log_query_text=False,
            decision_cache_entries=entries,
        )
        handler = service_handler(
            SERVICES[0],
            routed,
            Metrics(),
            auth_tokens=(),
            in_flight=InFlight(),
            max_message_bytes=settings.max_message_bytes,
        )
        method = handler.service(_Details("/tierwise.v1.RouterService/Route"))
        assert method is not None and method.unary_unary is not None
        deserialize, behaviour = method.request_deserializer, method.unary_unary
        serialize = method.response_serializer
        assert deserialize is not None and serialize is not None
        for wire in wires:  # warm up (and fill the cache when it is on)
            serialize(behaviour(deserialize(wire), FakeContext.make()))
        started = time.perf_counter()
        for index in range(args.count):
            serialize(behaviour(deserialize(wires[index % len(wires)]), FakeContext.make()))
        per_call = (time.perf_counter() - started) / args.count * 1e6
        label = "cache hits" if entries else "cache off, model call memoised"
        print(f"  {'handler path, ' + label:<40}{per_call:9.1f}")
    model.predict = real_predict  # type: ignore[method-assign]
    log_stream.close()
    tmp.cleanup()
    return 0


class _Details(grpc.HandlerCallDetails):
    def __init__(self, method: str) -> None:
        self.method = method
        self.invocation_metadata = ()


if __name__ == "__main__":
    raise SystemExit(main())
