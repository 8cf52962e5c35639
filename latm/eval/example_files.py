"""Reading solved examples from files: JSONL or BIG-Bench-Hard JSON."""

from pathlib import Path

from latm.batch.answer_file import read_jsonl
from latm.errors import UserError, not_utf8
from tasks import Example, TaskDataError, load_bbh


def read_examples(path: str | Path) -> list[Example]:
    """Examples from JSONL (``question``/``answer`` or ``input``/``target`` per line) or BBH JSON."""
    p = Path(path)
    if not p.exists():
        raise UserError(f"{p} does not exist")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise not_utf8(p, exc) from None
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
