"""Shared fixtures: a tiny router bundle built here, and a real server on port 0."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tiny_router import TEST_POLICY, build_tiny_bundle

from tierwise.sdk import TierwiseClient
from tierwise.server.config import ServerSettings
from tierwise.server.rpc.app import TierwiseServer, load_components


@pytest.fixture(scope="session")
def tiny_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_bundle(tmp_path_factory.mktemp("tiny_bundle"))


@pytest.fixture(scope="session")
def test_policy_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("policy") / "policy.toml"
    path.write_text(TEST_POLICY)
    return path


@pytest.fixture
def tiny_settings(tiny_bundle: Path, test_policy_file: Path) -> ServerSettings:
    return ServerSettings(
        address="127.0.0.1:0", model_dir=tiny_bundle, policy_file=test_policy_file, grace_s=1.0
    )


@pytest.fixture
def tiny_server(tiny_settings: ServerSettings) -> Iterator[TierwiseServer]:
    server = TierwiseServer(tiny_settings, load_components(tiny_settings))
    server.start()
    yield server
    server.stop(0.5)


@pytest.fixture
def client(tiny_server: TierwiseServer) -> Iterator[TierwiseClient]:
    with TierwiseClient(f"127.0.0.1:{tiny_server.port}") as sdk_client:
        yield sdk_client
