"""`tierwise serve` as a real child process, for the CLI tests."""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
from collections.abc import Iterator

TIERWISE = [sys.executable, "-m", "tierwise.server.cli"]


@contextlib.contextmanager
def serving(*args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`tierwise serve` as a real process on a free port; killed if the test did not stop it."""
    with subprocess.Popen(
        [*TIERWISE, "serve", "--address", "127.0.0.1:0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            match = re.search(r"serving on 127\.0\.0\.1:(\d+)", line)
            assert match, line
            yield process, f"127.0.0.1:{match.group(1)}"
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
