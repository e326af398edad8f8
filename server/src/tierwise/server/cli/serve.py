"""`tierwise serve`: run the gRPC service."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from tierwise.server.cli.common import env_default, existing_file


def register(subparsers: Any) -> None:
    from tierwise.server import config

    parser: argparse.ArgumentParser = subparsers.add_parser(
        "serve",
        help="run the gRPC service (SIGTERM drains, SIGHUP reloads the policy and latency file)",
    )
    parser.add_argument(
        "--address",
        default=env_default("ADDRESS", config.DEFAULT_ADDRESS),
        help="HOST:PORT to listen on (env TIERWISE_ADDRESS; default %(default)s)",
    )
    parser.add_argument(
        "--encoder",
        default=env_default("ENCODER", config.DEFAULT_ENCODER),
        help="router encoder, one the bundle's manifest.json lists "
        "(env TIERWISE_ENCODER; default %(default)s)",
    )
    parser.add_argument("--tiers-file", type=existing_file, help="cost table TOML")
    parser.add_argument("--policy-file", type=existing_file, help="routing policy TOML")
    parser.add_argument(
        "--latency-file",
        type=existing_file,
        default=env_default("LATENCY_FILE"),
        help="observed per-tier latency from `tierwise latency import` (env TIERWISE_LATENCY_FILE; "
        "unset: published figures and the hardware model; SIGHUP reloads it)",
    )
    parser.add_argument("--model-dir", type=Path, help="router model bundle directory")
    parser.add_argument("--max-workers", type=int, default=config.DEFAULT_MAX_WORKERS)
    parser.add_argument(
        "--max-concurrent-rpcs", type=int, default=config.DEFAULT_MAX_CONCURRENT_RPCS
    )
    parser.add_argument("--grace-s", type=float, default=config.DEFAULT_GRACE_S)
    parser.add_argument(
        "--decision-cache-entries",
        type=int,
        default=config.DEFAULT_DECISION_CACHE_ENTRIES,
        help="recent decisions reused for identical requests (0: off; default %(default)s)",
    )
    parser.add_argument(
        "--solo-threads",
        type=int,
        default=None,
        help="intra-op threads for a model call that runs alone (1: always one thread; "
        "default: 2 for the transformer, 1 for fast, at most the machine's cores)",
    )
    parser.add_argument(
        "--metrics-address",
        default=env_default("METRICS_ADDRESS"),
        help="HOST:PORT for the Prometheus /metrics endpoint (off when unset)",
    )
    parser.add_argument(
        "--log-level",
        choices=["debug", "info", "warning", "error"],
        default=env_default("LOG_LEVEL", "info"),
    )
    parser.add_argument(
        "--log-query-text",
        action="store_true",
        help="log raw query text (off by default: only a hash and the length are logged)",
    )
    parser.add_argument("--no-reflection", action="store_true", help="disable server reflection")
    parser.add_argument("--no-health", action="store_true", help="disable the health service")
    parser.add_argument("--tls-cert", type=existing_file, help="server certificate (PEM)")
    parser.add_argument("--tls-key", type=existing_file, help="server private key (PEM)")
    parser.add_argument(
        "--tls-client-ca", type=existing_file, help="CA for client certificates (turns on mTLS)"
    )
    parser.add_argument(
        "--auth-token-file",
        type=existing_file,
        default=env_default("AUTH_TOKEN_FILE"),
        help="file with accepted bearer tokens, one per line (auth off when unset)",
    )
    parser.add_argument(
        "--admin-token-file",
        type=existing_file,
        default=env_default("ADMIN_TOKEN_FILE"),
        help="bearer tokens for AdminService (policy reloads); default: --auth-token-file's",
    )
    parser.add_argument(
        "--no-admin", action="store_true", help="do not serve AdminService (reload by SIGHUP only)"
    )
    parser.add_argument(
        "--insecure-admin",
        action="store_true",
        help="serve AdminService on a non-loopback address without --admin-token-file "
        "(refused otherwise: anyone who can reach the port could replace the policy)",
    )
    parser.add_argument("--max-message-bytes", type=int, default=config.DEFAULT_MAX_MESSAGE_BYTES)
    parser.add_argument(
        "--outcome-store",
        default=env_default("OUTCOME_STORE"),
        help="where ReportOutcomes are kept: a SQLite file path, or postgresql://… for a fleet "
        "(env TIERWISE_OUTCOME_STORE; unset: metrics only)",
    )
    parser.add_argument(
        "--store-query-text",
        action="store_true",
        help="keep raw query text in the outcome store (off: replay --from-store cannot "
        "score stored outcomes)",
    )
    parser.add_argument(
        "--max-workload-price-evaluations",
        type=int,
        default=config.DEFAULT_MAX_WORKLOAD_PRICE_EVALUATIONS,
        help="QuoteWorkload cost bound: bucket pairs × batch sides × tier prices "
        "(default %(default)s, ≈0.1 s of CPU)",
    )
    parser.add_argument(
        "--max-histogram-buckets", type=int, default=config.DEFAULT_MAX_HISTOGRAM_BUCKETS
    )
    parser.add_argument(
        "--pricing-workers", type=int, default=config.DEFAULT_PRICING_WORKERS,
        help="threads for PricingService (its own; Route never waits for them)",
    )  # fmt: skip
    parser.add_argument(
        "--batch-workers", type=int, default=config.DEFAULT_BATCH_WORKERS,
        help="threads for RouteBatch (its own; Route never waits for them)",
    )  # fmt: skip
    parser.add_argument(
        "--drain-notice-s",
        type=float,
        default=config.DEFAULT_DRAIN_NOTICE_S,
        help="on SIGTERM, seconds health reports NOT_SERVING before the drain (within --grace-s)",
    )
    parser.add_argument(
        "--metric-callers",
        default="",
        help="comma-separated RouteRequest.caller values kept as a metric label (others: 'other')",
    )
    parser.add_argument(
        "--metric-features",
        default="",
        help="comma-separated RouteRequest.feature values kept as a metric label",
    )
    parser.set_defaults(handler=_run_serve)


def _read_tokens(path: Path | None, flag: str) -> tuple[str, ...]:
    if path is None:
        return ()
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    tokens = tuple(line.strip() for line in lines if line.strip())
    if not tokens:
        raise ValueError(f"{flag} {path}: no tokens in the file")
    return tokens


def _names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


def _run_serve(args: argparse.Namespace) -> int:
    from tierwise.server import config
    from tierwise.server.config import ServerSettings, TlsFiles
    from tierwise.server.logs import configure_logging
    from tierwise.server.rpc.app import serve

    if bool(args.tls_cert) != bool(args.tls_key):
        raise ValueError("--tls-cert and --tls-key go together")
    if args.tls_client_ca and not args.tls_cert:
        raise ValueError("--tls-client-ca needs --tls-cert and --tls-key")
    if args.log_query_text and args.log_level != "debug":
        # The text goes in the per-decision route.decided line, which is debug level.
        raise ValueError("--log-query-text needs --log-level debug (decisions are logged there)")
    if args.no_admin and args.insecure_admin:
        raise ValueError("--no-admin and --insecure-admin contradict each other")
    configure_logging(args.log_level)
    settings = ServerSettings(
        address=args.address,
        encoder=args.encoder,
        tiers_file=args.tiers_file,
        policy_file=args.policy_file,
        latency_file=Path(args.latency_file) if args.latency_file else None,
        model_dir=args.model_dir,
        max_workers=args.max_workers,
        max_concurrent_rpcs=args.max_concurrent_rpcs,
        grace_s=args.grace_s,
        decision_cache_entries=args.decision_cache_entries,
        solo_intra_op_threads=args.solo_threads,
        metrics_address=args.metrics_address,
        log_query_text=args.log_query_text,
        enable_reflection=not args.no_reflection,
        enable_health=not args.no_health,
        tls=TlsFiles(args.tls_cert, args.tls_key, args.tls_client_ca) if args.tls_cert else None,
        auth_tokens=_read_tokens(args.auth_token_file, "--auth-token-file"),
        admin_tokens=_read_tokens(args.admin_token_file, "--admin-token-file"),
        max_message_bytes=args.max_message_bytes,
        outcome_store=args.outcome_store,
        store_query_text=args.store_query_text,
        enable_admin=not args.no_admin,
        insecure_admin=args.insecure_admin,
        max_workload_price_evaluations=args.max_workload_price_evaluations,
        max_histogram_buckets=args.max_histogram_buckets,
        pricing_workers=args.pricing_workers,
        pricing_max_in_flight=max(config.DEFAULT_PRICING_MAX_IN_FLIGHT, args.pricing_workers),
        batch_workers=args.batch_workers,
        batch_max_in_flight=max(config.DEFAULT_BATCH_MAX_IN_FLIGHT, args.batch_workers),
        drain_notice_s=args.drain_notice_s,
        metric_callers=_names(args.metric_callers),
        metric_features=_names(args.metric_features),
    )
    return serve(settings)
