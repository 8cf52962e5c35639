"""The LATM facade: solve, solve_many, make on a miss, fallback, and the bill."""

import time

import pytest

from latm import LATM, NoToolForQuestion
from latm.models.demo import demo_maker, demo_user
from latm.testing import ScriptedModel
from sandbox import Sandbox
from tasks import Example, get_task
from toolcache import ToolCache


@pytest.fixture
def latm(demo_cache: ToolCache, process_sandbox: Sandbox) -> LATM:
    return LATM(maker=demo_maker(), user=demo_user(), cache=demo_cache, sandbox=process_sandbox)


def test_solve_a_known_task_directly(latm: LATM) -> None:
    ex = get_task("chinese_remainder_theorem").generate(1, seed=5)[0]
    sol = latm.solve(ex.question)
    assert sol.answer == ex.answer and sol.mode == "direct" and sol.tool == "solve_remainders"
    assert sol.tokens == 0 and sol.cost_usd == 0 and "direct solver" in sol.route
    assert latm.cache.get("chinese_remainder_theorem").usage.direct_uses == 1


def test_miss_with_examples_makes_the_tool_first(process_sandbox: Sandbox, tmp_path) -> None:  # type: ignore[no-untyped-def]
    task = get_task("schedule_meeting")
    examples, fresh = task.generate(6, seed=1), task.generate(1, seed=2)[0]
    with LATM(maker=demo_maker(), user=demo_user(), cache=ToolCache(tmp_path), sandbox=process_sandbox) as latm:
        sol = latm.solve(fresh.question, examples=examples, task="schedule_meeting")
        assert task.check(sol.answer, fresh.answer) and sol.mode == "direct"
        assert latm.usage.calls_by_role()["maker"] == 4  # made once...
        latm.solve(task.generate(1, seed=3)[0].question, examples=examples, task="schedule_meeting")
        assert latm.usage.calls_by_role()["maker"] == 4  # ...and reused


def test_miss_without_examples_falls_back_to_the_maker(latm: LATM) -> None:
    maker = ScriptedModel(["Let me think step by step... The answer is 4.\nAnswer: 4"], name="gpt-4o")
    latm.maker_model = maker
    sol = latm.solve("What is 2 + 2?")
    assert (sol.mode, sol.answer, sol.tool) == ("fallback", "4", None)
    assert sol.usage.calls_by_role()["maker"] == 1 and sol.cost_usd is not None and sol.cost_usd > 0


def test_on_miss_raise(demo_cache: ToolCache, process_sandbox: Sandbox) -> None:
    latm = LATM(maker=demo_maker(), user=demo_user(), cache=demo_cache, sandbox=process_sandbox, on_miss="raise")
    with pytest.raises(NoToolForQuestion):
        latm.solve("What is 2 + 2?")


def test_solve_many_keeps_order_and_mixes_tasks(latm: LATM) -> None:
    items = [
        (e, n)
        for n in ("word_sorting", "dyck_languages", "tracking_shuffled_objects_seven_objects")
        for e in get_task(n).generate(10, seed=9)
    ]
    items.insert(7, (None, None))
    questions = [e.question if e else "Who wrote Hamlet?" for e, _ in items]
    sols = latm.solve_many(questions)
    assert [s.question for s in sols] == questions
    for (ex, name), sol in zip(items, sols, strict=True):
        if ex is None:
            assert sol.mode == "fallback"
        else:
            assert get_task(name).check(sol.answer, ex.answer) and sol.mode == "direct"


def test_one_failing_question_never_sinks_the_batch(demo_cache: ToolCache, process_sandbox: Sandbox) -> None:
    def user(messages: list[dict[str, str]]) -> str:
        content = messages[-1]["content"]
        if "Task:" in content and "Question:" in content and "```" not in content:
            return "Task: word_sorting"
        return "```python\nans = sort_words(['b', 'a'])\n```" if "b a" in content else "```python\n1/0\n```"

    latm = LATM(maker=None, user=ScriptedModel(user, name="gpt-4o-mini"), cache=demo_cache, sandbox=process_sandbox)
    sols = latm.solve_many(["please alphabetize: b a", "please alphabetize: explode", "please alphabetize: b a"])
    assert [s.answer for s in sols] == ["a b", None, "a b"]
    assert sols[1].mode == "failed" and "ZeroDivisionError" in (sols[1].error or "")
    stats = demo_cache.get("word_sorting").usage
    assert stats.llm_uses == 3 and stats.failures == 1


def test_llm_calls_run_concurrently(demo_cache: ToolCache, process_sandbox: Sandbox) -> None:
    slow = ScriptedModel(
        lambda m: "```python\nans = sort_words(['b', 'a'])\n```" if "```" in m[-1]["content"] else "Task: word_sorting",
        name="gpt-4o-mini",
        latency_s=0.2,
    )
    latm = LATM(user=slow, cache=demo_cache, sandbox=process_sandbox)
    t0 = time.monotonic()
    sols = latm.solve_many([f"please alphabetize: b a #{i}" for i in range(16)], concurrency=16)
    elapsed = time.monotonic() - t0
    assert all(s.answer == "a b" for s in sols)
    assert elapsed < 16 * 2 * 0.2 / 3  # well under the 6.4 s it takes one after the other


def test_usage_is_split_by_role_and_model(latm: LATM) -> None:
    latm.maker_model = ScriptedModel(["Answer: 4"], name="gpt-4o")
    latm.solve("What is 2 + 2?")  # dispatcher (demo-user) + fallback (gpt-4o)
    roles = latm.usage.calls_by_role()
    assert roles == {"dispatcher": 1, "maker": 1}
    assert {line.model for line in latm.usage.lines.values()} == {"demo-user", "gpt-4o"}


def test_empty_question_is_a_user_error(latm: LATM) -> None:
    from latm import UserError

    with pytest.raises(UserError):
        latm.solve("  ")


def test_a_task_made_without_a_name_gets_the_same_name_in_every_process() -> None:
    import subprocess
    import sys

    from latm.maker.split import auto_task_name
    from tasks import Example

    examples = [Example(question="Reverse: ab", answer="ba"), Example(question="Reverse: cd", answer="dc")]
    here = auto_task_name(examples)
    code = (
        "from latm.maker.split import auto_task_name; from tasks import Example; "
        "print(auto_task_name([Example(question='Reverse: ab', answer='ba'), "
        "Example(question='Reverse: cd', answer='dc')]))"
    )
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert here == other and here.startswith("task-")


def test_a_retired_tool_made_again_answers_again_and_code_a_canary_caught_never_returns(
    process_sandbox: Sandbox, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    import re

    from latm.judge.canaries import Canaries
    from latm.models.demo import maker_reply

    examples = get_task("word_sorting").generate(6, seed=0)
    question = get_task("word_sorting").generate(1, seed=9)[0]
    with ToolCache(tmp_path) as cache, LATM(maker=demo_maker(), cache=cache, sandbox=process_sandbox) as latm:
        first = latm.make_tool("word_sorting", examples, k=3).tool
        assert first is not None
        cache.set_status(first.id, "retired")  # `latm cache rm`: made again, it answers again
        again = latm.make_tool("word_sorting", examples, k=3)
        assert again.tool is not None and again.tool.id == first.id and again.tool.status == "verified"
        assert latm.solve(question.question).answer == question.answer
        canary = Example(question=question.question, answer=question.answer)
        assert not Canaries(cache).settle(first, [canary], ["a wrong answer"])  # caught in use: quarantined
        cache.set_status(first.id, "retired")  # then removed: the catch is not forgotten
        remade = latm.make_tool("word_sorting", examples, k=3)
        assert remade.tool is None and "answered unseen questions wrongly before" in (remade.reason or "")

        def commented(messages):  # type: ignore[no-untyped-def]  # the same code with a comment added
            return re.sub(r"```python\n", "```python\n# revised\n", maker_reply(messages))

        latm.maker_model = ScriptedModel(commented, name="demo-maker")
        copy = latm.make_tool("word_sorting", examples, k=3)
        assert copy.tool is None and "answered unseen questions wrongly before" in (copy.reason or "")
        assert cache.get(first.id).status == "retired"
