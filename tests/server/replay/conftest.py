"""The router every replay test scores with (tiny model, test policy)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tierwise.server.config import ServerSettings
from tierwise.server.routing.router import Router
from tierwise.server.rpc.app import load_components


@pytest.fixture(scope="module")
def router(tiny_bundle: Path, test_policy_file: Path) -> Router:
    settings = ServerSettings(model_dir=tiny_bundle, policy_file=test_policy_file)
    return load_components(settings).router
