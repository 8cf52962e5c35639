"""Reading examples and questions from files: JSONL or BIG-Bench-Hard JSON."""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from latm.errors import UserError
from tasks import Example, TaskDataError, load_bbh


def read_examples(path: str | Path) -> list[Example]:
    """Examples from JSONL (``question``/``answer`` or ``input``/``target`` per line) or BBH JSON."""
    p = Path(path)
    if not p.exists():
        raise UserError(f"{p} does not exist")
    text = p.read_text(encoding="utf-8")
    if text.lstrip().startswith("{") and '"examples"' in text[:2000]:
        try:
            return load_bbh(p)
        except TaskDataError as exc:
            raise UserError(str(exc)) from exc
    examples = []
    for line in read_jsonl(p):
        if line.error:
            raise UserError(f"{p}:{line.number}: {line.error}")
        row = line.data
        question = row.get("question", row.get("input"))
        answer = row.get("answer", row.get("target"))
        if question is None or answer is None:
            raise UserError(f'{p}:{line.number}: needs "question" and "answer" (or "input" and "target")')
        examples.append(Example(question=str(question), answer=str(answer)))
    if not examples:
        raise UserError(f"{p} holds no examples")
    return examples


@dataclass
class JsonLine:
    number: int
    data: dict[str, Any]
    error: str | None = None


def read_jsonl(path: str | Path) -> Iterator[JsonLine]:
    """Every non-blank line as a JSON object; malformed lines come back with an error, not raised."""
    with open(path, encoding="utf-8") as fh:
        for number, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                data = json.loads(raw)
            except json.JSONDecodeError as exc:
                yield JsonLine(number, {}, f"not valid JSON ({exc.msg})")
                continue
            if not isinstance(data, dict):
                yield JsonLine(number, {}, "not a JSON object")
                continue
            yield JsonLine(number, data)
