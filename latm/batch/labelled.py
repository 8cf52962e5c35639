"""Labelled files: an answer file whose input rows carry the expected answer.

``latm solve --file q.jsonl`` with rows that have an ``answer`` or ``target`` field (or the field named
by ``--expected``) adds ``correct`` to every row that has one, judged by the checker of the task the
answering tool is for (else answers compared as normalised text), and prints the accuracy by tool and
by mode and the first mistakes. The exit status stays the run's (answered or not, not right or not).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from latm.judge.checking import checker_for
from latm.text import clip

DEFAULT_FIELDS = ("answer", "target")
SHOWN_MISTAKES = 5


def expected_field(rows: Sequence[Any], asked: str | None) -> str | None:
    """The field that holds the expected answers: the one asked for, else answer/target when present."""
    if asked:
        return asked
    return next((f for f in DEFAULT_FIELDS if any(f in r.data for r in rows)), None)


def is_correct(solution: Any, expected: Any) -> bool:
    if solution.answer is None or expected is None:
        return False
    return bool(checker_for(solution.task or "")(solution.answer, str(expected)))


@dataclass
class Tally:
    """Right and judged answers by tool and by mode, and the first mistakes."""

    by_tool: dict[str, list[int]] = field(default_factory=dict)
    by_mode: dict[str, list[int]] = field(default_factory=dict)
    mistakes: list[str] = field(default_factory=list)

    def add(self, question: str, solution: Any, expected: Any, correct: bool) -> None:
        for key, table in ((solution.tool or "(no tool)", self.by_tool), (solution.mode, self.by_mode)):
            pair = table.setdefault(key, [0, 0])
            pair[0] += correct
            pair[1] += 1
        if not correct and len(self.mistakes) < SHOWN_MISTAKES:
            got = solution.answer if solution.answer is not None else f"no answer ({solution.error or 'failed'})"
            self.mistakes.append(
                f"{clip(question, 80)!r}: expected {clip(str(expected), 60)!r}, got {clip(str(got), 160)!r}"
            )

    def lines(self) -> list[str]:
        if not self.by_mode:
            return []
        right = sum(r for r, _ in self.by_mode.values())
        judged = sum(n for _, n in self.by_mode.values())

        def listed(table: dict[str, list[int]]) -> str:
            return ", ".join(f"{k} {r}/{n} ({r / n:.0%})" for k, (r, n) in sorted(table.items()))

        out = [
            f"accuracy {right}/{judged} ({right / judged:.1%}) on the rows with an expected answer",
            f"by tool: {listed(self.by_tool)}",
            f"by mode: {listed(self.by_mode)}",
        ]
        if self.mistakes:
            out.append("first mistakes:")
            out += [f"  {m}" for m in self.mistakes]
        return out
