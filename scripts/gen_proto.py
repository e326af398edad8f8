"""Generate the Python protobuf/gRPC code for tierwise.v1 into sdk/src.

The generated code is committed; `--check` regenerates into a temporary folder and fails
when the committed copy differs, so a proto change without regeneration cannot land.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import sys
import tempfile
from pathlib import Path

from grpc_tools import protoc  # type: ignore[import-untyped]

REPO_ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = REPO_ROOT / "proto"
OUTPUT_ROOT = REPO_ROOT / "sdk" / "src"
PACKAGE_DIR = Path("tierwise") / "v1"
INIT_TEXT = '"""Generated protobuf and gRPC code for the tierwise.v1 wire contract."""\n'


def generate(out_root: Path) -> list[Path]:
    protos = sorted((PROTO_ROOT / PACKAGE_DIR).glob("*.proto"))
    include = str(Path(protoc.__file__).parent / "_proto")
    args = [
        "grpc_tools.protoc",
        f"-I{PROTO_ROOT}",
        f"-I{include}",
        f"--python_out={out_root}",
        f"--pyi_out={out_root}",
        f"--grpc_python_out={out_root}",
        *[str(p) for p in protos],
    ]
    if protoc.main(args) != 0:
        raise SystemExit("error: protoc failed")
    (out_root / PACKAGE_DIR / "__init__.py").write_text(INIT_TEXT)
    return sorted(p for p in (out_root / PACKAGE_DIR).iterdir() if p.is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if committed code is stale")
    args = parser.parse_args(argv)
    if not args.check:
        target = OUTPUT_ROOT / PACKAGE_DIR
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        generate(OUTPUT_ROOT)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / PACKAGE_DIR).mkdir(parents=True)
        fresh = {p.name for p in generate(Path(tmp))}
        committed_dir = OUTPUT_ROOT / PACKAGE_DIR
        committed = {p.name for p in committed_dir.iterdir() if p.is_file()}
        stale = sorted(fresh ^ committed) + sorted(
            name
            for name in fresh & committed
            if not filecmp.cmp(Path(tmp) / PACKAGE_DIR / name, committed_dir / name, shallow=False)
        )
    if stale:
        print(
            f"error: generated code is stale: {', '.join(stale)}; run `make proto`", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
