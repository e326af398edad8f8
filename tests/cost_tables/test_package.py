"""Packaging and import hygiene."""

from __future__ import annotations

import subprocess
import sys
import tomllib

from repo_paths import REPO

import tierwise.cost_tables as ct

ROOT = REPO / "cost_tables"


def test_public_api_names() -> None:
    for name in ("load_tier_table", "quote_request", "quote_workload", "estimate", "Workload"):
        assert hasattr(ct, name)


def test_import_is_light_and_reads_nothing() -> None:
    code = (
        "import sys, tierwise.cost_tables.cli, tierwise.cost_tables;"
        "heavy = {'numpy', 'grpc', 'torch', 'onnxruntime'} & set(sys.modules);"
        "from tierwise.cost_tables import catalog;"
        "print(sorted(heavy), catalog._default_catalog.cache_info().currsize)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[] 0"


def test_distribution_metadata() -> None:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert meta["project"]["name"] == "tierwise-cost-tables"
    assert meta["project"]["dependencies"] == []
    assert meta["build-system"]["build-backend"] == "hatchling.build"
    assert meta["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == ["src/tierwise"]
    assert not (ROOT / "src" / "tierwise" / "__init__.py").exists()  # PEP 420 namespace
    for name in ("tiers.toml", "gpus.toml", "models.toml"):
        assert (ROOT / "src" / "tierwise" / "cost_tables" / "data" / name).is_file()
