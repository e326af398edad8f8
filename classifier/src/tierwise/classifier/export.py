"""Build and export the two ONNX graphs (same I/O contract; names in graph_io.py).

inputs : input_ids int64 [batch, seq], attention_mask int64 [batch, seq]
outputs: difficulty float32 [batch], log_output_tokens float32 [batch],
         centroid_similarity float32 [batch], embedding float32 [batch, d],
         skills float32 [batch, k] (the query's low-rank skill profile; see heads.train_skill_head)
"""

from __future__ import annotations

import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any, cast

import numpy as np

from tierwise.classifier.graph_io import INPUT_NAMES, OUTPUT_NAMES

OPSET = 17


def _router_module(
    encode: Any,
    difficulty_head: Any,
    length_head: Any,
    skill_head: Any,
    centroids: np.ndarray,
    length_norm: tuple[float, float],
) -> Any:
    """Heads read [embedding, standardised log token count]: the embedding is L2-normalised,
    so without the count a 30-token and a 120-token word problem on the same topic look alike
    (query length alone ranks GSM8K by difficulty about as well as the embedding does)."""
    import torch
    import torch.nn as nn

    class Router(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encode = encode
            self.difficulty_head = difficulty_head
            self.length_head = length_head
            self.skill_head = skill_head
            self.register_buffer("centroids_t", torch.from_numpy(centroids.T.astype(np.float32)))
            self.length_mean, self.length_sd = float(length_norm[0]), float(length_norm[1])

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> Any:
            emb = self.encode(input_ids, attention_mask)
            sim = torch.matmul(emb, cast(torch.Tensor, self.centroids_t)).max(dim=-1).values
            tokens = attention_mask.sum(dim=1, keepdim=True).clamp(min=1).to(torch.float32)
            length = (torch.log(tokens) - self.length_mean) / self.length_sd
            features = torch.cat([emb, length], dim=-1)
            return (
                self.difficulty_head(features).squeeze(-1),
                self.length_head(features).squeeze(-1),
                sim,
                emb,
                self.skill_head(features),
            )

    return Router().eval()


def transformer_module(
    hf_model: Any,
    difficulty_head: Any,
    length_head: Any,
    skill_head: Any,
    centroids: np.ndarray,
    length_norm: tuple[float, float],
) -> Any:
    import torch
    import torch.nn as nn

    class Encode(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = hf_model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            out = self.bert(
                input_ids=input_ids,
                attention_mask=attention_mask,
                token_type_ids=torch.zeros_like(input_ids),
            ).last_hidden_state
            m = attention_mask.unsqueeze(-1).to(out.dtype)
            pooled = (out * m).sum(dim=1) / m.sum(dim=1).clamp(min=1e-9)
            return nn.functional.normalize(pooled, p=2.0, dim=-1)

    return _router_module(
        Encode(), difficulty_head, length_head, skill_head, centroids, length_norm
    )


def fast_module(
    table_fp16: np.ndarray,
    difficulty_head: Any,
    length_head: Any,
    skill_head: Any,
    centroids: np.ndarray,
    length_norm: tuple[float, float],
) -> Any:
    import torch
    import torch.nn as nn

    class Encode(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("table", torch.from_numpy(table_fp16.astype(np.float16)))

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            vec = nn.functional.embedding(input_ids, cast(torch.Tensor, self.table)).to(
                torch.float32
            )
            m = attention_mask.unsqueeze(-1).to(torch.float32)
            pooled = (vec * m).sum(dim=1) / m.sum(dim=1).clamp(min=1.0)
            return nn.functional.normalize(pooled, p=2.0, dim=-1)

    return _router_module(
        Encode(), difficulty_head, length_head, skill_head, centroids, length_norm
    )


def export_onnx(module: Any, path: Path) -> None:
    import torch

    ids = torch.tensor([[101, 7592, 2088, 102], [101, 2129, 102, 0]], dtype=torch.long)
    mask = (ids != 0).long()
    axes = {name: {0: "batch", 1: "seq"} for name in INPUT_NAMES}
    axes.update({name: {0: "batch"} for name in OUTPUT_NAMES})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            (ids, mask),
            str(path),
            input_names=list(INPUT_NAMES),
            output_names=list(OUTPUT_NAMES),
            dynamic_axes=axes,
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )


def optimise_and_quantise(fp32_path: Path, out_path: Path) -> None:
    """ORT transformer fusion (bert, 12 heads, hidden 384) + dynamic int8 per-channel."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process
    from onnxruntime.transformers import optimizer

    with tempfile.TemporaryDirectory() as tmp:
        fused = Path(tmp) / "fused.onnx"
        pre = Path(tmp) / "pre.onnx"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            opt = optimizer.optimize_model(
                str(fp32_path), model_type="bert", num_heads=12, hidden_size=384
            )
            opt.save_model_to_file(str(fused))
            quant_pre_process(str(fused), str(pre), skip_symbolic_shape=True)
            quantize_dynamic(
                str(pre),
                str(out_path),
                per_channel=True,
                weight_type=QuantType.QInt8,
                extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
            )


def copy_file(src: Path, dst: Path) -> None:
    shutil.copyfile(src, dst)
