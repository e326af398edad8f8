"""Encoder names come from the model manifest: a bundle may call its encoders anything."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from tiny_router import TEST_POLICY

from tierwise.classifier.runtime import RouterModel
from tierwise.sdk import TierwiseClient
from tierwise.server.config import ServerSettings
from tierwise.server.errors import StartupError
from tierwise.server.rpc.app import TierwiseServer, load_components


def _renamed_bundle(tiny_bundle: Path, tmp_path: Path) -> Path:
    bundle = tmp_path / "bundle"
    shutil.copytree(tiny_bundle, bundle)
    manifest = json.loads((bundle / "manifest.json").read_text())
    spec = manifest["encoders"]["transformer"]
    manifest["encoders"] = {"mini": spec, "other": spec}
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    return bundle


def test_a_bundle_names_its_own_encoders(tiny_bundle: Path, tmp_path: Path) -> None:
    bundle = _renamed_bundle(tiny_bundle, tmp_path)
    assert RouterModel.load(bundle).encoder == "mini"  # the first listed is the default
    policy = tmp_path / "policy.toml"
    policy.write_text(TEST_POLICY)
    settings = ServerSettings(
        address="127.0.0.1:0", model_dir=bundle, policy_file=policy, encoder="other"
    )
    server = TierwiseServer(settings, load_components(settings))
    server.start()
    try:
        with TierwiseClient(f"127.0.0.1:{server.port}") as client:
            assert client.route("what is 2 + 2").encoder == "other"
    finally:
        server.stop(0)


def test_an_encoder_the_manifest_does_not_list_is_a_startup_error(
    tiny_bundle: Path, tmp_path: Path
) -> None:
    bundle = _renamed_bundle(tiny_bundle, tmp_path)
    with pytest.raises(StartupError, match=r"encoder 'transformer' not in bundle.*'mini'"):
        load_components(ServerSettings(model_dir=bundle))
