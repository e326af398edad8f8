"""Inference for the router model: numpy + onnxruntime + tokenizers only (no torch).

>>> model = RouterModel.load()                      # shipped bundle, MiniLM int8 encoder
>>> out = model.predict(["What is 2+2?"])
>>> out.difficulty, out.log_output_tokens, out.centroid_similarity, out.skills

``RouterModel.predict`` is thread-safe: the tokenizer is immutable after load (padding and
truncation are configured once) and onnxruntime sessions support concurrent ``run`` calls.

Threads: each call runs on ``intra_op_threads`` (1 by default: concurrent calls each take a
core). With ``solo_intra_op_threads`` > that, a second session with more threads serves any
call that starts while no other call is running, so a lone request uses the idle cores too
(MiniLM int8 on 2 cores: p50 4.6 → 3.7 ms) and a busy server keeps one thread per call. A
server also sets :meth:`RouterModel.use_concurrency_probe` (its in-flight RPC count): under
load a call can find no other model call running while other requests are being parsed or
answered, and two threads then only compete with them.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

from tierwise.classifier import success

SCHEMA_VERSION = 2
INPUT_NAMES = ("input_ids", "attention_mask")
OUTPUT_NAMES = ("difficulty", "log_output_tokens", "centroid_similarity", "embedding", "skills")
OUTPUT_LIST = list(OUTPUT_NAMES)


class ModelLoadError(Exception):
    """The bundle cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class RouterOutputs:
    """One row per input text (numpy arrays)."""

    difficulty: np.ndarray  # float32 [n], IRT difficulty b-hat on the theta scale
    log_output_tokens: np.ndarray  # float32 [n], natural log of predicted output tokens
    centroid_similarity: np.ndarray  # float32 [n], max cosine to training-data centroids
    embedding: np.ndarray  # float32 [n, d], L2-normalised
    skills: np.ndarray  # float32 [n, k], the query's skill profile (logit += skills . u_tier)
    n_tokens: np.ndarray  # int64 [n], tokens the encoder would see before truncation
    truncated: np.ndarray  # bool [n], True when the text exceeded max_tokens


@dataclass(frozen=True)
class Encoder:
    """One encoder of the bundle, as its manifest lists it (``encoders.<name>``): the names
    a server, a policy head or a CLI accepts are the manifest's, never a fixed list."""

    name: str
    graph: str
    tokenizer: str
    max_tokens: int
    embedding_dim: int
    ood_threshold: float  # centroid_similarity below this => out of distribution


# The former name, for callers not yet switched.
EncoderSpec = Encoder


@dataclass(frozen=True)
class Manifest:
    """Typed view of ``manifest.json``.

    The router knows the models it was trained on, not price tiers: tiers are placed on its
    ability scale by the tier table (tierwise.cost_tables.placement)."""

    schema_version: int
    router_version: str
    irt_scale: float  # a in P = c + (1-c) sigmoid(a (theta - difficulty) + skills . u)
    # theta per trained model (irt.model_abilities): the scale tiers are placed on.
    model_abilities: Mapping[str, float]
    skill_dims: int  # columns of the graph's skills output (0: no skill term)
    # u per trained model (skills.model_profiles, skill_dims numbers each; empty if 0 dims).
    model_profiles: Mapping[str, tuple[float, ...]]
    encoders: Mapping[str, Encoder]  # in manifest order; the first is the default
    output_tokens_median: float
    raw: Mapping[str, Any] = field(repr=False)

    @property
    def default_encoder(self) -> str:
        """The encoder a bundle is used with unless told otherwise: the first listed."""
        return next(iter(self.encoders))

    def p_success(
        self,
        difficulty: np.ndarray,
        model: str,
        chance: float = 0.0,
        skills: np.ndarray | None = None,
    ) -> np.ndarray:
        """P(trained model solves the query) under the router's success model.

        ``skills`` ([n, k], the graph's output) adds the model's skill term; None = 1-D only.
        """
        profile = self.model_profiles.get(model, ())
        offset = 0.0 if skills is None or not profile else success.skill_term(skills, profile)
        z = success.success_logit(self.model_abilities[model], difficulty, self.irt_scale, offset)
        return success.p_success(np.asarray(z), chance)

    @classmethod
    def from_file(cls, path: Path) -> Manifest:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as e:
            raise ModelLoadError(f"{path}: manifest not found") from e
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ModelLoadError(f"{path}: unreadable manifest ({e})") from e
        try:
            return cls._parse(raw)
        except (KeyError, TypeError, ValueError) as e:
            raise ModelLoadError(f"{path}: invalid manifest ({type(e).__name__}: {e})") from e

    @classmethod
    def _parse(cls, raw: Any) -> Manifest:
        if not isinstance(raw, dict):
            raise TypeError("top level must be an object")
        version = int(raw["schema_version"])
        if version != SCHEMA_VERSION:
            raise ValueError(f"schema_version {version} unsupported (expected {SCHEMA_VERSION})")
        irt = dict(raw["irt"])
        abilities = {str(k): float(v) for k, v in dict(irt["model_abilities"]).items()}
        if not abilities or not all(math.isfinite(v) for v in abilities.values()):
            raise ValueError("irt.model_abilities must be a non-empty mapping of finite numbers")
        encoders: dict[str, Encoder] = {}
        for name, spec in dict(raw["encoders"]).items():
            encoders[str(name)] = Encoder(
                name=str(name),
                graph=str(spec["graph"]),
                tokenizer=str(spec["tokenizer"]),
                max_tokens=int(spec["max_tokens"]),
                embedding_dim=int(spec["embedding_dim"]),
                ood_threshold=float(spec["ood"]["centroid_similarity_threshold"]),
            )
        if not encoders:
            raise ValueError("no encoders")
        dims, profiles = _skill_profiles(raw.get("skills"))
        return cls(
            schema_version=version,
            router_version=str(raw["router_version"]),
            irt_scale=float(irt["scale"]),
            model_abilities=MappingProxyType(abilities),
            skill_dims=dims,
            model_profiles=MappingProxyType(profiles),
            encoders=MappingProxyType(encoders),
            output_tokens_median=float(raw["output_length"]["median_tokens"]),
            raw=MappingProxyType(raw),
        )


def _skill_profiles(block: Any) -> tuple[int, dict[str, tuple[float, ...]]]:
    """(dims, model → profile) of the ``skills`` block; absent or 0 dims: no skill term."""
    if block is None:
        return 0, {}
    block = dict(block)
    dims = int(block["dims"])
    if dims < 0:
        raise ValueError(f"skills.dims must be >= 0 (got {dims})")
    if dims == 0:
        return 0, {}
    profiles = {
        str(k): tuple(float(x) for x in v) for k, v in dict(block["model_profiles"]).items()
    }
    for model, vec in profiles.items():
        if len(vec) != dims or not all(math.isfinite(x) for x in vec):
            raise ValueError(f"skills.model_profiles.{model}: need {dims} finite numbers")
    return dims, profiles


def default_bundle_dir() -> Path:
    """The bundle shipped inside this package."""
    return Path(__file__).resolve().parent / "shipped"


def _session(path: Path, intra_op_threads: int) -> ort.InferenceSession:
    if not path.is_file():
        raise ModelLoadError(f"{path}: graph not found")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = intra_op_threads
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        sess = ort.InferenceSession(
            str(path), sess_options=opts, providers=["CPUExecutionProvider"]
        )
    except Exception as e:  # onnxruntime raises its own exception types
        raise ModelLoadError(f"{path}: cannot load ONNX graph ({e})") from e
    inputs = [i.name for i in sess.get_inputs()]
    outputs = [o.name for o in sess.get_outputs()]
    if tuple(inputs) != INPUT_NAMES or not set(OUTPUT_NAMES) <= set(outputs):
        raise ModelLoadError(
            f"{path}: graph contract mismatch (inputs {inputs}, outputs {outputs}; "
            f"expected inputs {list(INPUT_NAMES)} and outputs {list(OUTPUT_NAMES)})"
        )
    return sess


def _tokenizer(path: Path) -> Tokenizer:
    if not path.is_file():
        raise ModelLoadError(f"{path}: tokenizer not found")
    try:
        tok = Tokenizer.from_file(str(path))
    except Exception as e:  # tokenizers raises bare Exception subclasses
        raise ModelLoadError(f"{path}: cannot load tokenizer ({e})") from e
    tok.no_truncation()
    tok.no_padding()
    return tok


class RouterModel:
    """A loaded router bundle for one of its manifest's encoders (default: the first)."""

    manifest: Manifest
    encoder: str

    def __init__(
        self,
        manifest: Manifest,
        encoder: str,
        session: ort.InferenceSession,
        tokenizer: Tokenizer,
        solo_session: ort.InferenceSession | None = None,
    ) -> None:
        self.manifest = manifest
        self.encoder = encoder
        self.spec = manifest.encoders[encoder]
        self._session = session
        self._solo_session = solo_session
        self._running = 0  # calls inside predict (only tracked with a solo session)
        self._running_lock = threading.Lock()
        self._concurrency_probe: Callable[[], int] | None = None
        self._tokenizer = tokenizer
        pad = tokenizer.token_to_id("[PAD]")
        self._pad_id = int(pad) if pad is not None else 0

    @classmethod
    def load(
        cls,
        bundle_dir: str | Path | None = None,
        encoder: str | None = None,
        intra_op_threads: int = 1,
        solo_intra_op_threads: int | None = None,
    ) -> RouterModel:
        root = Path(bundle_dir) if bundle_dir is not None else default_bundle_dir()
        if not root.is_dir():
            raise ModelLoadError(f"{root}: bundle directory not found")
        manifest = Manifest.from_file(root / "manifest.json")
        if encoder is None:
            encoder = manifest.default_encoder
        if encoder not in manifest.encoders:
            raise ModelLoadError(
                f"{root / 'manifest.json'}: encoder {encoder!r} not in bundle "
                f"(has {sorted(manifest.encoders)})"
            )
        spec = manifest.encoders[encoder]
        tokenizer = _tokenizer(root / spec.tokenizer)
        session = _session(root / spec.graph, intra_op_threads)
        width = next(o.shape for o in session.get_outputs() if o.name == "skills")[-1]
        if isinstance(width, int) and width != manifest.skill_dims:
            raise ModelLoadError(
                f"{root / spec.graph}: skills output has {width} columns, the manifest says "
                f"{manifest.skill_dims}"
            )
        solo = None
        if solo_intra_op_threads is not None and solo_intra_op_threads > intra_op_threads:
            solo = _session(root / spec.graph, solo_intra_op_threads)
        return cls(manifest, encoder, session, tokenizer, solo)

    def use_concurrency_probe(self, probe: Callable[[], int]) -> None:
        """``probe()``: requests the caller has in flight, this one included. The solo session
        serves a call only when it returns 1 or less."""
        self._concurrency_probe = probe

    @property
    def ood_threshold(self) -> float:
        return self.spec.ood_threshold

    def difficulty_each(self, texts: Sequence[str]) -> np.ndarray:
        """float64 [n]: each text's difficulty scored alone, as the server scores a request
        (int8 activation ranges are per batch, so batching would shift the numbers)."""
        return np.array([float(self.predict([t]).difficulty[0]) for t in texts])

    def predict(self, texts: Sequence[str]) -> RouterOutputs:
        if isinstance(texts, str):
            raise TypeError("predict() takes a sequence of texts, not a single str")
        n = len(texts)
        dim = self.spec.embedding_dim
        if n == 0:
            f = np.zeros(0, dtype=np.float32)
            return RouterOutputs(
                f,
                f,
                f,
                np.zeros((0, dim), np.float32),
                np.zeros((0, self.manifest.skill_dims), np.float32),
                np.zeros(0, np.int64),
                np.zeros(0, bool),
            )
        # encode_batch_fast skips character offsets, which routing never reads.
        encodings = self._tokenizer.encode_batch_fast(list(texts))
        max_tokens = self.spec.max_tokens
        n_tokens = np.array([len(e.ids) for e in encodings], dtype=np.int64)
        seq = max(1, int(min(max_tokens, n_tokens.max())))
        ids = np.full((n, seq), self._pad_id, dtype=np.int64)
        mask = np.zeros((n, seq), dtype=np.int64)
        for row, enc in enumerate(encodings):
            tok_ids = list(enc.ids)
            if len(tok_ids) > max_tokens:
                # Keep the final special token (e.g. [SEP]) when the tokenizer adds one.
                if enc.special_tokens_mask[-1]:
                    tok_ids = [*tok_ids[: max_tokens - 1], tok_ids[-1]]
                else:
                    tok_ids = tok_ids[:max_tokens]
            ids[row, : len(tok_ids)] = tok_ids
            mask[row, : len(tok_ids)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        if self._solo_session is None:
            diff, length, sim, emb, skills = self._session.run(OUTPUT_LIST, feeds)
        else:
            with self._running_lock:
                self._running += 1
                alone = self._running == 1
            probe = self._concurrency_probe
            if alone and probe is not None:
                alone = probe() <= 1
            try:
                session = self._solo_session if alone else self._session
                diff, length, sim, emb, skills = session.run(OUTPUT_LIST, feeds)
            finally:
                with self._running_lock:
                    self._running -= 1
        return RouterOutputs(
            difficulty=np.asarray(diff, dtype=np.float32).reshape(n),
            log_output_tokens=np.asarray(length, dtype=np.float32).reshape(n),
            centroid_similarity=np.asarray(sim, dtype=np.float32).reshape(n),
            embedding=np.asarray(emb, dtype=np.float32).reshape(n, -1),
            skills=np.asarray(skills, dtype=np.float32).reshape(n, -1),
            n_tokens=n_tokens,
            truncated=n_tokens > max_tokens,
        )
