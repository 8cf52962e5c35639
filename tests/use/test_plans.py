"""Plans of several tools: independent parts routed with no model call; otherwise one plan, checked,
run in parallel where calls do not depend on each other, re-planned once on an error."""

import json
import time

import pytest

from latm import LATM
from latm.testing import ScriptedModel
from latm.use.exposure import expose
from latm.use.plans import PlanError, check_plan, parse_plan
from sandbox import Sandbox
from tasks import get_task
from toolcache import ToolCache

SORTING = get_task("word_sorting").generate(2, seed=11)
SHUFFLE = get_task("tracking_shuffled_objects_five_objects").generate(1, seed=11)[0]
REMAINDER = get_task("chinese_remainder_theorem").generate(1, seed=11)[0]


def names(cache: ToolCache) -> dict[str, str]:
    return {e.tool.task: e.name for e in expose(cache)}


def test_independent_parts_are_routed_to_their_tools_with_no_model_call(
    demo_cache: ToolCache, process_sandbox: Sandbox
) -> None:
    user = ScriptedModel([], name="gpt-4o-mini")
    question = f"{SORTING[0].question}\n\n{SHUFFLE.question}"
    with LATM(user=user, cache=demo_cache, sandbox=process_sandbox) as latm:
        sol = latm.solve_plan(question)
    assert sol.mode == "split" and user.calls == 0
    assert sol.answer == f"{SORTING[0].answer}\n{SHUFFLE.answer}"
    assert demo_cache.get("word_sorting").usage.uses == 1  # each call is a use of its tool
    with LATM(cache=demo_cache, sandbox=process_sandbox) as latm:  # one question: no model needed either
        one = latm.solve_plan(REMAINDER.question)
    assert one.mode == "split" and one.answer == REMAINDER.answer and len(one.calls) == 1


def test_one_plan_runs_its_independent_calls_at_once_and_feeds_a_dependent_one(
    demo_cache: ToolCache, process_sandbox: Sandbox
) -> None:
    exposed = names(demo_cache)
    words = SORTING[1].question.split("List: ")[1]
    plan = {
        "calls": [
            {"tool": exposed["word_sorting"], "arguments": {"question": SORTING[0].question}},
            {"tool": exposed["chinese_remainder_theorem"], "arguments": {"question": REMAINDER.question}},
            {
                "tool": exposed["word_sorting"],
                "arguments": {"question": f"Sort the following words alphabetically: List: {words} $1"},
            },
        ],
        "answer": "sorted: $1; remainder: $2; both lists: $3",
    }
    user = ScriptedModel([json.dumps(plan)], name="gpt-4o-mini")
    question = "Sort these words, work out the remainder, and sort the other list together with the first."
    with LATM(user=user, cache=demo_cache, sandbox=process_sandbox) as latm:
        sol = latm.solve_plan(question)
    assert sol.mode == "plan" and sol.plans == 1 and user.calls == 1, sol.error
    both = " ".join(sorted([*words.split(), *SORTING[0].answer.split()]))
    assert sol.answer == f"sorted: {SORTING[0].answer}; remainder: {REMAINDER.answer}; both lists: {both}"
    assert [c.answer for c in sol.calls] == [SORTING[0].answer, REMAINDER.answer, both]


def test_a_plan_naming_an_unknown_tool_is_asked_for_once_more_with_the_error(
    demo_cache: ToolCache, process_sandbox: Sandbox
) -> None:
    exposed = names(demo_cache)
    bad = {"calls": [{"tool": "sort_everything", "arguments": {"question": SORTING[0].question}}], "answer": "$1"}
    good = {
        "calls": [{"tool": exposed["word_sorting"], "arguments": {"question": SORTING[0].question}}],
        "answer": "$1",
    }
    user = ScriptedModel([json.dumps(bad), json.dumps(good)], name="gpt-4o-mini")
    with LATM(user=user, cache=demo_cache, sandbox=process_sandbox) as latm:
        sol = latm.solve_plan("Please sort: " + SORTING[0].question)
    assert sol.answer == SORTING[0].answer and sol.plans == 2 and user.calls == 2
    assert "no tool named 'sort_everything'" in user.requests[1][-1]["content"]
    never = ScriptedModel([json.dumps(bad), json.dumps(bad)], name="gpt-4o-mini")
    with LATM(user=never, cache=demo_cache, sandbox=process_sandbox) as latm:
        failed = latm.solve_plan("Please sort: " + SORTING[0].question)
    assert failed.mode == "failed" and never.calls == 2 and "sort_everything" in (failed.error or "")


def test_plans_in_the_text_form_and_the_checks_before_anything_runs(demo_cache: ToolCache) -> None:
    exposed = expose(demo_cache)
    name = names(demo_cache)["word_sorting"]
    plan = parse_plan(f'1. {name}({{"question": "Sort the following words alphabetically: List: b a"}})\nanswer: $1')
    check_plan(plan, exposed)
    assert plan.calls[0].tool == name and plan.answer == "$1"
    cycle = [{"tool": name, "arguments": {"question": "$2"}}, {"tool": name, "arguments": {"question": "$1"}}]
    for text, says in (
        (json.dumps({"calls": cycle}), "only an earlier call"),
        (f'{{"calls": [{{"tool": "{name}", "arguments": {{"words": 3, "nope": 1}}}}]}}', "takes no argument"),
        (f'{{"calls": [{{"tool": "{name}", "arguments": {{"question": "x"}}}}], "answer": "$4"}}', "no call"),
        ("I would sort them.", "no calls found"),
    ):
        with pytest.raises(PlanError, match=says):
            check_plan(parse_plan(text), exposed)


def test_independent_calls_run_side_by_side(demo_cache: ToolCache) -> None:
    from latm.use.exposure import CallResult
    from latm.use.plans import run_plan

    exposed = expose(demo_cache)
    name = names(demo_cache)["word_sorting"]
    plan = parse_plan(json.dumps({"calls": [{"tool": name, "arguments": {"question": f"q{i}"}} for i in range(4)]}))

    def slow(_: object, arguments: dict[str, object]) -> CallResult:
        time.sleep(0.3)
        return CallResult(ok=True, answer=str(arguments["question"]))

    started = time.monotonic()
    _, answer = run_plan(plan, exposed, slow, workers=4)
    assert time.monotonic() - started < 0.9 and answer == "q0 q1 q2 q3"  # four calls of 0.3 s in about 0.3 s
    started = time.monotonic()
    run_plan(plan, exposed, slow, workers=2)
    assert time.monotonic() - started >= 0.6  # never more in flight than the workers


def test_a_dollar_amount_the_question_holds_is_text_not_a_reference(
    demo_cache: ToolCache, process_sandbox: Sandbox
) -> None:
    name = names(demo_cache)["word_sorting"]
    first = "Sort the following words alphabetically: List: pear apple"
    plan = {
        "calls": [
            {"tool": name, "arguments": {"question": first}},
            {"tool": name, "arguments": {"question": "Sort the following words alphabetically: List: fig kiwi"}},
        ],
        "answer": "$1; $2 (each costs $3)",
    }
    user = ScriptedModel([json.dumps(plan)], name="gpt-4o-mini")
    with LATM(user=user, cache=demo_cache, sandbox=process_sandbox) as latm:
        sol = latm.solve_plan("Each fruit costs $3. Sort pear apple, and sort fig kiwi.")
    assert sol.answer == "apple pear; fig kiwi (each costs $3)", sol.error  # $3 is the price, not a call
