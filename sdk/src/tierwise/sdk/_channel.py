"""Channel credentials and per-call metadata, shared by the sync and asyncio clients."""

from __future__ import annotations

import grpc

from tierwise.sdk.settings import ClientSettings


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
