"""A server whose policy has cascade thresholds and an SQLite outcome store (tests share it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tiny_router import TEST_POLICY

from tierwise.server.config import ServerSettings
from tierwise.server.rpc.app import TierwiseServer, load_components

THRESHOLDS = {"self-hosted": 0.6, "haiku": 0.7, "sonnet": 0.8}
CASCADE_POLICY = (
    TEST_POLICY
    + """
[cascade]
default_strategy = "classifier"
verifier_auc = 0.8
[cascade.thresholds]
"self-hosted" = 0.6
haiku = 0.7
sonnet = 0.8
"""
)


@pytest.fixture
def cascade_server(tiny_bundle: Path, tmp_path: Path) -> Iterator[TierwiseServer]:
    policy = tmp_path / "policy.toml"
    policy.write_text(CASCADE_POLICY)
    settings = ServerSettings(
        address="127.0.0.1:0",
        model_dir=tiny_bundle,
        policy_file=policy,
        grace_s=1.0,
        outcome_store=str(tmp_path / "outcomes.sqlite"),
        store_query_text=True,
        max_outcomes_per_batch=20,
    )
    server = TierwiseServer(settings, load_components(settings))
    server.start()
    yield server
    server.stop(0.5)
