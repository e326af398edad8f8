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

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

# Head + tail of a long prompt. 150 + 350 characters ≈ 110-130 MiniLM tokens of English
# prose: the transformer's 128-token window. The tail gets more room because the question,
# the part that varies between requests behind one template, is at the end.
HEAD_CHARS: Final = 150
TAIL_CHARS: Final = 350
VIEW_CHARS: Final = HEAD_CHARS + TAIL_CHARS
# Marks a cut, so the encoder sees two passages rather than one run-on sentence.
ELISION: Final = " … "
# A long prompt made of paragraphs (template, documents, then the question) is read as its
# opening words — the task instruction, the same for every request behind one template —
# and then its last paragraphs, which hold the question. Measured on the prompt-shape suite:
# a head of 150 characters lets a RAG block's first document (different for every question)
# into the view; 80 characters keeps the instruction and leaves the rest to the question.
CONTEXT_CHARS: Final = 80
QUESTION_CHARS: Final = VIEW_CHARS - CONTEXT_CHARS
MIN_QUESTION_CHARS: Final = 120
# Characters read at each end of a very long prompt (the view never needs more).
SCAN_CHARS: Final = 4096
_SLOT_LABEL: Final = re.compile(r"[A-Za-z][A-Za-z ]{0,24}:\s")
_PARAGRAPH_BREAK: Final = re.compile(r"\n[ \t]*\n")
# A conversation: earlier turns are added only to a follow-up — a last turn shorter than this
# that opens like one ("and now in Rust?", "why?") — and at most this much of them. A full
# question needs no context: measured on the prompt-shape suite, context added to every short
# question blurred them (Spearman against the bare question 0.52).
FOLLOW_UP_CHARS: Final = 80
FOLLOW_UP_WORDS: Final = frozenset(
    {"and", "also", "but", "so", "then", "now", "why", "same", "again", "more", "continue"}
    | {"it", "that", "this", "those", "these", "ok", "okay", "thanks", "instead"}
)
CHAT_CONTEXT_CHARS: Final = 200


@dataclass(frozen=True)
class PromptView:
    """The encoder's text and whether anything of the prompt was left out."""

    text: str
    truncated: bool


def _head_tail(text: str, budget: int) -> str:
    """``text`` in ``budget`` characters: whole, or its head and its tail (tail 70 %)."""
    if len(text) <= budget + len(ELISION):
        return text
    tail = budget * TAIL_CHARS // VIEW_CHARS
    return f"{text[: budget - tail].rstrip()}{ELISION}{text[-tail:].lstrip()}"


def _question_start(text: str) -> int:
    """Where the trailing paragraphs that fit in QUESTION_CHARS begin (at least the last);
    when they are shorter than MIN_QUESTION_CHARS, the tail of the paragraph before joins
    them (a bare "What is the number of the house…?" after the puzzle it asks about) —
    unless they open with a label ("Question:", "Q:", "User request:"), the slot of a
    template, whose question stands alone and whose preceding text is the template's."""
    breaks = [m.end() for m in _PARAGRAPH_BREAK.finditer(text)]
    start = breaks[-1] if breaks else 0
    for candidate in reversed(breaks[:-1]):
        if len(text) - candidate > QUESTION_CHARS or _SLOT_LABEL.match(text, start):
            break
        start = candidate
    if 0 < len(text) - start < MIN_QUESTION_CHARS and not _SLOT_LABEL.match(text, start):
        cut = len(text) - MIN_QUESTION_CHARS
        space = text.find(" ", cut)
        start = cut if space < 0 or space >= start else space + 1
    return start


def text_view(prompt: str) -> PromptView:
    """A single prompt: whole when short; else its opening words and its last paragraphs
    (one long paragraph: its head and its tail)."""
    if len(prompt) > 2 * SCAN_CHARS:
        # Only both ends can reach the view: a 1 MB prompt costs no more than an 8 KB one.
        prompt = f"{prompt[:SCAN_CHARS]} {prompt[-SCAN_CHARS:]}"
    text = prompt.strip()
    if len(text) <= VIEW_CHARS + len(ELISION):
        return PromptView(text, truncated=False)
    start = _question_start(text)
    if start == 0:
        return PromptView(_head_tail(text, VIEW_CHARS), truncated=True)
    context = text[:start].strip()[:CONTEXT_CHARS].rstrip()
    question = _head_tail(text[start:].strip(), QUESTION_CHARS)
    return PromptView(f"{context}{ELISION}{question}", truncated=True)


def is_follow_up(turn: str) -> bool:
    """A short turn that leans on the one before ("and now in Rust?", "why?")."""
    words = turn.strip().lower().split()
    return (
        len(turn.strip()) < FOLLOW_UP_CHARS
        and bool(words)
        and (words[0].strip(",.?!") in FOLLOW_UP_WORDS or len(words) <= 2)
    )


def chat_view(question: str, earlier_turns: Sequence[str]) -> PromptView:
    """A conversation: the last user turn (viewed like a prompt); a short follow-up also
    gets the end of the turns before it, newest first."""
    first = text_view(question)
    history = [t.strip() for t in earlier_turns if t.strip()]
    if not history or not is_follow_up(question):
        return PromptView(first.text, truncated=first.truncated or bool(history))
    parts = [first.text]
    room = CHAT_CONTEXT_CHARS
    for turn in reversed(history):
        if room <= 0:
            break
        # The end of a turn is closest to the question that follows it.
        piece = turn if len(turn) <= room else turn[-room:].lstrip()
        parts.append(piece)
        room -= len(piece)
    used = sum(len(p) for p in parts[1:])
    return PromptView(
        "\n\n".join(parts), truncated=first.truncated or used < sum(map(len, history))
    )
