"""Render rows of values as an aligned text table, CSV, Markdown or JSON (stdout formats)."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, is_dataclass
from typing import Literal

Format = Literal["table", "json", "csv", "markdown"]
FORMATS: tuple[Format, ...] = ("table", "json", "csv", "markdown")


def cell(value: object) -> str:
    """Human formatting: enough digits for sub-cent prices, thousands separators for counts."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value == 0 or not math.isfinite(value):
            return f"{value:g}"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        if abs(value) >= 1:
            return f"{value:.4g}" if abs(value) < 100 else f"{value:.1f}"
        return f"{value:.6f}".rstrip("0").rstrip(".") if abs(value) >= 1e-6 else f"{value:.3e}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    return str(value)


def to_jsonable(value: object) -> object:
    """Dataclasses -> dicts, tuples -> lists, recursively (for ``json.dumps``)."""
    if is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(asdict(value))
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return value


def render_json(value: object) -> str:
    return json.dumps(to_jsonable(value), indent=2, sort_keys=False)


def render_rows(rows: Sequence[Mapping[str, object]], columns: Sequence[str], fmt: Format) -> str:
    """Render ``rows`` (dicts keyed by ``columns``) in ``fmt``; JSON keeps raw values."""
    if fmt == "json":
        return render_json([{c: row.get(c) for c in columns} for row in rows])
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if row.get(c) is None else _csv(row.get(c)) for c in columns])
        return buffer.getvalue().rstrip("\n")
    cells = [[cell(row.get(c)) for c in columns] for row in rows]
    if fmt == "markdown":
        lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in cells]
        return "\n".join(lines)
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines)


def _csv(value: object) -> str:
    """CSV keeps full precision (it is for machines); lists become '; '-joined text."""
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    return repr(value) if isinstance(value, float) else str(value)


def render_key_values(pairs: Sequence[tuple[str, object]], fmt: Format) -> str:
    """One record as key/value lines (table), a 2-column table (markdown/csv) or an object."""
    if fmt == "json":
        return render_json(dict(pairs))
    rows = [{"key": k, "value": v} for k, v in pairs]
    return render_rows(rows, ("key", "value"), fmt)
