"""Stage 9, install: replace the output directory's files with the staged bundle."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

MAX_FILE_BYTES = 50 * 1024 * 1024  # keeps every bundle file under the git host's limit


def install_bundle(staged: Path, out_dir: Path) -> dict[str, int]:
    """Copy ``staged`` into ``out_dir`` (old files removed); file name -> bytes."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.iterdir():
        if old.is_file() and old.name != ".gitattributes":
            old.unlink()
    for f in staged.iterdir():
        shutil.copyfile(f, out_dir / f.name)
    files = {f.name: f.stat().st_size for f in sorted(out_dir.iterdir()) if f.is_file()}
    for name, size in files.items():
        if size > MAX_FILE_BYTES:
            raise RuntimeError(f"{name} is {size} bytes (> 50 MB)")
    os.sync()
    return files
