"""Server settings: frozen, with named defaults. The environment is read only by the CLI."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

DEFAULT_ADDRESS: Final = "127.0.0.1:50051"
# ONNX calls release the GIL and intra-op threads are pinned to 1, so a few more workers than
# cores keeps both cores busy while others parse and serialise.
DEFAULT_MAX_WORKERS: Final = 8
# Beyond this many in-flight RPCs new ones get RESOURCE_EXHAUSTED at once instead of queueing.
DEFAULT_MAX_CONCURRENT_RPCS: Final = 64
# A 1 MB query must fit with room for chat framing.
DEFAULT_MAX_MESSAGE_BYTES: Final = 4 * 1024 * 1024
DEFAULT_GRACE_S: Final = 5.0
# On SIGTERM health reports NOT_SERVING for this long (while still answering) before the
# drain starts, so probes and health-checking clients see the pod leave. Part of grace_s.
DEFAULT_DRAIN_NOTICE_S: Final = 1.0
DEFAULT_MAX_BATCH_REQUESTS: Final = 1024
# Threads and in-flight caps (running + waiting for a thread) of the other work classes
# (rpc/admission.py). Route uses max_workers / max_concurrent_rpcs above. Pricing and batch
# work is CPU-bound Python: one or two threads, so Route keeps most of the GIL under a flood.
DEFAULT_BATCH_WORKERS: Final = 2
DEFAULT_BATCH_MAX_IN_FLIGHT: Final = 16
DEFAULT_PRICING_WORKERS: Final = 1
DEFAULT_PRICING_MAX_IN_FLIGHT: Final = 16
DEFAULT_ADMIN_WORKERS: Final = 1
DEFAULT_ADMIN_MAX_IN_FLIGHT: Final = 4
DEFAULT_HEALTH_WORKERS: Final = 2
DEFAULT_HEALTH_MAX_IN_FLIGHT: Final = 32
DEFAULT_OTHER_WORKERS: Final = 2
DEFAULT_OTHER_MAX_IN_FLIGHT: Final = 8
# QuoteWorkload prices every input × output histogram bucket pair per API tier (and again for
# each break-even pair and batch side): one price evaluation takes ≈5 µs of Python, so this
# bounds one request to ≈0.1 s of CPU. Buckets per side are capped on their own as well.
DEFAULT_MAX_WORKLOAD_PRICE_EVALUATIONS: Final = 20_000
DEFAULT_MAX_HISTOGRAM_BUCKETS: Final = 256
# The shipped bundle's first encoder; any encoder its manifest lists can be chosen.
DEFAULT_ENCODER: Final = "transformer"
# Recent decisions kept for repeated requests (same text and options, same policy). An
# entry takes ≈1.5 KB whatever the query length (the key holds a digest of the text), so
# ≈6 MB when full. 0 turns the cache off.
DEFAULT_DECISION_CACHE_ENTRIES: Final = 4096
# Decision ids remembered for outcome reports (≈150 bytes each); older ones are judged by the
# outcome store when there is one.
DEFAULT_RECENT_DECISIONS: Final = 100_000
DEFAULT_MAX_OUTCOMES_PER_BATCH: Final = 500
# Intra-op threads for a model call that starts while no other call runs (RouterModel's solo
# session): MiniLM int8 on 2 cores answers a lone request in 3.7 instead of 4.6 ms (p50); the
# static-table graph is too small to gain from threads. Concurrent calls keep one thread each.
# Encoders not named here get 1.
DEFAULT_SOLO_INTRA_OP_THREADS: Final[dict[str, int]] = {"transformer": 2, "fast": 1}
# No telemetry file: API tiers use the published figures (cost_tables data/latency.toml) and
# the self-hosted tier its hardware model until the operator imports their own measurements.
DEFAULT_LATENCY_FILE: Final[Path | None] = None


@dataclass(frozen=True)
class TlsFiles:
    """Server certificate and key (PEM); a client CA turns on mutual TLS."""

    certificate_file: Path
    private_key_file: Path
    client_ca_file: Path | None = None


@dataclass(frozen=True)
class ServerSettings:
    address: str = DEFAULT_ADDRESS
    max_workers: int = DEFAULT_MAX_WORKERS
    max_concurrent_rpcs: int = DEFAULT_MAX_CONCURRENT_RPCS
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    grace_s: float = DEFAULT_GRACE_S
    drain_notice_s: float = DEFAULT_DRAIN_NOTICE_S
    max_batch_requests: int = DEFAULT_MAX_BATCH_REQUESTS
    batch_workers: int = DEFAULT_BATCH_WORKERS
    batch_max_in_flight: int = DEFAULT_BATCH_MAX_IN_FLIGHT
    pricing_workers: int = DEFAULT_PRICING_WORKERS
    pricing_max_in_flight: int = DEFAULT_PRICING_MAX_IN_FLIGHT
    admin_workers: int = DEFAULT_ADMIN_WORKERS
    admin_max_in_flight: int = DEFAULT_ADMIN_MAX_IN_FLIGHT
    health_workers: int = DEFAULT_HEALTH_WORKERS
    health_max_in_flight: int = DEFAULT_HEALTH_MAX_IN_FLIGHT
    other_workers: int = DEFAULT_OTHER_WORKERS
    other_max_in_flight: int = DEFAULT_OTHER_MAX_IN_FLIGHT
    max_workload_price_evaluations: int = DEFAULT_MAX_WORKLOAD_PRICE_EVALUATIONS
    max_histogram_buckets: int = DEFAULT_MAX_HISTOGRAM_BUCKETS
    decision_cache_entries: int = DEFAULT_DECISION_CACHE_ENTRIES
    # None: DEFAULT_SOLO_INTRA_OP_THREADS for the encoder, capped at the machine's cores.
    solo_intra_op_threads: int | None = None
    # None means the packaged defaults.
    tiers_file: Path | None = None
    policy_file: Path | None = None
    # Observed per-tier latency (`tierwise latency import`); reloaded with the policy.
    latency_file: Path | None = DEFAULT_LATENCY_FILE
    # None: the packaged published latency table.
    published_latency_file: Path | None = None
    model_dir: Path | None = None
    # A name from the model manifest's `encoders` (checked when the model loads).
    encoder: str = DEFAULT_ENCODER
    enable_reflection: bool = True
    enable_health: bool = True
    # Off by default: only a hash and the length of queries are logged.
    log_query_text: bool = False
    metrics_address: str | None = None
    tls: TlsFiles | None = None
    # Bearer tokens accepted; empty disables authentication.
    auth_tokens: tuple[str, ...] = ()
    # Tokens for AdminService (policy reloads); only these are accepted there. Empty: the
    # auth_tokens above, which on a non-loopback address needs insecure_admin.
    admin_tokens: tuple[str, ...] = ()
    # Outcome store: a SQLite file path (or sqlite:///path) or a postgresql:// URL; None keeps
    # outcomes in metrics only.
    outcome_store: str | None = None
    # Off by default: the store keeps raw query text only when the operator opts in (replay
    # from the store needs it to score the queries).
    store_query_text: bool = False
    recent_decisions: int = DEFAULT_RECENT_DECISIONS
    max_outcomes_per_batch: int = DEFAULT_MAX_OUTCOMES_PER_BATCH
    # False: AdminService is not served at all.
    enable_admin: bool = True
    # Allow AdminService on a non-loopback address without admin tokens (off: refuse to start).
    insecure_admin: bool = False
    # RouteRequest.caller / .feature values kept as metric labels; others count as "other".
    metric_callers: tuple[str, ...] = ()
    metric_features: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in (
            "max_workers",
            "max_concurrent_rpcs",
            "max_message_bytes",
            "recent_decisions",
            "max_outcomes_per_batch",
            "max_workload_price_evaluations",
            "max_histogram_buckets",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}: must be >= 1")
        if self.max_concurrent_rpcs < self.max_workers:
            raise ValueError("max_concurrent_rpcs: must be >= max_workers")
        if self.decision_cache_entries < 0:
            raise ValueError("decision_cache_entries: must be >= 0 (0 turns the cache off)")
        if self.solo_intra_op_threads is not None and self.solo_intra_op_threads < 1:
            raise ValueError("solo_intra_op_threads: must be >= 1 (1 turns the solo session off)")
        if self.grace_s < 0:
            raise ValueError("grace_s: must be >= 0")
        if not self.encoder.strip():
            raise ValueError("encoder: must name an encoder of the model bundle")
        if self.drain_notice_s < 0:
            raise ValueError("drain_notice_s: must be >= 0")
        for work in ("batch", "pricing", "admin", "health", "other"):
            workers, cap = getattr(self, f"{work}_workers"), getattr(self, f"{work}_max_in_flight")
            if workers < 1:
                raise ValueError(f"{work}_workers: must be >= 1")
            if cap < workers:
                raise ValueError(f"{work}_max_in_flight: must be >= {work}_workers")

    @property
    def admin_is_exposed(self) -> bool:
        """AdminService would take unauthenticated-by-its-own-token calls from the network."""
        return self.enable_admin and not self.admin_tokens and not is_loopback(self.address)

    @property
    def solo_threads(self) -> int:
        """Threads for a lone model call (1: no solo session)."""
        if self.solo_intra_op_threads is not None:
            return self.solo_intra_op_threads
        wanted = DEFAULT_SOLO_INTRA_OP_THREADS.get(self.encoder, 1)
        return max(1, min(wanted, os.cpu_count() or 1))


def is_loopback(address: str) -> bool:
    """Whether HOST:PORT only accepts connections from this machine."""
    host = address.rpartition(":")[0].strip("[]")
    return host in ("localhost", "::1") or host.startswith("127.") or address.startswith("unix:")
