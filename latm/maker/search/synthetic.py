"""Unlabelled evidence for a user's task: questions made from its template, answered by two candidates.

A user brings a few labelled examples, too few to bound a tool. The framework knows the task's
template and how each question's varying part reads, so it makes new questions by varying the
numbers (numbers view) or recombining the words (words view) of the shown questions, keeping the
template. Two candidates that both passed every shown example answer them; agreement is evidence
shown beside the error bound (never folded into it: it is unlabelled), and a disagreement is settled
by the maker model (``SETTLED`` at most). Other views, and multiple-choice questions (whose answer
must be among the options), get no synthetic questions.
"""

import random
import re
from collections.abc import Sequence
from typing import Any

from latm.judge.rendering import RenderingError, render
from latm.maker.search.templates import CANDIDATE_HARNESS, NUMBER_RE, Template, View
from sandbox import Sandbox

SYNTHETIC = 50  # questions made per tool
SETTLED = 3  # disagreements the maker model settles at most (each costs a model call)



def _varied_number(token: str, rng: random.Random) -> str:
    digits = len(token.lstrip("-"))
    low = 0 if digits == 1 else 10 ** (digits - 1)
    return ("-" if token.startswith("-") else "") + str(rng.randint(low, 10**digits - 1))


def synthetic_questions(
    template: Template, view: View, shown: Sequence[str], n: int = SYNTHETIC, seed: int = 0
) -> list[str]:
    """Up to ``n`` new questions of the task's form, each one its parser reads, none a shown one."""
    if template.options or view.kind not in ("numbers", "words"):
        return []
    middles = [m for m in (template.split(q) for q in shown) if m is not None]
    if not middles:
        return []
    rng = random.Random(seed)
    pool = [w for middle, _ in middles for w in middle.split()]
    lengths = [len(middle.split()) for middle, _ in middles]
    out: list[str] = []
    for i in range(n * 3):
        if len(out) >= n:
            break
        middle = middles[i % len(middles)][0]
        if view.kind == "numbers":
            varied = re.sub(NUMBER_RE, lambda m: _varied_number(m.group(0), rng), middle)
        else:
            varied = " ".join(rng.choice(pool) for _ in range(rng.randint(min(lengths), max(lengths))))
        question = template.prefix + varied + template.suffix
        if question in shown or question in out:
            continue
        try:
            view.args(template, question)
        except ValueError:
            continue
        out.append(question)
    return out


def agreement(
    sb: Sandbox, template: Template, view: View, one: str, other: str, questions: Sequence[str]
) -> tuple[int, list[tuple[str, str | None, str | None]]]:
    """How many ``questions`` the two candidates answer alike, and the (question, one's, other's) answers
    where they do not."""
    inputs = [view.args(template, q) for q in questions]
    calls: list[Any] = [([code, args], {}) for code in (one, other) for args in inputs]
    results = sb.call_many(CANDIDATE_HARNESS, "_latm_candidate", calls)
    n = len(questions)

    def answer(r: Any, question: str) -> str | None:
        if not r.ok:
            return None
        try:
            return render(r.value, question)
        except RenderingError:
            return None

    agreed, differ = 0, []
    for q, a, b in zip(questions, results[:n], results[n:], strict=True):
        x, y = answer(a, q), answer(b, q)
        if x is not None and x == y:
            agreed += 1
        else:
            differ.append((q, x, y))
    return agreed, differ
