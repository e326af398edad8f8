"""Where the time goes between the encoder floor and a served Route, stage by stage, in-process
(no gRPC transport): the server's own objects, called in the order a Route calls them.

    python -m bench.profile_path --encoder fast [--count 2000] [--cprofile]

Stages (mean µs per query): SDK request build, request parse, _guard overhead, route_input,
tokenize + graph (the floor), Prediction.rows, decide, metrics, log line, response build +
serialise, SDK decision conversion. The server logs to a file here, as it does under `bench.run`.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import structlog


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--encoder", choices=["transformer", "fast"], default="fast")
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--model-dir", type=Path)
    parser.add_argument("--policy-file", type=Path)
    parser.add_argument("--cprofile", action="store_true", help="also print a cProfile top 25")
    args = parser.parse_args(argv)

    from bench.queries import load_queries
    from bench.run import SEED, _packaged_policy_exists, _policy_from_manifest
    from tierwise.sdk import _convert, _requests
    from tierwise.sdk._requests import RouteOptions
    from tierwise.server import route_messages
    from tierwise.server.app import load_components
    from tierwise.server.config import ServerSettings
    from tierwise.server.logs import configure_logging, query_fields
    from tierwise.server.metrics import Metrics
    from tierwise.server.router import Prediction
    from tierwise.v1 import router_pb2

    tmp = tempfile.TemporaryDirectory(prefix="tierwise-profile-")
    policy = args.policy_file
    if policy is None and not _packaged_policy_exists():
        policy = _policy_from_manifest(args.model_dir, Path(tmp.name))
    encoder: Literal["transformer", "fast"] = args.encoder
    settings = ServerSettings(model_dir=args.model_dir, policy_file=policy, encoder=encoder)
    components = load_components(settings)
    router = components.router
    model = components.model
    metrics = Metrics()
    log_stream = (Path(tmp.name) / "server.log").open("w", encoding="utf-8")
    configure_logging("info", log_stream)
    log = structlog.get_logger("tierwise.server")
    known = router.table.ids()
    queries = load_queries(400, SEED)
    options = RouteOptions()
    stages: dict[str, float] = {}

    def timed(name: str, fn: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        value = fn()
        stages[name] = stages.get(name, 0.0) + time.perf_counter() - started
        return value

    def one(text: str) -> None:
        request = timed("sdk: build RouteRequest", lambda: _requests.route(text, options))
        wire = request.SerializeToString()
        parsed = timed("server: parse request", lambda: router_pb2.RouteRequest.FromString(wire))

        def guard() -> None:
            request_id = uuid.uuid4().hex[:16]
            structlog.contextvars.bind_contextvars(request_id=request_id, rpc="Route")

        timed("server: _guard (uuid, contextvars)", guard)
        item = timed("server: route_input", lambda: route_messages.route_input(parsed, known))
        outputs = timed("floor: predict (tokenize + ONNX)", lambda: model.predict([item.text]))
        prediction = timed("router: Prediction.rows", lambda: Prediction.rows(outputs)[0])
        policy_now = router.policies.current
        decision = timed("router: decide", lambda: router.decide(item, prediction, policy_now))
        timed("metrics: observe_decision", lambda: metrics.observe_decision(decision))

        def log_line() -> None:
            log.info(
                "route.decided",
                tier=decision.tier,
                reason_code=decision.reason_code.value,
                difficulty=round(decision.difficulty, 4),
                escalated=decision.escalated,
                out_of_distribution=decision.out_of_distribution,
                truncated=decision.truncated,
                **query_fields(item.text, False),
            )

        timed("log: route.decided line", log_line)
        response = timed(
            "server: build RouteResponse", lambda: route_messages.route_response(decision)
        )
        out = timed("server: serialise response", response.SerializeToString)
        timed("metrics: observe_rpc", lambda: metrics.observe_rpc("Route", "OK", 0.001))
        structlog.contextvars.unbind_contextvars("request_id", "rpc")
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
    log_stream.close()
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
