"""Client settings: named defaults with units in their names."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Final

DEFAULT_TARGET: Final = "127.0.0.1:50051"
# Routing sits before every LLM call: a decision that takes longer than this is worth less
# than the fail-open tier.
DEFAULT_ROUTE_TIMEOUT_S: Final = 1.0
DEFAULT_TIMEOUT_S: Final = 10.0
DEFAULT_MAX_ATTEMPTS: Final = 3
DEFAULT_MAX_MESSAGE_BYTES: Final = 8 * 1024 * 1024
# route(): attempts within its deadline, each but the last at most this fraction of it, so a
# hung replica costs ≈ a quarter of the deadline before the next replica is tried.
DEFAULT_ROUTE_ATTEMPTS: Final = 3
DEFAULT_ROUTE_ATTEMPT_FRACTION: Final = 0.25
# Keepalive pings: a replica that stops answering them (frozen, partitioned) has its
# connection closed within ≈ time + timeout, and round robin stops picking it until it
# accepts a new connection. Tierwise servers allow pings this often.
DEFAULT_KEEPALIVE_TIME_MS: Final = 1_000
DEFAULT_KEEPALIVE_TIMEOUT_MS: Final = 1_000
# Outlier ejection (several replicas): a replica whose attempt timed out or was UNAVAILABLE
# is left out for ejection_base_s, doubling per consecutive ejection up to ejection_max_s;
# then a health check (probe_timeout_s) off the caller's path decides whether it is back.
DEFAULT_EJECTION_BASE_S: Final = 1.0
DEFAULT_EJECTION_MAX_S: Final = 30.0
DEFAULT_PROBE_TIMEOUT_S: Final = 0.5
# "dns:" targets are resolved by the SDK (one channel per address) and again this often, so
# replicas added by a scale-out are picked up.
DEFAULT_DNS_REFRESH_S: Final = 30.0

_SERVICES: Final = (
    "tierwise.v1.RouterService",
    "tierwise.v1.PricingService",
    "tierwise.v1.AdminService",
    "tierwise.v1.OutcomeService",
)


@dataclass(frozen=True)
class TlsSettings:
    """PEM bytes for TLS; client certificate and key together enable mTLS."""

    root_certificates: bytes | None = None
    client_certificate: bytes | None = None
    client_private_key: bytes | None = None
    # Override the name checked against the server certificate (tests, IP targets).
    server_name_override: str | None = None


@dataclass(frozen=True)
class ClientSettings:
    """How to reach Tierwise and how long to wait.

    `target` is any gRPC target. "dns:///svc.ns:50051" (every address the name resolves to)
    and "ipv4:10.0.0.1:50051,10.0.0.2:50051" name several replicas: the client keeps one
    channel per replica, spreads calls over them and ejects one that hangs (_replicas.py).
    Any other target ("host:port") is one channel that gRPC resolves and balances.
    """

    target: str = DEFAULT_TARGET
    route_timeout_s: float = DEFAULT_ROUTE_TIMEOUT_S
    timeout_s: float = DEFAULT_TIMEOUT_S
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    route_attempts: int = DEFAULT_ROUTE_ATTEMPTS
    route_attempt_fraction: float = DEFAULT_ROUTE_ATTEMPT_FRACTION
    keepalive_time_ms: int = DEFAULT_KEEPALIVE_TIME_MS
    keepalive_timeout_ms: int = DEFAULT_KEEPALIVE_TIMEOUT_MS
    ejection_base_s: float = DEFAULT_EJECTION_BASE_S
    ejection_max_s: float = DEFAULT_EJECTION_MAX_S
    probe_timeout_s: float = DEFAULT_PROBE_TIMEOUT_S
    dns_refresh_s: float = DEFAULT_DNS_REFRESH_S
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    fail_open_tier: str | None = None
    bearer_token: str | None = None
    tls: TlsSettings | None = None
    extra_channel_options: tuple[tuple[str, str | int], ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.target.strip():
            raise ValueError("target: must not be empty")
        for name in ("route_timeout_s", "timeout_s", "probe_timeout_s", "dns_refresh_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name}: must be > 0")
        if not 1 <= self.max_attempts <= 5:
            raise ValueError("max_attempts: must be between 1 and 5 (gRPC caps retries at 5)")
        if not 1 <= self.route_attempts <= 5:
            raise ValueError("route_attempts: must be between 1 and 5")
        if not 0 < self.route_attempt_fraction <= 1:
            raise ValueError("route_attempt_fraction: must be in (0, 1]")
        if not 0 < self.ejection_base_s <= self.ejection_max_s:
            raise ValueError("ejection_base_s: must be > 0 and <= ejection_max_s")
        if self.bearer_token is not None and self.tls is None and not _is_loopback(self.target):
            raise ValueError(
                "bearer_token: sending a token without TLS is only allowed on loopback"
            )

    def service_config_json(self) -> str:
        """Retries only on UNAVAILABLE, and round-robin over every resolved address."""
        retry = {
            "maxAttempts": self.max_attempts,
            "initialBackoff": "0.02s",
            "maxBackoff": "0.2s",
            "backoffMultiplier": 2,
            "retryableStatusCodes": ["UNAVAILABLE"],
        }
        method: dict[str, object] = {"name": [{"service": s} for s in _SERVICES]}
        if self.max_attempts > 1:  # grpc rejects a retry policy with maxAttempts < 2
            method["retryPolicy"] = retry
        # No client-side health checking (healthCheckConfig): its Watch stream would hold
        # one server thread per client channel for the channel's whole life.
        config = {"loadBalancingConfig": [{"round_robin": {}}], "methodConfig": [method]}
        return json.dumps(config)

    def channel_options(self) -> list[tuple[str, str | int]]:
        options: list[tuple[str, str | int]] = [
            ("grpc.service_config", self.service_config_json()),
            ("grpc.enable_retries", 1),
            ("grpc.max_send_message_length", self.max_message_bytes),
            ("grpc.max_receive_message_length", self.max_message_bytes),
            # Reconnect quickly after a replica restarts instead of backing off for seconds.
            ("grpc.initial_reconnect_backoff_ms", 100),
            ("grpc.max_reconnect_backoff_ms", 1000),
            ("grpc.keepalive_time_ms", self.keepalive_time_ms),
            ("grpc.keepalive_timeout_ms", self.keepalive_timeout_ms),
            ("grpc.keepalive_permit_without_calls", 1),
            ("grpc.http2.max_pings_without_data", 0),
        ]
        if self.tls is not None and self.tls.server_name_override:
            options.append(("grpc.ssl_target_name_override", self.tls.server_name_override))
        options.extend(self.extra_channel_options)
        return options


def _is_loopback(target: str) -> bool:
    host = target.split("///")[-1].removeprefix("ipv4:").removeprefix("ipv6:")
    return host.startswith(("127.", "localhost", "[::1]", "::1", "unix:"))
