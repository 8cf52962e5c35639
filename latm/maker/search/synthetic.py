"""Unlabelled evidence for a user's task: questions made from its template, answered by two candidates.

A user brings a few labelled examples, too few to bound a tool. The framework knows the task's
template and how each question's varying part reads, so it makes new questions by varying the
numbers (numbers view), the numbers and each operator for one of its kind (expression view: a tool
right only on the operators it was shown disagrees on the others), or recombining the words (words
view) of the shown questions, keeping the template. The tool's direct solver and a second opinion
answer them: for an expression whose value is the answer of every shown example, the provided
``evaluate_expression``; else another candidate that passed every shown example (the second-best of
the search, or a fresh sample of a function of the same view). Agreement is evidence shown beside the
error bound (never folded into it: it is unlabelled), and a disagreement is settled by the maker model
(``SETTLED`` at most). Other views, and multiple-choice questions (whose answer must be among the
options), get no synthetic questions.

The second opinion is a function of the view the framework reads (its own parser), so a tool made
by the paper's protocol, whose parser the model wrote, is checked against an independent reading.
"""

import random
import re
from collections.abc import Sequence
from typing import Any

from latm.judge.rendering import render_or_none
from latm.maker.search.templates import CANDIDATE_HARNESS, NUMBER_RE, Template, View
from sandbox import Sandbox
from sandbox.expressions import kind_of

SYNTHETIC = 50  # questions made per tool
# an operator of a kind the expression view reads (longest first; "not" is never swapped in: it is unary)
OPERATOR = re.compile(r"\*\*|//|<=|>=|==|!=|[-+*/%<>]|\b(?:and|or|True|False)\b")
SETTLED = 3  # disagreements the maker model settles at most (each costs a model call)


def _varied_number(token: str, rng: random.Random) -> str:
    """Another number in the token's place: as long as it, or up to two digits longer or one shorter (a
    function right only on numbers of the shown lengths disagrees with a right one on some); a decimal
    keeps as many digits after its point."""
    whole, _, fraction = token.lstrip("-").partition(".")
    digits = max(1, len(whole) + rng.choice((-1, 0, 0, 1, 2)))
    low = 0 if digits == 1 else 10 ** (digits - 1)
    varied = ("-" if token.startswith("-") else "") + str(rng.randint(low, 10**digits - 1))
    if fraction:  # a decimal's digits as many, leading zeros and all ("3.05")
        varied += "." + "".join(rng.choice("0123456789") for _ in fraction)
    return varied


def synthetic_questions(
    template: Template, view: View, shown: Sequence[str], n: int = SYNTHETIC, seed: int = 0
) -> list[str]:
    """Up to ``n`` new questions of the task's form, each one its parser reads, none a shown one."""
    if template.options or view.kind not in ("numbers", "words", "expression"):
        return []
    middles = [m for m in (template.split(q) for q in shown) if m is not None]
    if not middles:
        return []
    frames = [_frame(template, q) for q in shown]  # each shown question's opening and ending sentence
    rng = random.Random(seed)
    pool = [w for middle, _ in middles for w in middle.split()]
    lengths = [len(middle.split()) for middle, _ in middles]
    out: list[str] = []
    for i in range(n * 3):
        if len(out) >= n:
            break
        middle = middles[i % len(middles)][0]
        if view.kind in ("numbers", "expression"):
            varied = re.sub(NUMBER_RE, lambda m: _varied_number(m.group(0), rng), middle)
            if view.kind == "expression":  # and each operator one of its kind, shown or not ("*" for "+")
                varied = OPERATOR.sub(lambda m: rng.choice(sorted(kind_of(m.group(0)) - {"not"})), varied)
        else:
            varied = " ".join(rng.choice(pool) for _ in range(rng.randint(min(lengths), max(lengths))))
        opening, ending = frames[i % len(frames)]
        question = opening + template.prefix + varied + template.suffix + ending
        if question in shown or question in out:
            continue
        try:
            view.args(template, question)
        except ValueError:
            continue
        out.append(question)
    return out


def candidate_answers(
    sb: Sandbox, template: Template, view: View, code: str, questions: Sequence[str]
) -> list[str | None]:
    """A candidate ``f``'s answer to each question (None where it raised or gave none), in one round."""
    calls: list[Any] = [([code, view.args(template, q)], {}) for q in questions]
    results = sb.call_many(CANDIDATE_HARNESS, "_latm_candidate", calls)
    return [render_or_none(r.value, q) if r.ok else None for r, q in zip(results, questions, strict=True)]


def _frame(template: Template, question: str) -> tuple[str, str]:
    """The opening and ending sentence a question has around its template (empty where none)."""
    core = template.core(question) if template.openings or template.endings else question
    if core is None:
        return "", ""
    opening = question[: question.find(core)] if core else ""
    return opening, question[len(opening) + len(core) :]


def agreement(
    questions: Sequence[str], ours: Sequence[str | None], theirs: Sequence[str | None]
) -> tuple[int, list[tuple[str, str | None, str | None]]]:
    """How many questions the two answer alike, and the (question, ours, theirs) where they differ. Where
    neither gives an answer (both refuse or fail: a made question may be no real one, "89 days after
    2020-75-514") there is nothing to settle; where only ours refuses, there is (a tool that refuses just
    the questions it was not shown would otherwise go unchecked)."""
    agreed, differ = 0, list[tuple[str, str | None, str | None]]()
    for q, x, y in zip(questions, ours, theirs, strict=True):
        if x is None and y is None:
            continue
        if x == y:
            agreed += 1
        else:
            differ.append((q, x, y))
    return agreed, differ
