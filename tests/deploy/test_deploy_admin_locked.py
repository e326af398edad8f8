"""The shipped Deployment's own arguments: AdminService refuses callers without the admin
token, the server refuses to start on 0.0.0.0 without one, and a NetworkPolicy guards it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from attack import ADMIN_TOKEN, TOKEN, anonymous_reload
from repo_paths import REPO
from soak import ServerProcess, free_port

K8S = REPO / "deploy" / "k8s"


def _objects() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(K8S.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document:
                found[document["kind"]] = document
    return found


def _deployment_args(tmp_path: Path, *, with_secret: bool) -> list[str]:
    """The container's args with the pod's paths and ports replaced by local ones."""
    container = _objects()["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    admin_file = tmp_path / "admin-tokens"
    admin_file.write_text(ADMIN_TOKEN + "\n")
    args = []
    for arg in container["args"][1:]:  # [0] is "serve"
        if arg.startswith("--admin-token-file="):
            if with_secret:
                args.append(f"--admin-token-file={admin_file}")
        elif arg.startswith("--metrics-address="):
            args.append(f"--metrics-address=127.0.0.1:{free_port()}")
        elif not arg.startswith(("--policy-file=", "--grace-s=")):
            args.append(arg)
    return args


def _address(port: int) -> list[str]:
    container = _objects()["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e["value"] for e in container["env"]}
    host = env["TIERWISE_ADDRESS"].rpartition(":")[0]
    assert host == "0.0.0.0"  # the test is only meaningful on a non-loopback address
    return ["--address", f"{host}:{port}"]


class _AnyAddress(ServerProcess):
    def argv(self) -> list[str]:
        argv = super().argv()
        at = argv.index("--address")
        return [*argv[:at], *_address(self.port), *argv[at + 2 :]]


def test_admin_rpc_without_the_token_is_refused(
    tiny_bundle: Path, test_policy_file: Path, tmp_path: Path
) -> None:
    server = _AnyAddress(
        tiny_bundle, test_policy_file, extra_args=_deployment_args(tmp_path, with_secret=True)
    )
    server.start()
    try:
        assert anonymous_reload(server.address) == "UNAUTHENTICATED"
        # A Route token is not an admin token.
        import grpc

        from tierwise.v1 import admin_pb2, admin_pb2_grpc

        with grpc.insecure_channel(server.address) as channel:
            stub = admin_pb2_grpc.AdminServiceStub(channel)
            with pytest.raises(grpc.RpcError) as raised:
                stub.GetPolicy(
                    admin_pb2.GetPolicyRequest(),
                    metadata=(("authorization", f"Bearer {TOKEN}"),),
                    timeout=5,
                )
            assert raised.value.code() is grpc.StatusCode.UNAUTHENTICATED
            reply = stub.GetPolicy(
                admin_pb2.GetPolicyRequest(),
                metadata=(("authorization", f"Bearer {ADMIN_TOKEN}"),),
                timeout=5,
            )
            assert reply.policy_version
    finally:
        server.stop()


def test_without_the_secret_the_server_refuses_to_start(
    tiny_bundle: Path, test_policy_file: Path, tmp_path: Path
) -> None:
    server = _AnyAddress(
        tiny_bundle, test_policy_file, extra_args=_deployment_args(tmp_path, with_secret=False)
    )
    with pytest.raises(RuntimeError, match="exited 2") as raised:
        server.start(timeout_s=20)
    assert "--admin-token-file" in str(raised.value) and "--insecure-admin" in str(raised.value)


def test_the_secret_is_mounted_and_a_network_policy_guards_the_pods() -> None:
    objects = _objects()
    pod = objects["Deployment"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    token_arg = next(a for a in container["args"] if a.startswith("--admin-token-file="))
    mount = next(m for m in container["volumeMounts"] if m["name"] == "admin-token")
    assert token_arg.split("=", 1)[1].startswith(mount["mountPath"] + "/")
    volume = next(v for v in pod["volumes"] if v["name"] == "admin-token")
    assert volume["secret"]["secretName"] == "tierwise-admin-token"
    policy = objects["NetworkPolicy"]
    assert policy["spec"]["podSelector"]["matchLabels"] == pod.get("metadata", {}).get(
        "labels", objects["Deployment"]["spec"]["selector"]["matchLabels"]
    )
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    ports = {p["port"] for rule in policy["spec"]["ingress"] for p in rule["ports"]}
    assert ports == {50051, 9090}
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert "networkpolicy.yaml" in kustomization["resources"]
