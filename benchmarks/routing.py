"""Routing at 10, 100 and 1,000 tools: the routing index against offering every question to every solver.

    python benchmarks/routing.py [--sizes 10 100 1000] [--questions 1000] [--backend process|docker]

Each cache holds the eight built-in tools (made by the offline demo maker) and tasks of its own making
up to the size: each with its own template (three fixed words drawn from a made-up vocabulary around
two numbers), a strict direct solver and a function of its own. Per size it prints, for questions a
tool takes (hits: built-in and own tasks mixed) and questions no tool takes (misses: an own form with
a fixed word changed, or a question of no task's shape), the routing time per question, solver runs
per question and accuracy (a hit answered rightly, by its own task's tool or a more general one; a
miss answered by none). The baseline offers every question to every solver (what routing must do
without an index to see two solvers disagree); it runs up to ``--baseline-up-to`` tools, on the same
questions, in the same run.
"""

import argparse
import random
import re
import tempfile
import time
from collections.abc import Sequence

from latm.maker import ToolMaker
from latm.models.demo import demo_maker
from latm.use.dispatcher import DirectRouting, route_direct
from latm.use.routing_index import RoutingIndex
from latm.use.tool_user import ToolUser
from sandbox import Sandbox
from tasks import TASKS, get_task
from toolcache import Entry, Evidence, HeldOut, Tool, ToolCache, UseCase, Verification, VerificationExample

SYLLABLES = "ka lo mi nu pe ra si to vu ze bo da fi gu he ji".split()


def vocabulary(n: int, rng: random.Random) -> list[str]:
    words: set[str] = set()
    while len(words) < n:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))))
    return sorted(words)


def own_tool(i: int, fixed: Sequence[str]) -> tuple[Tool, str]:
    """A task of one's own: "<w1> <w2> of A and B by <w3>?" -> (A * k + B) mod 97; the tool and its prefix."""
    k = 3 + i % 89
    prefix = f"{fixed[0].capitalize()} {fixed[1]} of "
    suffix = f" by {fixed[2]}?"
    name = f"combine_{i}"
    code = f"def {name}(a, b):\n    return (a * {k} + b) % 97\n"
    direct = (
        "import re\n\n\ndef solve(question):\n"
        f"    m = re.fullmatch({prefix!r} + r'(\\d+) and (\\d+)' + {re.escape(suffix)!r}, question)\n"
        "    if m is None:\n        raise ValueError('not a question of this task')\n"
        f"    return str({name}(int(m.group(1)), int(m.group(2))))\n"
    )
    shown = [(a, b) for a, b in ((3, 4), (10, 7), (25, 2), (8, 8), (41, 13))]
    questions = [(f"{prefix}{a} and {b}{suffix}", str((a * k + b) % 97)) for a, b in shown]
    tool = Tool(
        name=name,
        task=f"own_task_{i}",
        description=f"Combines two numbers ({' '.join(fixed)}).",
        entry=Entry(name=name, signature=f"{name}(a, b)"),
        code=code,
        direct=direct,
        use_cases=[
            UseCase(question=q, call=f"ans = {name}({a}, {b})", answer=x)
            for (q, x), (a, b) in zip(questions[:3], shown, strict=False)
        ],
        verification=Verification(
            examples=[VerificationExample(question=q, expected=x, observed=x, passed=True) for q, x in questions[:3]],
            passed=3,
            total=3,
            held_out=HeldOut(passed=300, total=300, source="kept back", judged_by="direct solver"),
            evidence=Evidence(held_out=300, batch_limit=300, functions_checked=300),
            canary_questions=[
                VerificationExample(question=q, expected=x, observed=x, passed=True) for q, x in questions[3:]
            ],
        ),
    )
    return tool, prefix + "{a} and {b}" + suffix


def build_cache(directory: str, size: int, sb: Sandbox, rng: random.Random) -> tuple[ToolCache, list[str]]:
    """A cache of ``size`` tools: the eight built-in ones and ``size - 8`` of one's own; the own forms."""
    cache = ToolCache(directory)
    maker = ToolMaker(demo_maker(), sb, cache, strategy="latm", held_out_direct=50)
    for name in TASKS:
        examples = get_task(name).generate(6, seed=0)
        maker.make(name, examples[:3], examples[3:])
    words = vocabulary(3 * size + 50, rng)
    forms = []
    for i in range(size - len(TASKS)):
        tool, form = own_tool(i, words[3 * i : 3 * i + 3])
        cache.put(tool)
        forms.append(form)
    return cache, forms


class OfferAll(RoutingIndex):
    """The baseline: every solver is a candidate for every question."""

    def _indices(self, question_words: set[str]) -> list[int]:
        return list(range(len(self.tools)))


def timed(user: ToolUser, questions: list[str], solvers: list[Tool], baseline: bool) -> tuple[float, DirectRouting]:
    import latm.use.dispatcher as dispatcher

    original = dispatcher.routing_index
    if baseline:
        dispatcher.routing_index = lambda tools: OfferAll(tools)  # type: ignore[assignment]
    try:
        dispatcher._INDEXES.clear()
        started = time.perf_counter()
        found = route_direct(user, questions, solvers, canaries=None)
        return time.perf_counter() - started, found
    finally:
        dispatcher.routing_index = original


def right_answer(found: DirectRouting, i: int, hit: tuple[str, str, str]) -> bool:
    """Answered rightly by its own task's tool, or by a more general one (the five-object shuffles' solver
    answering a seven-object question rightly)."""
    _, task, expected = hit
    answer = found.answered[i][1]
    return get_task(task).check(answer, expected) if task in TASKS else answer == expected


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--questions", type=int, default=1000)
    parser.add_argument("--baseline-up-to", type=int, default=100)
    parser.add_argument("--backend", default="process")
    args = parser.parse_args()
    rng = random.Random(7)
    print(f"{'tools':>6} {'kind':>5} {'engine':>9} {'ms/question':>12} {'solver runs/q':>14} {'accuracy':>9}")
    with Sandbox.open(args.backend) as sb:
        user = ToolUser(None, sb)
        for size in args.sizes:
            with tempfile.TemporaryDirectory() as tmp:
                cache, forms = build_cache(tmp, size, sb, rng)
                solvers = [t for t in (cache.current(x) for x in cache.tasks()) if t is not None and t.direct]
                hits: list[tuple[str, str, str]] = []  # question, task, answer
                for n in range(args.questions):
                    if n % 4 == 0 or not forms:
                        name = rng.choice(sorted(TASKS))
                        ex = get_task(name).generate(1, seed=n)[0]
                        hits.append((ex.question, name, ex.answer))
                    else:
                        j = rng.randrange(len(forms))
                        a, b = rng.randint(0, 99), rng.randint(0, 99)
                        hits.append((forms[j].format(a=a, b=b), f"own_task_{j}", str((a * (3 + j % 89) + b) % 97)))
                # misses: an own form with its middle fixed word changed, or a question of no task's shape
                misses = [
                    q.replace(q.split()[1], "zzyzx", 1)
                    if t.startswith("own_task_")
                    else f"What is the capital of {rng.choice(['Peru', 'Chad', 'Laos'])}? Answer in one word."
                    for q, t, _ in hits
                ]
                for kind, questions in (("hit", [q for q, _, _ in hits]), ("miss", misses)):
                    engines = [("index", False)] + ([("offer all", True)] if size <= args.baseline_up_to else [])
                    for engine, baseline in engines:
                        seconds, found = timed(user, questions, solvers, baseline)
                        if kind == "hit":
                            right = sum(
                                i in found.answered and right_answer(found, i, hits[i]) for i in range(len(questions))
                            )
                        else:
                            right = sum(i not in found.answered for i in range(len(questions)))
                        print(
                            f"{size:>6} {kind:>5} {engine:>9} {1000 * seconds / len(questions):>12.3f} "
                            f"{found.solver_runs / len(questions):>14.2f} {right / len(questions):>9.1%}"
                        )
                cache.close()


if __name__ == "__main__":
    main()
