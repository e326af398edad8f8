"""What the encoder reads of a prompt: short ones whole, long ones by their informative parts."""

from __future__ import annotations

from tierwise.classifier.prompt_view import (
    CONTEXT_CHARS,
    VIEW_CHARS,
    chat_view,
    is_follow_up,
    text_view,
)

TEMPLATE = "\n\n".join(f"Question: example {k} " + "word " * 40 + "\nAnswer: 42" for k in range(12))


def test_short_prompt_is_read_whole() -> None:
    view = text_view("  What is 2+2?  ")
    assert view.text == "What is 2+2?" and not view.truncated


def test_questions_behind_one_template_stay_distinct_and_whole() -> None:
    views = [text_view(f"{TEMPLATE}\n\nQuestion: {q}\nAnswer:") for q in ("Is 7 prime?", "Why?")]
    assert views[0].text != views[1].text
    for view, q in zip(views, ("Is 7 prime?", "Why?"), strict=True):
        assert view.truncated
        assert view.text.endswith(f"Question: {q}\nAnswer:")
        assert view.text.startswith(TEMPLATE[:40])
        # the template's examples before the question slot are left out
        assert "example 11" not in view.text
        assert len(view.text) <= VIEW_CHARS + 10


def test_long_single_paragraph_keeps_head_and_tail() -> None:
    text = "start " + "x" * 2000 + " end?"
    view = text_view(text)
    assert view.truncated and view.text.startswith("start") and view.text.endswith("end?")
    assert len(view.text) <= VIEW_CHARS + 5


def test_unlabelled_short_last_paragraph_brings_the_text_it_asks_about() -> None:
    clues = "\n\n".join(["A puzzle about four houses. " * 20, "Clue: the cat lives left. " * 16])
    view = text_view(f"{clues}\n\nWhich house has the cat?")
    assert view.text.endswith("Which house has the cat?")
    assert "the cat lives left" in view.text
    assert view.text.index(" … ") <= CONTEXT_CHARS + 1


def test_chat_reads_the_last_turn_and_context_only_for_follow_ups() -> None:
    history = ["How do I reverse a list in Python?", "Use reversed() or slicing: xs[::-1]."]
    full = chat_view("What is the capital of France and why is it there?", history)
    assert full.text == "What is the capital of France and why is it there?" and full.truncated
    follow = chat_view("and in Rust?", history)
    assert follow.text.startswith("and in Rust?") and "xs[::-1]" in follow.text
    assert is_follow_up("why?") and is_follow_up("And now in Go?")
    assert not is_follow_up("What is the capital of France?")
    assert chat_view("Hello there, how are you?", []).truncated is False


def test_huge_prompt_is_viewed_from_its_ends_only() -> None:
    huge = "Summarise this log.\n\n" + ("line of log\n" * 200_000) + "\n\nWhat failed first?"
    view = text_view(huge)
    assert view.truncated and view.text.startswith("Summarise this log.")
    assert view.text.endswith("What failed first?")
