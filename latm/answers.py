"""Turning what a tool returned into an answer in the task's format.

Tools return Python values; answers are text. Lists join with spaces, a lone option letter
becomes ``(A)``, and for a multiple-choice question a value that names exactly one option
(its whole text, or words that occur in that option only, like ``quail`` for "(A) The quail
is the rightmost") becomes that option's letter: the same answer, in the question's format.
"""

import re
from typing import Any

LONE_OPTION = re.compile(r"\([A-Ga-g]\)\.?|[A-G]\)?\.?")  # "(a)", "A", "A)", "A." - not a bare "a"
OPTION_LINE = re.compile(r"^\(([A-Z])\)\s*(.+?)\s*$", re.M)


def _plain(text: str) -> str:
    return " ".join(text.lower().rstrip(".").split())


def resolve_option(text: str, question: str) -> str:
    """``text`` as an option letter when it names exactly one of the question's options."""
    options = OPTION_LINE.findall(question)
    if not options or LONE_OPTION.fullmatch(text):
        return text
    wanted = _plain(text)
    if not wanted:
        return text
    exact = [letter for letter, option in options if _plain(option) == wanted]
    if len(exact) == 1:
        return f"({exact[0]})"
    pattern = re.compile(rf"(?<!\w){re.escape(wanted)}(?!\w)")
    named = [letter for letter, option in options if pattern.search(_plain(option))]
    return f"({named[0]})" if len(named) == 1 else text


def normalize_value(value: Any, question: str | None = None) -> str | None:
    """Option letters become '(A)'; lists and tuples join with spaces; None stays None.

    With the ``question``, a value naming exactly one of its options becomes that option.
    """
    if value is None:
        return None
    if isinstance(value, list | tuple):
        value = " ".join(str(v) for v in value)
    text = str(value).strip()
    if question:
        text = resolve_option(text, question)
    return f"({text.strip('().').upper()})" if LONE_OPTION.fullmatch(text) else text
