"""The Kubernetes manifests under deploy/k8s: parse them and check the fields that matter."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from repo_paths import REPO

from tierwise.cost_tables.tables import load_tier_table
from tierwise.server import config
from tierwise.server.routing.policy import parse_policy

K8S = REPO / "deploy" / "k8s"
GRPC_PORT = 50051


def _documents() -> list[dict[str, Any]]:
    documents = []
    for path in sorted(K8S.glob("*.yaml")):
        documents.extend(d for d in yaml.safe_load_all(path.read_text()) if d)
    return documents


@pytest.fixture(scope="module")
def objects() -> dict[str, dict[str, Any]]:
    return {d["kind"]: d for d in _documents()}


@pytest.fixture(scope="module")
def container(objects: dict[str, dict[str, Any]]) -> dict[str, Any]:
    containers = objects["Deployment"]["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    spec: dict[str, Any] = containers[0]
    return spec


def test_every_manifest_parses_and_has_the_kinds(objects: dict[str, dict[str, Any]]) -> None:
    assert {
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "ConfigMap",
    } <= set(objects)
    kustomization = objects["Kustomization"]
    listed = set(kustomization["resources"])
    on_disk = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == on_disk
    for kind, document in objects.items():
        if kind not in {"Kustomization", "Namespace"}:
            assert document["metadata"]["namespace"] == kustomization["namespace"], kind


def test_probes_are_native_grpc_on_the_service_port(container: dict[str, Any]) -> None:
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert container[probe]["grpc"]["port"] == GRPC_PORT, probe
        assert "httpGet" not in container[probe] and "tcpSocket" not in container[probe]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports["grpc"] == GRPC_PORT
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["TIERWISE_ADDRESS"] == f"0.0.0.0:{GRPC_PORT}"
    assert not any(a.startswith("--address") for a in container["args"])


def test_resources_security_and_shutdown(
    objects: dict[str, dict[str, Any]], container: dict[str, Any]
) -> None:
    resources = container["resources"]
    assert resources["requests"]["cpu"] == resources["limits"]["cpu"] == "2"
    assert resources["requests"]["memory"] == "400Mi"
    assert resources["limits"]["memory"].endswith("Mi")
    assert int(resources["limits"]["memory"].removesuffix("Mi")) >= 400
    pod = objects["Deployment"]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001  # the Dockerfile's USER
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    assert security.get("runAsNonRoot", True) is True
    # Grace covers the preStop sleep plus the server's drain, with margin.
    pre_stop = container["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    grace_args = [a for a in container["args"] if a.startswith("--grace-s=")]
    drain_s = float(grace_args[0].split("=")[1]) if grace_args else config.DEFAULT_GRACE_S
    assert pod["terminationGracePeriodSeconds"] > float(pre_stop[1]) + drain_s
    # The policy comes from the ConfigMap, mounted as a directory (so updates propagate).
    policy_arg = next(a for a in container["args"] if a.startswith("--policy-file="))
    mount = next(m for m in container["volumeMounts"] if m["name"] == "policy")
    assert "subPath" not in mount
    assert policy_arg == f"--policy-file={mount['mountPath']}/policy.toml"
    volume = next(v for v in pod["volumes"] if v["name"] == "policy")
    assert volume["configMap"]["name"] == objects["ConfigMap"]["metadata"]["name"]


def test_headless_service_selects_the_pods(objects: dict[str, dict[str, Any]]) -> None:
    service = objects["Service"]
    deployment = objects["Deployment"]
    assert service["spec"]["clusterIP"] == "None"
    assert service["metadata"]["name"] == "tierwise-headless"
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert service["spec"]["selector"].items() <= pod_labels.items()
    grpc_port = next(p for p in service["spec"]["ports"] if p["name"] == "grpc")
    assert grpc_port["port"] == GRPC_PORT and grpc_port["targetPort"] in ("grpc", GRPC_PORT)


def test_hpa_targets_the_deployment_on_cpu(objects: dict[str, dict[str, Any]]) -> None:
    hpa = objects["HorizontalPodAutoscaler"]
    assert hpa["apiVersion"] == "autoscaling/v2"
    target = hpa["spec"]["scaleTargetRef"]
    assert target["kind"] == "Deployment"
    assert target["name"] == objects["Deployment"]["metadata"]["name"]
    assert 2 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
    metric = hpa["spec"]["metrics"][0]
    assert metric["resource"]["name"] == "cpu"
    assert 0 < metric["resource"]["target"]["averageUtilization"] <= 90


def test_pdb_selects_the_pods_and_allows_a_drain(objects: dict[str, dict[str, Any]]) -> None:
    pdb = objects["PodDisruptionBudget"]
    assert pdb["apiVersion"] == "policy/v1"
    pod_labels = objects["Deployment"]["spec"]["template"]["metadata"]["labels"]
    assert pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    min_replicas = objects["HorizontalPodAutoscaler"]["spec"]["minReplicas"]
    assert pdb["spec"]["minAvailable"] < min_replicas  # a node drain can always proceed


def test_configmap_policy_is_valid_for_the_packaged_cost_table(
    objects: dict[str, dict[str, Any]],
) -> None:
    text = objects["ConfigMap"]["data"]["policy.toml"]
    policy = parse_policy(text, "deploy/k8s/configmap.yaml")
    policy.check_tiers(load_tier_table(None).ids())
