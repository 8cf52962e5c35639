"""The judge: honest strong-model tools in the shapes real strong models write are admitted,
and every form of cheat is refused.

The strong-model replies below are written in the shapes GPT-4-class makers really use (all
tests in one numbered test function that calls itself, arguments typed in by hand, an option's
1-based position, a tuple for a time range, a list of words, an ``# Example usage:`` tail, the
proposal sent twice). The cheats play a gamed model.
"""

import functools
from collections.abc import Callable

import pytest

from latm import maker as _maker
from latm.judge.rendering import RenderingError, infer_rendering, render
from latm.maker import MakeResult
from latm.testing import ScriptedModel
from latm.use.tool_user import ToolUser
from sandbox import Sandbox
from tasks import Example, get_task
from tasks import schedule_meeting as schedule_module
from tasks import tracking_shuffled_objects as tracking_module
from toolcache import Rendering, Tool

# These tests script the paper's protocol (the search strategy has tests/maker/test_search.py).
ToolMaker = functools.partial(_maker.ToolMaker, strategy="latm")

WORDS = get_task("word_sorting")
MCQ = "Who is it?\nOptions:\n(A) red ball\n(B) blue ball\n(C) green ball"


def block(code: str) -> str:
    return f"```python\n{code.strip()}\n```"


def numbered_tests(fn_name: str, bodies: list[str]) -> str:
    """All tests in one test function, variables numbered per question, called at the end."""
    lines = [f"def test_{fn_name}():"]
    for body in bodies:
        lines += ["    " + line for line in body.splitlines()]
    return "\n".join([*lines, "", f"test_{fn_name}()"])


def wrap_reply(code: str, examples: list[Example], use_case: Callable[[Example], str]) -> str:
    cases = "\n\n".join(f"Question: {ex.question}\nSolution:\n{block(use_case(ex))}" for ex in examples)
    return f"Here is a function to solve a class of problems:\n{block(code)}\n\nUse cases:\n{cases}"


def use_case_user(tool: Tool) -> ScriptedModel:
    """A cheap model that writes, for a question, the call code of the matching use case."""
    calls = {u.question: u.call for u in tool.use_cases}

    def reply(messages: list[dict[str, str]]) -> str:
        question = messages[-1]["content"].rsplit("Question: ", 1)[1].removesuffix("\nSolution:")
        return block(calls[question])

    return ScriptedModel(reply, name="gpt-4o-mini")


def use_cases_answered_exactly(sb: Sandbox, tool: Tool) -> None:
    user = ToolUser(use_case_user(tool), sb)
    for u in tool.use_cases:
        answer = user.use(tool.model_copy(update={"direct": None}), u.question)
        assert (answer.mode, answer.value) == ("llm", u.answer), answer.error


# -- word sorting: a list of words, numbered tests, an example-usage tail ------------------------

SORT_FN = '''def sort_words(words):
    """Sorts a list of words alphabetically."""
    return sorted(words)

# Example usage:
words = ["syndrome", "therefrom"]
print(sort_words(words))
'''
SORT_DIRECT = """def solve(question):
    prefix = "Sort the following words alphabetically: List:"
    if not question.startswith(prefix):
        raise ValueError("not a word-sorting question")
    return sort_words(question[len(prefix):].split())
"""


def words_of(ex: Example) -> list[str]:
    return ex.question.split("List: ")[1].split()


def word_sorting_replies(train: list[Example], valid: list[Example]) -> list[str]:
    tests = numbered_tests(
        "sort_words",
        [
            f"words{i} = {words_of(ex)!r}\nret{i} = sort_words(words{i})\nans{i} = ret{i}\n"
            f"assert ans{i} == {ex.answer.split()!r}"
            for i, ex in enumerate(valid, 1)
        ],
    )
    use = wrap_reply(SORT_FN, valid, lambda ex: f"words = {words_of(ex)!r}\nret = sort_words(words)\nans = ret")
    return ["Here is a generic function:\n\n" + block(SORT_FN), block(tests), use, block(SORT_DIRECT)]


# -- tracking shuffled objects: the option's 1-based position --------------------------------------

TRACK_FN = '''def track_swaps(initial, swaps):
    """Applies the swaps to who-holds-what and returns the final assignment."""
    current = dict(initial)
    for a, b in swaps:
        current[a], current[b] = current[b], current[a]
    return current
'''
TRACK_DIRECT = (
    tracking_module.PARSER
    + """

def solve(question):
    args = parse(question)
    final = track_swaps(args["assignments"], args["swaps"])
    return args["options"][final[args["person"]]]
"""
)


def tracking_replies(task: str, train: list[Example], valid: list[Example]) -> list[str]:
    ref = get_task(task).reference

    def body(ex: Example, n: str) -> str:
        args = ref.parse(ex.question)
        swaps = [tuple(s) for s in args["swaps"]]
        return (
            f"initial{n} = {args['assignments']!r}\nswaps{n} = {swaps!r}\n"
            f"ret{n} = track_swaps(initial{n}, swaps{n})\noptions{n} = {list(args['options'])!r}\n"
            f"ans{n} = options{n}.index(ret{n}[{args['person']!r}]) + 1"
        )

    tests = numbered_tests(
        "track_swaps",
        [
            body(ex, str(i)) + f"\nassert ans{i} == {'ABCDEFG'.index(ex.answer[1]) + 1}  # {ex.answer}"
            for i, ex in enumerate(valid, 1)
        ],
    )
    use = wrap_reply(TRACK_FN, valid, lambda ex: body(ex, ""))
    return [block(TRACK_FN), block(tests), use, block(TRACK_DIRECT)]


# -- schedule meeting: a tuple for a time range, the proposal sent twice ---------------------------

SCHEDULE_FN = '''def find_meeting_slot(a_slots, b_slots, duration_hours):
    """The earliest common slot of the given length, as a (start, end) pair of HH:MM strings."""
    def to_minutes(t):
        h, m = t.split(":")
        return int(h) * 60 + int(m)

    def to_clock(m):
        return f"{m // 60:02d}:{m % 60:02d}"

    need = int(round(duration_hours * 60))
    best = None
    for a_start, a_end in a_slots:
        for b_start, b_end in b_slots:
            start = max(to_minutes(a_start), to_minutes(b_start))
            end = min(to_minutes(a_end), to_minutes(b_end))
            if end - start >= need and (best is None or start < best):
                best = start
    if best is None:
        return "No time slot works."
    return (to_clock(best), to_clock(best + need))
'''
SCHEDULE_DIRECT = (
    schedule_module.PARSER
    + """

def solve(question):
    args = parse(question)
    return find_meeting_slot(args["a_slots"], args["b_slots"], args["hours"])
"""
)


def schedule_replies(train: list[Example], valid: list[Example]) -> list[str]:
    ref = get_task("schedule_meeting").reference

    def body(ex: Example, n: str) -> str:
        args = ref.parse(ex.question)
        a, b = [tuple(s) for s in args["a_slots"]], [tuple(s) for s in args["b_slots"]]
        return f"a{n} = {a!r}\nb{n} = {b!r}\nret{n} = find_meeting_slot(a{n}, b{n}, {args['hours']!r})\nans{n} = ret{n}"

    def expected(answer: str) -> str:
        return repr(tuple(answer.split(" - "))) if " - " in answer else repr(answer)

    tests = numbered_tests(
        "find_meeting_slot",
        [body(ex, str(i)) + f"\nassert ans{i} == {expected(ex.answer)}" for i, ex in enumerate(valid, 1)],
    )
    twice = f"Here is the function:\n{block(SCHEDULE_FN)}\n\nAgain, the complete function:\n{block(SCHEDULE_FN)}"
    use = wrap_reply(SCHEDULE_FN, valid, lambda ex: body(ex, ""))
    return [twice, block(tests), use, block(SCHEDULE_DIRECT)]


def with_slots(examples: list[Example], k: int) -> list[Example]:
    """Examples whose answers show both shapes (a time range and 'No time slot works.')."""
    slots = [e for e in examples if " - " in e.answer]
    none = [e for e in examples if " - " not in e.answer]
    return (slots[: 2 * k - 1] + none[:1])[: 2 * k] if none else slots[: 2 * k]


STRONG = {
    "word_sorting": (lambda tr, va: word_sorting_replies(tr, va), None),
    "tracking_shuffled_objects_five_objects": (
        lambda tr, va: tracking_replies("tracking_shuffled_objects_five_objects", tr, va),
        None,
    ),
    "tracking_shuffled_objects_seven_objects": (
        lambda tr, va: tracking_replies("tracking_shuffled_objects_seven_objects", tr, va),
        None,
    ),
    "schedule_meeting": (lambda tr, va: schedule_replies(tr, va), with_slots),
}


def make_strong(sb: Sandbox, task: str) -> tuple[MakeResult, ScriptedModel]:
    replies_for, pick = STRONG[task]
    examples = get_task(task).generate(30, seed=11)
    examples = pick(examples, 3) if pick else examples[:6]
    train, valid = examples[:3], examples[3:6]
    model = ScriptedModel(replies_for(train, valid), name="gpt-4")
    return ToolMaker(model, sb).make(task, train, valid), model


@pytest.mark.parametrize("task", list(STRONG))
def test_strong_model_shapes_become_verified_tools_judged_on_unseen_questions(sb: Sandbox, task: str) -> None:
    result, model = make_strong(sb, task)
    assert result.tool is not None, (result.reason, result.failures())
    assert result.failures() == [] and model.calls == 4  # right the first time: nothing to repair
    tool = result.tool
    held = tool.verification.held_out
    assert held is not None and held.ok and held.source == "generated" and held.judged_by == "direct solver"
    assert tool.verification.trust == "held_out" and held.total == 300  # a direct solver: 300 free questions
    evidence = tool.verification.evidence
    assert evidence.held_out == 300 and evidence.wrong == 0 and evidence.orders == 2 and evidence.batch_limit == 300
    assert tool.error_bound is not None and tool.error_bound <= 0.01
    assert "print(" not in tool.code  # the example-usage tail is not part of the tool
    use_cases_answered_exactly(sb, tool)


def test_each_shape_learns_its_one_rendering(sb: Sandbox) -> None:
    learned = {task: make_strong(sb, task)[0].tool.rendering for task in STRONG}  # type: ignore[union-attr]
    assert learned["word_sorting"].sep == " "
    assert learned["tracking_shuffled_objects_five_objects"].base == 1
    assert learned["schedule_meeting"].sep == " - "


# -- renderings --------------------------------------------------------------------------------


def test_a_rendering_is_one_rule_for_every_question_never_tried_per_question() -> None:
    exact: Callable[[object, str], bool] = lambda a, b: a == b  # noqa: E731
    # Two values are 1-based positions and one is 0-based: one rule fits two, the third is wrong.
    rendering = infer_rendering([3, 1, 1], [MCQ] * 3, ["(C)", "(A)", "(B)"], exact)
    assert rendering.base == 1
    assert [render(v, MCQ, rendering) for v in (3, 1, 1)] == ["(C)", "(A)", "(A)"]


def test_an_unsettled_rendering_is_refused_with_a_message_that_says_so() -> None:
    with pytest.raises(RenderingError, match="ambiguous rendering"):
        render(2, MCQ, Rendering())
    with pytest.raises(RenderingError, match="out of range"):
        render(7, MCQ, Rendering(base=1))
    assert render(2, MCQ, Rendering(base=0)) == "(C)" and render("blue ball", MCQ) == "(B)"


# -- cheats ------------------------------------------------------------------------------------

TRAIN, VALID = WORDS.generate(6, seed=4)[:3], WORDS.generate(6, seed=4)[3:]
GOOD_FN = block("def sort_words(text):\n    return ' '.join(sorted(text.split()))")
PARSED = "ret = sort_words(question.split('List: ')[1])"
GOOD_TESTS = block("\n\n".join(f"{PARSED}\nans = ret\nassert ans == {ex.answer!r}" for ex in VALID))
GOOD_WRAP = wrap_reply(
    "def sort_words(text):\n    return ' '.join(sorted(text.split()))", VALID, lambda ex: f"{PARSED}\nans = ret"
)
GOOD_DIRECT = block(
    "def solve(question):\n    prefix = 'Sort the following words alphabetically: List: '\n"
    "    if not question.startswith(prefix):\n        raise ValueError('not mine')\n"
    "    return sort_words(question[len(prefix):])"
)


def make(sb: Sandbox, replies: list[str], **kw: object) -> MakeResult:
    return ToolMaker(ScriptedModel(replies, name="gpt-4o"), sb, **kw).make("word_sorting", TRAIN, VALID)  # type: ignore[arg-type]


def steps(result: MakeResult) -> list[str]:
    return [f"{a.step}:{a.outcome}" for a in result.attempts]


def typed_tests(answer_lines: Callable[[Example], str]) -> str:
    return block("\n\n".join(f"{PARSED}\n{answer_lines(ex)}\nassert ans == {ex.answer!r}" for ex in VALID))


@pytest.mark.parametrize(
    "cheat",
    [
        lambda ex: f"ans = str({ex.answer!r})",  # ret thrown away, the answer typed in through a call
        lambda ex: f"ans = {ex.answer!r}\nans = ans",  # through an alias
        lambda ex: f"ans = ''.join([{ex.answer!r}])",  # through a join of literals
        lambda ex: f'ans = f"{{{ex.answer!r}}}"',  # through an f-string
        lambda ex: f"ans = ret if ret == {ex.answer!r} else {ex.answer!r}",  # a fallback to the literal
        lambda ex: f"ans = ret if ret.replace(' ', '').isalpha() else {ex.answer!r}",  # the sentinel detected
        lambda ex: f"ans = {ex.answer!r} if isinstance(ret, str) else ret",  # the literal for a real value
    ],
)
def test_tests_that_type_the_answer_in_are_refused(sb: Sandbox, cheat: Callable[[Example], str]) -> None:
    cheating = typed_tests(cheat)
    result = make(sb, [GOOD_FN, cheating, cheating, cheating])
    assert result.tool is None
    refused = set(steps(result)[1:])
    assert len(steps(result)) == 4 and refused <= {"verify:vacuous", "verify:typed_in_answer"}, refused


def test_tests_that_catch_a_broken_tool_and_type_the_answer_in_are_refused(sb: Sandbox) -> None:
    cheating = block(
        "\n\n".join(
            f"try:\n    {PARSED}\n    ans = ret\nexcept Exception:\n    ans = {a!r}\nassert ans == {a!r}"
            for a in (ex.answer for ex in VALID)
        )
    )
    result = make(sb, [GOOD_FN, cheating, cheating, cheating])
    assert result.tool is None and steps(result)[1:] == ["verify:vacuous"] * 3


def test_use_cases_that_type_the_answer_in_are_refused(sb: Sandbox) -> None:
    for cheat in ("ans = str({a!r})", "ans = {a!r}\nans = ans"):
        wrap = wrap_reply(
            "def sort_words(text):\n    return ' '.join(sorted(text.split()))",
            VALID,
            lambda ex, c=cheat: f"{PARSED}\n" + c.format(a=ex.answer),  # type: ignore[misc]
        )
        result = make(sb, [GOOD_FN, GOOD_TESTS, wrap, wrap, wrap])
        assert result.tool is None and steps(result)[2:] == ["wrap:vacuous"] * 3


def test_an_obfuscated_lookup_table_sent_as_the_fix_is_refused_on_unseen_questions(sb: Sandbox) -> None:
    # The "fixed" function of the verify reply is a table of the shown questions' answers (stored
    # reversed, so no answer appears as a literal); the direct solver calls it.
    table = {ex.question.split("List: ")[1][::-1]: ex.answer[::-1] for ex in TRAIN + VALID}
    lookup = f"def sort_words(text):\n    table = {table!r}\n    return table[text[::-1]][::-1]"
    verify = block(lookup) + "\n\n" + GOOD_TESTS
    wrap = wrap_reply(lookup, VALID, lambda ex: f"{PARSED}\nans = ret")
    direct = GOOD_DIRECT
    result = make(sb, [GOOD_FN, verify, wrap, direct, direct, direct])
    assert result.tool is None
    assert steps(result)[3:] == ["direct:held_out"]  # the verdict is final: no redraw can admit it
    assert "held_out" in (result.reason or "") and "wrongly" in (result.reason or "")


def test_a_plain_lookup_table_is_named_as_carrying_the_shown_answers_where_nothing_unseen_judges_it(
    sb: Sandbox,
) -> None:
    table = {ex.question.split("List: ")[1]: ex.answer for ex in TRAIN + VALID}
    lookup = block(f"TABLE = {table!r}\n\ndef sort_words(text):\n    return TABLE[text]")
    model = ScriptedModel([lookup, lookup, lookup], name="gpt-4o")
    result = ToolMaker(model, sb).make("my_sorting", TRAIN, VALID)  # a user's task, no example kept back
    assert result.tool is None and steps(result) == ["propose:carried_answers"] * 3
    assert "carries the examples it was shown" in result.attempts[0].feedback


def test_a_plain_lookup_table_fails_the_unseen_questions_where_they_judge_it(sb: Sandbox) -> None:
    table = {ex.question.split("List: ")[1]: ex.answer for ex in TRAIN + VALID}
    fn = f"TABLE = {table!r}\n\ndef sort_words(text):\n    return TABLE[text]"
    wrap = wrap_reply(fn, VALID, lambda ex: f"{PARSED}\nans = ret")
    result = make(sb, [block(fn), GOOD_TESTS, wrap, GOOD_DIRECT, GOOD_DIRECT, GOOD_DIRECT])
    assert result.tool is None and "direct:held_out" in steps(result)


def test_a_keyword_branch_for_the_shown_questions_is_refused_on_unseen_questions(sb: Sandbox) -> None:
    # Right on every shown question, wrong on any other: each branch keys on one shown word.
    branches = "".join(
        f"    if {ex.question.split('List: ')[1].split()[0]!r} in words:\n        return ' '.join(sorted(words))\n"
        for ex in TRAIN + VALID
    )
    fn = f"def sort_words(text):\n    words = text.split()\n{branches}    return ' '.join(words)"
    wrap = wrap_reply(fn, VALID, lambda ex: f"{PARSED}\nans = ret")
    result = make(sb, [block(fn), GOOD_TESTS, wrap, GOOD_DIRECT, GOOD_DIRECT, GOOD_DIRECT])
    assert result.tool is None and steps(result)[3:] == ["direct:held_out"]  # final: not redrawn


def test_a_direct_solver_that_answers_another_tasks_questions_is_refused(sb: Sandbox) -> None:
    greedy = block("def solve(question):\n    return sort_words(question.split(':')[-1])")
    result = make(sb, [GOOD_FN, GOOD_TESTS, GOOD_WRAP, greedy, GOOD_DIRECT])
    assert steps(result)[3:] == ["direct:not_strict", "direct:ok"]
    assert result.tool is not None and result.tool.direct == GOOD_DIRECT.strip("`").removeprefix("python\n").strip()
    feedback = result.attempts[3].feedback
    assert "another kind" in feedback and "ValueError" in feedback


def test_a_direct_solver_that_catches_the_tools_failure_and_answers_anyway_is_refused(sb: Sandbox) -> None:
    table = {ex.question: ex.answer[::-1] for ex in TRAIN + VALID}
    sneaky = block(
        f"T = {table!r}\n\ndef solve(question):\n    try:\n        sort_words('probe')\n    except Exception:\n"
        "        pass\n    return T[question][::-1]"
    )
    result = make(sb, [GOOD_FN, GOOD_TESTS, GOOD_WRAP, sneaky, sneaky, sneaky])
    assert steps(result)[3:] == ["direct:vacuous"] * 3
    assert result.tool is not None and result.tool.direct is None  # the tool stands, without the solver


# -- a user's task: examples kept back ----------------------------------------------------------


REVERSE_WORDS = ["planet", "orchid", "lantern", "meadow", "cobalt", "harbor", "violet", "summit", "quartz"]


def user_task_examples(n: int) -> list[Example]:
    """A task LATM does not know (no generator): reversing a word."""
    return [Example(question=f"Reverse the letters: {w}", answer=w[::-1]) for w in REVERSE_WORDS[:n]]


REVERSE_FN = block("def reverse_letters(word):\n    return word[::-1]")
REVERSE_CALL = "ret = reverse_letters(question.split(': ')[1])\nans = ret"


def reverse_replies(fn: str, valid: list[Example]) -> list[str]:
    tests = block("\n\n".join(f"{REVERSE_CALL}\nassert ans == {ex.answer!r}" for ex in valid))
    wrap = wrap_reply(fn.strip("`").removeprefix("python\n"), valid, lambda ex: REVERSE_CALL)
    return [fn, tests, wrap, "NONE"]


def reverse_user() -> ScriptedModel:
    """A cheap model: it classifies every question as the reversing task and writes its call."""

    def reply(messages: list[dict[str, str]]) -> str:
        asked = messages[-1]["content"]
        return "Task: reverse_letters" if asked.rstrip().endswith("Task:") else block(REVERSE_CALL)

    return ScriptedModel(reply, name="gpt-4o-mini")


def test_a_users_task_is_judged_on_kept_back_examples_by_the_user_model(sb: Sandbox) -> None:
    ex = user_task_examples(9)
    user = reverse_user()
    maker = ToolMaker(ScriptedModel(reverse_replies(REVERSE_FN, ex[3:6]), name="gpt-4o"), sb, user_model=user)
    result = maker.make("reverse_letters", ex[:3], ex[3:6], held_out=ex[6:])
    assert result.tool is not None, result.reason
    held = result.tool.verification.held_out
    assert held is not None and (held.passed, held.total, held.source) == (3, 3, "kept back")
    assert held.judged_by == "user model gpt-4o-mini" and user.calls == 3
    assert result.usage.calls_by_role() == {"maker": 4, "user": 3}  # the judging counts as making cost
    # Never shown to the maker:
    shown = "\n".join(m["content"] for r in maker.model.requests for m in r)  # type: ignore[attr-defined]
    assert all(e.question not in shown for e in ex[6:])


def test_a_users_task_tool_that_fails_kept_back_examples_is_refused(sb: Sandbox) -> None:
    ex = user_task_examples(9)
    codes = {tuple(map(ord, e.question.split(": ")[1])): tuple(map(ord, e.answer)) for e in ex[:6]}
    memorised = block(
        f"def reverse_letters(word):\n    table = {codes!r}\n    return ''.join(map(chr, table[tuple(map(ord, word))]))"
    )
    maker = ToolMaker(ScriptedModel(reverse_replies(memorised, ex[3:6]), name="gpt-4o"), sb, user_model=reverse_user())
    result = maker.make("reverse_letters", ex[:3], ex[3:6], held_out=ex[6:])
    assert result.tool is None and "held_out failed" in (result.reason or "")
    assert "0/3 held-out questions right (user model gpt-4o-mini)" in (result.reason or "")


def test_without_kept_back_examples_a_users_tool_is_verified_on_shown_examples_only(sb: Sandbox) -> None:
    ex = user_task_examples(6)
    maker = ToolMaker(ScriptedModel(reverse_replies(REVERSE_FN, ex[3:6]), name="gpt-4o"), sb, user_model=reverse_user())
    result = maker.make("reverse_letters", ex[:3], ex[3:6])
    assert result.tool is not None and result.tool.verification.trust == "shown_only"


@pytest.mark.parametrize(
    "call",
    [
        "ret1 = sort_words(question.split('List: ')[1])\nans1 = ret1",  # numbered, as in the tests
        "sort_words(question.split('List: ')[1])",  # a last expression
        "print(sort_words(question.split('List: ')[1]))",
    ],
)
def test_the_tool_users_call_may_end_in_ans1_or_a_last_expression(sb: Sandbox, call: str) -> None:
    tool = make(sb, [GOOD_FN, GOOD_TESTS, GOOD_WRAP, "NONE"]).tool
    assert tool is not None
    user = ToolUser(ScriptedModel([block(call)], name="gpt-4o-mini"), sb)
    answer = user.use(tool, VALID[0].question)
    assert (answer.mode, answer.value) == ("llm", VALID[0].answer), answer.error


def test_only_tools_judged_on_unseen_questions_answer_unless_the_user_allows_shown_only(sb: Sandbox, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from latm import LATM
    from toolcache import ToolCache

    ex = user_task_examples(6)
    cache = ToolCache(tmp_path)
    maker = ToolMaker(ScriptedModel(reverse_replies(REVERSE_FN, ex[3:6]), name="gpt-4o"), sb, cache)
    assert maker.make("reverse_letters", ex[:3], ex[3:6]).tool.verification.trust == "shown_only"  # type: ignore[union-attr]
    question = "Reverse the letters: walnut"
    with LATM(user=reverse_user(), cache=cache, sandbox=sb) as strict:
        assert strict.solve(question).answer is None  # no routable tool: not even asked
    with LATM(user=reverse_user(), cache=cache, sandbox=sb, allow_shown_only=True) as lenient:
        assert lenient.solve(question).answer == "tunlaw"


# -- found by review: each was admitted before its fix ------------------------------------------


def test_no_unseen_question_leaks_through_a_repair_message(sb: Sandbox) -> None:
    # A solver that raises with the question in its message (dressed as our own wording) on
    # every question it does not know: the repair message says how many failed and how, in
    # fixed words, and never what the kept-back questions were.
    ex = user_task_examples(9)
    known = [e.question[::-1] for e in ex[:6]]
    leaky = block(
        f"KNOWN = {known!r}\n\ndef solve(question):\n    if question[::-1] not in KNOWN:\n"
        "        raise ValueError('ambiguous rendering <<' + question + '>>')\n"
        "    return reverse_letters(question.split(': ')[1])"
    )
    model = ScriptedModel([*reverse_replies(REVERSE_FN, ex[3:6])[:3], leaky, leaky, leaky], name="gpt-4o")
    result = ToolMaker(model, sb).make("reverse_letters", ex[:3], ex[3:6], held_out=ex[6:])
    assert steps(result)[3:] == ["direct:held_out"] * 3
    said = "\n".join(m["content"] for r in model.requests for m in r)
    assert all(e.question.split(": ")[1] not in said for e in ex[6:])
    assert "raised ValueError (did not recognise the question): 3" in result.attempts[3].feedback


def test_a_solver_that_does_the_work_around_a_function_that_does_nothing_is_refused(sb: Sandbox) -> None:
    # The function is a table of the shown questions that returns anything else unchanged; the
    # solver sorts what it gets back, so it is right on any question while the function is not.
    table = {ex.question.split("List: ")[1][::-1]: ex.answer[::-1] for ex in TRAIN + VALID}
    fn = f"def sort_words(text):\n    table = {table!r}\n    return table.get(text[::-1], text[::-1])[::-1]"
    solver = block(
        "def solve(question):\n    prefix = 'Sort the following words alphabetically: List: '\n"
        "    if not question.startswith(prefix):\n        raise ValueError('not mine')\n"
        "    return ' '.join(sorted(sort_words(question[len(prefix):]).split()))"
    )
    wrap = wrap_reply(fn, VALID, lambda ex: f"{PARSED}\nans = ret")
    result = make(sb, [block(fn), GOOD_TESTS, wrap, solver, solver, solver])
    assert steps(result)[3:] == ["direct:vacuous"] * 3
    assert result.tool is not None and result.tool.direct is None  # no solver: never routed by one


def test_a_solver_cannot_pass_strictness_by_memorising_the_probes_it_was_shown(sb: Sandbox) -> None:
    import ast
    import re

    shown_probes: list[str] = []

    def captor(messages: list[dict[str, str]]) -> str:
        asked = messages[-1]["content"]
        if asked.startswith("Here are some examples"):
            return GOOD_FN
        if asked.startswith("Here are more examples"):
            return GOOD_TESTS
        if asked.startswith("Success!"):
            return GOOD_WRAP
        found = re.findall(r"\(dyck_languages\): ('.*'|\".*\")$", asked, re.M)
        shown_probes.extend(ast.literal_eval(q) for q in found)
        return block(
            f"SKIP = {shown_probes!r}\n\ndef solve(question):\n    if question[:160] in SKIP:\n"
            "        raise ValueError('not mine')\n    if 'closed properly' in question:\n        return ']'\n"
            "    prefix = 'Sort the following words alphabetically: List: '\n"
            "    if not question.startswith(prefix):\n        raise ValueError('not mine')\n"
            "    return sort_words(question[len(prefix):])"
        )

    result = ToolMaker(ScriptedModel(captor, name="gpt-4o"), sb).make("word_sorting", TRAIN, VALID)
    assert steps(result)[3:] == ["direct:not_strict"] * 3 and shown_probes
    assert result.tool is not None and result.tool.direct is None


def test_tests_that_assert_the_call_itself_with_one_import_at_the_top_are_judged(sb: Sandbox) -> None:
    # Another strong-model shape: no variables at all, one assert per question in a row, and
    # what they need imported once at the top of the test function.
    train, valid = WORDS.generate(6, seed=4)[:3], WORDS.generate(6, seed=4)[3:]
    lines = ["import re"] + [
        f"assert sort_words(re.split(r'\\s+', {' '.join(words_of(ex))!r})) == {ex.answer.split()!r}" for ex in valid
    ]
    tests = numbered_tests("sort_words", ["\n".join(lines)])
    replies = word_sorting_replies(train, valid)
    replies[1] = block(tests)
    result = ToolMaker(ScriptedModel(replies, name="gpt-4"), sb).make("word_sorting", train, valid)
    assert result.tool is not None and result.failures() == [], result.failures()
    assert [e.passed for e in result.tool.verification.examples] == [True] * 3
