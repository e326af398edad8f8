"""structlog set-up: one JSON object per line, events named noun.verb."""

from __future__ import annotations

import hashlib
import logging
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


def query_fields(text: str, include_text: bool) -> dict[str, Any]:
    """What may be logged about a query: a short hash and the length, the text only on opt-in."""
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    fields: dict[str, Any] = {"query_sha256": digest, "query_chars": len(text)}
    if include_text:
        fields["query_text"] = text
    return fields
