"""Score every labelled query once, exactly as the server would, into compact arrays."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from tierwise.cost_tables.quote import RequestUsage, quote_request
from tierwise.server.cli.common import Progress
from tierwise.server.errors import InvalidRequestError
from tierwise.server.replay.dataset import LabelledQuery
from tierwise.server.routing.latency_constraints import DEFAULT_LATENCY, NO_CONSTRAINTS
from tierwise.server.routing.policy import Policy
from tierwise.server.routing.router import Prediction, RouteInput, Router


class _Rows:
    """A float array that grows by doubling (no list of per-row objects)."""

    def __init__(self, width: int, dtype: type[np.generic]) -> None:
        self._data = np.zeros((1024, width), dtype=dtype)
        self._size = 0

    def append(self, row: Sequence[float] | np.ndarray) -> None:
        if self._size == len(self._data):
            self._data = np.concatenate([self._data, np.zeros_like(self._data)])
        self._data[self._size] = row
        self._size += 1

    def array(self) -> np.ndarray:
        return self._data[: self._size].copy()


@dataclass(frozen=True)
class ScoredSet:
    """What replay keeps per query (n queries, T replayed tiers, d embedding dims)."""

    tiers: tuple[str, ...]
    ids: list[str | int]
    lines: np.ndarray  # int64 [n], line numbers in the input file
    shipped_difficulty: np.ndarray  # float64 [n], the model's own head
    difficulty: np.ndarray  # float64 [n], what the current policy uses (its head, if any)
    log_output_tokens: np.ndarray  # float64 [n]
    centroid_similarity: np.ndarray  # float64 [n]
    n_tokens: np.ndarray  # int64 [n]
    truncated: np.ndarray  # bool [n], as decide() saw it (encoder truncation or long prompt)
    input_tokens: np.ndarray  # int64 [n], as decide() counted them (given or estimated)
    outcomes: np.ndarray  # float64 [n, T]
    cost_usd: np.ndarray  # float64 [n, T], real token counts when given, else decide()'s quote
    current_choice: np.ndarray  # int64 [n], tier index the current policy picks
    embeddings: np.ndarray | None  # float32 [n, d] (only when asked for)
    skills: np.ndarray  # float64 [n, k], each query's skill profile (model output)
    # Queries routed under a latency constraint (the line's or the policy's [latency] rule),
    # and those whose current-policy decision the constraint changed.
    latency_constrained: int = 0
    latency_changed: int = 0

    @property
    def size(self) -> int:
        return len(self.ids)

    def route_input(self, index: int, allowed: tuple[str, ...]) -> RouteInput:
        """The RouteInput decide() needs again: token count fixed, no text (not kept)."""
        return RouteInput(
            text="",
            prompt_chars=0,
            input_tokens=int(self.input_tokens[index]),
            allowed_tiers=allowed,
        )

    def prediction(self, index: int, difficulty: float) -> Prediction:
        return Prediction(
            difficulty=difficulty,
            log_output_tokens=float(self.log_output_tokens[index]),
            centroid_similarity=float(self.centroid_similarity[index]),
            n_tokens=int(self.n_tokens[index]),
            truncated=bool(self.truncated[index]),
            embedding=_NO_EMBEDDING,
            skills=tuple(self.skills[index].tolist()),
        )


# Replay applies heads itself (difficulty passed in); decide() never reads this.
_NO_EMBEDDING = np.zeros(0, dtype=np.float32)


def score_queries(
    router: Router,
    items: Iterable[LabelledQuery],
    tiers: tuple[str, ...],
    allowed: tuple[str, ...],
    policy: Policy,
    *,
    keep_embeddings: bool,
    progress: Progress | None = None,
) -> ScoredSet:
    """One model call per query (as Router.route_many does), then the current policy's
    decision for its quotes; returns compact arrays."""
    width = len(tiers)
    index_of = {t: i for i, t in enumerate(tiers)}
    ids: list[str | int] = []
    scalars = _Rows(9, np.float64)
    outcomes = _Rows(width, np.float64)
    costs = _Rows(width, np.float64)
    embeddings: _Rows | None = None
    skills = _Rows(router.model.manifest.skill_dims, np.float64)
    constrained = changed = 0
    unconstrained_policy = dataclasses.replace(policy, latency=DEFAULT_LATENCY)
    for item in items:
        try:
            checked = RouteInput.create(
                query=item.query, input_tokens=item.input_tokens, known_tiers=router.table.ids()
            )
        except InvalidRequestError as error:  # parse_record already checks the same things
            raise ValueError(f"line {item.line}: {error}") from error
        # The replayed tiers are the table's (checked by the dataset), not the request's.
        route_in = dataclasses.replace(
            checked,
            allowed_tiers=allowed,
            latency=item.latency,
            caller=item.caller,
            feature=item.feature,
        )
        outputs = router.model.predict([route_in.text])
        prediction = Prediction.rows(outputs)[0]
        decision = router.decide(route_in, prediction, policy)
        if decision.latency_constraints.any():
            # Latency only reaches this count: the sweeps and fits below tune quality and cost.
            constrained += 1
            free = dataclasses.replace(route_in, latency=NO_CONSTRAINTS)
            changed += router.decide(free, prediction, unconstrained_policy).tier != decision.tier
        estimates = {e.tier: e for e in decision.estimates}
        row_costs = []
        for tier in tiers:
            real = item.output_tokens.get(tier)
            if real is None:
                row_costs.append(estimates[tier].quoted_usd)
            else:
                usage = RequestUsage(input_tokens=decision.input_tokens, output_tokens=real)
                row_costs.append(quote_request(router.table.get(tier), usage).total_usd)
        ids.append(item.id)
        scalars.append(
            [
                item.line,
                prediction.difficulty,
                decision.difficulty,
                prediction.log_output_tokens,
                prediction.centroid_similarity,
                prediction.n_tokens,
                decision.input_tokens,
                float(decision.truncated),
                index_of[decision.tier],
            ]
        )
        outcomes.append([item.outcomes[t] for t in tiers])
        costs.append(row_costs)
        skills.append(outputs.skills[0])
        if keep_embeddings:
            if embeddings is None:
                embeddings = _Rows(outputs.embedding.shape[1], np.float32)
            embeddings.append(outputs.embedding[0])
        if progress is not None:
            progress.advance()
    table = scalars.array()
    return ScoredSet(
        tiers=tiers,
        ids=ids,
        lines=table[:, 0].astype(np.int64),
        shipped_difficulty=table[:, 1],
        difficulty=table[:, 2],
        log_output_tokens=table[:, 3],
        centroid_similarity=table[:, 4],
        n_tokens=table[:, 5].astype(np.int64),
        input_tokens=table[:, 6].astype(np.int64),
        truncated=table[:, 7] > 0.5,
        current_choice=table[:, 8].astype(np.int64),
        outcomes=outcomes.array(),
        cost_usd=costs.array(),
        embeddings=None if embeddings is None else embeddings.array(),
        skills=skills.array(),
        latency_constrained=constrained,
        latency_changed=changed,
    )
