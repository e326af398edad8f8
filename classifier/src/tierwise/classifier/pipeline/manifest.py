"""Stage 7, manifest: the bundle's manifest.json — tier parameters, IRT scale, provenance.

Written provisionally next to the graphs (the runtime needs it to load them); the report stage
adds the OOD thresholds and metrics measured through those graphs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tierwise.classifier import data as data_mod
from tierwise.classifier.pipeline.config import TrainConfig
from tierwise.classifier.pipeline.data import TrainingData
from tierwise.classifier.pipeline.embeddings import Embeddings
from tierwise.classifier.pipeline.graphs import Graphs
from tierwise.classifier.pipeline.heads import Abilities, Heads
from tierwise.classifier.pipeline.targets import Targets
from tierwise.classifier.runtime import SCHEMA_VERSION

_NO_OOD_THRESHOLD = {"centroid_similarity_threshold": -1.0}  # until the report stage sets it


@dataclass(frozen=True)
class Bundle:
    directory: Path  # graphs, tokenizers and manifest.json: loadable by RouterModel
    manifest: dict[str, Any]


def write_manifest(
    config: TrainConfig,
    data: TrainingData,
    embeddings: Embeddings,
    targets: Targets,
    heads: Heads,
    graphs: Graphs,
) -> Bundle:
    manifest = provisional_manifest(config, data, embeddings, targets, heads, graphs)
    save(graphs.directory, manifest)
    return Bundle(directory=graphs.directory, manifest=manifest)


def save(directory: Path, manifest: dict[str, Any]) -> None:
    (directory / "manifest.json").write_text(_dump(manifest), encoding="utf-8")


def provisional_manifest(
    config: TrainConfig,
    data: TrainingData,
    embeddings: Embeddings,
    targets: Targets,
    heads: Heads,
    graphs: Graphs,
) -> dict[str, Any]:
    abilities = heads.abilities
    tier_abilities, tier_profiles = _tier_parameters(abilities, config.skill_dims)
    model_profiles = _model_profiles(abilities)
    config_blob = json.dumps(
        {k: str(v) for k, v in asdict(config).items() if k not in {"output_dir"}}, sort_keys=True
    )
    ds = data.dataset
    data_hash = _sha_files(data.data_dir, ds.files)
    short = hashlib.sha256((data_hash + config_blob).encode()).hexdigest()[:10]
    lt = targets.log_output_tokens[targets.length_train_idx]
    n_held_out = int(np.sum(data.held_out))
    return {
        "schema_version": SCHEMA_VERSION,
        "router_version": f"{dt.date.today().isoformat()}+{short}",
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "encoders": _encoder_specs(config, graphs),
        "tier_abilities": tier_abilities,
        "irt": {
            "model": "P = c + (1 - c) * sigmoid(scale * (theta - difficulty))",
            "scale": abilities.scale,
            "discrimination": 1.0,
            "chance_default": 0.0,
            "model_abilities": abilities.theta,
            "model_abilities_joint_fit": targets.irt_fit.theta,
            "difficulty_calibration": {
                name: {"alpha": enc.alpha, "beta": enc.beta, "knn_weight": heads.knn_weight}
                for name, enc in heads.encoders.items()
            },
        },
        "skills": {
            "model": "logit += skills(query) . u (u per tier / model; skills = graph output)",
            "dims": config.skill_dims,
            "tier_profiles": tier_profiles,
            "model_profiles": model_profiles,
        },
        "output_length": {
            "target": "log(MiniLM WordPiece tokens of the response), mean over responses",
            "median_tokens": float(np.exp(np.median(lt))) if len(lt) else 200.0,
            "mean_log_tokens": float(np.mean(lt)) if len(lt) else 5.3,
            "std_log_tokens": float(np.std(lt)) if len(lt) else 1.0,
            "n_train": len(lt),
        },
        "training": {
            "seed": config.seed,
            "config": json.loads(config_blob),
            "data_dir_sha256": data_hash,
            "data_files": ds.files,
            "dropped_contaminated": ds.dropped_contaminated,
            "dropped_degenerate": ds.dropped_degenerate,
            "items": len(ds.items),
            "items_train": len(ds.items) - n_held_out,
            "items_validation": n_held_out,
            "validation": "sha256(normalised query) < 0.15",
            "minilm_sha256": embeddings.weights_sha256,
            "minilm_sanity_cosines": embeddings.sanity_cosines,
        },
    }


def _model_profiles(abilities: Abilities) -> dict[str, list[float]]:
    return {m: abilities.profiles[k].tolist() for k, m in enumerate(abilities.models)}


def _tier_parameters(
    abilities: Abilities, skill_dims: int
) -> tuple[dict[str, float], dict[str, list[float]]]:
    """Tier abilities and skill profiles, anchored on Mixtral (self-hosted) and GPT-4 (sonnet).

    Tiers inherit the skill profile of the model their ability is anchored on.
    """
    theta = abilities.theta
    theta_mixtral = theta.get(data_mod.MIXTRAL, 0.0)
    theta_gpt4 = theta.get(data_mod.GPT4, theta_mixtral + 1.0)
    gap = theta_gpt4 - theta_mixtral
    tier_abilities = {
        "self-hosted": theta_mixtral,
        "haiku": theta_mixtral + 0.5 * gap,
        "sonnet": theta_gpt4,
        "opus": theta_gpt4 + 0.5 * gap,
    }
    model_profiles = _model_profiles(abilities)
    zero = [0.0] * skill_dims
    u_mixtral = np.array(model_profiles.get(data_mod.MIXTRAL, zero))
    u_gpt4 = np.array(model_profiles.get(data_mod.GPT4, zero))
    tier_profiles = {
        "self-hosted": u_mixtral.tolist(),
        "haiku": (0.5 * (u_mixtral + u_gpt4)).tolist(),
        "sonnet": u_gpt4.tolist(),
        "opus": u_gpt4.tolist(),
    }
    return tier_abilities, tier_profiles


def _encoder_specs(config: TrainConfig, graphs: Graphs) -> dict[str, Any]:
    specs: dict[str, Any] = {}
    for name, files in graphs.files.items():
        if name == "transformer":
            max_tokens, dim = config.transformer_max_tokens, 384
            kind = "all-MiniLM-L6-v2, mean pooling, L2, int8 dynamic per-channel (ORT-fused)"
        else:
            max_tokens, dim = config.fast_max_tokens, config.fast_dims
            kind = f"static table distilled from MiniLM, PCA {config.fast_dims}-d, SIF, fp16"
        specs[name] = {
            "graph": files.graph,
            "tokenizer": files.tokenizer,
            "max_tokens": max_tokens,
            "embedding_dim": dim,
            "kind": kind,
            "ood": dict(_NO_OOD_THRESHOLD),
        }
    return specs


def _sha_files(root: Path, files: dict[str, int]) -> str:
    h = hashlib.sha256()
    for rel in sorted(files):
        h.update(rel.encode())
        h.update(str(files[rel]).encode())
        h.update(hashlib.sha256((root / rel).read_bytes()).digest())
    return h.hexdigest()


def _json_safe(v: Any) -> Any:
    """NaN/inf -> None so manifest.json stays strict JSON."""
    if isinstance(v, float):
        return v if np.isfinite(v) else None
    if isinstance(v, dict):
        return {k: _json_safe(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_json_safe(x) for x in v]
    return v


def _dump(manifest: dict[str, Any]) -> str:
    return json.dumps(_json_safe(manifest), indent=2, allow_nan=False)
