"""The `tierwise` command line: serve, quote, score, policy, train, ...

Heavy modules are imported inside the handlers, so `tierwise --help` stays instant.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from tierwise.server.cli import latency as cli_latency
from tierwise.server.cli import policy as cli_policy
from tierwise.server.cli import replay as cli_replay
from tierwise.server.cli import score as cli_score
from tierwise.server.cli import serve as cli_serve


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tierwise", description="Route LLM requests to the right tier and price them."
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    cli_serve.register(subparsers)
    cli_score.register(subparsers)
    cli_policy.register(subparsers)
    cli_latency.register(subparsers)
    cli_replay.register(subparsers)
    from tierwise.cost_tables.cli import register as register_cost_commands

    register_cost_commands(subparsers)
    from tierwise.classifier.cli import register as register_classifier_commands

    register_classifier_commands(subparsers)
    return parser


def _expected_errors() -> tuple[type[BaseException], ...]:
    """Errors that are the user's to fix: printed as `error: …`, exit 2, no traceback."""
    from tierwise.classifier.runtime import ModelLoadError
    from tierwise.cost_tables.errors import CostTableError
    from tierwise.sdk.errors import TierwiseError
    from tierwise.server.errors import TierwiseServerError

    return (CostTableError, TierwiseServerError, ModelLoadError, TierwiseError, OSError, ValueError)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Any = args.handler
    try:
        result: int = handler(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # Output piped into `head` and closed early: not an error. Silence the flush at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except _expected_errors() as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return result
