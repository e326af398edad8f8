"""Write the packaged default policy from the shipped model's manifest and the packaged tier
table (tierwise.server.routing.default_policy: the table places each tier on the model's
ability scale; the quality target is a product default that replay re-tunes on a user's own
labels). Run after `tierwise train` or a tier-table change; a test fails while the packaged
policy disagrees with them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tierwise.classifier.runtime import Manifest, default_bundle_dir
from tierwise.cost_tables.tables import load_tier_table
from tierwise.server.routing.default_policy import DEFAULT_QUALITY_TARGET, default_policy

REPO_ROOT = Path(__file__).resolve().parent.parent
POLICY = REPO_ROOT / "server/src/tierwise/server/data/policy.toml"


def render(quality_target: float = DEFAULT_QUALITY_TARGET) -> str:
    manifest = Manifest.from_file(default_bundle_dir() / "manifest.json")
    return default_policy(manifest, load_tier_table(), quality_target).source_text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quality-target", type=float, default=DEFAULT_QUALITY_TARGET)
    parser.add_argument("--check", action="store_true", help="fail if the packaged file differs")
    args = parser.parse_args(argv)
    text = render(args.quality_target)
    if args.check:
        if POLICY.read_text(encoding="utf-8") != text:
            print(
                "error: packaged policy is stale; run scripts/write_default_policy.py",
                file=sys.stderr,
            )
            return 1
        return 0
    POLICY.parent.mkdir(parents=True, exist_ok=True)
    POLICY.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
