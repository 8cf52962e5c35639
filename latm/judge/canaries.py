"""Canaries: production keeps checking a tool. Questions with known answers are mixed into each tool's
direct work at random positions (about one in ``RATE``, at least one a batch; free for a direct solver)
and judged like held-out questions. A canary passed is labelled evidence for the tool's error bound;
a canary failed quarantines the tool in the cache at once (``cache show`` says when and on what), and
the batch's answers from it are not used: its questions go on to the other solvers, the cheap model or
the fallback. Canaries never appear in the output.

In LLM mode (the cheap model writes each call) canaries cost user tokens, so they run only where the
user asks (``LATM(llm_canaries=True)``, ``latm solve --canaries``): each tool's share of a batch is
preceded by its canaries, answered the same way, and a failure sends the whole share to the fallback.

Known answers come from the tool's own labelled questions: fresh generated instances for a built-in
task, the user's kept-back examples (stored with the tool) otherwise. A tool with neither gets none.
"""

import math
import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from latm.judge.checking import checker_for
from latm.judge.rendering import RenderingError, render
from latm.text import clip
from tasks import TASKS, Example
from toolcache import Tool, ToolCache
from toolcache.digest import code_digest

RATE = 100  # one canary per RATE questions of a tool, at least one a batch


@dataclass
class Mixed:
    """A batch with its canaries: every question, which positions hold canaries, and their answers."""

    questions: list[str]
    slots: list[int] = field(default_factory=list)
    known: list[Example] = field(default_factory=list)


class Canaries:
    """Draws canaries, judges them, and quarantines a tool that fails one (one per run, shared)."""

    def __init__(self, cache: ToolCache, *, rate: int = RATE, seed: int | None = None) -> None:
        self.cache = cache
        self.rate = rate
        self._rng = random.Random(seed if seed is not None else random.SystemRandom().randrange(2**31))
        self._lock = threading.Lock()
        self.passed = 0
        self.failed = 0
        self.quarantined: dict[str, str] = {}  # tool id -> why
        self._names: dict[str, str] = {}  # tool id -> name, for the run's report
        self._unreported: dict[str, list[int]] = {}  # tool id -> [passed, failed] not yet taken
        self._reported_quarantines: set[str] = set()

    def draw(self, tool: Tool, n: int) -> list[Example]:
        """Canaries for ``n`` questions of ``tool``'s work (none where it has no labelled questions)."""
        k = max(1, math.ceil(n / self.rate))
        with self._lock:
            seed = self._rng.randrange(2**31)
            rng = random.Random(seed)
        if tool.task in TASKS:  # one in five beyond the real distribution's edges, where the task has them
            edges = sum(rng.random() < 0.2 for _ in range(k))
            known = TASKS[tool.task].generate_edges(edges, seed)
            return known + TASKS[tool.task].generate(k - len(known), seed)
        stored = [Example(question=e.question, answer=e.expected) for e in tool.verification.canary_questions]
        return [rng.choice(stored) for _ in range(k)] if stored else []

    def mix(self, tool: Tool, questions: Sequence[str]) -> Mixed:
        """``questions`` with canaries at random positions."""
        known = self.draw(tool, len(questions))
        if not known:
            return Mixed(list(questions))
        with self._lock:
            slots = sorted(self._rng.sample(range(len(questions) + len(known)), len(known)))
        out: list[str] = []
        rest = iter(questions)
        canary = iter(known)
        wanted = set(slots)
        for i in range(len(questions) + len(known)):
            out.append(next(canary).question if i in wanted else next(rest))
        return Mixed(out, slots, known)

    def judge(self, tool: Tool, mixed: Mixed, runs: Sequence[Any]) -> tuple[list[Any], bool]:
        """The runs of the real questions, and whether every canary passed (a failure quarantines the
        tool and is recorded; passes are counted as evidence)."""
        if not mixed.slots:
            return list(runs), True
        wanted = set(mixed.slots)
        real = [r for i, r in enumerate(runs) if i not in wanted]
        observed: list[str | None] = []
        why_none: list[str] = []
        for slot, example in zip(mixed.slots, mixed.known, strict=True):
            run, value, why = runs[slot], None, ""
            if not run.ok:
                why = f"an error: {(run.error or 'failed').strip().splitlines()[-1:]}"
            else:
                try:
                    value = render(run.value, example.question, tool.rendering)
                except RenderingError as exc:
                    why = f"(unrenderable: {exc})"
            observed.append(value)
            why_none.append(why or "nothing")
        return real, self.settle(tool, mixed.known, observed, why_none)

    def settle(
        self, tool: Tool, known: Sequence[Example], observed: Sequence[str | None], why_none: Sequence[str] = ()
    ) -> bool:
        """Whether ``tool`` answered every canary rightly (``observed``: its answers, None where it gave
        none, for the reason in ``why_none``). Passes are counted as evidence; a failure quarantines
        the tool and is recorded."""
        check = checker_for(tool.task)
        reasons = list(why_none) or ["nothing"] * len(known)
        wrong = [
            (example, got if got is not None else why)
            for example, got, why in zip(known, observed, reasons, strict=True)
            if got is None or not check(got, example.answer)
        ]
        passed = len(known) - len(wrong)
        with self._lock:
            self.passed += passed
            self.failed += len(wrong)
            tally = self._unreported.setdefault(tool.id, [0, 0])
            tally[0] += passed
            tally[1] += len(wrong)
        self.cache.record_canaries(tool.id, passed=passed, failed=len(wrong))
        if not wrong:
            return True
        example, got = wrong[0]
        why = (
            f"a canary failed: asked {clip(example.question, 120)!r} (answer {example.answer!r}), "
            f"it answered {clip(got, 120)!r}"
        )
        self.cache.set_status(tool.id, "quarantined", reason=why)
        remember_caught(self.cache, tool, why, [(e.question, e.answer) for e, _ in wrong])
        with self._lock:
            self.quarantined[tool.id] = why
            self._names[tool.id] = tool.name
        return False

    def take(self) -> dict[str, Any]:
        """What happened since the last ``take`` (for a cache elsewhere: a Ray worker reports it to
        the driver, whose cache records it with ``apply``)."""
        with self._lock:
            counts, self._unreported = self._unreported, {}
            fresh = {k: v for k, v in self.quarantined.items() if k not in self._reported_quarantines}
            self._reported_quarantines.update(fresh)
        return {"counts": counts, "quarantined": fresh, "names": {k: self._names[k] for k in fresh}}

    @staticmethod
    def apply(cache: ToolCache, taken: dict[str, Any]) -> None:
        """Records what ``take`` returned in ``cache``: the canaries' counts and the quarantines."""
        for tool_id, (passed, failed) in taken.get("counts", {}).items():
            cache.record_canaries(tool_id, passed=passed, failed=failed)
        for tool_id, why in taken.get("quarantined", {}).items():
            remember_caught(cache, cache.set_status(tool_id, "quarantined", reason=why), why)

    def summary(self) -> str:
        """One line for a run's report (empty when no canary ran)."""
        return describe(self.passed, self.failed, [f"{self._names[k]}: {w}" for k, w in self.quarantined.items()])


def remember_caught(cache: ToolCache, tool: Tool, why: str, failed: Sequence[tuple[str, str]] = ()) -> None:
    """A tool caught by a canary: its code is refused for its task in every later making (a copy that
    differs in comments or unread names too: ``code_digest``), and the questions it failed are asked of
    every later candidate, so neither a remake after ``cache rm`` nor a trivially edited copy returns."""
    cache.refuse(tool.task, [code_digest(tool.code)], f"caught in use: {why}", list(failed))


def describe(passed: int, failed: int, quarantined: Sequence[str]) -> str:
    """A run's canaries in one line (empty when none ran)."""
    if not passed and not failed:
        return ""
    text = f"canaries {passed} passed, {failed} failed"
    if quarantined:
        text += "; quarantined (its answers from that batch on re-routed): " + "; ".join(quarantined)
    return text
