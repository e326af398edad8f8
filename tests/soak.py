"""Soak / load run against a real `tierwise serve` subprocess, plus the helpers the hardening
tests share (a server subprocess on a fixed port, a free-port picker, a load generator).

Run the long version (a tiny ONNX bundle is built on the fly unless --model-dir is given):

    .venv/bin/python tests/soak.py --clients 16 --duration-s 300

It prints one JSON summary line and exits 1 on any error or when RSS grows more than
--max-rss-growth-mb after the warm-up.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

TIERWISE = [sys.executable, "-m", "tierwise.server.cli"]
QUERIES = (
    "what is 2 + 2",
    "what is the capital of france",
    "prove the riemann hypothesis about the eigenvalue of the manifold",
    "write a poem about cats",
    "derive the entropy of a quantum field",
    "zorblax quibble frobnicate",
)


def free_port() -> int:
    """A loopback port nobody listens on right now (bound and released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class ServerProcess:
    """`tierwise serve` as a child process on a fixed loopback port (restartable)."""

    def __init__(
        self,
        model_dir: Path,
        policy_file: Path,
        port: int | None = None,
        extra_args: Sequence[str] = (),
        env: dict[str, str] | None = None,
    ) -> None:
        self.model_dir = model_dir
        self.policy_file = policy_file
        self.port = port or free_port()
        self.extra_args = list(extra_args)
        self.env = env
        self.process: subprocess.Popen[str] | None = None
        self.stderr_lines: list[str] = []
        self._stderr_thread: threading.Thread | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def argv(self) -> list[str]:
        return [
            *TIERWISE, "serve", "--address", self.address, "--model-dir", str(self.model_dir),
            "--policy-file", str(self.policy_file), "--grace-s", "1", *self.extra_args,
        ]  # fmt: skip

    def start(self, timeout_s: float = 30.0) -> float:
        """Start and wait for "serving on"; returns the seconds it took."""
        started = time.monotonic()
        env = {**os.environ, **(self.env or {})}
        deadline = started + timeout_s
        while True:
            self.process = subprocess.Popen(
                self.argv(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
            )
            self._stderr_thread = threading.Thread(target=self._drain_stderr, daemon=True)
            self._stderr_thread.start()
            assert self.process.stdout is not None
            line = self.process.stdout.readline()
            if re.search(rf"serving on [0-9.]+:{self.port}\b", line):
                return time.monotonic() - started
            code = self.process.wait(timeout=10)
            self._reap()
            # A port just freed by kill -9 can take a moment to be bindable again.
            if "cannot listen" not in self.stderr_text() or time.monotonic() > deadline:
                raise RuntimeError(f"server exited {code}: {line!r} {self.stderr_text()[-2000:]}")
            time.sleep(0.1)

    def _drain_stderr(self) -> None:
        process = self.process
        assert process is not None and process.stderr is not None
        for line in process.stderr:
            self.stderr_lines.append(line.rstrip("\n"))

    def stderr_text(self) -> str:
        return "\n".join(self.stderr_lines)

    def events(self) -> list[dict[str, object]]:
        parsed = []
        for line in self.stderr_lines:
            if line.startswith("{"):
                parsed.append(json.loads(line))
        return parsed

    def rss_kb(self) -> int:
        assert self.process is not None
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        assert match, status
        return int(match.group(1))

    def signal(self, signum: int) -> None:
        assert self.process is not None
        self.process.send_signal(signum)
        if signum == signal.SIGSTOP:
            # Delivery is asynchronous: on a busy machine the server can still answer a call
            # sent right after kill(). Wait until the kernel reports it stopped.
            stat = Path(f"/proc/{self.process.pid}/stat")
            deadline = time.monotonic() + 5.0
            while stat.read_text().rsplit(")", 1)[1].split()[0] not in ("T", "t"):
                if time.monotonic() > deadline:
                    raise RuntimeError("server did not stop within 5 s of SIGSTOP")
                time.sleep(0.005)

    def _reap(self) -> None:
        if self._stderr_thread is not None:
            self._stderr_thread.join(timeout=5)
        if self.process is not None:
            for pipe in (self.process.stdout, self.process.stderr):
                if pipe is not None:
                    pipe.close()

    def kill(self) -> None:
        """kill -9 and reap."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self._reap()

    def stop(self) -> int | None:
        """SIGTERM (graceful drain); kill -9 if it does not exit in time."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._reap()
        return self.process.returncode


@dataclass
class LoadResult:
    requests: int = 0
    errors: list[str] = field(default_factory=list)
    latencies_s: list[float] = field(default_factory=list)
    elapsed_s: float = 0.0

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies_s)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def run_load(
    address: str,
    *,
    clients: int,
    requests_per_client: int | None = None,
    duration_s: float | None = None,
) -> LoadResult:
    """`clients` threads, each with its own TierwiseClient, mixing Route, RouteBatch, Quote and
    ListTiers; stops after a request count or a duration. Every exception is an error."""
    from tierwise.sdk import ClientSettings, TierwiseClient

    result = LoadResult()
    lock = threading.Lock()
    stop_at = time.monotonic() + duration_s if duration_s is not None else None

    def worker(index: int) -> None:
        settings = ClientSettings(target=address, route_timeout_s=5.0, timeout_s=10.0)
        done = 0
        with TierwiseClient(address, settings=settings) as client:
            while True:
                if requests_per_client is not None and done >= requests_per_client:
                    return
                if stop_at is not None and time.monotonic() >= stop_at:
                    return
                kind = (index + done) % 10
                started = time.perf_counter()
                try:
                    if kind < 7:
                        decision = client.route(QUERIES[(index + done) % len(QUERIES)])
                        assert not decision.fail_open and decision.tier
                    elif kind == 7:
                        decisions = client.route_many(QUERIES[:3])
                        assert len(decisions) == 3
                    elif kind == 8:
                        assert client.quote("haiku", input_tokens=1000, output_tokens=200).quotes
                    else:
                        assert client.list_tiers().tiers
                except Exception as error:
                    with lock:
                        result.errors.append(f"{type(error).__name__}: {error}")
                elapsed = time.perf_counter() - started
                done += 1
                with lock:
                    result.requests += 1
                    result.latencies_s.append(elapsed)

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.elapsed_s = time.monotonic() - started
    return result


def soak(
    model_dir: Path,
    policy_file: Path,
    *,
    clients: int,
    warmup_requests: int,
    requests_per_client: int | None,
    duration_s: float | None,
) -> dict[str, object]:
    """Warm up, read RSS, run the load, read RSS again; a JSON-able summary."""
    server = ServerProcess(model_dir, policy_file)
    server.start()
    try:
        warmup = run_load(server.address, clients=clients, requests_per_client=warmup_requests)
        rss_before = server.rss_kb()
        load = run_load(
            server.address,
            clients=clients,
            requests_per_client=requests_per_client,
            duration_s=duration_s,
        )
        rss_after = server.rss_kb()
    finally:
        exit_code = server.stop()
    return {
        "clients": clients,
        "warmup_requests": warmup.requests,
        "warmup_errors": len(warmup.errors),
        "requests": load.requests,
        "errors": len(load.errors),
        "first_errors": load.errors[:5],
        "duration_s": round(load.elapsed_s, 2),
        "requests_per_s": round(load.requests / max(load.elapsed_s, 1e-9), 1),
        "p50_ms": round(1000 * load.percentile(0.5), 2),
        "p99_ms": round(1000 * load.percentile(0.99), 2),
        "rss_before_mb": round(rss_before / 1024, 1),
        "rss_after_mb": round(rss_after / 1024, 1),
        "rss_growth_mb": round((rss_after - rss_before) / 1024, 1),
        "server_exit_code": exit_code,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--duration-s", type=float, default=300.0)
    parser.add_argument("--warmup-requests", type=int, default=50, help="per client")
    parser.add_argument("--max-rss-growth-mb", type=float, default=50.0)
    parser.add_argument("--model-dir", type=Path, help="router bundle (default: a tiny one)")
    parser.add_argument("--policy-file", type=Path, help="policy TOML (default: the test one)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from tiny_router import TEST_POLICY, build_tiny_bundle

    with tempfile.TemporaryDirectory(prefix="tierwise-soak-") as scratch:
        model_dir = args.model_dir or build_tiny_bundle(Path(scratch) / "bundle")
        policy_file = args.policy_file
        if policy_file is None:
            policy_file = Path(scratch) / "policy.toml"
            policy_file.write_text(TEST_POLICY)
        summary = soak(
            model_dir,
            policy_file,
            clients=args.clients,
            warmup_requests=args.warmup_requests,
            requests_per_client=None,
            duration_s=args.duration_s,
        )
    print(json.dumps(summary))
    growth = summary["rss_growth_mb"]
    assert isinstance(growth, float)
    ok = (
        summary["errors"] == 0
        and summary["warmup_errors"] == 0
        and growth <= args.max_rss_growth_mb
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
