"""Strict readers for the TOML data files: typed getters that name file and dotted key on error.

Every table is read through a :class:`Section`; ``finish()`` rejects keys nobody asked for, so a
typo in a data file is an error instead of a silently ignored setting.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

from tierwise.cost_tables.errors import TableFileError


def packaged_data_path(name: str) -> Path:
    """Path of a data file shipped inside the package (``data/<name>``)."""
    return Path(str(resources.files("tierwise.cost_tables").joinpath("data", name)))


def read_toml(path: str | Path) -> tuple[str, dict[str, object]]:
    """Parse ``path``; unreadable or malformed files become :class:`TableFileError`."""
    shown = str(path)
    try:
        with open(path, "rb") as handle:
            return shown, tomllib.load(handle)
    except FileNotFoundError:
        raise TableFileError(shown, "<file>", "file not found") from None
    except OSError as exc:
        raise TableFileError(shown, "<file>", f"cannot read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise TableFileError(shown, "<file>", f"invalid TOML: {exc}") from None


class Section:
    """One TOML table, read with typed getters that remember which keys were used."""

    def __init__(self, path: str, key: str, data: Mapping[str, object]) -> None:
        self.path = path
        self.key = key
        self.data = data
        self._used: set[str] = set()

    def _where(self, name: str) -> str:
        return f"{self.key}.{name}" if self.key else name

    def error(self, name: str, problem: str) -> TableFileError:
        return TableFileError(self.path, self._where(name), problem)

    def has(self, name: str) -> bool:
        return name in self.data

    def _get(self, name: str) -> object:
        self._used.add(name)
        if name not in self.data:
            raise self.error(name, "missing required key")
        return self.data[name]

    def string(self, name: str, *, choices: tuple[str, ...] | None = None) -> str:
        value = self._get(name)
        if not isinstance(value, str) or not value.strip():
            raise self.error(name, f"must be a non-empty string (got {value!r})")
        if choices is not None and value not in choices:
            raise self.error(name, f"must be one of {', '.join(choices)} (got {value!r})")
        return value

    def opt_string(self, name: str, default: str) -> str:
        """Only for free-text annotations (notes), never for numbers."""
        if name not in self.data:
            self._used.add(name)
            return default
        value = self._get(name)
        if not isinstance(value, str):
            raise self.error(name, f"must be a string (got {value!r})")
        return value

    def number(
        self,
        name: str,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
        positive: bool = False,
    ) -> float:
        value = self._get(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(name, f"must be a number (got {value!r})")
        number = float(value)
        if not math.isfinite(number):
            raise self.error(name, f"must be finite (got {value!r})")
        if positive and number <= 0:
            raise self.error(name, f"must be > 0 (got {value!r})")
        if minimum is not None and number < minimum:
            raise self.error(name, f"must be >= {minimum:g} (got {value!r})")
        if maximum is not None and number > maximum:
            raise self.error(name, f"must be <= {maximum:g} (got {value!r})")
        return number

    def integer(self, name: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
        value = self._get(name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(name, f"must be an integer (got {value!r})")
        if minimum is not None and value < minimum:
            raise self.error(name, f"must be >= {minimum} (got {value!r})")
        if maximum is not None and value > maximum:
            raise self.error(name, f"must be <= {maximum} (got {value!r})")
        return value

    def raw(self, name: str) -> object:
        return self._get(name)

    def string_list(self, name: str) -> tuple[str, ...]:
        value = self._get(name)
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(v, str) and v for v in value)
        ):
            raise self.error(name, f"must be a non-empty list of strings (got {value!r})")
        return tuple(str(v) for v in value)

    def table(self, name: str) -> Section:
        value = self._get(name)
        if not isinstance(value, dict):
            raise self.error(name, f"must be a table (got {value!r})")
        return Section(self.path, self._where(name), value)

    def opt_table(self, name: str) -> Section | None:
        if name not in self.data:
            self._used.add(name)
            return None
        return self.table(name)

    def subtables(self) -> list[tuple[str, Section]]:
        """All entries of this table, each of which must itself be a table."""
        out: list[tuple[str, Section]] = []
        for name in self.data:
            out.append((name, self.table(name)))
        if not out:
            raise TableFileError(self.path, self.key or "<file>", "must not be empty")
        return out

    def finish(self) -> None:
        unknown = sorted(set(self.data) - self._used)
        if unknown:
            raise self.error(unknown[0], "unknown key (typo?)")
