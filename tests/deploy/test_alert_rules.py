"""The alert rules evaluated by promtool on synthetic series (deploy/prometheus-rules.test.yaml):
the stale-cascade alert fires above 70 % escalation and stays quiet at 60 %."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from repo_paths import REPO

RULE_TESTS = REPO / "deploy" / "prometheus-rules.test.yaml"


def test_alert_rules_fire_as_their_unit_tests_say() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        if os.environ.get("CI"):
            pytest.fail("promtool is missing: CI must run `make install` (Debian's prometheus)")
        pytest.skip("promtool is not installed (make install installs Debian's prometheus)")
    result = subprocess.run(
        [promtool, "test", "rules", str(RULE_TESTS)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_the_rule_tests_cover_the_cascade_alert() -> None:
    text = RULE_TESTS.read_text()
    assert "alertname: TierwiseCascadeEscalationHigh" in text
    assert "exp_alerts: []" in text and "escalate 80% of queries" in text
