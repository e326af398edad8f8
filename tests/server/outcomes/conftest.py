"""The outcome store under test: SQLite always, PostgreSQL where its package is installed."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from postgres_server import postgres_bindir, running_postgres


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    bindir = postgres_bindir()
    if bindir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed: CI must run `make install` first")
        pytest.skip("PostgreSQL is not installed (make install installs Debian's package)")
    with running_postgres(bindir) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield str(tmp_path / "outcomes.sqlite")
        return
    url: str = request.getfixturevalue("postgres_url")
    # One database per test: the server is shared by the session.
    import psycopg

    name = f"t{os.urandom(6).hex()}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    yield url.rsplit("/", 1)[0] + f"/{name}"
