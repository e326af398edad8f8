"""Security: TLS and mutual TLS (certificates made here with the openssl CLI), bearer tokens,
health/reflection switches, and no raw query text in logs or metrics unless asked for."""

from __future__ import annotations

import json
import subprocess
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from soak import ServerProcess, free_port

from tierwise.sdk import (
    ClientSettings,
    InvalidArgumentError,
    TierwiseClient,
    TlsSettings,
    UnauthenticatedError,
    UnavailableError,
)
from tierwise.server.config import ServerSettings, TlsFiles
from tierwise.server.rpc.app import TierwiseServer, load_components

EASY = "what is 2 + 2"
MakeServer = Callable[..., TierwiseServer]


@dataclass(frozen=True)
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    rogue_cert: Path  # a client certificate from another CA
    rogue_key: Path


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=30)


def _ca(directory: Path, name: str) -> None:
    _openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "2", "-subj", f"/CN={name}",
        cwd=directory,
    )  # fmt: skip


def _leaf(directory: Path, name: str, ca: str, extensions: str) -> None:
    (directory / f"{name}.ext").write_text(extensions + "\n")
    _openssl(
        "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}",
        cwd=directory,
    )  # fmt: skip
    _openssl(
        "x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
        "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext",
        cwd=directory,
    )  # fmt: skip


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    d = tmp_path_factory.mktemp("pki")
    _ca(d, "ca")
    _ca(d, "rogue-ca")
    _leaf(
        d, "server", "ca", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth"
    )
    _leaf(d, "client", "ca", "extendedKeyUsage=clientAuth")
    _leaf(d, "rogue", "rogue-ca", "extendedKeyUsage=clientAuth")
    return Pki(
        ca=d / "ca.pem",
        server_cert=d / "server.pem",
        server_key=d / "server.key",
        client_cert=d / "client.pem",
        client_key=d / "client.key",
        rogue_cert=d / "rogue.pem",
        rogue_key=d / "rogue.key",
    )


def _start(settings: ServerSettings) -> TierwiseServer:
    server = TierwiseServer(settings, load_components(settings))
    server.start()
    return server


@pytest.fixture
def make_server(tiny_settings: ServerSettings) -> Iterator[MakeServer]:
    started: list[TierwiseServer] = []

    def make(**overrides: object) -> TierwiseServer:
        fields = {**tiny_settings.__dict__, **overrides}
        server = _start(ServerSettings(**fields))  # type: ignore[arg-type]
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop(0)


def _client(port: int, tls: TlsSettings | None = None, token: str | None = None) -> TierwiseClient:
    target = f"127.0.0.1:{port}"
    settings = ClientSettings(target=target, timeout_s=3, route_timeout_s=3, tls=tls)
    settings = ClientSettings(**{**settings.__dict__, "bearer_token": token})
    return TierwiseClient(target, settings=settings)


def test_tls_server_accepts_tls_clients_and_rejects_plaintext(
    make_server: MakeServer, pki: Pki
) -> None:
    server = make_server(tls=TlsFiles(pki.server_cert, pki.server_key))
    with _client(server.port, TlsSettings(root_certificates=pki.ca.read_bytes())) as client:
        assert client.route(EASY).tier == "self-hosted"
    with _client(server.port) as plaintext, pytest.raises(UnavailableError):
        plaintext.route(EASY)
    # A client that does not trust the server's CA refuses the connection.
    rogue_ca = TlsSettings(root_certificates=(pki.rogue_cert.parent / "rogue-ca.pem").read_bytes())
    with _client(server.port, rogue_ca) as untrusting, pytest.raises(UnavailableError):
        untrusting.route(EASY)


def test_mtls_requires_a_client_certificate_from_the_client_ca(
    make_server: MakeServer, pki: Pki
) -> None:
    server = make_server(tls=TlsFiles(pki.server_cert, pki.server_key, pki.ca))
    root = pki.ca.read_bytes()
    good = TlsSettings(
        root_certificates=root,
        client_certificate=pki.client_cert.read_bytes(),
        client_private_key=pki.client_key.read_bytes(),
    )
    with _client(server.port, good) as client:
        assert client.route(EASY).tier == "self-hosted"
    for tls in (
        TlsSettings(root_certificates=root),  # no client certificate
        TlsSettings(
            root_certificates=root,
            client_certificate=pki.rogue_cert.read_bytes(),
            client_private_key=pki.rogue_key.read_bytes(),
        ),  # certificate from another CA
    ):
        with _client(server.port, tls) as client, pytest.raises(UnavailableError):
            client.route(EASY)
    with _client(server.port) as plaintext, pytest.raises(UnavailableError):
        plaintext.route(EASY)


def test_bearer_tokens(make_server: MakeServer) -> None:
    server = make_server(auth_tokens=("s3cret-token", "rotated-token"))
    for token in (None, "wrong", "s3cret-token-but-longer", ""):
        with _client(server.port, token=token) as client:
            with pytest.raises(UnauthenticatedError):
                client.route(EASY)
            with pytest.raises(UnauthenticatedError):
                client.get_policy()
            with pytest.raises(UnauthenticatedError):
                client.reload_policy("version = 'x'")
    for token in ("s3cret-token", "rotated-token"):
        with _client(server.port, token=token) as client:
            assert client.route(EASY).tier == "self-hosted"
            assert client.list_tiers().tiers
    counts = server.metrics.requests.labels(
        method="tierwise.v1.RouterService/Route", code="UNAUTHENTICATED"
    )
    assert counts._value.get() == 4
    # Health stays open for load-balancer and kubelet probes.
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        health = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(), timeout=3
        )
        assert health.status == health_pb2.HealthCheckResponse.SERVING


def test_admin_tokens_guard_policy_reloads_separately(make_server: MakeServer) -> None:
    from tiny_router import TEST_POLICY

    server = make_server(auth_tokens=("service-token",), admin_tokens=("admin-token",))
    with _client(server.port, token="service-token") as service:
        assert service.route(EASY).tier == "self-hosted"
        with pytest.raises(UnauthenticatedError):
            service.reload_policy(TEST_POLICY)
    with _client(server.port, token="admin-token") as admin:
        assert admin.reload_policy(TEST_POLICY).policy_version == "test-policy-1"
        with pytest.raises(UnauthenticatedError):
            admin.route(EASY)


def test_health_and_reflection_can_be_disabled(make_server: MakeServer) -> None:
    server = make_server(enable_health=False, enable_reflection=False)
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        with pytest.raises(grpc.RpcError) as raised:
            health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=3)
        assert raised.value.code() == grpc.StatusCode.UNIMPLEMENTED
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        with pytest.raises(grpc.RpcError) as raised:
            next(iter(stub.ServerReflectionInfo(iter([request]), timeout=3)))
        assert raised.value.code() == grpc.StatusCode.UNIMPLEMENTED
    with _client(server.port) as client:
        assert client.route(EASY).tier == "self-hosted"


SECRET = "what is the capital of france"
SECRET_CHAT = "write a poem about cats"


def _traffic_and_capture(server: ServerProcess, metrics_port: int) -> tuple[str, str]:
    server.start()
    try:
        with TierwiseClient(server.address) as client:
            client.route(SECRET)
            client.route([{"role": "user", "content": SECRET_CHAT}])
            client.route_many([SECRET, SECRET_CHAT])
            with pytest.raises(InvalidArgumentError):
                client.route(SECRET, allowed_tiers=["no-such-tier"])
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as r:
            metrics_text = r.read().decode()
    finally:
        assert server.stop() == 0
    return server.stderr_text(), metrics_text


def test_query_text_is_never_logged_or_exported_by_default(
    tiny_bundle: Path, test_policy_file: Path
) -> None:
    metrics_port = free_port()
    server = ServerProcess(
        tiny_bundle,
        test_policy_file,
        extra_args=["--metrics-address", f"127.0.0.1:{metrics_port}", "--log-level", "debug"],
    )
    log, metrics_text = _traffic_and_capture(server, metrics_port)
    decided = [json.loads(x) for x in log.splitlines() if '"route.decided"' in x]
    assert len(decided) == 4
    assert all("query_sha256" in d and "query_text" not in d for d in decided)
    for text in (SECRET, SECRET_CHAT, "capital of france", "poem about cats"):
        assert text not in log
        assert text not in metrics_text


def test_query_text_is_logged_only_when_asked(tiny_bundle: Path, test_policy_file: Path) -> None:
    metrics_port = free_port()
    server = ServerProcess(
        tiny_bundle,
        test_policy_file,
        extra_args=[
            "--metrics-address",
            f"127.0.0.1:{metrics_port}",
            "--log-query-text",
            "--log-level",
            "debug",
        ],
    )
    log, metrics_text = _traffic_and_capture(server, metrics_port)
    decided = [json.loads(x) for x in log.splitlines() if '"route.decided"' in x]
    assert {d["query_text"] for d in decided} == {SECRET, SECRET_CHAT}
    assert SECRET not in metrics_text and SECRET_CHAT not in metrics_text
