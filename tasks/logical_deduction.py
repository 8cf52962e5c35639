"""logical_deduction (five and seven objects): order objects from clues (BIG-Bench Hard format).

The generator below and the reference parser keep separate phrase tables on purpose: the
reference tool is the oracle that proves the generator, which it could not do if both
shared one table.
"""

import functools
import itertools
import operator
import random
from collections.abc import Callable
from dataclasses import dataclass

from tasks.base import Example, ReferenceTool, Task, compile_parser, normalize_option, option_letters

NUMBER_WORDS = {5: "five", 7: "seven"}
HEADER = (
    "The following paragraphs each describe a set of {n} objects arranged in a fixed order. "
    "The statements are logically consistent within each paragraph. "
)


@dataclass(frozen=True)
class Domain:
    intro: str  # "{n}" and "{items}" are filled in
    objects: tuple[str, ...]
    article: bool  # objects are introduced as "a quail" and named "The quail"
    verb: str  # "is", "are" or "finished"
    before: str  # relation: X has a smaller index than Y
    after: str
    labels: Callable[[int], dict[int, list[str]]]  # index -> the phrases naming it

    def subject(self, obj: str) -> str:
        return f"The {obj}" if self.article else obj

    def introduce(self, obj: str) -> str:
        if not self.article or self.verb == "are":
            return obj
        return f"{'an' if obj[0] in 'aeiou' else 'a'} {obj}"


def _spatial(n: int) -> dict[int, list[str]]:
    out = {0: ["the leftmost"], n - 1: ["the rightmost"]}
    for i, word in ((1, "second"), (2, "third"), (3, "fourth")):
        out.setdefault(i, []).append(f"the {word} from the left")
    for i, word in ((n - 2, "second"), (n - 3, "third")):
        out.setdefault(i, []).append(f"the {word} from the right")
    return out


def _finish(n: int) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for i, word in enumerate(["first", "second", "third", "fourth"][: n - 2]):
        out.setdefault(i, []).append(word)
    for i, word in ((n - 1, "last"), (n - 2, "second-to-last"), (n - 3, "third-to-last")):
        out.setdefault(i, []).append(word)
    return out


def _age(n: int) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {0: ["the oldest"], n - 1: ["the newest"]}
    for i, word in ((1, "second"), (2, "third")):
        out.setdefault(i, []).append(f"the {word}-oldest")
    for i, word in ((n - 2, "second"), (n - 3, "third"), (n - 4, "fourth")):
        out.setdefault(i, []).append(f"the {word}-newest")
    return out


def _price(n: int) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {0: ["the cheapest"], n - 1: ["the most expensive"]}
    for i, word in ((1, "second"), (2, "third")):
        out.setdefault(i, []).append(f"the {word}-cheapest")
    for i, word in ((n - 2, "second"), (n - 3, "third"), (n - 4, "fourth")):
        out.setdefault(i, []).append(f"the {word}-most expensive")
    return out


DOMAINS = [
    Domain(
        "On a branch, there are {n} birds: {items}.",
        ("blue jay", "cardinal", "crow", "falcon", "hawk", "hummingbird", "quail", "raven", "robin", "owl"),
        True,
        "is",
        "to the left of the",
        "to the right of the",
        _spatial,
    ),
    Domain(
        "On a shelf, there are {n} books: {items}.",
        tuple(
            f"{c} book"
            for c in ("black", "blue", "brown", "gray", "green", "purple", "red", "white", "yellow", "orange")
        ),
        True,
        "is",
        "to the left of the",
        "to the right of the",
        _spatial,
    ),
    Domain(
        "In a golf tournament, there were {n} golfers: {items}.",
        ("Ada", "Amy", "Ana", "Dan", "Eli", "Eve", "Joe", "Mel", "Mya", "Rob"),
        False,
        "finished",
        "above",
        "below",
        _finish,
    ),
    Domain(
        "In an antique car show, there are {n} vehicles: {items}.",
        (
            "bus",
            "convertible",
            "hatchback",
            "limousine",
            "minivan",
            "motorcyle",
            "sedan",
            "station wagon",
            "tractor",
            "truck",
        ),
        True,
        "is",
        "older than the",
        "newer than the",
        _age,
    ),
    Domain(
        "A fruit stand sells {n} fruits: {items}.",
        (
            "apples",
            "cantaloupes",
            "kiwis",
            "loquats",
            "mangoes",
            "oranges",
            "peaches",
            "pears",
            "plums",
            "watermelons",
        ),
        True,
        "are",
        "less expensive than the",
        "more expensive than the",
        _price,
    ),
]

PARSER = r"""
import re

ABSOLUTE = {
    "the leftmost": 0, "the rightmost": -1, "the second from the left": 1, "the third from the left": 2,
    "the fourth from the left": 3, "the second from the right": -2, "the third from the right": -3,
    "first": 0, "second": 1, "third": 2, "fourth": 3, "last": -1, "second-to-last": -2,
    "third-to-last": -3, "the oldest": 0, "the second-oldest": 1, "the third-oldest": 2,
    "the newest": -1, "the second-newest": -2, "the third-newest": -3, "the fourth-newest": -4,
    "the cheapest": 0, "the second-cheapest": 1, "the third-cheapest": 2, "the most expensive": -1,
    "the second-most expensive": -2, "the third-most expensive": -3, "the fourth-most expensive": -4,
}
RELATIVE = {
    "to the left of": "before", "to the right of": "after", "above": "before", "below": "after",
    "older than": "before", "newer than": "after", "less expensive than": "before",
    "more expensive than": "after",
}


def _name(text, objects):
    text = re.sub(r"^(the|a|an) ", "", text.strip(), flags=re.I).lower()
    for obj in objects:
        if obj.lower() == text:
            return obj
    raise ValueError(f"unknown object {text!r}")


def _statement(sentence, objects):
    m = re.fullmatch(r"(.+?) (?:is|are|finished) (.+)", sentence.strip().rstrip("."))
    if not m:
        raise ValueError(f"unreadable statement {sentence!r}")
    subject, rest = _name(m.group(1), objects), m.group(2)
    if rest in ABSOLUTE:
        return ["at", subject, ABSOLUTE[rest]]
    for phrase, kind in RELATIVE.items():
        if rest.startswith(phrase + " "):
            other = _name(rest[len(phrase) + 1:], objects)
            return ["before", subject, other] if kind == "before" else ["before", other, subject]
    raise ValueError(f"unreadable statement {sentence!r}")


def parse(question):
    body, sep, options_text = question.partition("\nOptions:\n")
    if not sep or "The statements are logically consistent within each paragraph." not in body:
        raise ValueError("not a logical-deduction question")
    body = body.split("within each paragraph. ", 1)[1]
    intro = re.match(r"(.*?(?:there (?:are|were)|sells) \w+ \w+): (.+?)\.\s+(.*)", body, re.S)
    if not intro:
        raise ValueError("no list of objects")
    items = re.split(r",? and |, ", intro.group(2))
    objects = [re.sub(r"^(a|an) ", "", it.strip()) for it in items]
    sentences = [s for s in re.split(r"(?<=\.)\s+", intro.group(3).strip()) if s]
    constraints = [_statement(s, objects) for s in sentences]
    options = {}
    for letter, text in re.findall(r"^\(([A-G])\) (.+)$", options_text, re.M):
        kind, obj, index = _statement(text, objects)
        if kind != "at":
            raise ValueError("options must name positions")
        options[f"({letter})"] = [obj, index]
    if len(options) != len(objects):
        raise ValueError("one option per object expected")
    return {"objects": objects, "constraints": constraints, "options": options}
"""

TOOL = """
import itertools


def solve_ordering(objects, constraints, options):
    \"\"\"Finds the one ordering of ``objects`` that satisfies every constraint and returns the
    letter of the option that holds in it.

    Constraints: ["at", obj, i] (obj is at index i; negative i counts from the end) and
    ["before", a, b] (a comes before b). Options map a letter to [obj, i]. Objects with a
    fixed index are placed first, so only the others are permuted.
    \"\"\"
    n = len(objects)
    fixed = {}
    before = []
    for kind, a, b in constraints:
        if kind == "at":
            if fixed.get(a, b % n) != b % n:
                raise ValueError(f"{a} cannot be at two places")
            fixed[a] = b % n
        elif kind == "before":
            before.append((a, b))
        else:
            raise ValueError(f"unknown constraint {kind!r}")
    if len(set(fixed.values())) != len(fixed):
        raise ValueError("two objects at one place")
    free_objects = [o for o in objects if o not in fixed]
    free_slots = [i for i in range(n) if i not in fixed.values()]
    orders = []
    for perm in itertools.permutations(free_slots):
        where = dict(fixed)
        where.update(zip(free_objects, perm))
        if all(where[a] < where[b] for a, b in before):
            orders.append(where)
            if len(orders) > 1:
                break
    if len(orders) != 1:
        raise ValueError(f"the constraints allow {len(orders)} orderings, not exactly one")
    where = orders[0]
    true = [letter for letter, (obj, i) in options.items() if where[obj] == i % n]
    if len(true) != 1:
        raise ValueError("not exactly one option holds")
    return true[0]
"""

SOLVE = """
def solve(question):
    return solve_ordering(**parse(question))
"""


Clue = tuple[str, str, object]  # ("at", obj, index) or ("before", obj, other_obj)


@functools.cache
def _placements(n: int) -> tuple[tuple[int, ...], ...]:
    """Every ordering of n objects, as the index of each object (computed once per n)."""
    return tuple(itertools.permutations(range(n)))


def _mask(objects: list[str], clue: Clue) -> int:
    """The orderings (bit i: the i-th of ``_placements``) that ``clue`` allows."""
    kind, a, b = clue
    idx = {o: i for i, o in enumerate(objects)}
    return _index_mask(len(objects), kind, idx[a], int(b) if kind == "at" else idx[str(b)])  # type: ignore[call-overload]


@functools.cache
def _index_mask(n: int, kind: str, a: int, b: int) -> int:
    """Object ``a`` at place ``b`` ("at"), or before object ``b`` ("before"), as a bitset of orderings
    (bit i: the i-th of ``_placements``; built as one string of digits: OR-ing 5,040 bits one at a
    time into a growing int was most of the seven-object generator's time)."""
    placements = reversed(_placements(n))  # the last digit is bit 0
    if kind == "at":
        return int("".join("1" if pos[a] == b else "0" for pos in placements), 2)
    return int("".join("1" if pos[a] < pos[b] else "0" for pos in placements), 2)


def _make_generator(n: int) -> Callable[[random.Random], Example]:
    def generate_one(rng: random.Random) -> Example:
        dom = rng.choice(DOMAINS)
        objects = rng.sample(list(dom.objects), n)
        order = objects[:]
        rng.shuffle(order)
        where = {o: i for i, o in enumerate(order)}
        labels = dom.labels(n)
        clues: list[Clue] = []
        alive = (1 << len(_placements(n))) - 1  # the orderings every clue so far allows
        while alive.bit_count() > 1:
            if rng.random() < 0.35:
                obj = rng.choice([o for o in objects if where[o] in labels])
                clue: Clue = ("at", obj, where[obj])
            else:
                a, b = rng.sample(objects, 2)
                clue = ("before", a, b) if where[a] < where[b] else ("before", b, a)
            if clue not in clues:
                clues.append(clue)
                alive &= _mask(objects, clue)
        masks = {c: _mask(objects, c) for c in clues}  # the orderings each clue allows, as a bitset
        for clue in rng.sample(clues, len(clues)):  # drop clues the others already imply
            rest = [c for c in clues if c != clue]
            allowed = functools.reduce(operator.and_, (masks[c] for c in rest), (1 << len(_placements(n))) - 1)
            if allowed.bit_count() == 1:
                clues = rest
        sentences = []
        for kind, a, b in clues:  # type: ignore[assignment]
            if kind == "at":
                sentences.append(f"{dom.subject(a)} {dom.verb} {rng.choice(labels[int(b)])}.")  # type: ignore[call-overload]
            elif rng.random() < 0.5:
                sentences.append(f"{dom.subject(a)} {dom.verb} {dom.before} {b}.")
            else:
                sentences.append(f"{dom.subject(str(b))} {dom.verb} {dom.after} {a}.")
        sentences = [s.replace(" the ", " ", 1) if not dom.article and " the " in s else s for s in sentences]
        target = rng.choice(sorted(labels))
        label = rng.choice(labels[target])
        letters = option_letters(n)
        options = "\n".join(
            f"{letter} {dom.subject(o)} {dom.verb} {label}" for letter, o in zip(letters, objects, strict=True)
        )
        items = ", ".join(dom.introduce(o) for o in objects[:-1]) + f", and {dom.introduce(objects[-1])}"
        question = (
            HEADER.format(n=NUMBER_WORDS[n])
            + dom.intro.format(n=NUMBER_WORDS[n], items=items)
            + " "
            + " ".join(sentences)
            + f"\nOptions:\n{options}"
        )
        return Example(question=question, answer=letters[objects.index(order[target])])

    return generate_one


def _task(n: int) -> Task:
    return Task(
        name=f"logical_deduction_{NUMBER_WORDS[n]}_objects",
        description=f"Deduce the order of {n} objects from clues and pick the option that holds.",
        generate_one=_make_generator(n),
        reference=ReferenceTool(
            entry="solve_ordering",
            description="Finds the unique ordering satisfying position and precedence constraints and "
            "returns the letter of the option that holds.",
            code=TOOL.strip() + "\n",
            direct=(PARSER + SOLVE).strip() + "\n",
            parse=compile_parser(PARSER),
        ),
        normalize=normalize_option,
    )


FIVE = _task(5)
SEVEN = _task(7)
