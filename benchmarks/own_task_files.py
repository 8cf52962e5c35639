"""Task files of one's own, in the formats real task sets use, for ``benchmarks/own_tasks.py``.

    python benchmarks/own_task_files.py OUT_DIR [--n 109] [--seed 0]

Writes one JSONL file of {"question", "answer"} per task: counting letters, unit conversion, date
arithmetic, arithmetic expressions, yes/no instructions with a bulleted option block, statements about
who tells the truth, a table lookup and counting items. None of them is a task LATM ships; each is
generated with its answers, reproducibly from the seed.
"""

import argparse
import ast
import datetime
import itertools
import json
import random
from collections.abc import Callable
from pathlib import Path

WORDS = (
    "banana orchard kettle lantern meadow pepper quartz saddle tunnel violin walnut yogurt zephyr anchor "
    "blossom canyon dolphin ember falcon glacier harbor island jasmine kingdom lemon marble needle oyster"
).split()
SYLLABLES = "ba ko tri mul sen dar fi gro lep nu ost qua rin sty ve wex yo zan".split()
NAMES = "Alice Bram Chiara Dmitri Elif Farid Greta Hiro Ines Jonas Kemal Leila Mateo Nadia Oskar Priya".split()
UNITS = [("km", "m", 1000), ("m", "cm", 100), ("kg", "g", 1000), ("h", "min", 60), ("min", "s", 60)]
THINGS = "apple chair lamp book spoon candle bottle pillow kite drum".split()
NUMBER_WORDS = {1: "a", 2: "two", 3: "three", 4: "four", 5: "five"}


def vowels(rng: random.Random) -> tuple[str, str]:
    word = rng.choice(WORDS) if rng.random() < 0.3 else "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
    return f"How many vowels are in the word '{word}'?", str(sum(c in "aeiou" for c in word))


def conversion(rng: random.Random) -> tuple[str, str]:
    big, small, factor = rng.choice(UNITS)
    n = rng.randint(1, 250)
    return f"Convert {n} {big} to {small}.", str(n * factor)


def dates(rng: random.Random) -> tuple[str, str]:
    start = datetime.date(2020, 1, 1) + datetime.timedelta(days=rng.randint(0, 2000))
    days = rng.randint(1, 400)
    when = start + datetime.timedelta(days=days)
    return f"What is the date {days} days after {start.isoformat()}? Answer in YYYY-MM-DD.", when.isoformat()


def _value(node: ast.AST) -> int:
    if isinstance(node, ast.Expression):
        return _value(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return node.value
    if isinstance(node, ast.BinOp):
        left, right = _value(node.left), _value(node.right)
        return {ast.Add: left + right, ast.Sub: left - right, ast.Mult: left * right}[type(node.op)]
    raise ValueError("not an expression of this task")


def expression(rng: random.Random) -> tuple[str, str]:
    a, b, c = (rng.randint(1, 20) for _ in range(3))
    op1, op2 = rng.choice("+-*"), rng.choice("+-*")
    text = rng.choice([f"(({a} {op1} {b}) {op2} {c})", f"({a} {op1} ({b} {op2} {c}))", f"({a} {op1} {b}) {op2} {c}"])
    return f"{text} =", str(_value(ast.parse(text, mode="eval")))


def prime(rng: random.Random) -> tuple[str, str]:
    n = rng.randint(2, 200)
    is_prime = all(n % d for d in range(2, int(n**0.5) + 1))
    return f"Is {n} a prime number?\nOptions:\n- Yes\n- No", "Yes" if is_prime else "No"


def truth(rng: random.Random) -> tuple[str, str]:
    people = rng.sample(NAMES, 5)
    truthful = {people[0]: rng.random() < 0.5}
    lines = [f"{people[0]} {'tells the truth' if truthful[people[0]] else 'lies'}."]
    for before, person in itertools.pairwise(people):
        says = rng.random() < 0.5
        truthful[person] = truthful[before] == says
        lines.append(f"{person} says {before} {'tells the truth' if says else 'lies'}.")
    return f"Question: {' '.join(lines)} Does {people[-1]} tell the truth?", "Yes" if truthful[people[-1]] else "No"


def table(rng: random.Random) -> tuple[str, str]:
    people = rng.sample(NAMES, 4)
    ages = {p: rng.randint(18, 80) for p in people}
    rows = "; ".join(f"{p}: {a}" for p, a in ages.items())
    asked = rng.choice(people)
    return f"Ages: {rows}. How old is {asked}?", str(ages[asked])


def items(rng: random.Random) -> tuple[str, str]:
    chosen = rng.sample(THINGS, rng.randint(3, 5))
    counts = [rng.randint(1, 5) for _ in chosen]
    listed = [f"{NUMBER_WORDS[n]} {t}{'s' if n > 1 else ''}" for t, n in zip(chosen, counts, strict=True)]
    text = ", ".join(listed[:-1]) + f", and {listed[-1]}"
    return f"I have {text}. How many objects do I have?", str(sum(counts))


TASKS: dict[str, Callable[[random.Random], tuple[str, str]]] = {
    "count_vowels": vowels,
    "unit_conversion": conversion,
    "date_after": dates,
    "arithmetic_expression": expression,
    "is_prime_options": prime,
    "who_tells_the_truth": truth,
    "table_lookup": table,
    "count_objects": items,
}


def write(out: Path, n: int = 109, seed: int = 0) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, make in TASKS.items():
        rng = random.Random(f"{seed}:{name}")
        rows, seen = [], set()
        for _ in range(100 * n):  # questions are drawn until n distinct ones are found
            if len(rows) >= n:
                break
            question, answer = make(rng)
            if question not in seen:
                seen.add(question)
                rows.append({"question": question, "answer": answer})
        path = out / f"{name}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--n", type=int, default=109)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    for path in write(args.out, args.n, args.seed):
        print(path)


if __name__ == "__main__":
    main()
