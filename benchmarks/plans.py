"""Plans of several tools against one call per model turn (ReAct style), side by side in one run.

    python benchmarks/plans.py [--questions 12] [--latency 0.5] [--backend process|docker]
    python benchmarks/plans.py --model M [--react-model M2] --base-url URL    # a real model both ways

Compound questions are made from the built-in tasks: independent ones (2 to 4 questions of different
tasks, one paragraph each) and dependent ones (a word list sorted, then another sorted together with it).
Both ways use the offline demo tools and the real openai client against a local OpenAI-compatible
server that adds ``--latency`` seconds to every request (a model's time to answer):

- **LATM plans** (``LATM.solve_plan``): independent parts go to their direct solvers with no model
  call; a dependent question gets one plan in one reply, whose independent calls run at once;
- **one call per turn**: the model is offered every tool as a function (``openai_tools``) and calls
  one per turn, seeing each result before the next (``run_tool_call``), then answers.

The scripted model knows each question's parts (it plays a model that plans and calls perfectly), so
the figures compare the protocols, not the models. With ``--model`` a real model plays both parts
(``--react-model`` for the one-call-per-turn side when the endpoint serves function calling under
another name), at its own latency, with at most ``MAX_TURNS`` turns a question. Printed: wall seconds,
model calls, tokens and accuracy for each, and their ratios.
"""

import argparse
import contextlib
import json
import random
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

import openai

from latm import LATM, openai_tools, run_tool_call
from latm.maker import ToolMaker
from latm.models.demo import demo_maker
from latm.testing import FakeOpenAIServer
from latm.use.exposure import expose
from sandbox import Sandbox
from tasks import TASKS, get_task
from toolcache import ToolCache

MAX_TURNS = 8


@dataclass
class Compound:
    question: str
    parts: list[str]  # the sub-questions, in order
    answers: list[str]  # the expected answer of each
    dependent: bool = False
    template: str = ""  # a dependent question's second call, with {0} for the first call's answer
    tasks: list[str] = field(default_factory=list)


def compounds(n: int, seed: int = 0) -> list[Compound]:
    rng = random.Random(seed)
    names = sorted(TASKS)
    out = []
    for i in range(n):
        if i % 3 == 2:  # dependent: sort a list, then sort another list together with the first one's answer
            first = get_task("word_sorting").generate(1, seed=seed + i)[0]
            words = get_task("word_sorting").generate(1, seed=seed + 100 + i)[0].question.split("List: ")[1]
            template = "Sort the following words alphabetically: List: " + words + " {0}"
            expected = " ".join(sorted([*words.split(), *first.answer.split()]))
            question = f"{first.question}\nThen sort these words together with the sorted list: {words}"
            out.append(Compound(question, [first.question], [first.answer, expected], True, template, ["sort", "sort"]))
            continue
        tasks = rng.sample(names, rng.randint(2, 4))
        examples = [get_task(t).generate(1, seed=seed + i)[0] for t in tasks]
        out.append(
            Compound(
                "\n\n".join(e.question for e in examples),
                [e.question for e in examples],
                [e.answer for e in examples],
                tasks=tasks,
            )
        )
    return out


def planner(cases: list[Compound], tool_of: dict[str, str]) -> Any:
    """The scripted model for LATM: a dependent question's plan, in one reply."""
    by_question = {c.question: c for c in cases}

    def reply(messages: list[dict[str, Any]]) -> str:
        question = str(messages[-1]["content"]).rsplit("Question: ", 1)[1].split("\n\nYour last plan")[0]
        c = by_question[question]
        calls = [
            {"tool": tool_of["word_sorting"], "arguments": {"question": c.parts[0]}},
            {"tool": tool_of["word_sorting"], "arguments": {"question": c.template.format("$1")}},
        ]
        return json.dumps({"calls": calls, "answer": "$1\n$2"})

    return reply


def reactor(cases: list[Compound], tool_of: dict[str, str], task_of: dict[str, str]) -> Any:
    """The scripted model for one call per turn: the next part's call, then the answer."""
    by_question = {c.question: c for c in cases}

    def reply(messages: list[dict[str, Any]]) -> Any:
        c = by_question[str(messages[0]["content"])]
        results = [str(m["content"]) for m in messages if m.get("role") == "tool"]
        done = len(results)
        if c.dependent:
            if done == 0:
                return {"tool_calls": [{"name": tool_of["word_sorting"], "arguments": {"question": c.parts[0]}}]}
            if done == 1:
                answer = json.loads(results[0]).get("answer", results[0]) if results[0].startswith("{") else results[0]
                return {
                    "tool_calls": [
                        {"name": tool_of["word_sorting"], "arguments": {"question": c.template.format(answer)}}
                    ]
                }
        elif done < len(c.parts):
            name = tool_of[task_of[c.parts[done]]]
            return {"tool_calls": [{"name": name, "arguments": {"question": c.parts[done]}}]}
        answers = [json.loads(r).get("answer", r) if r.startswith("{") else r for r in results]
        return "\n".join(answers)

    return reply


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", type=int, default=12)
    parser.add_argument("--latency", type=float, default=0.5)
    parser.add_argument("--backend", default="process")
    parser.add_argument("--model", help="a real model for both ways (default: the scripted ones)")
    parser.add_argument("--react-model", help="the model name for one call per turn (function calling)")
    parser.add_argument("--base-url", default="http://127.0.0.1:8765/v1")
    args = parser.parse_args()
    cases = compounds(args.questions)
    task_of = {}
    for c in cases:
        if not c.dependent:
            for part, task in zip(c.parts, c.tasks, strict=True):
                task_of[part] = task
    with tempfile.TemporaryDirectory() as tmp, Sandbox.open(args.backend) as sb, ToolCache(tmp) as cache:
        maker = ToolMaker(demo_maker(), sb, cache, strategy="latm", held_out_direct=50)
        for name in TASKS:
            ex = get_task(name).generate(6, seed=0)
            maker.make(name, ex[:3], ex[3:])
        tool_of = {e.tool.task: e.name for e in expose(cache)}
        rows = {}
        scripted = args.model is None
        with (
            FakeOpenAIServer(planner(cases, tool_of), latency_s=args.latency)
            if scripted
            else contextlib.nullcontext() as server,
            LATM(
                user=args.model or "fake-planner",
                base_url=server.url if server else args.base_url,
                cache=cache,
                sandbox=sb,
                canaries=False,
            ) as latm,
        ):
            started, right = time.perf_counter(), 0
            for c in cases:
                sol = latm.solve_plan(c.question)
                right += (sol.answer or "").split("\n") == c.answers
            calls = server.hits if server else latm.usage.calls
            rows["LATM plans"] = (time.perf_counter() - started, calls, latm.usage.tokens, right)
            print(f"LATM plans done: {rows['LATM plans']}", flush=True)  # a long run keeps what it measured
        with (
            FakeOpenAIServer(reactor(cases, tool_of, task_of), latency_s=args.latency)
            if scripted
            else contextlib.nullcontext() as server
        ):
            client = openai.OpenAI(base_url=server.url if server else args.base_url, api_key="local")
            model = "fake-react" if scripted else args.react_model or args.model
            started, right, tokens, turns = time.perf_counter(), 0, 0, 0
            tools = openai_tools(cache)
            for c in cases:
                messages: list[Any] = [{"role": "user", "content": c.question}]
                for _ in range(MAX_TURNS):
                    done = client.chat.completions.create(model=model, messages=messages, tools=tools)  # type: ignore[arg-type]
                    turns += 1
                    tokens += done.usage.total_tokens if done.usage else 0
                    reply = done.choices[0].message
                    if not reply.tool_calls:
                        break
                    messages.append(reply.model_dump(exclude_none=True))
                    messages += [run_tool_call(call, cache, sb) for call in reply.tool_calls]
                right += (reply.content or "").strip().split("\n") == c.answers
            rows["one call per turn"] = (time.perf_counter() - started, turns, tokens, right)
    latency = f"{args.latency} s a model call" if args.model is None else f"model {args.model} at {args.base_url}"
    print(f"{len(cases)} compound questions ({sum(c.dependent for c in cases)} dependent), {latency}")
    print(f"{'':<18} {'wall s':>8} {'model calls':>12} {'tokens':>8} {'accuracy':>9}")
    for name, (wall, calls, tokens, right) in rows.items():
        print(f"{name:<18} {wall:>8.2f} {calls:>12} {tokens:>8} {right / len(cases):>9.0%}")
    (pw, pc, pt, _), (rw, rc, rt, _) = rows["LATM plans"], rows["one call per turn"]
    if args.model is None and any(right < len(cases) for *_, right in rows.values()):
        print("warning: accuracy below 100%: the scripted models should answer every question")
    print(
        f"one call per turn / LATM plans: {rw / pw:.1f}x the wall time, {rc / max(1, pc):.1f}x the model calls, "
        f"{rt / max(1, pt):.1f}x the tokens"
    )


if __name__ == "__main__":
    main()
