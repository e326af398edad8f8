"""Stage 8a, generalisation: how the bundle does on traffic it never trained on.

Leads the validation report (every modelling choice is decided by these numbers):
- leave-one-source-out APGR per source family: the recipe refitted without the family
  (generalisation.loso_router), per encoder;
- the unseen chat set (../shared/data/alpaca_eval, CC BY-NC: evaluation only), scored by the
  shipped graphs on what the server shows them (prompt_view);
- the prompt-shape suite (prompt_shapes): the same questions bare, behind a few-shot prefix,
  a long system prompt, a RAG context, and as the last chat turn, through the shipped graphs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tierwise.classifier import generalisation as gen
from tierwise.classifier import prompt_shapes
from tierwise.classifier.pipeline.clock import Clock
from tierwise.classifier.pipeline.config import TrainConfig
from tierwise.classifier.pipeline.data import TrainingData
from tierwise.classifier.pipeline.features import Features
from tierwise.classifier.prompt_view import text_view


@dataclass(frozen=True)
class EncoderGeneralisation:
    loso: gen.LosoResult
    chat: gen.ChatResult | None  # None: the chat set is not in the data directory
    shapes: tuple[prompt_shapes.ShapeResult, ...]


@dataclass(frozen=True)
class Generalisation:
    encoders: dict[str, EncoderGeneralisation]

    def summary(self) -> dict[str, Any]:
        """The headline numbers (for the manifest)."""
        out: dict[str, Any] = {}
        for name, g in self.encoders.items():
            out[name] = {
                "loso_mean_apgr_by_gain": round(gen.mean_over_families(g.loso.by_gain), 4),
                "loso_mean_apgr_by_difficulty": round(
                    gen.mean_over_families(g.loso.by_difficulty), 4
                ),
                "loso_families": {f.family: round(f.mean_apgr, 4) for f in g.loso.by_gain},
                "chat_mean_apgr": None
                if g.chat is None
                else {
                    "apgr": round(g.chat.mean.value, 4),
                    "lo": round(g.chat.mean.lo, 4),
                    "hi": round(g.chat.mean.hi, 4),
                    "pairs": len(g.chat.pairs),
                },
                "prompt_shapes": {
                    s.shape: {"spearman": round(s.spearman_vs_bare, 4), "collapsed": s.collapsed}
                    for s in g.shapes
                },
            }
        return out

    def markdown(self) -> list[str]:
        lines: list[str] = []
        for name, g in self.encoders.items():
            lines += [
                f"### `{name}` encoder: leave-one-source-out, ranked by predicted gain",
                "",
                "Each family's queries scored by the recipe refitted without that family "
                "(IRT targets, ridge head, abilities and scale). Score = predicted "
                "P(strong ok) − P(weak ok), as the policy ranks tiers.",
                "",
                *gen.render_families(g.loso.by_gain),
                "",
                f"Ranked by predicted difficulty alone: mean over families "
                f"{gen.mean_over_families(g.loso.by_difficulty):.3f}.",
                "",
            ]
            if g.chat is not None:
                lines += [
                    f"### `{name}` encoder: unseen chat set (alpaca_eval, evaluation only)",
                    "",
                    "Its models are not in the training data, so prompts are ranked by "
                    "predicted difficulty (shipped graph, the server's prompt view).",
                    "",
                    *gen.render_chat(g.chat),
                    "",
                ]
            lines += [
                f"### `{name}` encoder: prompt shapes (shipped graph, the server's prompt view)",
                "",
                *prompt_shapes.render_results(g.shapes),
                "",
            ]
        return lines


def evaluate_generalisation(
    config: TrainConfig,
    data: TrainingData,
    features: Features,
    bundle_dir: Path,
    clock: Clock | None = None,
) -> Generalisation:
    from tierwise.classifier.runtime import RouterModel

    recipe = gen.RouterRecipe(
        ridge_penalty=config.ridge_penalty,
        guessing_floors=config.guessing_floors,
        oof_folds=config.oof_folds,
        seed=config.seed,
    )
    names = config.encoder_names
    # The IRT prior is MiniLM's embedding (the transformer's), as in the targets stage.
    prior_x = features.encoders["transformer"].embedding
    loso = gen.loso_router(
        data.items,
        prior_x,
        {name: features.encoders[name].head_input for name in names},
        recipe,
        config.bootstrap,
    )
    if clock:
        clock.lap("leave_one_source_out")
    chat_dir = data.data_dir / gen.CHAT_DIR
    chat_set = gen.load_chat_set(data.data_dir) if chat_dir.is_dir() else None
    suite = prompt_shapes.load_suite()
    out: dict[str, EncoderGeneralisation] = {}
    for name in names:
        model = RouterModel.load(bundle_dir, name, intra_op_threads=2)

        chat = None
        if chat_set is not None:
            views = [text_view(q).text for q in chat_set.queries]
            chat = gen.score_chat(
                chat_set, model.difficulty_each(views), config.bootstrap, config.seed
            )
        shapes = tuple(prompt_shapes.evaluate(suite, model.difficulty_each))
        out[name] = EncoderGeneralisation(loso=loso[name], chat=chat, shapes=shapes)
    if clock:
        clock.lap("chat_and_prompt_shapes")
    return Generalisation(out)
