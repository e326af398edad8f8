"""Channels, credentials, per-call metadata and replica endpoints, shared by the sync and
asyncio clients."""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import grpc

from tierwise.sdk._health_probe import HEALTH_CHECK_METHOD
from tierwise.sdk._replicas import EjectionPolicy
from tierwise.sdk._targets import dns_name, listed_replicas, resolve
from tierwise.sdk.settings import DEFAULT_TARGET, ClientSettings
from tierwise.v1 import admin_pb2_grpc, pricing_pb2_grpc, router_pb2_grpc


def resolve_settings(
    target: str, fail_open_tier: str | None, settings: ClientSettings | None
) -> ClientSettings:
    """The clients' keyword arguments win over `settings`; `settings` over the defaults."""
    base = settings or ClientSettings()
    overrides: dict[str, Any] = {}
    if target != DEFAULT_TARGET or settings is None:
        overrides["target"] = target
    if fail_open_tier is not None:
        overrides["fail_open_tier"] = fail_open_tier
    return dataclasses.replace(base, **overrides)


def channel_credentials(settings: ClientSettings) -> grpc.ChannelCredentials | None:
    if settings.tls is None:
        return None
    tls = settings.tls
    return grpc.ssl_channel_credentials(
        root_certificates=tls.root_certificates,
        private_key=tls.client_private_key,
        certificate_chain=tls.client_certificate,
    )


def call_metadata(settings: ClientSettings) -> tuple[tuple[str, str], ...]:
    if settings.bearer_token is None:
        return ()
    return (("authorization", f"Bearer {settings.bearer_token}"),)


C = TypeVar("C")


@dataclass(frozen=True)
class Endpoint(Generic[C]):
    """One replica's channel (grpc.Channel or grpc.aio.Channel) and the stubs on it."""

    channel: C
    router: router_pb2_grpc.RouterServiceStub
    pricing: pricing_pb2_grpc.PricingServiceStub
    admin: admin_pb2_grpc.AdminServiceStub
    health_check: Any  # raw bytes in and out (_health_probe.py)


def endpoint(channel: C) -> Endpoint[C]:
    raw: Any = channel
    return Endpoint(
        channel,
        router_pb2_grpc.RouterServiceStub(raw),
        pricing_pb2_grpc.PricingServiceStub(raw),
        admin_pb2_grpc.AdminServiceStub(raw),
        raw.unary_unary(HEALTH_CHECK_METHOD, request_serializer=None, response_deserializer=None),
    )


def initial_replicas(settings: ClientSettings) -> tuple[str, ...]:
    """The replica addresses to open channels to now (see _targets.py)."""
    listed = listed_replicas(settings.target)
    if listed:
        return listed
    name = dns_name(settings.target)
    if name is not None:
        # Not resolvable yet (a Service created after its clients): one channel on the name,
        # which gRPC resolves; the next refresh splits it per address.
        with contextlib.suppress(OSError):
            return resolve(name) or (settings.target,)
    return (settings.target,)


def replica_options(settings: ClientSettings, address: str) -> list[tuple[str, str | int]]:
    """Channel options for one replica: a "dns:" name's addresses are IPs, so TLS checks the
    certificate against the name, not the IP."""
    options = settings.channel_options()
    name = dns_name(settings.target)
    tls = settings.tls
    if name is not None and address != settings.target and tls and not tls.server_name_override:
        options.append(("grpc.ssl_target_name_override", name.host))
    return options


def ejection_policy(settings: ClientSettings) -> EjectionPolicy:
    return EjectionPolicy(settings.ejection_base_s, settings.ejection_max_s)


class RefreshSchedule:
    """When the next DNS refresh is due; one refresh at a time."""

    def __init__(self, interval_s: float) -> None:
        self._interval_s = interval_s
        self._next = time.monotonic() + interval_s
        self._busy = False
        self._lock = threading.Lock()

    def claim(self) -> bool:
        with self._lock:
            if self._busy or time.monotonic() < self._next:
                return False
            self._busy = True
            return True

    def finished(self) -> None:
        with self._lock:
            self._busy = False
            self._next = time.monotonic() + self._interval_s
