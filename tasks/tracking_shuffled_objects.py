"""tracking_shuffled_objects (five and seven): follow pairwise swaps (BIG-Bench Hard format)."""

import random
from collections.abc import Callable

from tasks.base import Example, ReferenceTool, Task, compile_parser, normalize_option, option_letters

PEOPLE = ["Alice", "Bob", "Claire", "Dave", "Eve", "Fred", "Gertrude"]
NUMBER_WORDS = {5: "five", 7: "seven"}


def _scenario(
    intro: str,
    has: Callable[[str, str], str],
    progress: str,
    swap: str,
    end: str,
    ask: str,
    items: list[str],
    option: Callable[[str], str] = lambda item: item,
) -> dict[str, object]:
    return {
        "intro": intro,
        "has": has,
        "progress": progress,
        "swap": swap,
        "end": end,
        "ask": ask,
        "items": items,
        "option": option,
    }


SCENARIOS = [
    _scenario(
        "are dancers at a square dance. At the start of a song, they each have a partner",
        lambda p, x: f"{p} is dancing with {x}",
        "Throughout the song, the dancers often trade partners.",
        "{a} and {b} switch partners",
        "At the end of the dance,",
        "{p} is dancing with",
        ["Helga", "Izzi", "Jamie", "Karl", "Lola", "Melissa", "Ophelia", "Patrick", "Rodrigo", "Sam"],
    ),
    _scenario(
        "are friends and avid readers who occasionally trade books. At the start of the semester, "
        "they each buy one new book",
        lambda p, x: f"{p} gets {x}",
        "As the semester proceeds, they start trading around the new books.",
        "{a} and {b} swap books",
        "At the end of the semester,",
        "{p} has",
        [
            "Catch-22",
            "Frankenstein",
            "Hound of the Baskervilles",
            "Lolita",
            "Moby Dick",
            "The Fellowship of the Ring",
            "The Great Gatsby",
            "The Odyssey",
            "The Pearl",
            "Ulysses",
        ],
    ),
    _scenario(
        "are on the same team in a soccer match. At the start of the match, they are each assigned to a position",
        lambda p, x: f"{p} is playing {x}",
        "As the game progresses, pairs of players occasionally swap positions.",
        "{a} and {b} trade positions",
        "At the end of the match,",
        "{p} is playing",
        [
            "benchwarmer",
            "center midfielder",
            "cheerleader",
            "fullback",
            "goalkeeper",
            "left midfielder",
            "left winger",
            "right midfielder",
            "right winger",
            "striker",
        ],
    ),
    _scenario(
        "are holding a white elephant gift exchange. At the start of the event, they are each "
        "holding a present of a different color",
        lambda p, x: f"{p} has a {x}",
        "As the event progresses, pairs of people swap gifts.",
        "{a} and {b} swap their gifts",
        "At the end of the event,",
        "{p} has the",
        [
            "black ball",
            "blue present",
            "brown present",
            "green present",
            "orange ball",
            "pink ball",
            "purple present",
            "red present",
            "white present",
            "yellow present",
        ],
    ),
    _scenario(
        "are playing a game. At the start of the game, they are each holding a ball",
        lambda p, x: f"{p} has a {x}",
        "As the game progresses, pairs of players trade balls.",
        "{a} and {b} swap balls",
        "At the end of the game,",
        "{p} has the",
        [
            "black ball",
            "blue ball",
            "brown ball",
            "green ball",
            "orange ball",
            "pink ball",
            "purple ball",
            "red ball",
            "white ball",
            "yellow ball",
        ],
    ),
]

PARSER = r"""
import re

_HAS = (r"is dancing with|gets|is playing|has an?")
_SWAP = (r"(?:First|Then|Finally), (\w+) and (\w+) "
         r"(?:switch partners|swap books|trade positions|swap their gifts|swap balls|swap)")

def parse(question):
    head, sep, options_text = question.partition("\nOptions:\n")
    start = re.search(r"they (?:each|are each) [^:]*: (.*?)\.\n", head, re.S)
    ask = re.search(r"At the end of the [\w ]+, (\w+) (?:is dancing with|has the|has|is playing)\s*$", head)
    if not (sep and start and ask):
        raise ValueError("not a swap-tracking question")
    assignments = {}
    for clause in re.split(r", and |, ", start.group(1)):
        m = re.fullmatch(r"(\w+) (?:" + _HAS + r") (.+)", clause.strip())
        if not m:
            raise ValueError(f"unreadable start clause: {clause!r}")
        assignments[m.group(1)] = m.group(2)
    swaps = [[a, b] for a, b in re.findall(_SWAP, head)]
    options = re.findall(r"^\(([A-G])\) (.+)$", options_text, re.M)
    if not swaps or len(options) != len(assignments):
        raise ValueError("swaps or options missing")
    return {"assignments": assignments, "swaps": swaps, "person": ask.group(1),
            "options": {text: f"({letter})" for letter, text in options}}
"""

TOOL = '''
def track_swaps(assignments, swaps, person, options):
    """Applies pairwise swaps to who-holds-what and returns the option letter of what
    ``person`` holds at the end. ``options`` maps each item's text to its letter."""
    holding = dict(assignments)
    for a, b in swaps:
        holding[a], holding[b] = holding[b], holding[a]
    item = holding[person]
    if item not in options:
        raise ValueError(f"{item!r} is not among the options")
    return options[item]
'''

SOLVE = """
def solve(question):
    return track_swaps(**parse(question))
"""


def _make_generator(n: int) -> Callable[[random.Random], Example]:
    def generate_one(rng: random.Random) -> Example:
        sc = rng.choice(SCENARIOS)
        people = PEOPLE[:n]
        items: list[str] = rng.sample(sc["items"], n)  # type: ignore[call-overload, arg-type]
        has: Callable[[str, str], str] = sc["has"]  # type: ignore[assignment]
        holding = dict(zip(people, items, strict=True))
        swaps = []
        for _ in range(n):
            a, b = rng.sample(people, 2)
            swaps.append((a, b))
            holding[a], holding[b] = holding[b], holding[a]
        target = rng.choice(people)
        names = ", ".join(people[:-1]) + f", and {people[-1]}"
        starts = ", ".join(has(p, x) for p, x in zip(people[:-1], items, strict=False))
        starts += f", and {has(people[-1], items[-1])}"
        words = ["First"] + ["Then"] * (n - 2) + ["Finally"]
        moves = " ".join(f"{w}, {str(sc['swap']).format(a=a, b=b)}." for w, (a, b) in zip(words, swaps, strict=True))
        ask = str(sc["ask"]).format(p=target)
        letters = option_letters(n)
        options = "\n".join(f"{letter} {item}" for letter, item in zip(letters, items, strict=True))
        question = f"{names} {sc['intro']}: {starts}.\n{sc['progress']} {moves} {sc['end']} {ask}\nOptions:\n{options}"
        return Example(question=question, answer=letters[items.index(holding[target])])

    return generate_one


def _task(n: int) -> Task:
    return Task(
        name=f"tracking_shuffled_objects_{NUMBER_WORDS[n]}_objects",
        description=f"Track which object each of {n} people holds after a sequence of pairwise swaps.",
        generate_one=_make_generator(n),
        reference=ReferenceTool(
            entry="track_swaps",
            description="Applies pairwise swaps to an assignment and returns the option letter of "
            "what one person ends up with.",
            code=TOOL.strip() + "\n",
            direct=(PARSER + SOLVE).strip() + "\n",
            parse=compile_parser(PARSER),
        ),
        normalize=normalize_option,
    )


FIVE = _task(5)
SEVEN = _task(7)
