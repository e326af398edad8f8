"""Names of the router graphs' inputs and outputs: the contract between export and runtime.

Both graphs (transformer and fast) have the same interface; the runtime's RouterOutputs
fields carry the output names.
"""

from __future__ import annotations

from typing import Final

INPUT_IDS: Final = "input_ids"  # int64 [batch, seq]
ATTENTION_MASK: Final = "attention_mask"  # int64 [batch, seq]
DIFFICULTY: Final = "difficulty"  # float32 [batch], IRT difficulty b-hat
LOG_OUTPUT_TOKENS: Final = "log_output_tokens"  # float32 [batch]
CENTROID_SIMILARITY: Final = "centroid_similarity"  # float32 [batch]
EMBEDDING: Final = "embedding"  # float32 [batch, d], L2-normalised
SKILLS: Final = "skills"  # float32 [batch, k], low-rank skill profile

INPUT_NAMES: Final = (INPUT_IDS, ATTENTION_MASK)
# Output order of the graphs (the runtime unpacks session.run in this order).
OUTPUT_NAMES: Final = (DIFFICULTY, LOG_OUTPUT_TOKENS, CENTROID_SIMILARITY, EMBEDDING, SKILLS)
