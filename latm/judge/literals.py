"""Carried answers: tool code that holds the shown examples' answers (or one shown question's own text)
as literals is named as such."""

import ast
from collections.abc import Sequence

from latm.text import clip
from tasks import Example
from tasks.base import option_letter


def _constants(code: str) -> tuple[list[str], list[int]]:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return [], []
    strings, ints = [], []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant):
            if isinstance(node.value, str):
                strings.append(" ".join(node.value.split()))
            elif isinstance(node.value, int) and not isinstance(node.value, bool):
                ints.append(node.value)
    return strings, ints


def _distinctive(answer: str, question: str) -> bool:
    """An answer worth looking for in code: long enough, not an option letter, not copied from its question."""
    text = " ".join(answer.split())
    if option_letter(text) is not None or text in " ".join(question.split()):
        return False
    return len(text) >= 6 or len(text.split()) >= 2 or (text.isdigit() and len(text) >= 3)


def carried_literals(code: str, shown: Sequence[Example]) -> list[str]:
    """What of the shown examples the code carries as literals: answers, or one question's own text.

    A generic tool computes its answers; a table of the shown answers (two or more of them: one
    fixed phrase such as "No time slot works." is a legitimate answer), or a string that makes
    up much of exactly one shown question (a lookup keyed by the question; a phrase of the
    task's vocabulary is short beside the question), is a memorised test.
    """
    strings, ints = _constants(code)
    texts = set(strings)
    answers = set()
    for ex in shown:
        answer = " ".join(ex.answer.split())
        if _distinctive(answer, ex.question) and (answer in texts or (answer.isdigit() and int(answer) in ints)):
            answers.add(answer)
    found = [f"the answer {a!r}" for a in sorted(answers)] if len(answers) >= 2 else []
    if len(shown) >= 2:
        flat = [" ".join(ex.question.split()) for ex in shown]
        found += [
            f"the text {clip(text, 60)!r} of a shown question"
            for text in sorted(texts)
            if len(text) >= 24 and len(hits := [q for q in flat if text in q]) == 1 and len(text) >= 0.4 * len(hits[0])
        ]
    return found
