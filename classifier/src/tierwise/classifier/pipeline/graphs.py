"""Stage 6, graphs: the ONNX graphs and tokenizers of the bundle, written to a staging dir."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from tierwise.classifier import encoders, export, knn
from tierwise.classifier.pipeline.clock import Clock
from tierwise.classifier.pipeline.config import TrainConfig
from tierwise.classifier.pipeline.features import Features
from tierwise.classifier.pipeline.heads import Heads
from tierwise.classifier.pipeline.targets import Targets


@dataclass(frozen=True)
class EncoderFiles:
    graph: str  # file name inside the bundle
    tokenizer: str


FILES: Final = {
    "transformer": EncoderFiles("router.onnx", "tokenizer.json"),
    "fast": EncoderFiles("router_fast.onnx", "tokenizer_fast.json"),
}


@dataclass(frozen=True)
class Graphs:
    directory: Path  # the staged bundle (graphs and tokenizers; no manifest yet)
    files: dict[str, EncoderFiles]  # in config.encoder_names order


def export_graphs(
    config: TrainConfig,
    targets: Targets,
    features: Features,
    heads: Heads,
    workdir: Path,
    clock: Clock | None = None,
) -> Graphs:
    """``workdir``: an empty scratch directory; the bundle goes to ``workdir / "bundle"``."""
    from tokenizers import Tokenizer

    stage = workdir / "bundle"
    stage.mkdir()
    tf = heads.encoders["transformer"]
    tf_module = export.transformer_module(
        encoders.load_hf_encoder(),
        tf.difficulty,
        tf.length,
        tf.skills,
        tf.centroids,
        features.encoders["transformer"].length_norm,
    )
    fp32 = workdir / "router_fp32.onnx"
    export.export_onnx(tf_module, fp32)
    export.optimise_and_quantise(fp32, stage / FILES["transformer"].graph)
    _append_knn(config, targets, heads, "transformer", stage / FILES["transformer"].graph)
    tok = Tokenizer.from_file(str(encoders.minilm_dir() / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    (stage / FILES["transformer"].tokenizer).write_text(tok.to_str(), encoding="utf-8")
    if features.fast is not None:
        fast = heads.encoders["fast"]
        fast_module = export.fast_module(
            features.fast.table,
            fast.difficulty,
            fast.length,
            fast.skills,
            fast.centroids,
            features.encoders["fast"].length_norm,
        )
        export.export_onnx(fast_module, stage / FILES["fast"].graph)
        _append_knn(config, targets, heads, "fast", stage / FILES["fast"].graph)
        (stage / FILES["fast"].tokenizer).write_text(features.fast.tokenizer_json, encoding="utf-8")
    if clock:
        clock.lap("export")
    return Graphs(directory=stage, files={name: FILES[name] for name in config.encoder_names})


def _append_knn(config: TrainConfig, targets: Targets, heads: Heads, name: str, path: Path) -> None:
    enc = heads.encoders[name]
    if enc.knn_bank is None:
        return
    knn.append_to_onnx(
        path,
        enc.knn_bank,
        targets.difficulty,
        heads.knn,
        heads.knn_prior,
        w_mlp=enc.alpha * (1.0 - heads.knn_weight),
        w_knn=enc.alpha * heads.knn_weight,
        bias=enc.beta,
        quantise=config.knn_int8,
    )
