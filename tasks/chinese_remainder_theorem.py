"""chinese_remainder_theorem: a count from three remainders (BIG-Bench Hard format)."""

import math
import random

from tasks.base import Example, ReferenceTool, Task, compile_parser

CONTAINERS = ["bag", "basket", "box", "container", "field", "room", "ship", "truck"]
FRUITS = [
    "apples",
    "apricots",
    "avocadoes",
    "bananas",
    "coconuts",
    "dragonfruits",
    "durians",
    "kiwifruits",
    "lemons",
    "limes",
    "oranges",
    "papayas",
    "passionfruits",
    "peaches",
    "pears",
    "pineapples",
    "strawberries",
    "tomatoes",
    "watermelons",
]
ANIMALS = [
    "bears",
    "cows",
    "crocodiles",
    "dinosaurs",
    "elephants",
    "hippos",
    "horses",
    "lemurs",
    "monkeys",
    "penguins",
    "people",
    "racoons",
]
PRIMES = [p for p in range(2, 300) if all(p % d for d in range(2, int(p**0.5) + 1))]

PARSER = r"""
import re

WHOLE = (
    r"\s*There is an? [\w-]+ of no more than \d+ [\w-]+\. If we divide them equally among \d+ [\w-]+, we have \d+ "
    r"left(?:; if we divide them equally among \d+ [\w-]+, we have \d+ left)+\. How many [\w-]+ are in the "
    r"[\w-]+\?\s*"
)


def parse(question):
    if not re.fullmatch(WHOLE, question):  # strict: the task's whole form, nothing added
        raise ValueError("not a remainder question")
    head = re.match(r"\s*There is an? \w+ of no more than (\d+) ([\w-]+)\.", question)
    parts = re.findall(r"divide them equally among (\d+) [\w-]+, we have (\d+) left", question)
    if not head or len(parts) < 2 or not re.search(r"How many [\w-]+ are in the", question):
        raise ValueError("not a remainder question")
    return {
        "moduli": [int(m) for m, _ in parts],
        "remainders": [int(r) for _, r in parts],
        "upper_bound": int(head.group(1)),
    }
"""

TOOL = '''
import math


def solve_remainders(moduli, remainders, upper_bound):
    """Smallest non-negative x <= upper_bound with x % m == r for every pair (CRT)."""
    x, step = 0, 1
    for m, r in zip(moduli, remainders):
        if not 0 <= r < m:
            raise ValueError(f"remainder {r} is not below its modulus {m}")
        for _ in range(m):
            if x % m == r:
                break
            x += step
        else:
            raise ValueError("the remainders are inconsistent")
        step = step * m // math.gcd(step, m)
    if x > upper_bound:
        raise ValueError("no solution within the bound")
    return x
'''

SOLVE = """
def solve(question):
    return str(solve_remainders(**parse(question)))
"""


def generate_one(rng: random.Random) -> Example:
    band = rng.choice([(2, 20), (2, 60), (40, 150), (50, 300)])
    pool = [p for p in PRIMES if band[0] <= p <= band[1]]
    return _instance(rng, sorted(rng.sample(pool, 3)))


def _instance(rng: random.Random, moduli: list[int]) -> Example:
    bound = math.prod(moduli)
    x = rng.randint(1, bound - 1)
    fruit = rng.choice(FRUITS)
    clauses = "; ".join(
        f"if we divide them equally among {m} {rng.choice(ANIMALS)}, we have {x % m} left" for m in moduli
    )
    container = rng.choice(CONTAINERS)
    question = (
        f"There is a {container} of no more than {bound} {fruit}. If {clauses[3:]}. "
        f"How many {fruit} are in the {container}?"
    )
    return Example(question=question, answer=str(x))


def edge_one(rng: random.Random) -> Example:
    """Moduli beyond the real task's primes: pairwise coprime composites (8, 9, 25), still answerable."""
    while True:
        moduli = sorted(rng.sample(range(4, 60), 3))
        if all(math.gcd(a, b) == 1 for i, a in enumerate(moduli) for b in moduli[i + 1 :]) and any(
            m not in PRIMES for m in moduli
        ):
            return _instance(rng, moduli)


def _normalize(text: str) -> str:
    digits = "".join(ch for ch in str(text) if ch.isdigit() or ch == "-")
    return digits.lstrip("0") or ("0" if digits else str(text).strip())


TASK = Task(
    name="chinese_remainder_theorem",
    description="Find a count from its remainders when divided among groups (Chinese remainder theorem).",
    generate_one=generate_one,
    edge_one=edge_one,
    reference=ReferenceTool(
        entry="solve_remainders",
        description="Smallest non-negative integer with the given remainders for the given moduli.",
        code=TOOL.strip() + "\n",
        direct=(PARSER + SOLVE).strip() + "\n",
        parse=compile_parser(PARSER),
        format_answer="ans = str(ret)",
    ),
    normalize=_normalize,
)
