"""`tierwise serve` as a child process: cold start, RSS, and a guaranteed stop."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Final

from tierwise.sdk import ClientSettings, TierwiseClient
from tierwise.sdk.errors import TierwiseError

START_TIMEOUT_S: Final = 90.0
# Per-attempt deadline while waiting for the first decision.
PROBE_DEADLINE_S: Final = 0.25
PROBE_PAUSE_S: Final = 0.005


@dataclass(frozen=True)
class ServerOptions:
    encoder: str
    model_dir: Path | None = None
    policy_file: Path | None = None
    extra_args: tuple[str, ...] = field(default=())


def tierwise_executable() -> str:
    """The console script next to this interpreter (the venv's), else the one on PATH."""
    beside = Path(sys.executable).parent / "tierwise"
    if beside.is_file():
        return str(beside)
    found = shutil.which("tierwise")
    if found is None:
        raise RuntimeError("`tierwise` console script not found")
    return found


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process in MB (MiB / 1.048576 is not applied: kB / 1024)."""
    values: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024.0
    return values["VmRSS"], values["VmHWM"]


class ServerProcess:
    """Spawns the server on a fresh loopback port; `cold_start_s` is spawn → first decision."""

    def __init__(self, options: ServerOptions, probe_query: str) -> None:
        self.options = options
        self.port = free_loopback_port()
        self.target = f"127.0.0.1:{self.port}"
        self._probe_query = probe_query
        self._logdir = tempfile.TemporaryDirectory(prefix="tierwise-bench-")
        self.log_path = Path(self._logdir.name) / "server.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self.cold_start_s = float("nan")

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise RuntimeError("server not started")
        return self._proc.pid

    def command(self) -> list[str]:
        cmd = [
            tierwise_executable(),
            "serve",
            "--address",
            self.target,
            "--encoder",
            self.options.encoder,
        ]
        if self.options.model_dir is not None:
            cmd += ["--model-dir", str(self.options.model_dir)]
        if self.options.policy_file is not None:
            cmd += ["--policy-file", str(self.options.policy_file)]
        return [*cmd, *self.options.extra_args]

    def start(self) -> float:
        """Spawn and poll Route (short deadline) until a decision comes back."""
        cmd = self.command()
        env = dict(os.environ)
        with self.log_path.open("wb") as log:
            started = time.perf_counter()
            # Logs go to a file (not a pipe nobody drains): the server never blocks on them.
            self._proc = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
            )
        settings = ClientSettings(target=self.target)
        while True:
            if self._proc.poll() is not None:
                raise RuntimeError(
                    f"server exited with {self._proc.returncode} before serving:\n{self.log_tail()}"
                )
            if time.perf_counter() - started > START_TIMEOUT_S:
                raise RuntimeError(
                    f"server not serving after {START_TIMEOUT_S} s:\n{self.log_tail()}"
                )
            # A fresh channel per attempt: no reconnect backoff inflates the measurement.
            client = TierwiseClient(self.target, settings=settings)
            try:
                client.route(self._probe_query, timeout_s=PROBE_DEADLINE_S)
            except TierwiseError:
                time.sleep(PROBE_PAUSE_S)
                continue
            finally:
                client.close()
            self.cold_start_s = time.perf_counter() - started
            return self.cold_start_s

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "<no log>"
        return "\n".join(text.splitlines()[-lines:])

    def cpu_s(self) -> float:
        """User + system CPU seconds the server has used so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss(self) -> tuple[float, float]:
        return rss_mb(self.pid)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not exited within a few seconds."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=8)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        self._logdir.cleanup()

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
