"""The tool maker on the untidy replies real models give: every failure is named and repaired."""

import functools

import pytest

from latm import maker as _maker
from latm.testing import ScriptedModel
from sandbox import Sandbox
from tasks import Example, get_task
from toolcache import ToolCache

# These tests script the paper's protocol (the search strategy has tests/maker/test_search.py).
ToolMaker = functools.partial(_maker.ToolMaker, strategy="latm")

TASK = get_task("word_sorting")
EX = TASK.generate(6, seed=4)
TRAIN, VALID = EX[:3], EX[3:]

GOOD_FN = '```python\ndef sort_words(text):\n    """Sort words."""\n    return \' \'.join(sorted(text.split()))\n```'


def case_code(ex: Example) -> str:
    return (
        f"question = {ex.question!r}\nret = sort_words(question.split('List: ')[1])\nans = ret\n"
        f"assert ans == {ex.answer!r}"
    )


GOOD_TESTS = "```python\n" + "\n\n".join(case_code(ex) for ex in VALID) + "\n```"
GOOD_WRAP = (
    "Here is a function to solve a class of problems:\n"
    + GOOD_FN
    + "\n\nUse cases:\n"
    + "\n\n".join(
        f"Question: {ex.question}\nSolution:\n```python\nret = sort_words({ex.question.split('List: ')[1]!r})\n"
        "ans = ret\n```"
        for ex in VALID
    )
)
GOOD_DIRECT = (
    "```python\nimport re\n\ndef solve(question):\n    m = re.fullmatch(r'Sort the following words alphabetically: "
    "List: (.+)', question)\n    if not m:\n        raise ValueError('not mine')\n"
    "    return sort_words(m.group(1))\n```"
)


def make(sb: Sandbox, replies: list[str], **kw: object) -> tuple[object, ScriptedModel]:
    model = ScriptedModel(replies, name="gpt-4o")
    result = ToolMaker(model, sb, **kw).make("word_sorting", TRAIN, VALID)  # type: ignore[arg-type]
    return result, model


def outcomes(result: object) -> list[str]:
    return [f"{a.step}:{a.outcome}" for a in result.attempts]  # type: ignore[attr-defined]


def test_happy_path_makes_a_verified_tool_with_provenance(sb: Sandbox, tmp_path) -> None:  # type: ignore[no-untyped-def]
    cache = ToolCache(tmp_path)
    model = ScriptedModel([GOOD_FN, GOOD_TESTS, GOOD_WRAP, GOOD_DIRECT], name="gpt-4o")
    result = ToolMaker(model, sb, cache).make("word_sorting", TRAIN, VALID)
    tool = result.tool
    assert tool is not None and tool.verification.passed == tool.verification.total == 3
    assert tool.direct and len(tool.use_cases) == 3 and tool.entry.name == "sort_words"
    assert tool.provenance.maker_model == "gpt-4o" and tool.provenance.tokens_in == result.usage.prompt_tokens
    assert tool.provenance.cost_usd is not None and tool.provenance.cost_usd > 0
    assert len(tool.provenance.trace) == 4 and cache.get("word_sorting").id == tool.id
    assert result.usage.calls_by_role() == {"maker": 4}


@pytest.mark.parametrize(
    ("bad", "kind"),
    [
        ("", "empty_reply"),
        ("Sure! Sorting words is easy: just sort them alphabetically.", "no_code"),
        ("I'm sorry, but I can't help with that.", "refusal"),
        ("```python\ndef sort_words(text):\n    return ' '.join(sorted(text.sp", "truncated"),
        ("```python\ndef sort_words(text)\n    return text\n```", "syntax"),
        ("```python\ndef sort_words(text):\n    pass\n```", "stub"),
        ("```python\nimport os\ndef sort_words(text):\n    return os.getcwd()\n```", "policy"),
        ("```python\nx = 1\n```", "no_function"),
        (
            "```python\ndef sort_words(text):\n    return text\nTABLE = {'a': 1}['boom at import']\n```",
            "runtime_error",
        ),
        (
            "```python\ndef sort_words(text):\n    return text\nclass Spin:\n    while True:\n        pass\n```",
            "timeout",
        ),
    ],
)
def test_bad_proposals_get_a_precise_repair_and_then_succeed(sb: Sandbox, bad: str, kind: str) -> None:
    result, model = make(sb, [bad, GOOD_FN, GOOD_TESTS, GOOD_WRAP, GOOD_DIRECT])
    assert result.tool is not None, result.reason  # type: ignore[attr-defined]
    assert outcomes(result)[0] == f"propose:{kind}"
    repair = model.requests[1][-1]["content"]
    assert repair == result.attempts[0].feedback and len(repair) > 20  # type: ignore[attr-defined]


def test_prose_and_several_blocks_are_handled(sb: Sandbox) -> None:
    chatty = (
        "Let me think. First a helper:\n```python\ndef _split(text):\n    return text.split()\n```\n"
        "Then the main function:\n```python\ndef sort_words(text):\n    return ' '.join(sorted(_split(text)))\n"
        "```\nHope this helps!"
    )
    result, _ = make(sb, [chatty, GOOD_TESTS, GOOD_WRAP, GOOD_DIRECT])
    assert result.tool is not None and "_split" in result.tool.code  # type: ignore[attr-defined]


def test_unfenced_code_is_accepted(sb: Sandbox) -> None:
    bare = "def sort_words(text):\n    return ' '.join(sorted(text.split()))\n"
    result, _ = make(sb, [bare, GOOD_TESTS, GOOD_WRAP, GOOD_DIRECT])
    assert result.tool is not None  # type: ignore[attr-defined]


def test_wrong_function_is_repaired_from_the_failing_assertion(sb: Sandbox) -> None:
    wrong = "```python\ndef sort_words(text):\n    return ' '.join(sorted(text.split(), reverse=True))\n```"
    fix = GOOD_FN + "\n\n" + GOOD_TESTS
    result, model = make(sb, [wrong, GOOD_TESTS, fix, GOOD_WRAP, GOOD_DIRECT])
    assert result.tool is not None and "reverse" not in result.tool.code  # type: ignore[attr-defined]
    assert outcomes(result)[:3] == ["propose:ok", "verify:wrong_answers", "verify:ok"]
    feedback = model.requests[2][-1]["content"]
    assert "expected" in feedback and VALID[0].answer in feedback


def test_answers_typed_in_as_literals_are_named_and_rejected(sb: Sandbox) -> None:
    # What the 1.5B model really does: arguments by hand, then the answer typed in (and wrong).
    literal = (
        "```python\n"
        + "\n".join(f"ret = sort_words('x y')\nans = {ex.answer[::-1]!r}\nassert ans == ret" for ex in VALID)
        + "\n```"
    )
    result, model = make(sb, [GOOD_FN, literal, literal, literal])
    assert result.tool is None  # type: ignore[attr-defined]
    assert outcomes(result) == ["propose:ok"] + ["verify:typed_in_answer"] * 3
    repair = model.requests[2][-1]["content"]
    assert "typed-in literal" in repair and "test 3:" in repair and "ret" in repair
    assert "verify failed after 3 attempt(s)" in result.reason  # type: ignore[attr-defined]


def test_answers_computed_without_the_tool_are_vacuous(sb: Sandbox) -> None:
    bypass = (
        "```python\n"
        + "\n".join(
            f"q = {ex.question!r}\nans = ' '.join(sorted(q.split('List: ')[1].split()))\nassert ans == {ex.answer!r}"
            for ex in VALID
        )
        + "\n```"
    )
    result, model = make(sb, [GOOD_FN, bypass, GOOD_TESTS, GOOD_WRAP, GOOD_DIRECT])
    assert outcomes(result)[:3] == ["propose:ok", "verify:vacuous", "verify:ok"]
    assert "broken function" in model.requests[2][-1]["content"] and result.tool is not None  # type: ignore[attr-defined]


def test_the_models_own_wrong_asserts_are_not_the_judge(sb: Sandbox) -> None:
    # Tests whose asserts expect wrong answers: the function is right, the framework judges.
    lying = GOOD_TESTS.replace("assert ans ==", "assert ans != ")
    result, _ = make(sb, [GOOD_FN, lying, GOOD_WRAP, GOOD_DIRECT])
    assert result.tool is not None  # type: ignore[attr-defined]


def test_wrong_number_of_tests(sb: Sandbox) -> None:
    one = "```python\n" + case_code(VALID[0]) + "\n```"
    result, _ = make(sb, [GOOD_FN, one, GOOD_TESTS, GOOD_WRAP, GOOD_DIRECT])
    assert outcomes(result)[1] == "verify:test_count" and result.tool is not None  # type: ignore[attr-defined]


def test_vacuous_use_cases_are_rejected(sb: Sandbox) -> None:
    vacuous_wrap = GOOD_WRAP
    for ex in VALID:
        vacuous_wrap = vacuous_wrap.replace(
            f"ret = sort_words({ex.question.split('List: ')[1]!r})\nans = ret", f"ans = {ex.answer!r}"
        )
    result, _ = make(sb, [GOOD_FN, GOOD_TESTS, vacuous_wrap, GOOD_WRAP, GOOD_DIRECT])
    assert outcomes(result)[2] == "wrap:typed_in_answer" and result.tool is not None  # type: ignore[attr-defined]


def test_lookup_table_direct_solver_is_rejected_and_tool_kept_without_it(sb: Sandbox) -> None:
    table = {ex.question: ex.answer for ex in TRAIN + VALID}
    lookup = f"```python\nTABLE = {table!r}\n\ndef solve(question):\n    return TABLE[question]\n```"
    result, _ = make(sb, [GOOD_FN, GOOD_TESTS, GOOD_WRAP, lookup, lookup, lookup])
    assert result.tool is not None and result.tool.direct is None  # type: ignore[attr-defined]
    assert outcomes(result)[3:] == ["direct:vacuous"] * 3


def test_lenient_direct_solver_is_rejected(sb: Sandbox) -> None:
    lenient = "```python\ndef solve(question):\n    return sort_words(question.split(': ')[-1])\n```"
    result, model = make(sb, [GOOD_FN, GOOD_TESTS, GOOD_WRAP, lenient, GOOD_DIRECT])
    assert outcomes(result)[3] == "direct:not_strict" and result.tool.direct  # type: ignore[attr-defined]
    assert "ValueError" in model.requests[4][-1]["content"]


def test_declined_direct_solver_means_none(sb: Sandbox) -> None:
    result, _ = make(sb, [GOOD_FN, GOOD_TESTS, GOOD_WRAP, "NONE"])
    assert result.tool is not None and result.tool.direct is None  # type: ignore[attr-defined]


def test_hanging_and_memory_eating_tests_are_named(sb: Sandbox) -> None:
    hang = GOOD_TESTS.replace("ans = ret", "ans = ret\nwhile True:\n    pass", 1)
    result, model = make(sb, [GOOD_FN, hang, GOOD_TESTS, GOOD_WRAP, GOOD_DIRECT])
    assert result.tool is not None  # type: ignore[attr-defined]
    assert "longer than" in model.requests[2][-1]["content"]


def test_final_failure_returns_none_with_the_reason(sb: Sandbox) -> None:
    result, _ = make(sb, ["no code here"] * 3)
    assert result.tool is None and "propose failed after 3 attempt(s)" in result.reason  # type: ignore[attr-defined]
    assert len(result.attempts) == 3  # type: ignore[attr-defined]


def test_model_failure_is_a_reason_not_an_exception(sb: Sandbox) -> None:
    from latm.errors import ModelHTTPError

    def broken(_: object) -> str:
        raise ModelHTTPError(500, "down")

    result = ToolMaker(ScriptedModel(broken), sb).make("word_sorting", TRAIN, VALID)
    assert result.tool is None and "model call failed" in (result.reason or "")


def test_nothing_is_cached_when_making_fails(sb: Sandbox, tmp_path) -> None:  # type: ignore[no-untyped-def]
    cache = ToolCache(tmp_path)
    ToolMaker(ScriptedModel(["nothing"] * 3), sb, cache).make("word_sorting", TRAIN, VALID)
    assert len(cache) == 0


# -- shapes seen in real replies of qwen2.5-coder-1.5b (benchmarks/real_models.py) -----------------


def wrapped_tests(parse: str, copy_question: bool = True, asserts: bool = True) -> str:
    """Tests inside a test function that is then called, each with a hand-copied (truncated) question."""
    body = []
    for ex in VALID:
        if copy_question:
            body.append(f"    question = {ex.question[:50] + '...'!r}")
        body.append(f"    ret = sort_words({parse})\n    ans = ret")
        if asserts:
            body.append(f"    assert ans == {ex.answer!r}")
    return "def test_sort_words():\n" + "\n".join(body) + "\n\ntest_sort_words()\n"


def test_tests_wrapped_in_a_test_function_with_copied_questions_are_run_on_the_real_text(sb: Sandbox) -> None:
    reply = (
        "```python\n"
        + GOOD_FN.strip("`").removeprefix("python\n")
        + "\n"
        + wrapped_tests("question.split('List: ')[1]")
        + "```"
    )
    result, _ = make(sb, [GOOD_FN, reply, GOOD_WRAP, GOOD_DIRECT])
    assert result.tool is not None, result.reason  # type: ignore[attr-defined]
    assert outcomes(result)[1] == "verify:ok"
    assert "test_sort_words" not in result.tool.code  # type: ignore[attr-defined]
    calls = [e.call for e in result.tool.verification.examples]  # type: ignore[attr-defined]
    assert all("question = " not in c and "assert" not in c for c in calls)


def test_tests_without_asserts_are_split_at_each_ans(sb: Sandbox) -> None:
    reply = "```python\n" + wrapped_tests("question.split('List: ')[1]", copy_question=False, asserts=False) + "```"
    result, _ = make(sb, [GOOD_FN, reply, GOOD_WRAP, GOOD_DIRECT])
    assert outcomes(result)[1] == "verify:ok" and result.tool is not None  # type: ignore[attr-defined]


def test_wrong_parsing_is_shown_with_the_arguments_the_tool_got(sb: Sandbox) -> None:
    bad = "```python\n" + wrapped_tests("question") + "```"
    good = "```python\n" + wrapped_tests("question.split('List: ')[1]") + "```"
    result, model = make(sb, [GOOD_FN, bad, good, GOOD_WRAP, GOOD_DIRECT])
    assert outcomes(result)[1:3] == ["verify:wrong_answers", "verify:ok"]
    repair = model.requests[2][-1]["content"]
    assert "`sort_words` was called with ('Sort the following words alphabetically: List:" in repair
    assert "(extra: " in repair and "List:" in repair.split("(extra: ")[1].split(")")[0]  # words it should not have
    assert model.temperatures[:3] == [0.0, 0.0, 0.7]  # first tries greedy, the repair sampled


def test_unittest_test_cases_are_opened_up_and_pass_the_policy(sb: Sandbox) -> None:
    methods = "".join(
        f"    def test_{i}(self):\n        ret = sort_words(question.split('List: ')[1])\n        ans = ret\n"
        f"        self.assertEqual(ans, {ex.answer!r})\n\n"
        for i, ex in enumerate(VALID)
    )
    reply = (
        "```python\nimport unittest\n\nclass TestSortWords(unittest.TestCase):\n"
        + methods
        + "if __name__ == '__main__':\n    unittest.main()\n```"
    )
    result, _ = make(sb, [GOOD_FN, reply, GOOD_WRAP, GOOD_DIRECT])
    assert outcomes(result)[1] == "verify:ok" and result.tool is not None, result.reason  # type: ignore[attr-defined]


def test_example_usage_after_the_tool_is_dropped_even_when_it_does_not_parse(sb: Sandbox) -> None:
    # qwen2.5-coder-1.5b ends proposals with demos like this one (times are not Python).
    demo = GOOD_FN[:-3] + "\n# Example usage:\nslots = [08:30, 10:00]\nprint(sort_words('b a'))\n```"
    crash = GOOD_FN[:-3] + "\nprint(sort_words(None))\n```"
    for reply in (demo, crash):
        result, _ = make(sb, [reply, GOOD_TESTS, GOOD_WRAP, GOOD_DIRECT])
        assert outcomes(result)[0] == "propose:ok" and result.tool is not None  # type: ignore[attr-defined]
        assert "print" not in result.tool.code  # type: ignore[attr-defined]


def test_tests_of_the_train_questions_too_and_unparsable_asserts_are_tolerated(sb: Sandbox) -> None:
    # Seen from qwen2.5-coder-1.5b: a test for every example shown so far, and an expected
    # answer whose quote breaks the line ('... shouldn't ...'); asserts are never run anyway.
    cases = [
        f"question = {ex.question!r}\nret = sort_words(question.split('List: ')[1])\nans = ret\n"
        f"assert ans == 'it isn't {i}'"
        for i, ex in enumerate(TRAIN + VALID)
    ]
    reply = "```python\n" + "\n\n".join(cases) + "\n```"
    result, _ = make(sb, [GOOD_FN, reply, GOOD_WRAP, GOOD_DIRECT])
    assert outcomes(result)[1] == "verify:ok" and result.tool is not None, result.reason  # type: ignore[attr-defined]
    assert [e.question for e in result.tool.verification.examples] == [ex.question for ex in VALID]  # type: ignore[attr-defined]


def test_tracebacks_show_the_tools_frames_not_the_harness(sb: Sandbox) -> None:
    crashing = "```python\ndef sort_words(text):\n    return {}[text]\n```"
    result, model = make(sb, [crashing, GOOD_TESTS, GOOD_FN + "\n" + GOOD_TESTS, GOOD_WRAP, GOOD_DIRECT])
    repair = model.requests[2][-1]["content"]
    assert "KeyError" in repair and "in sort_words" in repair and "_latm_" not in repair
    assert result.tool is not None  # type: ignore[attr-defined]


def test_only_the_latest_failed_exchange_stays_in_the_conversation(sb: Sandbox) -> None:
    stubs = [f"```python\ndef sort_words(text):\n    pass  # {i}\n```" for i in range(3)]
    result, model = make(sb, [*stubs, GOOD_FN, GOOD_TESTS, GOOD_WRAP, GOOD_DIRECT], max_attempts=4)
    assert result.tool is not None  # type: ignore[attr-defined]
    fourth = model.requests[3]
    assert len(fourth) == 3 and fourth[0]["content"].startswith("Here are some examples")
    assert fourth[1]["content"] == stubs[2] and "stub" in fourth[2]["content"]
    verify = model.requests[4]  # the next step builds on the prompt and the reply that passed
    assert [m["content"] for m in verify[:2]] == [fourth[0]["content"], GOOD_FN] and len(verify) == 3


def test_a_new_round_starts_a_fresh_sampled_conversation_and_adds_up_the_cost(sb: Sandbox, tmp_path) -> None:  # type: ignore[no-untyped-def]
    stub = "```python\ndef sort_words(text):\n    pass\n```"
    cache = ToolCache(tmp_path)
    model = ScriptedModel([stub, stub, GOOD_FN, GOOD_TESTS, GOOD_WRAP, GOOD_DIRECT], name="gpt-4o")
    result = ToolMaker(model, sb, cache, max_attempts=2, rounds=2).make("word_sorting", TRAIN, VALID)
    assert result.tool is not None, result.reason
    assert [(a.round, a.step, a.outcome) for a in result.attempts][:3] == [
        (1, "propose", "stub"),
        (1, "propose", "stub"),
        (2, "propose", "ok"),
    ]
    assert len(model.requests[2]) == 1 and model.temperatures[2] == 0.7  # fresh, and sampled
    assert result.tool.provenance.tokens_in == result.usage.prompt_tokens and result.usage.calls == 6
    failed = ToolMaker(ScriptedModel([stub] * 4), sb, max_attempts=2, rounds=2).make("word_sorting", TRAIN, VALID)
    assert failed.tool is None and failed.reason.startswith("2 rounds failed; the last: propose failed")  # type: ignore[union-attr]


def test_a_use_case_with_a_syntax_error_gets_a_repair_not_a_crash(sb: Sandbox) -> None:
    broken_wrap = GOOD_WRAP.replace("ans = ret\n```", "ans = ret)\n```", 1)
    result, model = make(sb, [GOOD_FN, GOOD_TESTS, broken_wrap, GOOD_WRAP, GOOD_DIRECT])
    assert outcomes(result)[2] == "wrap:syntax" and result.tool is not None  # type: ignore[attr-defined]
    assert "syntax error" in model.requests[3][-1]["content"]
