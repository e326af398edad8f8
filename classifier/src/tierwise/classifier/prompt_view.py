"""What the encoder reads of a prompt: the part that decides how hard it is.

Users send long prompts: a shared few-shot template, a long system prompt or a RAG context
before the question, a conversation before the last turn. A head-only window gives every
question behind the same template the same embedding (measured: 100 % of one unseen
benchmark's items collapsed to one difficulty value). The question sits at the end, the task
instruction at the start, so a long prompt is read as its head plus its tail; a conversation
as its last user turn plus the most recent context that still fits.

Training, evaluation and the server all call these functions, so the router is trained on
exactly the text it is later shown. Characters, not tokens: both encoders' tokenizers then
see the same view, and a 1 MB prompt is never tokenized on the hot path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

# Head + tail of a long prompt. 150 + 350 characters ≈ 110-130 MiniLM tokens of English
# prose: the transformer's 128-token window. The tail gets more room because the question,
# the part that varies between requests behind one template, is at the end.
HEAD_CHARS: Final = 150
TAIL_CHARS: Final = 350
VIEW_CHARS: Final = HEAD_CHARS + TAIL_CHARS
# Marks the cut, so the encoder sees two passages rather than one run-on sentence.
ELISION: Final = " … "
# Below this many characters left after the last user turn, earlier turns are not added.
MIN_CONTEXT_CHARS: Final = 40


@dataclass(frozen=True)
class PromptView:
    """The encoder's text and whether anything of the prompt was left out."""

    text: str
    truncated: bool


def text_view(prompt: str) -> PromptView:
    """A single prompt: whole when short, else its head and its tail."""
    text = prompt.strip()
    if len(text) <= VIEW_CHARS + len(ELISION):
        return PromptView(text, truncated=False)
    head = text[:HEAD_CHARS].rstrip()
    tail = text[-TAIL_CHARS:].lstrip()
    return PromptView(f"{head}{ELISION}{tail}", truncated=True)


def chat_view(question: str, earlier_turns: Sequence[str]) -> PromptView:
    """A conversation: the last user turn first (viewed like a prompt), then the most recent
    earlier turns, newest first, in the room left (follow-ups such as "and now in Rust?"
    need a little context; a long history must not drown the question)."""
    first = text_view(question)
    parts = [first.text]
    room = VIEW_CHARS - len(first.text)
    truncated = first.truncated
    for turn in reversed(earlier_turns):
        content = turn.strip()
        if not content:
            continue
        if room < MIN_CONTEXT_CHARS:
            truncated = True
            break
        # The end of a turn is closest to the question that follows it.
        piece = content if len(content) <= room else content[-room:].lstrip()
        truncated = truncated or len(piece) < len(content)
        parts.append(piece)
        room -= len(piece) + 2
    return PromptView("\n\n".join(parts), truncated=truncated)
