"""Option blocks: the run of lines that ends a multiple-choice question, in one of the styles real
task sets use (``(A) x``, ``A. x``, ``A) x``, a bullet ``- x`` / ``* x``), at least two lines, with the
header line just above it when that line ends with a colon (``Options:``, ``Choices:``).

The options' texts are data (a tool is handed them); the header and the style are the task's fixed
form. So is a short label under lettered choices ("Answer:", as evaluation prompts end): it is returned
with the header after a line break ("Options:\\nAnswer:"; "\\nAnswer:" with no line above), so whatever holds a
question to its header holds it to that label too. The search's templates read questions this way, and
strictness probes leave the block alone (a changed option is not another task; a changed header is).
"""

import re
from collections.abc import Sequence
from typing import Any

# The option styles, each a line: its marker (a letter, or a bullet) and its text.
OPTION_STYLES = {
    "paren": r"\(([A-Z])\)\s*(.+?)\s*",
    "dot": r"([A-Z])\.\s+(.+?)\s*",
    "bracket": r"([A-Z])\)\s+(.+?)\s*",
    "bullet": r"([-*\u2022])\s+(.+?)\s*",
}
# One source, run here and embedded in a tool's parser: splits a question into its body, the
# option block's header and the options' texts (None when it ends in no block of that style).
OPTION_BLOCK_SOURCE = """
def _option_block(question, style, pattern):
    lines = question.split("\\n")
    footer = ""
    last = lines[-1].strip()
    label = last.endswith(":") and len(last.split()) <= 2 and not re.fullmatch(pattern, lines[-1])
    if style != "bullet" and len(lines) > 2 and label:  # a bulleted list over "Total:" is as likely data
        footer = lines.pop()  # a short label under lettered choices ("Answer:", as evaluation prompts end)
    texts, marks = [], []
    while lines:
        m = re.fullmatch(pattern, lines[-1])
        if m is None:
            break
        texts.insert(0, m.group(2))
        marks.insert(0, m.group(1))
        lines.pop()
    if len(texts) < 2:
        return None
    if style != "bullet" and marks != [chr(ord("A") + i) for i in range(len(marks))]:
        return None  # lettered options are A, B, C, ... in order
    header = ""
    if lines and lines[-1].rstrip().endswith(":") and len(lines[-1].split()) <= 3:
        header = lines.pop()  # a short label ("Options:", "Answer choices:"); a longer line is the question
    return "\\n".join(lines), header + ("\\n" + footer if footer else ""), texts
"""
_block_namespace: dict[str, Any] = {"re": re}
exec(OPTION_BLOCK_SOURCE, _block_namespace)  # our own source, not a tool's
_option_block = _block_namespace["_option_block"]


_COMPILED = {style: re.compile(pattern) for style, pattern in OPTION_STYLES.items()}


def option_block(question: str, style: str) -> tuple[str, str, list[str]] | None:
    """(body, header, option texts) of a question ending in an option block of ``style``, else None."""
    result = _option_block(question, style, _COMPILED[style])
    return None if result is None else (result[0], result[1], list(result[2]))


def option_style(questions: Sequence[str]) -> tuple[str, str] | None:
    """The option style and header every question's block has, or None when they share none."""
    for style in OPTION_STYLES:
        blocks = [option_block(q, style) for q in questions]
        if all(blocks) and len({b[1] for b in blocks if b}) == 1:
            return style, blocks[0][1] if blocks[0] else ""
    return None


def reordered(question: str, answer: str) -> list[tuple[str, str]]:
    """The question with its options in other orders (reversed; rotated by one), each with its answer:
    the same option's text, or its new letter written as the answer wrote it. A tool that chooses by
    an option's place rather than its text answers these wrongly. Empty when the question has no
    option block or its answer names none of the options."""
    for style in OPTION_STYLES:
        block = option_block(question, style)
        if block is not None:
            break
    else:
        return []
    texts = block[2]
    n = len(texts)
    if len(set(texts)) != n:
        return []
    said = answer.strip()
    letter = re.match(r"\(?([A-Za-z])(?:[).:]?$|[).:]?\s+(.+)$)", said) if style != "bullet" else None
    if letter is not None and ord(letter[1].upper()) - ord("A") < n:  # "B", "(b)", "B. blue", "(B) blue"
        index = ord(letter[1].upper()) - ord("A")
        if letter[2] is not None and letter[2].strip().lower() != texts[index].lower():
            return []  # "A dog": not a letter and its option's text
    elif said.lower() in (lowered := [text.lower() for text in texts]):
        index, letter = lowered.index(said.lower()), None
    else:
        return []
    lines = question.split("\n")
    below = 1 if "\n" in block[1] else 0  # a label under the block stays under it
    head, block_lines = lines[: len(lines) - n - below], lines[len(lines) - n - below : len(lines) - below]
    foot = lines[len(lines) - below :]
    out: list[tuple[str, str]] = []
    orders = [list(range(n))[::-1], [*range(1, n), 0]]  # the same order for two options
    for order in [o for i, o in enumerate(orders) if o not in orders[:i]]:
        moved = []
        for line, source in zip(block_lines, order, strict=True):
            m = _COMPILED[style].fullmatch(line)
            assert m is not None  # every line of the block matched when it was read
            moved.append(line[: m.start(2)] + texts[source] + line[m.end(2) :])
        place = order.index(index)
        new_letter = chr(ord("A" if letter is None or letter[1].isupper() else "a") + place)
        new_answer = said[: letter.start(1)] + new_letter + said[letter.end(1) :] if letter else said
        out.append(("\n".join([*head, *moved, *foot]), new_answer))
    return out
