"""A task's frame: the text every question of it begins and ends with (whole words), and the option
block it ends with where every question has one. The search's templates start from it; routing holds a
built-in task's questions to it, so text added before a question, or after its options, is another task
whatever a solver would make of it."""

from collections.abc import Sequence
from dataclasses import dataclass

from latm.judge.option_blocks import option_block, option_style


def common_prefix(texts: Sequence[str]) -> str:
    """The longest text every one starts with that ends at a space or line break in each (whole words)."""
    first, last = min(texts), max(texts)
    n = 0
    while n < min(len(first), len(last)) and first[n] == last[n]:
        n += 1
    if all(len(t) == n or t[n].isspace() or t[n - 1 : n].isspace() for t in texts):
        return first[:n]  # it ends at a word boundary in every text
    prefix = first[:n]
    cut = max(prefix.rfind(" "), prefix.rfind("\n"))
    return prefix[: cut + 1] if cut >= 0 else ""


@dataclass(frozen=True)
class Frame:
    prefix: str
    suffix: str
    options: str | None = None  # the option style every question ends with
    header: str = ""

    def fits(self, question: str) -> bool:
        if not question.startswith(self.prefix):
            return False  # the cheap test first: most questions of another task fail here
        body = question
        if self.options is not None:
            block = option_block(question, self.options)
            if block is None or block[1] != self.header:
                return False
            body = block[0]
        return body.startswith(self.prefix) and body.endswith(self.suffix)


def frame_of(questions: Sequence[str]) -> Frame | None:
    """The frame every question has (None for fewer than two questions)."""
    if len(questions) < 2:
        return None
    style = option_style(questions)
    bodies = [(option_block(q, style[0]) or (q,))[0] if style else q for q in questions]
    prefix = common_prefix(bodies)
    suffix = common_prefix([b[len(prefix) :][::-1] for b in bodies])[::-1]
    return Frame(prefix, suffix, style[0] if style else None, style[1] if style else "")
