"""How a task's examples are split: k shown to the maker for training, k for validation, and (for a
user's task) the rest kept back, never shown, to judge the tool on. The API and the CLI split the
same way, here."""

import hashlib
from collections.abc import Sequence

from latm.errors import UserError
from tasks import TASKS, Example, belongs

MIN_KEPT_BACK = 3  # examples kept back from the maker that a user's task needs for held-out judging


def auto_task_name(examples: Sequence[Example]) -> str:
    """A stable name for a task the user did not name: a digest of its examples, the same in
    every process (Python's ``hash`` of a string is salted per process)."""
    digest = hashlib.sha256("\n".join(f"{e.question}\0{e.answer}" for e in examples).encode("utf-8"))
    return "task-" + digest.hexdigest()[:10]


def check_examples(task: str, examples: Sequence[Example]) -> None:
    """For a built-in task, every example must be a question in its format (else a UserError)."""
    if task not in TASKS:
        return
    foreign = [i for i, e in enumerate(examples) if not belongs(task, e.question)]
    if foreign:
        listed = ", ".join(str(i + 1) for i in foreign[:10]) + (" ..." if len(foreign) > 10 else "")
        raise UserError(
            f"{len(foreign)} of {len(examples)} examples are not questions of {task} (its format): "
            f"example(s) {listed}; give examples of that task, or another task name"
        )


def default_k(task: str, n: int) -> int:
    """Train (= validation) examples per making: up to 3, leaving MIN_KEPT_BACK for a user's task."""
    if task not in TASKS and n >= 2 + MIN_KEPT_BACK:
        return max(1, min(3, (n - MIN_KEPT_BACK) // 2))
    return max(1, min(3, n // 2))


def describe_split(task: str, n: int, k: int) -> str:
    """How ``n`` examples are used with ``k`` (what the API does and the CLI prints), and for a user's task
    with too few kept back, how many more would make its tool judged on unseen examples (routable)."""
    if n < 2 * k:
        raise UserError(f"making a tool with k={k} needs {2 * k} examples (k train + k validation), got {n}")
    shown = f"{k} shown to the maker for training, {k} for validation"
    if task in TASKS:
        return f"{shown}; the tool is judged on fresh generated questions of {task}"
    kept = n - 2 * k
    if kept >= MIN_KEPT_BACK:
        return f"{shown}, {kept} kept back (never shown) to judge the tool"
    adapted = k == default_k(task, n)  # with k as it adapts, fewer more examples may do
    more = next(
        m
        for m in range(1, 2 * MIN_KEPT_BACK + 7)
        if n + m - 2 * (default_k(task, n + m) if adapted else k) >= MIN_KEPT_BACK
    )
    return (
        f"{shown}, {kept} kept back: too few to judge the tool on unseen examples, so it will be verified on "
        f"the shown ones only and answer only with --allow-shown-only; {more} more example(s) ({n + more} in "
        f"all) would make it routable"
    )
