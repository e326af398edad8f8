"""Offline replay: re-fit the routing policy on a user's own labelled queries.

>>> result = run_replay(router, ReplayOptions(input_path=Path("labelled.jsonl"), out_dir=out))
>>> result.validation.saving, result.policy_path

Reads a JSONL file of queries with per-tier outcomes, scores each query once with the router's
model, re-fits the tier abilities (and optionally the difficulty head), sweeps the quality
target to get the cost–quality frontier, picks an operating point on a tuning part and
measures it on a validation part, then writes a policy the server reloads and a report.
"""

from tierwise.server.replay.results import ReplayResult
from tierwise.server.replay.run import ReplayOptions, run_replay

__all__ = ["ReplayOptions", "ReplayResult", "run_replay"]
