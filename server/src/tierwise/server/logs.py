"""structlog set-up: one JSON object per line, events named noun.verb."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import sys
from typing import Any, TextIO

import structlog


def configure_logging(level: str = "info", stream: TextIO | None = None) -> None:
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(stream or sys.stderr),
        cache_logger_on_first_use=True,
    )


# A plain hash of a short query can be reversed by hashing guesses; keyed with a per-process
# secret it cannot. The price: equal queries hash alike only within one process's logs.
_QUERY_HASH_KEY = os.urandom(32)


def query_fields(text: str, include_text: bool) -> dict[str, Any]:
    """What may be logged about a query: a short keyed hash and the length, the text only on
    opt-in."""
    digest = hmac.new(
        _QUERY_HASH_KEY, text.encode("utf-8", "surrogatepass"), hashlib.sha256
    ).hexdigest()[:16]
    fields: dict[str, Any] = {"query_sha256": digest, "query_chars": len(text)}
    if include_text:
        fields["query_text"] = text
    return fields
