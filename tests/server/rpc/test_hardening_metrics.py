"""The Prometheus endpoint scraped over HTTP after real traffic, and the alert rules in
deploy/prometheus-rules.yaml checked against the metric names the server really exports."""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from repo_paths import REPO
from tiny_router import TEST_POLICY

from tierwise.sdk import InvalidArgumentError, TierwiseClient
from tierwise.server.config import ServerSettings
from tierwise.server.rpc.app import TierwiseServer, load_components
from tierwise.v1 import outcomes_pb2

RULES = REPO / "deploy" / "prometheus-rules.yaml"
ROUTE = "tierwise.v1.RouterService/Route"


@pytest.fixture(scope="module")
def scraped(tiny_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Sample]]:
    policy = tmp_path_factory.mktemp("metrics") / "policy.toml"
    policy.write_text(TEST_POLICY)
    settings = ServerSettings(
        address="127.0.0.1:0",
        model_dir=tiny_bundle,
        policy_file=policy,
        metrics_address="127.0.0.1:0",
    )
    server = TierwiseServer(settings, load_components(settings))
    server.start()
    try:
        assert server.metrics_port
        with TierwiseClient(f"127.0.0.1:{server.port}") as client:
            first = client.route("what is 2 + 2")  # self-hosted
            for _ in range(2):
                client.route("what is 2 + 2")
            client.route("prove the riemann hypothesis")  # opus, none meets target
            client.route("zorblax quibble frobnicate")  # out of distribution → escalated
            client.route_many(["hello", "write a poem about cats"])
            client.quote("haiku", input_tokens=1000, output_tokens=100)
            client.list_tiers()
            with pytest.raises(InvalidArgumentError):
                client.route("   ")
            with pytest.raises(InvalidArgumentError):
                client.reload_policy("not = = toml")
            client.reload_policy(TEST_POLICY.replace("test-policy-1", "v2"))
            # A reported outcome (escalated once): the metrics the cascade alert reads.
            outcome = outcomes_pb2.Outcome(decision_id=first.decision_id, final_tier="haiku")
            outcome.attempts.add(tier="self-hosted", score=0.1)
            outcome.attempts.add(tier="haiku", score=0.9, accepted=True)
            reporter = client.outcome_reporter()
            assert reporter.offer(outcome) and reporter.flush(5.0) and reporter.sent == 1
        url = f"http://127.0.0.1:{server.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/plain")
            text = response.read().decode()
        yield [s for family in text_string_to_metric_families(text) for s in family.samples]
    finally:
        server.stop(0)


def _value(samples: list[Sample], name: str, **labels: str) -> float:
    matching = [s.value for s in samples if s.name == name and labels.items() <= s.labels.items()]
    return sum(matching)


def test_request_counts_by_rpc_and_status(scraped: list[Sample]) -> None:
    assert _value(scraped, "tierwise_requests_total", method=ROUTE, code="OK") == 5
    assert _value(scraped, "tierwise_requests_total", method=ROUTE, code="INVALID_ARGUMENT") == 1
    batch = "tierwise.v1.RouterService/RouteBatch"
    assert _value(scraped, "tierwise_requests_total", method=batch, code="OK") == 1
    for method in ("Quote", "ListTiers"):
        full = f"tierwise.v1.PricingService/{method}"
        assert _value(scraped, "tierwise_requests_total", method=full, code="OK") == 1
    reload = "tierwise.v1.AdminService/ReloadPolicy"
    assert _value(scraped, "tierwise_requests_total", method=reload, code="OK") == 1
    assert _value(scraped, "tierwise_requests_total", method=reload, code="INVALID_ARGUMENT") == 1


def test_latency_histograms(scraped: list[Sample]) -> None:
    name = "tierwise_request_latency_seconds"
    assert _value(scraped, f"{name}_count", method=ROUTE) == 6
    assert 0 < _value(scraped, f"{name}_sum", method=ROUTE) < 6
    buckets = [s for s in scraped if s.name == f"{name}_bucket" and s.labels["method"] == ROUTE]
    assert len(buckets) >= 10 and {"+Inf", "0.005", "1.0"} <= {b.labels["le"] for b in buckets}
    counts = [b.value for b in sorted(buckets, key=lambda b: float(b.labels["le"]))]
    assert counts == sorted(counts) and counts[-1] == 6


def test_decisions_escalations_ood_and_cost(scraped: list[Sample]) -> None:
    assert _value(scraped, "tierwise_decisions_total") == 7
    assert _value(scraped, "tierwise_decisions_total", tier="self-hosted") >= 3
    assert _value(scraped, "tierwise_decisions_total", tier="opus") >= 1
    assert _value(scraped, "tierwise_escalations_total") >= 1
    assert _value(scraped, "tierwise_out_of_distribution_total") >= 1
    assert _value(scraped, "tierwise_none_meets_target_total") >= 1
    assert _value(scraped, "tierwise_quoted_usd_total") > 0
    assert _value(scraped, "tierwise_quoted_usd_total", tier="opus") > 0


def test_policy_reload_results(scraped: list[Sample]) -> None:
    assert _value(scraped, "tierwise_policy_reloads_total", result="applied") == 1
    assert _value(scraped, "tierwise_policy_reloads_total", result="rejected") == 1


def _rules() -> list[dict[str, object]]:
    document = yaml.safe_load(RULES.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def test_alert_rules_parse_and_are_documented() -> None:
    rules = _rules()
    names = {rule["alert"] for rule in rules}
    assert {
        "TierwiseEscalationDrift",
        "TierwiseHighErrorRate",
        "TierwiseResourceExhausted",
    } <= names
    for rule in rules:
        assert isinstance(rule["expr"], str) and rule["expr"].strip()
        assert rule["labels"]["severity"] in {"warning", "critical"}  # type: ignore[index]
        annotations = rule["annotations"]
        assert isinstance(annotations, dict) and annotations["summary"]
        assert annotations["description"]
        expression = str(rule["expr"])
        assert expression.count("(") == expression.count(")"), rule["alert"]
        assert expression.count("{") == expression.count("}"), rule["alert"]
    drift = next(r for r in rules if r["alert"] == "TierwiseEscalationDrift")
    expression = re.sub(r"\s+", "", str(drift["expr"]))
    assert "rate(tierwise_escalations_total[30m])" in expression
    assert "rate(tierwise_decisions_total[30m]))>0.7" in expression
    assert drift["for"] == "30m"
    shed = next(r for r in rules if r["alert"] == "TierwiseResourceExhausted")
    assert 'code="RESOURCE_EXHAUSTED"' in str(shed["expr"])


def test_alert_rules_only_use_exported_metrics_and_labels(scraped: list[Sample]) -> None:
    exported = {s.name for s in scraped}
    labels_of: dict[str, set[str]] = {}
    for sample in scraped:
        labels_of.setdefault(sample.name, set()).update(sample.labels)
    for rule in _rules():
        expression = str(rule["expr"])
        used = set(re.findall(r"\b(tierwise_[a-z_]+)", expression))
        assert used, rule["alert"]
        assert used <= exported, (rule["alert"], used - exported)
        for metric, selector in re.findall(r"(tierwise_[a-z_]+)\{([^}]*)\}", expression):
            for label in re.findall(r"([a-z_]+)\s*[!=]~?", selector):
                assert label in labels_of[metric], (rule["alert"], metric, label)


def test_outcome_metrics_escalation_first_try_and_scores(scraped: list[Sample]) -> None:
    labels = {"caller": "unset", "feature": "unset"}
    assert _value(scraped, "tierwise_cascade_runs_total", **labels) == 1
    assert _value(scraped, "tierwise_cascade_first_try_accepted_total", **labels) == 0
    assert _value(scraped, "tierwise_cascade_attempts_total", tier="self-hosted") == 1
    assert _value(scraped, "tierwise_cascade_escalations_total", tier="self-hosted") == 1
    assert _value(scraped, "tierwise_cascade_escalations_total", tier="haiku") == 0
    assert _value(scraped, "tierwise_verifier_score_count", tier="haiku") == 1
    assert _value(scraped, "tierwise_verifier_score_bucket", tier="haiku", le="0.8") == 0
    assert _value(scraped, "tierwise_outcome_reports_total", result="accepted") == 1
