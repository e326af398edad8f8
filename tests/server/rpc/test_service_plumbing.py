"""Health, reflection, graceful shutdown and start-up errors of the real server."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from repo_paths import REPO

from tierwise.server.config import ServerSettings
from tierwise.server.errors import StartupError
from tierwise.server.rpc.app import TierwiseServer, load_components


def test_health_reports_serving_for_every_service(tiny_server: TierwiseServer) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{tiny_server.port}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        for service in ("", "tierwise.v1.RouterService", "tierwise.v1.PricingService"):
            response = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
            assert response.status == health_pb2.HealthCheckResponse.SERVING


def test_reflection_lists_the_services(tiny_server: TierwiseServer) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{tiny_server.port}") as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        response = next(iter(stub.ServerReflectionInfo(iter([request]), timeout=5)))
    names = {s.name for s in response.list_services_response.service}
    assert {
        "tierwise.v1.RouterService",
        "tierwise.v1.PricingService",
        "tierwise.v1.AdminService",
        "grpc.health.v1.Health",
    } <= names


def test_stop_flips_health_to_not_serving(tiny_settings: ServerSettings) -> None:
    server = TierwiseServer(tiny_settings, load_components(tiny_settings))
    server.start()
    server.stop(0.2)
    assert server.health._server_status[""] == health_pb2.HealthCheckResponse.NOT_SERVING


def test_port_in_use_is_a_startup_error(
    tiny_server: TierwiseServer, tiny_settings: ServerSettings
) -> None:
    settings = ServerSettings(
        address=f"127.0.0.1:{tiny_server.port}",
        model_dir=tiny_settings.model_dir,
        policy_file=tiny_settings.policy_file,
    )
    second = TierwiseServer(settings, load_components(settings))
    with pytest.raises(StartupError, match="cannot listen"):
        second.start()


@pytest.mark.parametrize("broken", ["manifest.json", "router.onnx", "tokenizer.json"])
def test_corrupt_model_files_refuse_to_start_naming_the_file(
    tiny_bundle: Path, tmp_path: Path, broken: str
) -> None:
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    for item in tiny_bundle.iterdir():
        (bundle / item.name).write_bytes(item.read_bytes())
    (bundle / broken).write_bytes(b"\x00not what it should be")
    with pytest.raises(StartupError) as raised:
        load_components(ServerSettings(model_dir=bundle))
    assert broken in str(raised.value)


def test_missing_model_dir_and_bad_tables_refuse_to_start(tmp_path: Path) -> None:
    with pytest.raises(StartupError, match="nowhere"):
        load_components(ServerSettings(model_dir=tmp_path / "nowhere"))
    tiers = tmp_path / "tiers.toml"
    tiers.write_text("[tiers.haiku]\nusd_per_mtok_input = -1\n")
    with pytest.raises(StartupError, match=r"tiers\.toml"):
        load_components(ServerSettings(tiers_file=tiers))


def test_policy_missing_a_tier_refuses_to_start(tiny_bundle: Path, tmp_path: Path) -> None:
    policy = tmp_path / "p.toml"
    policy.write_text('version = "v"\nquality_target = 0.5\n[tiers.haiku]\nability = 1\n')
    with pytest.raises(StartupError, match="no ability for tier"):
        load_components(ServerSettings(model_dir=tiny_bundle, policy_file=policy))


def test_packaged_policy_matches_the_shipped_model() -> None:
    import importlib.util

    script = REPO / "scripts" / "write_default_policy.py"
    spec = importlib.util.spec_from_file_location("write_default_policy", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--check"]) == 0
