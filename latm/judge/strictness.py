"""Strictness of a direct solver: it is asked the questions of every other task the registry and the
cache know; one that answers another task's question wrongly is refused (one that answers it
rightly is a more general tool)."""

import random
from collections.abc import Sequence

from pydantic import BaseModel

from latm.judge.cases import run_direct
from latm.judge.checking import checker_for
from latm.judge.rendering import RenderingError, render
from sandbox import Sandbox
from tasks import TASKS
from toolcache import Rendering, ToolCache

UNRELATED_QUESTION = "What is the capital of France? Please answer in one word."
PROBES_PER_TASK = 3


class Probe(BaseModel):
    """A question of another task, with its answer (None: no answer is right)."""

    task: str
    question: str
    answer: str | None


def strictness_probes(task: str, cache: ToolCache | None = None, seed: int | None = None) -> list[Probe]:
    """Questions of every other task the registry and the cache know, and one unrelated question.

    Generated questions are a fresh draw each time (``seed`` None): a solver refused on the
    probes it was shown cannot pass the next check by memorising them."""
    seed = seed if seed is not None else random.SystemRandom().randrange(1, 2**31)
    probes = [Probe(task="(unrelated)", question=UNRELATED_QUESTION, answer=None)]
    for name, known in TASKS.items():
        if name != task:
            probes += [
                Probe(task=name, question=e.question, answer=e.answer) for e in known.generate(PROBES_PER_TASK, seed)
            ]
    if cache is not None:
        for other in cache.tasks():
            tool = cache.current(other)
            if other != task and other not in TASKS and tool is not None:
                probes += [
                    Probe(task=other, question=u.question, answer=u.answer) for u in tool.use_cases[:PROBES_PER_TASK]
                ]
    return probes


def captured(
    sb: Sandbox, tool_code: str, direct: str, probes: Sequence[Probe], rendering: Rendering
) -> list[tuple[Probe, str]]:
    """The probes a direct solver answers wrongly by their own task's checker (with its answer).

    Answering another task's question rightly is a more general tool, not a captor (the five-
    and seven-object variants of a task share a solver); raising is what a strict solver does.
    """
    runs = run_direct(sb, tool_code, direct, [p.question for p in probes])
    out = []
    for probe, run in zip(probes, runs, strict=True):
        if not run.ok:
            continue
        try:
            text = render(run.value, probe.question, rendering)
        except RenderingError:
            continue
        if text is not None and (probe.answer is None or not checker_for(probe.task)(text, probe.answer)):
            out.append((probe, text))
    return out
