"""`import tierwise.sdk` must stay light: no numpy, onnxruntime, structlog, torch."""

from __future__ import annotations

import subprocess
import sys

# (`import grpc` itself touches the grpc_health namespace when installed; the servicer
# modules are what would be heavy.)
HEAVY = ("numpy", "onnxruntime", "structlog", "torch", "tokenizers", "grpc_health.v1.health")


def test_sdk_import_pulls_in_nothing_heavy() -> None:
    code = (
        "import sys, tierwise.sdk\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == ""


def test_server_route_path_imports_no_torch() -> None:
    code = (
        "import sys\n"
        "import tierwise.server.rpc.app, tierwise.server.routing.router\n"
        "print('torch' in sys.modules, 'sentence_transformers' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "False False"
