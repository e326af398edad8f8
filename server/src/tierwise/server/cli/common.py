"""Helpers shared by the CLI's subcommands."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from tierwise.sdk import TierwiseClient

DEFAULT_CLIENT_ADDRESS = "127.0.0.1:50051"


def env_default(name: str, fallback: str | None = None) -> str | None:
    """The environment is read only at the edge: TIERWISE_<NAME>."""
    return os.environ.get(f"TIERWISE_{name}", fallback)


def existing_file(value: str) -> Path:
    path = Path(value)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"no such file: {value}")
    return path


def add_client_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--address",
        default=env_default("ADDRESS", DEFAULT_CLIENT_ADDRESS),
        help="server address (env TIERWISE_ADDRESS; default %(default)s)",
    )
    parser.add_argument("--timeout-s", type=float, default=10.0, help="deadline per call")
    parser.add_argument(
        "--token-file", type=existing_file, help="file holding a bearer token for the server"
    )


def add_latency_arguments(parser: argparse.ArgumentParser) -> None:
    """The latency SLO flags of `tierwise route` and `tierwise score` (unset: the policy's
    default for the caller/feature, or no limit)."""
    parser.add_argument("--max-ttft-ms", type=float, help="latest acceptable first token (ms)")
    parser.add_argument("--max-latency-ms", type=float, help="latest acceptable last token (ms)")
    parser.add_argument(
        "--min-output-tokens-per-s", type=float, help="slowest acceptable output speed"
    )


def client_from_args(args: argparse.Namespace) -> TierwiseClient:
    from tierwise.sdk import ClientSettings, TierwiseClient

    token = args.token_file.read_text().strip() if args.token_file else None
    settings = ClientSettings(
        target=args.address,
        timeout_s=args.timeout_s,
        route_timeout_s=args.timeout_s,
        bearer_token=token,
    )
    return TierwiseClient(args.address, settings=settings)


class Progress:
    """A one-line progress counter on stderr, shown only on a terminal."""

    def __init__(self, label: str, total: int | None, stream: TextIO | None = None) -> None:
        self._label = label
        self._total = total
        self._stream = stream or sys.stderr
        self._enabled = self._stream.isatty()
        self._done = 0

    def advance(self, count: int = 1) -> None:
        self._done += count
        if self._enabled and (self._done % 25 == 0 or self._done == self._total):
            total = f"/{self._total}" if self._total else ""
            self._stream.write(f"\r{self._label}: {self._done}{total}")
            self._stream.flush()

    def close(self) -> None:
        if self._enabled:
            self._stream.write("\n")
            self._stream.flush()
