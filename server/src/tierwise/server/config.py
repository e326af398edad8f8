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
DEFAULT_MAX_BATCH_REQUESTS: Final = 1024
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
    max_batch_requests: int = DEFAULT_MAX_BATCH_REQUESTS
    decision_cache_entries: int = DEFAULT_DECISION_CACHE_ENTRIES
    # None: DEFAULT_SOLO_INTRA_OP_THREADS for the encoder, capped at the machine's cores.
    solo_intra_op_threads: int | None = None
    # None means the packaged defaults.
    tiers_file: Path | None = None
    policy_file: Path | None = None
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
    # Tokens for AdminService (policy reloads); empty: the auth_tokens above.
    admin_tokens: tuple[str, ...] = ()
    # Outcome store: a SQLite file path (or sqlite:///path) or a postgresql:// URL; None keeps
    # outcomes in metrics only.
    outcome_store: str | None = None
    # Off by default: the store keeps raw query text only when the operator opts in (replay
    # from the store needs it to score the queries).
    store_query_text: bool = False
    recent_decisions: int = DEFAULT_RECENT_DECISIONS
    max_outcomes_per_batch: int = DEFAULT_MAX_OUTCOMES_PER_BATCH

    def __post_init__(self) -> None:
        for name in (
            "max_workers",
            "max_concurrent_rpcs",
            "max_message_bytes",
            "recent_decisions",
            "max_outcomes_per_batch",
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

    @property
    def solo_threads(self) -> int:
        """Threads for a lone model call (1: no solo session)."""
        if self.solo_intra_op_threads is not None:
            return self.solo_intra_op_threads
        wanted = DEFAULT_SOLO_INTRA_OP_THREADS.get(self.encoder, 1)
        return max(1, min(wanted, os.cpu_count() or 1))
