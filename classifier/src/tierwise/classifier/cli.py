"""`tierwise train` / `tierwise evaluate` subcommands (registered by the main CLI).

Heavy imports (torch, sentence-transformers) happen inside the handlers only.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("train", help="train the router model and write a bundle")
    p.add_argument("--data-dir", type=Path, default=None, help="default: <repo>/../shared/data")
    p.add_argument("--output", type=Path, default=None, help="default: the shipped bundle dir")
    p.add_argument("--max-rows-per-source", type=int, default=None)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--epochs", type=int, default=None, help="head training epochs")
    p.add_argument(
        "--cache-dir", type=Path, default=None, help="reuse MiniLM embeddings (keyed by content)"
    )
    p.add_argument("--skip-fast", action="store_true", help="do not build the fast encoder")
    p.set_defaults(handler=_run_train)

    e = subparsers.add_parser(
        "evaluate", help="print a bundle's validation metrics and smoke-test it"
    )
    e.add_argument("--bundle", type=Path, default=None, help="default: the shipped bundle dir")
    e.set_defaults(handler=_run_evaluate)


def _run_train(args: argparse.Namespace) -> int:
    import logging

    from tierwise.classifier.train import TrainConfig, train

    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    logging.getLogger("tierwise").setLevel(logging.INFO)
    kwargs: dict[str, object] = {
        "data_dir": args.data_dir,
        "output_dir": args.output,
        "max_rows_per_source": args.max_rows_per_source,
        "skip_fast": bool(args.skip_fast),
        "embedding_cache_dir": args.cache_dir,
    }
    if args.seed is not None:
        kwargs["seed"] = args.seed
    if args.epochs is not None:
        kwargs["head_epochs"] = args.epochs
    try:
        result = train(TrainConfig(**kwargs))  # type: ignore[arg-type]
    except (FileNotFoundError, ValueError, RuntimeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {result.output_dir} in {result.wall_time_s:.0f}s")
    for name, size in result.files.items():
        print(f"  {name}  {size / 1e6:.2f} MB")
    return 0


def _run_evaluate(args: argparse.Namespace) -> int:
    from tierwise.classifier.runtime import ModelLoadError, RouterModel, default_bundle_dir

    bundle = args.bundle or default_bundle_dir()
    try:
        first = RouterModel.load(bundle)
        models = [first] + [
            RouterModel.load(bundle, name)
            for name in first.manifest.encoders
            if name != first.encoder
        ]
    except ModelLoadError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    manifest = models[0].manifest
    print(f"router_version {manifest.router_version}")
    print(json.dumps(manifest.raw.get("metrics", {}), indent=2))
    probe = ["What is 2+2?", "Prove that every finite group of prime order is cyclic."]
    for m in models:
        out = m.predict(probe)
        print(
            m.encoder,
            "difficulty",
            out.difficulty.round(3).tolist(),
            "tokens",
            out.log_output_tokens.round(2).tolist(),
        )
    return 0
