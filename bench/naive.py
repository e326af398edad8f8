"""The naive baseline, run in its own process: sentence-transformers (torch) embeds each query
in-process, then the router's own head (the head sub-graph cut out of the shipped ONNX graph,
from `embedding` and `attention_mask` — the heads also read the token count — to difficulty /
log_output_tokens / centroid_similarity) scores it.

    python -m bench.naive --queries q.json --count 300 --out naive.json [--bundle DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

HEAD_OUTPUTS = ["difficulty", "log_output_tokens", "centroid_similarity"]
WARMUP = 10


def _head_session(bundle: Path, dim: int) -> tuple[Any, str]:
    """The shipped head as an ORT session over the embedding, or (None, why not)."""
    import onnx
    import onnx.utils
    import onnxruntime as ort

    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    spec = manifest["encoders"]["transformer"]
    if int(spec["embedding_dim"]) != dim:
        return None, f"embedding only (bundle head takes {spec['embedding_dim']}-d, not {dim}-d)"
    model = onnx.load(str(bundle / spec["graph"]))
    head = onnx.utils.Extractor(model).extract_model(["embedding", "attention_mask"], HEAD_OUTPUTS)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(
        head.SerializeToString(), sess_options=options, providers=["CPUExecutionProvider"]
    )
    return session, "embedding + shipped head (ONNX sub-graph from `embedding`, `attention_mask`)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--queries", type=Path, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--bundle", type=Path)
    args = parser.parse_args(argv)
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TQDM_DISABLE", "1")
    started = time.perf_counter()
    import numpy as np
    from sentence_transformers import SentenceTransformer

    from bench.queries import minilm_dir

    imported = time.perf_counter()
    model = SentenceTransformer(str(minilm_dir()), device="cpu")
    get_dim = getattr(model, "get_embedding_dimension", None)
    dim = int((get_dim or model.get_sentence_embedding_dimension)() or 0)
    if args.bundle is None:
        from tierwise.classifier.runtime import default_bundle_dir

        args.bundle = default_bundle_dir()
    head, head_mode = _head_session(args.bundle, dim)
    queries: list[str] = json.loads(args.queries.read_text(encoding="utf-8"))

    window = int(
        json.loads((args.bundle / "manifest.json").read_text())["encoders"]["transformer"][
            "max_tokens"
        ]
    )

    def one(text: str) -> None:
        embedding = model.encode([text], convert_to_numpy=True, show_progress_bar=False)
        if head is not None:
            tokens = min(window, len(model.tokenizer(text)["input_ids"]))
            head.run(
                HEAD_OUTPUTS,
                {
                    "embedding": np.asarray(embedding, dtype=np.float32),
                    "attention_mask": np.ones((1, tokens), dtype=np.int64),
                },
            )

    one(queries[0])
    first = time.perf_counter()
    for text in queries[1 : 1 + WARMUP]:
        one(text)
    latencies: list[float] = []
    for index in range(args.count):
        t0 = time.perf_counter()
        one(queries[index % len(queries)])
        latencies.append(time.perf_counter() - t0)
    import torch

    from bench.server_proc import rss_mb

    rss, _ = rss_mb(os.getpid())
    result = {
        "latencies_s": latencies,
        "head_mode": head_mode,
        "import_s": imported - started,
        "start_to_first_s": first - started,
        "rss_mb": rss,
        "torch_threads": torch.get_num_threads(),
        "torch_version": torch.__version__,
    }
    args.out.write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
