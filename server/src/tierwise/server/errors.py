"""Domain errors raised by the server's own modules (mapped to gRPC codes in status.py)."""

from __future__ import annotations


class TierwiseServerError(Exception):
    """Base of the server's domain errors."""


class InvalidRequestError(TierwiseServerError):
    """The request is malformed; `field` names what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class PolicyError(TierwiseServerError):
    """A policy document is invalid; the message names the file (or source) and key."""

    def __init__(self, source: str, key: str, problem: str) -> None:
        super().__init__(f"policy {source}: {key}: {problem}")
        self.source = source
        self.key = key


class StartupError(TierwiseServerError):
    """The service cannot start: a file is missing or invalid. The message names it."""


class LatencyTableError(TierwiseServerError):
    """A latency (telemetry) file is invalid or names tiers the cost table does not have; the
    message names the file and the key."""
