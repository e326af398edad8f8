"""The outcome store: one SQL schema, two engines (SQLite embedded, PostgreSQL for fleets).

`open_store(url)`: a file path or ``sqlite:///path`` opens SQLite; ``postgresql://…`` opens
PostgreSQL (psycopg 3, the server's optional ``postgres`` extra, imported only then).
Inserts ignore rows whose decision id is already stored, so two replicas racing to write
the same outcome keep one.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Final

from tierwise.server.outcomes.records import DecisionRecord, OutcomeRecord, StoredOutcome


class StoreError(Exception):
    """The store cannot be opened or used; the message names it."""


_SCHEMA: Final = (
    """CREATE TABLE IF NOT EXISTS tierwise_decisions (
        decision_id TEXT PRIMARY KEY,
        decided_at DOUBLE PRECISION NOT NULL,
        strategy TEXT NOT NULL,
        tier TEXT NOT NULL,
        plan_tiers TEXT NOT NULL,
        policy_version TEXT NOT NULL,
        input_tokens BIGINT NOT NULL,
        caller TEXT NOT NULL,
        feature TEXT NOT NULL,
        query_text TEXT
    )""",
    """CREATE TABLE IF NOT EXISTS tierwise_outcomes (
        decision_id TEXT PRIMARY KEY,
        reported_at DOUBLE PRECISION NOT NULL,
        final_tier TEXT NOT NULL,
        stop_reason TEXT NOT NULL,
        caller TEXT NOT NULL,
        feature TEXT NOT NULL,
        attempts TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS tierwise_outcomes_reported_at ON tierwise_outcomes (reported_at)",
)
_INSERT_DECISION: Final = (
    "INSERT INTO tierwise_decisions (decision_id, decided_at, strategy, tier, plan_tiers, "
    "policy_version, input_tokens, caller, feature, query_text) "
    "VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}) ON CONFLICT DO NOTHING"
)
_INSERT_OUTCOME: Final = (
    "INSERT INTO tierwise_outcomes (decision_id, reported_at, final_tier, stop_reason, caller, "
    "feature, attempts) VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}) ON CONFLICT DO NOTHING"
)
_SELECT_SINCE: Final = (
    "SELECT o.decision_id, o.reported_at, o.final_tier, o.stop_reason, o.caller, o.feature, "
    "o.attempts, d.decided_at, d.strategy, d.tier, d.plan_tiers, d.policy_version, "
    "d.input_tokens, d.caller, d.feature, d.query_text, d.decision_id "
    "FROM tierwise_outcomes o LEFT JOIN tierwise_decisions d ON d.decision_id = o.decision_id "
    "WHERE o.reported_at >= {p} ORDER BY o.reported_at, o.decision_id"
)
# Plan tiers are few short ids: a separator beats JSON for them.
_SEP: Final = ","


def _decision_row(d: DecisionRecord) -> tuple[Any, ...]:
    return (
        d.decision_id,
        d.decided_at,
        d.strategy,
        d.tier,
        _SEP.join(d.plan_tiers),
        d.policy_version,
        d.input_tokens,
        d.caller,
        d.feature,
        d.query_text,
    )


def _outcome_row(o: OutcomeRecord) -> tuple[Any, ...]:
    return (
        o.decision_id,
        o.reported_at,
        o.final_tier,
        o.stop_reason,
        o.caller,
        o.feature,
        o.attempts_json(),
    )


def _stored(row: Sequence[Any]) -> StoredOutcome:
    outcome = OutcomeRecord(
        decision_id=row[0],
        reported_at=float(row[1]),
        final_tier=row[2],
        stop_reason=row[3],
        caller=row[4],
        feature=row[5],
        attempts=OutcomeRecord.attempts_from_json(row[6]),
    )
    decision = None
    if row[16] is not None:
        decision = DecisionRecord(
            decision_id=row[16],
            decided_at=float(row[7]),
            strategy=row[8],
            tier=row[9],
            plan_tiers=tuple(t for t in str(row[10]).split(_SEP) if t),
            policy_version=row[11],
            input_tokens=int(row[12]),
            caller=row[13],
            feature=row[14],
            query_text=row[15],
        )
    return StoredOutcome(outcome, decision)


class SqlStore:
    """The shared SQL; subclasses give a DB-API connection and its placeholder."""

    placeholder = "?"
    # True when several replicas share the store: ids issued elsewhere are judged by it.
    shared = False

    def __init__(self, connection: Any, description: str) -> None:
        self._connection = connection
        self.description = description
        # One connection, used by the writer thread and by ReportOutcomes' look-ups.
        self._lock = threading.Lock()
        with self._lock:
            cursor = self._connection.cursor()
            for statement in _SCHEMA:
                cursor.execute(statement)
            self._connection.commit()

    def _sql(self, template: str) -> str:
        return template.format(p=self.placeholder)

    def write(self, decisions: Iterable[DecisionRecord], outcomes: Iterable[OutcomeRecord]) -> None:
        decision_rows = [_decision_row(d) for d in decisions]
        outcome_rows = [_outcome_row(o) for o in outcomes]
        with self._lock:
            cursor = self._connection.cursor()
            try:
                if decision_rows:
                    cursor.executemany(self._sql(_INSERT_DECISION), decision_rows)
                if outcome_rows:
                    cursor.executemany(self._sql(_INSERT_OUTCOME), outcome_rows)
                self._connection.commit()
            except Exception:
                self._connection.rollback()
                raise

    def _exists(self, table: str, decision_id: str) -> bool:
        sql = self._sql(f"SELECT 1 FROM {table} WHERE decision_id = {{p}}")
        with self._lock:
            cursor = self._connection.cursor()
            cursor.execute(sql, (decision_id,))
            found = cursor.fetchone() is not None
            # PostgreSQL opens a transaction for a SELECT too: end it.
            self._connection.commit()
        return found

    def has_decision(self, decision_id: str) -> bool:
        return self._exists("tierwise_decisions", decision_id)

    def has_outcome(self, decision_id: str) -> bool:
        return self._exists("tierwise_outcomes", decision_id)

    def outcomes_since(self, since_unix_s: float) -> list[StoredOutcome]:
        with self._lock:
            cursor = self._connection.cursor()
            cursor.execute(self._sql(_SELECT_SINCE), (since_unix_s,))
            rows = cursor.fetchall()
            self._connection.commit()
        return [_stored(row) for row in rows]

    def close(self) -> None:
        with self._lock:
            self._connection.close()


class SqliteStore(SqlStore):
    placeholder = "?"

    def __init__(self, path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(path, check_same_thread=False, timeout=5.0)
            # WAL: `tierwise replay --from-store` can read while the server writes.
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            super().__init__(connection, f"sqlite {path}")
        except (OSError, sqlite3.Error) as error:
            raise StoreError(f"outcome store sqlite {path}: {error}") from error


class PostgresStore(SqlStore):
    placeholder = "%s"
    shared = True

    def __init__(self, url: str) -> None:
        try:
            import psycopg
        except ImportError as error:
            raise StoreError(
                "outcome store: PostgreSQL needs psycopg (pip install 'tierwise-server[postgres]')"
            ) from error
        try:
            connection = psycopg.connect(url, connect_timeout=10)
            super().__init__(connection, f"postgresql {_redacted(url)}")
        except psycopg.Error as error:
            raise StoreError(f"outcome store {_redacted(url)}: {error}") from error


def _redacted(url: str) -> str:
    """The URL without its password (it goes to logs and error messages)."""
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not sep or not at:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"


def open_store(url: str) -> SqlStore:
    """SQLite for a path or sqlite:///path, PostgreSQL for postgres(ql)://…"""
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresStore(url)
    path = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else url
    if "://" in path:
        raise StoreError(
            f"outcome store {url!r}: expected a file path, sqlite:///… or postgresql://…"
        )
    return SqliteStore(Path(path))
