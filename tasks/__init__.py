"""The benchmark tasks of the LATM paper, in BIG-Bench-Hard format.

    from tasks import get_task, TASKS
    task = get_task("word_sorting")
    examples = task.generate(100, seed=0)
    task.check("(A)", "(A)")

Each task has a generator of fresh, correct instances, a checker with the paper's
normalisation, a loader for BIG-Bench-Hard JSON files and a reference tool. This package
depends on nothing else of LATM.
"""

from tasks import (
    chinese_remainder_theorem,
    dyck_languages,
    logical_deduction,
    schedule_meeting,
    tracking_shuffled_objects,
    word_sorting,
)
from tasks.base import Example, ReferenceTool, Task, TaskDataError, load_bbh

TASKS: dict[str, Task] = {
    t.name: t
    for t in (
        word_sorting.TASK,
        dyck_languages.TASK,
        logical_deduction.FIVE,
        logical_deduction.SEVEN,
        tracking_shuffled_objects.FIVE,
        tracking_shuffled_objects.SEVEN,
        chinese_remainder_theorem.TASK,
        schedule_meeting.TASK,
    )
}


def belongs(name: str, question: str) -> bool:
    """Whether ``question`` is in the format of task ``name`` (its reference parser accepts it)."""
    try:
        args = TASKS[name].reference.parse(question)
    except Exception:
        return False
    size = len(args.get("objects") or args.get("assignments") or [])
    return not (("five" in name and size != 5) or ("seven" in name and size != 7))


def identify(question: str) -> str | None:
    """The task whose reference parser accepts the question (None if none, or several)."""
    found = [name for name in TASKS if belongs(name, question)]
    return found[0] if len(found) == 1 else None


def get_task(name: str) -> Task:
    try:
        return TASKS[name]
    except KeyError:
        raise KeyError(f"unknown task {name!r}; known tasks: {', '.join(TASKS)}") from None


__all__ = [
    "TASKS",
    "Example",
    "ReferenceTool",
    "Task",
    "TaskDataError",
    "belongs",
    "get_task",
    "identify",
    "load_bbh",
]
