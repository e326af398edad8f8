"""The encoder-only floor: the same ONNX graph called in-process, as the server calls it."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from tierwise.classifier.runtime import RouterModel
from tierwise.server.config import ServerSettings

WARMUP: Final = 20


def floor_latencies(
    queries: Sequence[str],
    count: int,
    encoder: str,
    model_dir: Path | None,
) -> list[float]:
    """`RouterModel.predict([q])` (tokenize + graph) on the same query sequence as 1 client."""
    # Loaded exactly as the server loads it (same solo-session threads): one caller in a loop
    # is always alone, so it runs on the solo session, as a lone client's requests do.
    model = RouterModel.load(
        model_dir,
        encoder=encoder,
        solo_intra_op_threads=ServerSettings(encoder=encoder).solo_threads,
    )
    for text in queries[:WARMUP]:
        model.predict([text])
    latencies = []
    for index in range(count):
        text = queries[index % len(queries)]
        started = time.perf_counter()
        model.predict([text])
        latencies.append(time.perf_counter() - started)
    return latencies
