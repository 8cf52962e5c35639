"""What every task provides: examples, a generator, a checker, a loader and a reference tool."""

import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel


class Example(BaseModel):
    """One instance of a task: a question and its correct answer (both text)."""

    question: str
    answer: str


@dataclass(frozen=True)
class ReferenceTool:
    """The tool a strong maker should produce, written as its replies would be.

    ``code`` holds the generic function (``entry``) and, above it, the parser that turns a
    raw question into the function's arguments; ``direct`` is the strict
    ``solve(question) -> str`` built on both. ``call_for(question)`` writes the use-case
    call code for one question (``ans = entry(...)``), as the maker or a cheap model would.
    Everything here is plain standard-library Python, run only inside the sandbox.
    """

    entry: str
    description: str
    code: str
    direct: str
    parse: Callable[[str], dict[str, Any]]
    format_answer: str = "ans = ret"  # converts the function's return value ``ret`` to ``ans``

    def call_for(self, question: str) -> str:
        args = self.parse(question)
        call = ", ".join(f"{k}={v!r}" for k, v in args.items())
        return f"ret = {self.entry}({call})\n{self.format_answer}"


@dataclass(frozen=True)
class Task:
    name: str
    description: str
    generate_one: Callable[[random.Random], Example]
    reference: ReferenceTool
    normalize: Callable[[str], str] = field(default=lambda s: " ".join(str(s).split()))
    # Instances beyond the real distribution's edges (words in no list of the code base, longer
    # inputs), still of the task and still answerable by an honest tool; None where it has none.
    edge_one: Callable[[random.Random], Example] | None = None

    def generate(self, n: int, seed: int = 0) -> list[Example]:
        """``n`` fresh instances with correct answers, reproducible by seed."""
        if n < 0:
            raise ValueError("n must be >= 0")
        rng = random.Random(f"{self.name}:{seed}")
        return [self.generate_one(rng) for _ in range(n)]

    def generate_edges(self, n: int, seed: int = 0) -> list[Example]:
        """``n`` instances beyond the real distribution's edges (none where the task has no such
        generator), reproducible by seed."""
        if n < 0:
            raise ValueError("n must be >= 0")
        if self.edge_one is None:
            return []
        rng = random.Random(f"{self.name}:edge:{seed}")
        return [self.edge_one(rng) for _ in range(n)]

    def check(self, prediction: Any, answer: str) -> bool:
        """True when the prediction is the answer after the paper's normalisation."""
        if prediction is None:
            return False
        return self.normalize(str(prediction)) == self.normalize(answer)

    def load(self, path: str | Path) -> list[Example]:
        """Examples from a BIG-Bench-Hard JSON file ({"examples": [{"input", "target"}]})."""
        return load_bbh(path)


class TaskDataError(ValueError):
    """A data file is not in the BIG-Bench-Hard format."""


def load_bbh(path: str | Path) -> list[Example]:
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise TaskDataError(f"{path} does not exist") from exc
    except json.JSONDecodeError as exc:
        raise TaskDataError(f"{path} is not valid JSON: {exc}") from exc
    items = doc.get("examples") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise TaskDataError(f'{path} has no "examples" list (expected BIG-Bench-Hard format)')
    examples = []
    for n, item in enumerate(items, 1):
        if not isinstance(item, dict) or "input" not in item or "target" not in item:
            raise TaskDataError(f'example #{n} of {path} lacks "input" or "target"')
        examples.append(Example(question=str(item["input"]), answer=str(item["target"])))
    return examples


# -- normalisation shared by tasks ---------------------------------------------------------

_OPTION = re.compile(r"^\(?([A-Ga-g])\)?(?:[\s.:)]|$)")


def normalize_option(text: str) -> str:
    """'(A)', 'A', 'a)', '(A) The owl...' all become '(A)'; other text stays as it is."""
    text = str(text).strip()
    m = _OPTION.match(text)
    return f"({m.group(1).upper()})" if m else " ".join(text.split())


_BARE_OPTION = re.compile(r"^\(?([A-Za-z])\)?[.:]?$|^\(([A-Za-z])\)\s")


def option_letter(text: str) -> str | None:
    """The option letter an answer names, where it plainly names one: 'A', '(a)', 'A)', 'A.', or '(A)'
    before the option's text; None for any other text ('A minor', 'a dog': a task's answers may begin
    with a letter and a space)."""
    m = _BARE_OPTION.match(" ".join(str(text).split()))
    return None if m is None else f"({m.group(1) or m.group(2)})"  # its case kept: "q" is not "Q"


def normalize_spaces(text: str) -> str:
    return " ".join(str(text).split())


def normalize_brackets(text: str) -> str:
    """Dyck answers compare without whitespace: ') ]' == ')]'."""
    return "".join(str(text).split())


def option_letters(n: int) -> list[str]:
    return [f"({chr(ord('A') + i)})" for i in range(n)]


def compile_parser(source: str, name: str = "parse") -> Callable[..., Any]:
    """Our own reference parser source, executed host-side to write use-case calls."""
    namespace: dict[str, Any] = {}
    exec(compile(source, f"<reference {name}>", "exec"), namespace)  # trusted, our own code
    return namespace[name]  # type: ignore[no-any-return]
