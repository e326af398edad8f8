"""Config safety at the process level: `tierwise serve` refuses bad files at start (exit 2,
`error: …` naming the file) and rejects bad reloads (SIGHUP or the admin RPC) while the old
policy keeps serving, counted in the metrics and logged as `policy.rejected`.

(The in-process StartupError / RPC-reload cases live in test_service_plumbing.py and
test_admin_policy.py.)
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from soak import TIERWISE, ServerProcess, free_port
from tiny_router import TEST_POLICY

from tierwise.sdk import InvalidArgumentError, TierwiseClient

EASY = "what is 2 + 2"


def _bundle_copy(tiny_bundle: Path, tmp_path: Path) -> Path:
    bundle = tmp_path / "bundle"
    shutil.copytree(tiny_bundle, bundle)
    return bundle


def _corrupt_model(bundle: Path, tmp_path: Path) -> tuple[list[str], str]:
    (bundle / "router.onnx").write_bytes(b"\x00not onnx")
    return ["--model-dir", str(bundle)], "router.onnx"


def _missing_model_dir(bundle: Path, tmp_path: Path) -> tuple[list[str], str]:
    return ["--model-dir", str(tmp_path / "no-such-bundle")], "no-such-bundle"


def _missing_tokenizer(bundle: Path, tmp_path: Path) -> tuple[list[str], str]:
    (bundle / "tokenizer.json").unlink()
    return ["--model-dir", str(bundle)], "tokenizer.json"


def _corrupt_cost_table(bundle: Path, tmp_path: Path) -> tuple[list[str], str]:
    tiers = tmp_path / "broken-tiers.toml"
    tiers.write_text("[tiers.haiku\nusd_per_mtok_input = ")
    return ["--model-dir", str(bundle), "--tiers-file", str(tiers)], "broken-tiers.toml"


def _corrupt_policy(bundle: Path, tmp_path: Path) -> tuple[list[str], str]:
    policy = tmp_path / "broken-policy.toml"
    policy.write_text("version = = 1")
    return ["--model-dir", str(bundle), "--policy-file", str(policy)], "broken-policy.toml"


def _policy_not_utf8(bundle: Path, tmp_path: Path) -> tuple[list[str], str]:
    policy = tmp_path / "latin1-policy.toml"
    policy.write_bytes(TEST_POLICY.encode() + b"# caf\xe9\n")
    return ["--model-dir", str(bundle), "--policy-file", str(policy)], "latin1-policy.toml"


def _missing_policy(bundle: Path, tmp_path: Path) -> tuple[list[str], str]:
    missing = tmp_path / "gone-policy.toml"
    return ["--model-dir", str(bundle), "--policy-file", str(missing)], "gone-policy.toml"


@pytest.mark.parametrize(
    "breakage",
    [
        _corrupt_model,
        _missing_model_dir,
        _missing_tokenizer,
        _corrupt_cost_table,
        _corrupt_policy,
        _policy_not_utf8,
        _missing_policy,
    ],
    ids=lambda f: f.__name__.lstrip("_"),
)
def test_serve_refuses_to_start_naming_the_file(
    tiny_bundle: Path,
    tmp_path: Path,
    breakage: Callable[[Path, Path], tuple[list[str], str]],
) -> None:
    args, named = breakage(_bundle_copy(tiny_bundle, tmp_path), tmp_path)
    completed = subprocess.run(
        [*TIERWISE, "serve", "--address", f"127.0.0.1:{free_port()}", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 2, completed.stderr
    last = completed.stderr.strip().splitlines()[-1]
    assert "error: " in last and named in last, completed.stderr
    assert "Traceback" not in completed.stderr
    assert "serving on" not in completed.stdout


def _scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text: str = response.read().decode()
        return text


def _sample(metrics_text: str, prefix: str) -> float:
    for line in metrics_text.splitlines():
        if line.startswith(prefix):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_bad_reloads_are_rejected_counted_and_logged(tiny_bundle: Path, tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(TEST_POLICY)
    metrics_port = free_port()
    server = ServerProcess(
        tiny_bundle, policy, extra_args=["--metrics-address", f"127.0.0.1:{metrics_port}"]
    )
    server.start()
    rejected = 'tierwise_policy_reloads_total{result="rejected"}'
    applied = 'tierwise_policy_reloads_total{result="applied"}'
    try:
        with TierwiseClient(server.address) as client:
            # serve() takes signals before it prints "serving on" (ServerProcess waits for it).
            assert client.route(EASY).policy_version == "test-policy-1"
            # 1. SIGHUP with a corrupt file, 2. SIGHUP with the file gone, 3. a bad RPC reload.
            steps: list[Callable[[], None]] = [
                lambda: policy.write_text("[tiers\nbroken"),
                lambda: policy.unlink(),
            ]
            for expected, step in enumerate(steps, start=1):
                step()
                server.signal(signal.SIGHUP)
                deadline = time.monotonic() + 10
                while _sample(_scrape(metrics_port), rejected) < expected:
                    assert time.monotonic() < deadline, "SIGHUP reload was not rejected"
                    time.sleep(0.05)
                assert client.route(EASY).policy_version == "test-policy-1"
            with pytest.raises(InvalidArgumentError):
                client.reload_policy(TEST_POLICY.replace("ability = 0.5", "ability = 99"))
            metrics_text = _scrape(metrics_port)
            assert _sample(metrics_text, rejected) == 3
            assert _sample(metrics_text, applied) == 0
            assert client.get_policy().policy_version == "test-policy-1"
            # A good file afterwards is applied.
            policy.write_text(TEST_POLICY.replace("test-policy-1", "fixed"))
            server.signal(signal.SIGHUP)
            deadline = time.monotonic() + 10
            while client.route(EASY).policy_version != "fixed":
                assert time.monotonic() < deadline
                time.sleep(0.05)
            assert _sample(_scrape(metrics_port), applied) == 1
    finally:
        assert server.stop() == 0
    events = server.events()
    rejections = [e for e in events if e["event"] == "policy.rejected"]
    assert len(rejections) == 3
    assert all(e["active"] == "test-policy-1" and e["level"] == "warning" for e in rejections)
    assert "policy.toml" in str(rejections[0]["error"])
    assert "policy.toml" in str(rejections[1]["error"])
    assert [e["version"] for e in events if e["event"] == "policy.applied"] == ["fixed"]


def test_serve_rejects_unknown_flags_with_exit_2() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "tierwise.server.cli", "serve", "--no-such-flag"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 2
    assert "error:" in completed.stderr and "--no-such-flag" in completed.stderr


def test_solo_threads_setting() -> None:
    import os

    from tierwise.server.config import DEFAULT_SOLO_INTRA_OP_THREADS, ServerSettings

    cores = os.cpu_count() or 1
    assert ServerSettings(encoder="fast").solo_threads == 1
    assert ServerSettings(encoder="transformer").solo_threads == min(
        DEFAULT_SOLO_INTRA_OP_THREADS["transformer"], cores
    )
    assert ServerSettings(solo_intra_op_threads=3).solo_threads == 3
    with pytest.raises(ValueError, match="solo_intra_op_threads"):
        ServerSettings(solo_intra_op_threads=0)
