"""Channel credentials and per-call metadata, shared by the sync and asyncio clients."""

from __future__ import annotations

import dataclasses
from typing import Any

import grpc

from tierwise.sdk.settings import DEFAULT_TARGET, ClientSettings


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
