"""The fallback: a question no tool serves, answered by the maker model thinking step by step (the
paper's chain-of-thought baseline), and how its final answer is read from the reply."""

import re
from collections.abc import Sequence

from latm.errors import ModelError
from latm.judge.rendering import normalize_value
from latm.models import ChatModel
from latm.models.usage import PriceTable, Usage
from latm.use.dispatcher import Route
from latm.use.solution import Solution
from tasks import Example

FINAL = re.compile(r"(?:final answer|answer)\s*(?:is)?\s*[:=]\s*(.+)", re.I)


def cot_prompt(question: str, shots: Sequence[Example] = ()) -> str:
    """Chain-of-thought prompt (few-shot when solved examples are given)."""
    demo = "".join(f"Question: {ex.question}\nAnswer: {ex.answer}\n\n" for ex in shots)
    return (
        f"{demo}Question: {question}\n"
        "Think step by step, then give the final answer on the last line as `Answer: <answer>`, in the same "
        "form as the example answers (for multiple choice, the option like (A))."
    )


def parse_final_answer(text: str) -> str | None:
    matches = FINAL.findall(text)
    if matches:
        return normalize_value(matches[-1].strip().strip("`*").strip())
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return normalize_value(lines[-1]) if lines else None


async def answer_by_fallback(
    model: ChatModel | None,
    question: str,
    route: Route,
    usage: Usage,
    *,
    why_none: str,
    prices: PriceTable | None = None,
) -> Solution:
    """The fallback's Solution: ``model`` thinking step by step, or a failed one saying why (``why_none``
    when there is no model to ask, or the model's error)."""

    def failed(error: str) -> Solution:
        return Solution(question=question, answer=None, mode="failed", usage=usage, route=route.reason, error=error)

    if model is None:
        return failed(f"no tool for this question ({route.reason}); {why_none}")
    try:
        prompt = [{"role": "user", "content": cot_prompt(question)}]
        done = await model.acomplete(prompt, temperature=0.0, max_tokens=1024)
    except ModelError as exc:
        return failed(f"fallback model failed: {exc}")
    usage.record("maker", done.model, done.usage, cached=done.cached, prices=prices)
    return Solution(
        question=question, answer=parse_final_answer(done.text), mode="fallback", usage=usage, route=route.reason
    )
