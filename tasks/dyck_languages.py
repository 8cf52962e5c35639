"""dyck_languages: close the open brackets of a Dyck-4 sequence (BIG-Bench Hard format)."""

import random

from tasks.base import Example, ReferenceTool, Task, compile_parser, normalize_brackets

PREFIX = "Complete the rest of the sequence, making sure that the parentheses are closed properly. Input: "
PAIRS = {"(": ")", "[": "]", "{": "}", "<": ">"}

PARSER = r"""
import re

def parse(question):
    m = re.fullmatch(
        r"\s*Complete the rest of the sequence, making sure that the parentheses are closed "
        r"properly\. Input:\s*([\[\](){}<>\s]+?)\s*", question, re.S)
    if not m:
        raise ValueError("not a Dyck completion question")
    return {"sequence": m.group(1).split()}
"""

TOOL = '''
def complete_dyck(sequence):
    """Returns the closing brackets (space-separated) that balance an open sequence."""
    pairs = {"(": ")", "[": "]", "{": "}", "<": ">"}
    stack = []
    for token in sequence:
        if token in pairs:
            stack.append(token)
        elif token in pairs.values():
            if not stack or pairs[stack[-1]] != token:
                raise ValueError(f"unbalanced closing bracket {token!r}")
            stack.pop()
        else:
            raise ValueError(f"not a bracket: {token!r}")
    if not stack:
        raise ValueError("the sequence is already balanced")
    return " ".join(pairs[t] for t in reversed(stack))
'''

SOLVE = """
def solve(question):
    return complete_dyck(**parse(question))
"""


def generate_one(rng: random.Random) -> Example:
    """A random Dyck-4 prefix of realistic length that leaves 1-4 brackets open."""
    length = rng.choice([rng.randint(2, 12), rng.randint(2, 12), rng.randint(10, 40), rng.randint(30, 90)])
    return _prefix(rng, length, rng.randint(1, 4))


def edge_one(rng: random.Random) -> Example:
    """Longer prefixes than the real ones, leaving up to 10 brackets open."""
    return _prefix(rng, rng.randint(90, 200), rng.randint(1, 10))


def _prefix(rng: random.Random, length: int, still_open: int) -> Example:
    length = max(length, still_open)
    if (length - still_open) % 2:
        length += 1
    tokens: list[str] = []
    stack: list[str] = []
    for i in range(length):
        left = length - i
        must_close = len(stack) - still_open >= left
        must_open = not stack or still_open - len(stack) >= left
        if must_close or (not must_open and rng.random() < 0.5):
            tokens.append(PAIRS[stack.pop()])
        else:
            stack.append(rng.choice(list(PAIRS)))
            tokens.append(stack[-1])
    answer = " ".join(PAIRS[t] for t in reversed(stack))
    return Example(question=PREFIX + " ".join(tokens), answer=answer)


TASK = Task(
    name="dyck_languages",
    description="Complete a sequence of brackets so that every bracket is closed properly.",
    generate_one=generate_one,
    edge_one=edge_one,
    reference=ReferenceTool(
        entry="complete_dyck",
        description="Given the bracket tokens of an unfinished Dyck sequence, returns the closing tokens.",
        code=TOOL.strip() + "\n",
        direct=(PARSER + SOLVE).strip() + "\n",
        parse=compile_parser(PARSER),
    ),
    normalize=normalize_brackets,
)
