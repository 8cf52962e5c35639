"""Certified tools: each way a wrong tool got in is refused or caught, and honest shapes are admitted.

The makers here are scripted (the replies a gamed or sloppy model would send); the judge is the real
one, on the real sandbox (process backend).
"""

import re
from pathlib import Path

import pytest

from latm import LATM
from latm.judge.cases import run_direct
from latm.maker import MakeResult, ToolMaker
from latm.testing import ScriptedModel
from sandbox import Sandbox
from tasks import Example, get_task
from tasks.word_sorting import WORDS
from toolcache import Entry, Evidence, HeldOut, Tool, ToolCache, UseCase, Verification, VerificationExample

from .test_judge import GOOD_DIRECT, GOOD_TESTS, PARSED, TRAIN, VALID, block, steps, wrap_reply

SORTING = get_task("word_sorting")


def make_with(sb: Sandbox, fn: str, direct: str = GOOD_DIRECT, cache: ToolCache | None = None) -> MakeResult:
    """A making whose replies propose ``fn``, test it, wrap it, and offer ``direct`` three times."""
    wrap = wrap_reply(fn, VALID, lambda ex: f"{PARSED}\nans = ret")
    replies = [block(fn), GOOD_TESTS, wrap, direct, direct, direct]
    maker = ToolMaker(ScriptedModel(replies, name="gpt-4o"), sb, cache, strategy="latm")
    return maker.make("word_sorting", TRAIN, VALID)


def test_a_tool_wrong_on_about_2_percent_of_questions_is_refused(sb: Sandbox) -> None:
    # Sorting on the first three letters only: right unless two words share them (rare in real lists,
    # common among the judge's edge questions).
    fn = "def sort_words(text):\n    return ' '.join(sorted(text.split(), key=lambda w: w[:3]))"
    result = make_with(sb, fn)
    assert result.tool is None
    assert steps(result)[3:] == ["direct:held_out"]  # refused once, and never judged again in this making
    assert "wrongly" in (result.reason or "")


def test_a_solver_right_only_on_the_generators_words_is_refused(sb: Sandbox) -> None:
    rank = {w: i for i, w in enumerate(sorted(WORDS))}
    key = "key=lambda w: RANK.get(w, 0)"
    fn = f"RANK = {rank!r}\n\ndef sort_words(text):\n    return ' '.join(sorted(text.split(), {key}))"
    result = make_with(sb, fn)
    assert result.tool is None and "direct:held_out" in steps(result)


def test_a_solver_that_goes_wrong_after_its_40th_call_is_refused(sb: Sandbox) -> None:
    count = (
        "CALLS = [0]\n\n"
        "def sort_words(text):\n    CALLS[0] += 1\n    words = sorted(text.split())\n"
        "    return ' '.join(reversed(words) if CALLS[0] > 40 else words)"
    )
    result = make_with(sb, count)
    assert result.tool is None and "direct:held_out" in steps(result)


def test_a_tool_that_reads_the_clock_is_refused_by_the_policy(sb: Sandbox) -> None:
    clock = (
        "import datetime\n\ndef sort_words(text):\n"
        "    words = sorted(text.split())\n"
        "    return ' '.join(words if datetime.datetime.now().year < 3000 else words[::-1])"
    )
    maker = ToolMaker(ScriptedModel([block(clock)] * 3, name="gpt-4o"), sb, strategy="latm")
    result = maker.make("word_sorting", TRAIN, VALID)
    assert result.tool is None and steps(result) == ["propose:policy"] * 3
    assert "reads the clock" in result.attempts[0].feedback


def test_a_lookup_function_behind_a_solver_that_answers_by_itself_is_refused(sb: Sandbox) -> None:
    # The function knows only the shown questions; the solver calls it as a gate (it fails with the
    # function broken, so the mutations see a solver that needs it) and computes the answer itself.
    table = {ex.question.split("List: ")[1]: ex.answer for ex in TRAIN + VALID}
    lookup = f"TABLE = {table!r}\n\ndef sort_words(text):\n    return TABLE.get(text, 'unknown')"
    gated = block(
        "def solve(question):\n"
        "    prefix = 'Sort the following words alphabetically: List: '\n"
        "    if not question.startswith(prefix):\n        raise ValueError('not mine')\n"
        "    rest = question[len(prefix):]\n"
        "    gate = sort_words(rest)\n"
        "    if not isinstance(gate, str) or gate == rest or gate.startswith('latm-'):\n"
        "        raise ValueError('the tool is broken')\n"
        "    return ' '.join(sorted(rest.split()))"
    )
    result = make_with(sb, lookup, gated)
    assert result.tool is None
    # its function returning another question's (plausible) result, the solver still answers every
    # question rightly: it does not use the function (the replay mutation)
    assert steps(result)[3:] == ["direct:vacuous"] * 3
    assert "literals of the shown examples" in (result.reason or "")  # and nothing unseen judged the function


def test_an_honest_solver_with_an_example_usage_tail_is_admitted_without_the_tail(sb: Sandbox) -> None:
    fn = "def sort_words(text):\n    return ' '.join(sorted(text.split()))"
    tailed = block(
        GOOD_DIRECT.strip("`").removeprefix("python\n").strip()
        + f"\n\n# Example usage:\nprint(solve({TRAIN[0].question!r}))\n"
    )
    result = make_with(sb, fn, tailed)
    assert result.tool is not None and result.tool.direct is not None, result.reason
    assert "print(" not in result.tool.direct and "Example usage" not in result.tool.direct
    assert result.tool.verification.held_out is not None and result.tool.verification.held_out.total == 300
    assert result.tool.verification.evidence.functions_checked == 300  # the function alone, on the solver's arguments


def test_answer_like_constants_are_admitted_where_unseen_questions_judge_the_tool(sb: Sandbox) -> None:
    # Yes/No, day names: constants that happen to be answers of a shown example are not a refusal.
    task = get_task("word_sorting")
    shown = [ex for ex in task.generate(40, seed=8) if len(ex.answer.split()) >= 2][:6]
    constants = sorted({ex.answer for ex in shown[3:6]})
    fn = (
        f"KNOWN_PHRASES = {constants!r}  # e.g. day names or Yes/No in another task\n\n"
        "def sort_words(text):\n    return ' '.join(sorted(text.split()))"
    )
    tests = block("\n\n".join(f"{PARSED}\nans = ret\nassert ans == {ex.answer!r}" for ex in shown[3:]))
    wrap = wrap_reply(fn, shown[3:], lambda ex: f"{PARSED}\nans = ret")
    model = ScriptedModel([block(fn), tests, wrap, GOOD_DIRECT], name="gpt-4o")
    result = ToolMaker(model, sb, strategy="latm").make("word_sorting", shown[:3], shown[3:])
    assert result.tool is not None, result.reason
    assert any("literals of the shown examples" in note for note in result.tool.verification.notes)


def test_a_canary_catches_a_tool_that_answers_wrongly_in_use_and_no_row_is_lost(
    tmp_path: Path, process_sandbox: Sandbox
) -> None:
    # A tool recorded as verified that answers wrongly in use (admitted elsewhere, say): every batch
    # carries canaries, a failed one quarantines it at once, and none of that batch's answers is used.
    reference = SORTING.reference
    code = "def sort_words(words):\n    return ' '.join(sorted(words, reverse=True))"  # wrong on every list
    forged = Tool(
        name="sort_words",
        task="word_sorting",
        entry=Entry(name="sort_words", signature="sort_words(words)"),
        code=code,
        direct=reference.direct,
        use_cases=[
            UseCase(question=ex.question, call=reference.call_for(ex.question), answer=ex.answer) for ex in VALID
        ],
        verification=Verification(
            passed=3,
            total=3,
            held_out=HeldOut(passed=300, total=300, source="generated", judged_by="direct solver"),
            evidence=Evidence(held_out=300, batch_limit=300),
        ),
    )
    examples = SORTING.generate(200, seed=21)
    with ToolCache(tmp_path / "tools") as cache:
        tool = cache.put(forged)
        with LATM(cache=cache, sandbox=process_sandbox) as latm:
            solutions = latm.solve_many([ex.question for ex in examples])
            stored = cache.get(tool.id)
            summary = latm.canaries.summary()
    assert len(solutions) == len(examples)  # every question has its row
    assert stored.status == "quarantined" and stored.quarantine is not None
    assert "canary failed" in stored.quarantine.reason and stored.usage.canaries_failed >= 1
    assert "quarantined" in summary
    wrong = [s for s, ex in zip(solutions, examples, strict=True) if s.ok and not SORTING.check(s.answer, ex.answer)]
    assert wrong == []  # no silent wrong answer: the batch went to the fallback (none here: failed rows)


def test_the_frameworks_parser_refuses_a_changed_word_between_numbers() -> None:
    from latm.maker.search.templates import discover, parser_code, views_for

    shown = [f"What is {a} plus {b}?" for a, b in [(3, 4), (10, 2), (7, 7), (1, 9), (22, 5), (6, 0)]]
    template = discover(shown)
    assert template is not None
    numbers = next(v for v in views_for(template, shown) if v.kind == "numbers")
    namespace: dict[str, object] = {}
    exec(parser_code(template, numbers), namespace)
    parse = namespace["parse_question"]
    assert parse("What is 12 plus 5?") == {"x": [12, 5]}  # type: ignore[operator]
    for other in ("What is 6 times 7?", "What is 6 plus 7", "What is 6 minus 7?"):
        with pytest.raises(ValueError):
            parse(other)  # type: ignore[operator]
        with pytest.raises(ValueError):
            numbers.args(template, other)


def test_a_loose_solver_made_before_another_task_is_quarantined_when_that_task_arrives(
    tmp_path: Path, process_sandbox: Sandbox
) -> None:
    def tool(task: str, code: str, direct: str, cases: list[tuple[str, str]]) -> Tool:
        return Tool(
            name="f",
            task=task,
            entry=Entry(name="f", signature="f(numbers)"),
            code=code,
            direct=direct,
            use_cases=[UseCase(question=q, call=f"ans = f({q!r})", answer=a) for q, a in cases],
            verification=Verification(
                passed=1,
                total=1,
                held_out=HeldOut(passed=3, total=3, source="kept back", judged_by="direct solver"),
                evidence=Evidence(held_out=3),
            ),
        )

    adder = tool(  # takes any question with numbers in it
        "adding",
        "import re\n\ndef f(numbers):\n    return sum(numbers)",
        "import re\n\ndef solve(question):\n    return str(f([int(n) for n in re.findall(r'\\d+', question)]))",
        [("Add 2 and 3.", "5")],
    )
    multiplier = tool(
        "multiplying",
        "def f(numbers):\n    return numbers[0] * numbers[1]",
        "def solve(question):\n    raise ValueError('no direct solver here')",
        [("Multiply 6 by 7.", "42"), ("Multiply 2 by 9.", "18")],
    )
    with ToolCache(tmp_path / "tools") as cache:
        cache.put(adder)
        cache.put(multiplier)
        from latm.judge import reprobe

        quarantined = reprobe(cache, cache.get(multiplier.id), process_sandbox)
        assert [t.task for t, _ in quarantined] == ["adding"]
        stored = cache.get(adder.id)
        assert stored.status == "quarantined" and stored.quarantine is not None
        assert "multiplying" in stored.quarantine.reason and "made after it" in stored.quarantine.reason
        assert cache.get(multiplier.id).status == "verified"


def test_clock_randomness_and_hash_are_refused_through_aliases_too() -> None:
    from sandbox import policy

    cheats = [
        "import datetime\nCLOCK = datetime.datetime\n\ndef f(w):\n    return w if CLOCK.now().year < 2027 else w[::-1]",
        "import random\nRNG = random\n\ndef f(w):\n    return w if RNG.random() > 1e-4 else w[::-1]",
        "import datetime\n\ndef f(w, d=datetime.date):\n    return w if d.today().year < 2027 else w[::-1]",
        "import random\nR = random.Random(None)\n\ndef f(w):\n    return R.sample(w, len(w))",
        "import random\nR = random.Random(seed=None)\n\ndef f(w):\n    return R.sample(w, len(w))",
        "def f(w):\n    return w if hash('latm') % 2 else w[::-1]",
    ]
    for code in cheats:
        assert policy.check(code), code
    assert policy.check("import random\nR = random.Random(7)\n\ndef f(w):\n    return R.sample(w, len(w))") == []


def test_a_refused_function_sent_again_with_a_dead_constant_is_not_judged_again(sb: Sandbox) -> None:
    fn = "def sort_words(text):\n    return ' '.join(sorted(text.split(), key=lambda w: w[:3]))"
    again = "REVISION = 2\n\n" + fn.replace("def sort_words(text):", 'def sort_words(text):\n    """Fixed."""')
    wrap = wrap_reply(fn, VALID, lambda ex: f"{PARSED}\nans = ret")
    wrap_again = wrap_reply(again, VALID, lambda ex: f"{PARSED}\nans = ret")
    first = [block(fn), GOOD_TESTS, wrap, GOOD_DIRECT, GOOD_DIRECT]  # the second direct attempt stops at once
    replies = [*first, block(again), GOOD_TESTS, wrap_again, GOOD_DIRECT]
    maker = ToolMaker(ScriptedModel(replies, name="gpt-4o"), sb, strategy="latm", rounds=2)
    result = maker.make("word_sorting", TRAIN, VALID)
    assert result.tool is None
    assert steps(result).count("direct:held_out") == 1  # judged once; the resent copy was not drawn for again


def test_constants_a_tool_builds_with_a_call_stay_and_a_demo_tail_goes() -> None:
    from latm import replies

    code = (
        "import re\n\nWORD = re.compile(r'\\S+')\nDAYS = 'Monday Tuesday Wednesday'.split()\n\n"
        "def day_after(day):\n    return DAYS[(DAYS.index(WORD.findall(day)[0]) + 1) % len(DAYS)]\n\n"
        "result = day_after('Monday')\nprint(result)\n"
    )
    kept = replies.library_part(code)
    assert "WORD = re.compile" in kept and "DAYS = 'Monday" in kept
    assert "print(" not in kept and "result =" not in kept


def test_a_refusal_is_remembered_by_the_cache_for_later_makings(sb: Sandbox, tmp_path: Path) -> None:
    fn = "def sort_words(text):\n    return ' '.join(sorted(text.split(), key=lambda w: w[:3]))"
    with ToolCache(tmp_path / "tools") as cache:
        first = make_with(sb, fn, cache=cache)
        assert first.tool is None and steps(first)[3:] == ["direct:held_out"]
        assert cache.refusals("word_sorting")  # the digests of the function and its solver, with why
        later = make_with(sb, "REVISION = 7\n\n" + fn, cache=cache)  # another making, the same function
        assert later.tool is None and "direct:held_out" not in steps(later)
        assert "before" in (later.reason or "")


ADDING = [(3, 4), (10, 2), (7, 7), (1, 9), (12, 5), (6, 0), (8, 8), (2, 11), (5, 13)]


def adding_examples() -> list:
    from tasks import Example

    return [Example(question=f"What is {a} plus {b}?", answer=str(a + b)) for a, b in ADDING]


def adding_model(candidates: list[str]) -> ScriptedModel:
    """A weak maker for the user's task "adding": the search asks for f; a chain-of-thought question
    (settling a disagreement) gets the sum worked out."""
    replies = iter(candidates)

    def reply(messages: list[dict[str, str]]) -> str:
        content = messages[-1]["content"]
        if "Think step by step" in content:
            a, b = (int(n) for n in re.findall(r"\d+", content.split("Question:")[-1])[:2])
            return f"{a} plus {b} is {a + b}.\nAnswer: {a + b}"
        return next(replies, "no more")

    return ScriptedModel(reply, name="qwen-1.5b")


def test_synthetic_questions_back_a_users_tool_and_a_disagreement_is_settled_against_a_wrong_one(
    sb: Sandbox,
) -> None:
    examples = adding_examples()
    right = "```python\ndef f(x):\n    return x[0] + x[1]\n```"
    small_only = "```python\ndef f(x):\n    return x[0] + x[1] if x[0] < 20 else x[0]\n```"  # right on every shown one
    made = ToolMaker(adding_model([right, small_only]), sb, strategy="search", samples=2).make(
        "adding", examples[:3], examples[3:6], held_out=examples[6:]
    )
    assert made.tool is not None, made.reason
    evidence = made.tool.verification.evidence
    assert evidence.synthetic_agreed > 0 and evidence.held_out == 3  # shown beside the bound, not in it
    refused = ToolMaker(adding_model([small_only, right]), sb, strategy="search", samples=2).make(
        "adding", examples[:3], examples[3:6], held_out=examples[6:]
    )
    assert refused.tool is None and "synthetic" in (refused.reason or "") and "worked out" in (refused.reason or "")


def test_a_renamed_copy_of_refused_code_meets_the_questions_it_failed(sb: Sandbox, tmp_path: Path) -> None:
    # The digest only knows exact code; the questions the refused code got wrong are remembered and
    # asked of every later candidate for the task, so renaming its variables wins no new draw.
    fn = "def sort_words(text):\n    return ' '.join(sorted(text.split(), key=lambda w: w[:3]))"
    renamed_direct = GOOD_DIRECT.replace("prefix", "head")
    with ToolCache(tmp_path / "tools") as cache:
        assert make_with(sb, fn, cache=cache).tool is None
        assert cache.hard_questions("word_sorting")
        later = make_with(sb, fn.replace("text", "words_text"), renamed_direct, cache=cache)
        assert later.tool is None and "direct:held_out" in steps(later)
        attempt = next(a for a in later.attempts if a.step == "direct")
        held = next(o["held_out"] for o in attempt.observations if isinstance(o, dict) and "held_out" in o)
        assert held["passed"] < held["total"]
        from latm.judge import checker_for
        from latm.maker.making_record import Session

        maker = ToolMaker(ScriptedModel([], name="gpt-4o"), sb, cache, strategy="latm")
        session = Session(task="word_sorting", train=TRAIN, valid=VALID, check=checker_for("word_sorting"))
        drawn = maker._held_out_set(session, 30)
        assert drawn.kinds.get("remembered", 0) == 10  # a third of the draw: the questions refused code failed
        assert [e.question for e in drawn.examples[:10]] == [q for q, _ in cache.hard_questions("word_sorting")][:10]


def test_a_function_never_judged_alone_is_not_called_by_the_cheap_model(sb: Sandbox) -> None:
    from latm import ToolUser

    reference = SORTING.reference
    tool = Tool(
        name="sort_words",
        task="word_sorting",
        entry=Entry(name="sort_words", signature="sort_words(words)"),
        code=reference.code,
        direct=reference.direct,
        use_cases=[
            UseCase(question=ex.question, call=reference.call_for(ex.question), answer=ex.answer) for ex in VALID
        ],
        verification=Verification(
            passed=3,
            total=3,
            held_out=HeldOut(passed=300, total=300, source="generated", judged_by="direct solver"),
            evidence=Evidence(held_out=300, batch_limit=300, functions_checked=0),  # its function: never alone
        ),
    )
    model = ScriptedModel(["```python\nret = sort_words(['b', 'a'])\nans = ret\n```"], name="gpt-4o-mini")
    answer = ToolUser(model, sb).use(tool, "please alphabetize: b a")  # not a question its solver takes
    assert answer.value is None and answer.mode == "failed" and "never judged" in (answer.error or "")
    assert model.calls == 0
    judged = tool.model_copy(
        update={
            "verification": tool.verification.model_copy(
                update={"evidence": Evidence(held_out=300, batch_limit=300, functions_checked=300)}
            )
        }
    )
    assert (
        ToolUser(model, sb).use(judged, "please alphabetize: b a").value == "a b"
    )  # judged alone: the model may call it


REVERSED_FN = "def sort_words(text):\n    return sorted(text.split(), reverse=True)  # the caller turns it round"
REVERSED_CALL = f"{PARSED}\nans = ' '.join(reversed(ret))"
REVERSED_DIRECT = block(
    "def solve(question):\n    prefix = 'Sort the following words alphabetically: List: '\n"
    "    if not question.startswith(prefix):\n        raise ValueError('not mine')\n"
    "    return ' '.join(reversed(sort_words(question[len(prefix):])))"
)


def make_completed(sb: Sandbox, fn: str, direct: str) -> MakeResult:
    tests = block("\n\n".join(f"{REVERSED_CALL}\nassert ans == {ex.answer!r}" for ex in VALID))
    wrap = wrap_reply(fn, VALID, lambda ex: REVERSED_CALL)
    maker = ToolMaker(
        ScriptedModel([block(fn), tests, wrap, direct, direct, direct], name="gpt-4o"), sb, strategy="latm"
    )
    return maker.make("word_sorting", TRAIN, VALID)


def test_a_function_whose_value_a_use_case_completes_is_judged_through_that_call_code(sb: Sandbox) -> None:
    from latm import ToolUser
    from latm.use.exposure import Exposed, call_exposed

    result = make_completed(sb, REVERSED_FN, REVERSED_DIRECT)
    assert result.tool is not None and result.tool.direct is not None, result.reason
    evidence = result.tool.verification.evidence
    assert evidence.functions_checked == 300 and evidence.function_completed
    # in LLM mode the cheap model writes call code like the use cases; it is never offered the bare function
    model = ScriptedModel([block("ret = sort_words('b a')\nans = ' '.join(reversed(ret))")], name="gpt-4o-mini")
    answer = ToolUser(model, sb, calling="auto").use(result.tool, "please alphabetize: b a")
    assert (answer.value, answer.mode, answer.calling) == ("a b", "llm", "code")
    exposed = Exposed(
        name="sort_words",
        tool=result.tool,
        description="",
        parameters={"type": "object", "properties": {"text": {}}},
        parameters_from="use cases",
    )
    assert list(exposed.input_schema()["properties"]) == ["question"]
    by_arguments = call_exposed(sb, exposed, {"text": "b a"})
    assert not by_arguments.ok and "takes `question` only" in (by_arguments.error or "")


def test_a_lookup_function_completed_by_call_code_behind_a_solver_that_answers_by_itself_is_refused(
    sb: Sandbox,
) -> None:
    # The function knows the shown lists only (else '?'); the solver uses its value when it has one
    # (so the mutations see a solver that needs the function) and computes the answer itself otherwise.
    table = {ex.question.split("List: ")[1]: sorted(ex.answer.split(), reverse=True) for ex in TRAIN + VALID}
    lookup = f"TABLE = {table!r}\n\ndef sort_words(text):\n    return TABLE.get(text, ['?'])"
    hedged = block(
        "def solve(question):\n    prefix = 'Sort the following words alphabetically: List: '\n"
        "    if not question.startswith(prefix):\n        raise ValueError('not mine')\n"
        "    rest = question[len(prefix):]\n    got = sort_words(rest)\n"
        "    return ' '.join(sorted(rest.split())) if got == ['?'] else ' '.join(reversed(got))"
    )
    result = make_completed(sb, lookup, hedged)
    assert result.tool is None or result.tool.direct is None, "a lookup function was admitted behind its solver"
    assert "direct:held_out" in steps(result)


def test_llm_mode_canaries_quarantine_a_tool_the_cheap_model_calls_before_its_rows_are_answered(
    tmp_path: Path, process_sandbox: Sandbox
) -> None:
    # A tool judged through the user model (no direct solver) that answers wrongly in use: with LLM-mode
    # canaries (they cost user tokens, so they are asked for) its share of the batch goes to the fallback.
    code = "def sort_words(words):\n    return ' '.join(sorted(words, reverse=True))"  # wrong on every list
    forged = Tool(
        name="sort_words",
        task="word_sorting",
        entry=Entry(name="sort_words", signature="sort_words(words)"),
        code=code,
        use_cases=[
            UseCase(question=ex.question, call=SORTING.reference.call_for(ex.question), answer=ex.answer)
            for ex in VALID
        ],
        verification=Verification(
            passed=3,
            total=3,
            held_out=HeldOut(passed=10, total=10, source="generated", judged_by="user model gpt-4o-mini"),
            evidence=Evidence(held_out=10, batch_limit=1),
        ),
    )
    call = block("ret = sort_words(question.split('List: ')[1].split())\nans = ret")

    def reply(messages: list[dict[str, str]]) -> str:  # routes every question to the tool, writes its call
        return "Task: word_sorting" if "Which task does" in messages[-1]["content"] else call

    questions = [ex.question for ex in SORTING.generate(20, seed=5)]
    answered = {}
    for llm_canaries in (False, True):
        user = ScriptedModel(reply, name="gpt-4o-mini")
        with ToolCache(tmp_path / f"tools-{llm_canaries}") as cache:
            tool = cache.put(forged)
            with LATM(user=user, cache=cache, sandbox=process_sandbox, llm_canaries=llm_canaries) as latm:
                solutions = latm.solve_many(questions)
            answered[llm_canaries] = (sum(s.ok for s in solutions), user.calls, cache.get(tool.id).status)
    assert answered[False] == (20, 40, "verified")  # 20 routings and 20 calls: twenty silent wrong answers
    # 20 routings, one canary (1% of 20, at least one) answered wrongly, and then no call and no row from it
    assert answered[True] == (0, 21, "quarantined")


def test_with_one_passing_candidate_a_second_sample_answers_the_synthetic_questions(sb: Sandbox) -> None:
    examples = adding_examples()
    right = "```python\ndef f(x):\n    return x[0] + x[1]\n```"
    small_only = "```python\ndef f(x):\n    return x[0] + x[1] if x[0] < 20 else x[0]\n```"  # right on every shown one
    # samples=1: the search stops at its first passing candidate; the second opinion is sampled after
    made = ToolMaker(adding_model([right, small_only]), sb, strategy="search", samples=1).make(
        "adding", examples[:3], examples[3:6], held_out=examples[6:]
    )
    assert made.tool is not None and made.tool.verification.evidence.synthetic_agreed > 0, made.reason
    refused = ToolMaker(adding_model([small_only, right]), sb, strategy="search", samples=1).make(
        "adding", examples[:3], examples[3:6], held_out=examples[6:]
    )
    assert refused.tool is None and "worked out" in (refused.reason or "")
    alone = ToolMaker(adding_model([right]), sb, strategy="search", samples=1).make(
        "adding", examples[:3], examples[3:6], held_out=examples[6:]
    )
    assert alone.tool is not None and alone.tool.verification.evidence.synthetic_agreed == 0
    assert any("no second candidate" in note for note in alone.tool.verification.notes)


def _buying(name: str, a: int, b: int, thing: str = "apples") -> Example:
    return Example(
        question=f"{name} has {a} {thing} and buys {b} more. How many {thing} does {name} have?", answer=str(a + b)
    )


def _user_task_making(sb: Sandbox, parsed: str, solver: str, kept: list) -> MakeResult:
    train = [_buying("Tom", 3, 4), _buying("Ann", 10, 2), _buying("Bo", 7, 7)]
    valid = [_buying("Cy", 1, 9), _buying("Di", 22, 5), _buying("Ed", 6, 0)]
    fn = "def total(start, bought):\n    return start + bought"
    tests = block("\n\n".join(f"{parsed}\nans = ret\nassert ans == {e.answer}" for e in valid))
    wrap = wrap_reply(fn, valid, lambda e: f"{parsed}\nans = ret")
    model = ScriptedModel([block(fn), tests, wrap, solver, solver, solver], name="gpt-4o")
    return ToolMaker(model, sb, strategy="latm").make("buying", train, valid, kept)


FULL = r"(\w+) has (\d+) (\w+) and buys (\d+) more\. How many (\w+) does (\w+) have\?"


def test_a_solver_that_answers_a_question_with_words_added_is_not_strict(sb: Sandbox) -> None:
    # Anchored at the start only: "... How many apples does Tom have? Then double the result." would be
    # answered as if the clause were not there.
    loose = r"(\w+) has (\d+) (\w+) and buys (\d+) more"
    parsed = f"import re\nm = re.match(r'{loose}', question)\nret = total(int(m.group(2)), int(m.group(4)))"
    solver = block(
        f"import re\n\ndef solve(question):\n    m = re.match(r'{loose}', question)\n"
        "    if m is None:\n        raise ValueError('not mine')\n    return total(int(m.group(2)), int(m.group(4)))"
    )
    kept = [_buying("Flo", 12, 30), _buying("Gus", 5, 8), _buying("Hal", 40, 41)]
    result = _user_task_making(sb, parsed, solver, kept)
    assert steps(result)[3:] == ["direct:not_strict"] * 3
    assert result.tool is None or result.tool.direct is None


def test_a_word_the_shown_examples_share_by_chance_but_kept_back_ones_vary_is_not_a_fixed_word(sb: Sandbox) -> None:
    parsed = f"import re\nm = re.fullmatch(r'{FULL}', question)\nret = total(int(m.group(2)), int(m.group(4)))"
    solver = block(
        f"import re\n\ndef solve(question):\n    m = re.fullmatch(r'{FULL}', question)\n"
        "    if m is None:\n        raise ValueError('not mine')\n    return total(int(m.group(2)), int(m.group(4)))"
    )
    kept = [_buying("Flo", 12, 30), _buying("Gus", 5, 8, "pears"), _buying("Hal", 40, 41, "plums")]
    result = _user_task_making(sb, parsed, solver, kept)  # every shown example is about apples
    assert result.tool is not None and result.tool.direct is not None, steps(result)
    assert result.tool.verification.trust == "held_out"


def test_call_code_that_checks_the_function_as_a_gate_and_answers_by_itself_does_not_judge_the_function(
    sb: Sandbox,
) -> None:
    # The function echoes its input (the gate) beside a wrong list; the call code and the solver check
    # the echo and sort by themselves. The function's value does not make the answer: it is not judged.
    fn = "def sort_words(text):\n    return [text, sorted(text.split(), key=len)]"
    call = (
        "words = question.split('List: ')[1]\nret = sort_words(words)\n"
        "if not (isinstance(ret, list) and ret[0] == words):\n    raise ValueError('tool failed')\n"
        "ans = ' '.join(sorted(words.split()))"
    )
    gated = block(
        "def solve(question):\n    prefix = 'Sort the following words alphabetically: List: '\n"
        "    if not question.startswith(prefix):\n        raise ValueError('not mine')\n"
        "    rest = question[len(prefix):]\n    ret = sort_words(rest)\n"
        "    if not (isinstance(ret, list) and ret[0] == rest):\n        raise ValueError('tool failed')\n"
        "    return ' '.join(sorted(rest.split()))"
    )
    tests = block("\n\n".join(f"{call}\nassert ans == {ex.answer!r}" for ex in VALID))
    wrap = wrap_reply(fn, VALID, lambda ex: call)
    model = ScriptedModel([block(fn), tests, wrap, gated, gated, gated], name="gpt-4o")
    result = ToolMaker(model, sb, strategy="latm").make("word_sorting", TRAIN, VALID)
    assert result.tool is not None and result.tool.direct is not None, result.reason
    assert result.tool.verification.evidence.functions_checked == 0  # direct only: never called alone


def test_a_function_call_in_another_form_than_the_one_judged_is_refused(sb: Sandbox) -> None:
    from latm import ToolUser
    from latm.use.exposure import call_exposed, expose

    fn = "def sort_words(words):\n    return ' '.join(sorted(words))"
    parsed = "ret = sort_words(question.split('List: ')[1].split())"
    direct = block(
        "def solve(question):\n    prefix = 'Sort the following words alphabetically: List: '\n"
        "    if not question.startswith(prefix):\n        raise ValueError('not mine')\n"
        "    return sort_words(question[len(prefix):].split())"
    )
    tests = block("\n\n".join(f"{parsed}\nans = ret\nassert ans == {ex.answer!r}" for ex in VALID))
    wrap = wrap_reply(fn, VALID, lambda ex: f"{parsed}\nans = ret")
    result = ToolMaker(ScriptedModel([block(fn), tests, wrap, direct], name="gpt-4o"), sb, strategy="latm").make(
        "word_sorting", TRAIN, VALID
    )
    assert result.tool is not None and result.tool.verification.evidence.argument_shapes == {"words": ["array<string>"]}
    text_form = block("ans = sort_words('pear apple')")  # the text where the list was judged
    answer = ToolUser(ScriptedModel([text_form, text_form], name="gpt-4o-mini"), sb, calling="code").use(
        result.tool, "alphabetize: pear apple"
    )
    assert answer.value is None and "the form the tool was judged on" in (answer.error or "")
    with _memory_cache() as cache:
        cache.put(result.tool)
        exposed = expose(cache)[0]
        assert exposed.input_schema()["properties"]["words"] == {"type": "array", "items": {"type": "string"}}
        refused = call_exposed(sb, exposed, {"words": "pear apple"})
        assert not refused.ok and "must be array<string>" in (refused.error or "")
        assert call_exposed(sb, exposed, {"words": ["pear", "apple"]}).answer == "apple pear"


def _memory_cache() -> ToolCache:
    import tempfile

    return ToolCache(Path(tempfile.mkdtemp()) / "tools")


def _paper_adding_model(fn: str, second: str, reading: str = r"What is (\d+) plus (\d+)\?") -> ScriptedModel:
    """The paper's protocol for "adding" (function, tests, use cases, a solver that reads the question
    with ``reading``), then, asked for a function of the framework's reading, ``second``; a
    chain-of-thought question gets the sum worked out."""
    examples = adding_examples()
    parsed = (
        "import re\nm = re.fullmatch(r'What is (\\d+) plus (\\d+)\\?', question)\n"
        "ret = add(int(m.group(1)), int(m.group(2)))"
    )
    tests = block("\n\n".join(f"{parsed}\nans = ret\nassert ans == {e.answer}" for e in examples[3:6]))
    wrap = wrap_reply(fn, examples[3:6], lambda e: f"{parsed}\nans = ret")
    solver = block(
        f"import re\n\ndef solve(question):\n    m = re.fullmatch(r'{reading}', question)\n"
        "    if m is None:\n        raise ValueError('not mine')\n    return add(int(m.group(1)), int(m.group(2)))"
    )
    paper = iter([block(fn), tests, wrap, *[solver] * 3])

    def reply(messages: list[dict[str, str]]) -> str:
        content = messages[-1]["content"]
        if "Think step by step" in content:
            a, b = (int(n) for n in re.findall(r"\d+", content.split("Question:")[-1])[:2])
            return f"{a} plus {b} is {a + b}.\nAnswer: {a + b}"
        if "read by the framework into the call of `f`" in content:
            return second
        return next(paper, "no more")

    return ScriptedModel(reply, name="gpt-4o")


def test_a_users_tool_made_by_the_papers_protocol_is_checked_on_synthetic_questions_too(sb: Sandbox) -> None:
    examples = adding_examples()  # every example's first number is under 20
    right = "```python\ndef f(x):\n    return x[0] + x[1]\n```"
    small_only = "def add(a, b):\n    return a + b if a < 20 else a"
    wrong = ToolMaker(_paper_adding_model(small_only, right), sb, strategy="latm").make(
        "adding", examples[:3], examples[3:6], held_out=examples[6:]
    )
    assert wrong.tool is None and "worked out" in (wrong.reason or ""), wrong.reason
    honest = ToolMaker(_paper_adding_model("def add(a, b):\n    return a + b", right), sb, strategy="latm").make(
        "adding", examples[:3], examples[3:6], held_out=examples[6:]
    )
    assert honest.tool is not None and honest.tool.verification.evidence.synthetic_agreed > 0, honest.reason


def test_near_misses_change_symbols_inside_words_every_fixed_piece_and_add_clauses_on_both_sides() -> None:
    from latm.judge.strictness import near_misses

    preamble = "Please read this carefully and then give only the final number as your whole reply:"
    shown = [f"{preamble} Compute {a}+{b}." for a, b in ((6, 7), (12, 30), (1, 2))]
    probes = near_misses("computing", shown, seed=3)
    changed = {p.task.split("(")[-1].rstrip(")"): p.question for p in probes if "changed word" in p.task}
    assert "'+'" in changed and "6+7" not in changed["'+'"]  # the operator inside "6+7"
    for seed in range(20):  # never one of its own kind: "6-7" is still a question of computing
        plus = next(p.question for p in near_misses("computing", shown, seed=seed) if p.task.endswith("('+')"))
        assert not re.search(r"6(?:[-*/%]|\*\*|//)7", plus), plus
    assert len(changed) > 12  # every fixed piece, not the first dozen
    assert any("clause before" in p.task for p in probes) and any("clause added" in p.task for p in probes)
    ages = ["Ages: Ines: 69; Alice: 55. How old is Alice?", "Ages: Farid: 28; Bram: 22. How old is Farid?"]
    inserted = [p.question for p in near_misses("ages", ages, seed=3) if "inserted" in p.task]
    assert len(inserted) == 1 and inserted[0].startswith("Ages: Ines: 69; Alice: 55. ")  # before the last sentence
    assert inserted[0].endswith(". How old is Alice?") and inserted[0] != ages[0]
    sums = near_misses("sums", ["What is 23 plus 51?", "What is 6 plus 7?"], seed=3)
    qualified = [p.question for p in sums if "qualified" in p.task]  # a word after a number: "23 squared"
    assert len(qualified) == 1 and re.fullmatch(r"What is 23 [a-z]+ plus 51\?", qualified[0])
    lists = near_misses("sorting", ["Alphabetize: pear fig kiwi", "Alphabetize: yam lime"], seed=3)
    assert any(
        p.task.endswith("sentence added") and p.question.startswith("Alphabetize: pear fig kiwi. ") for p in lists
    )


def test_an_honest_solver_of_questions_with_any_number_of_operands_is_admitted(sb: Sandbox) -> None:
    def ex(*ns: int) -> Example:
        return Example(question="Add up: " + " plus ".join(map(str, ns)) + ".", answer=str(sum(ns)))

    train, valid, kept = (
        [ex(3, 4, 5), ex(10, 2), ex(7, 7, 1, 2)],
        [ex(1, 9), ex(22, 5, 3), ex(6, 0)],
        [ex(12, 30, 1), ex(5, 8)],
    )
    honest = r"Add up: (\d+(?: plus \d+)*)\."
    fn = "def add_up(numbers):\n    return sum(numbers)"
    numbers = "[int(n) for n in m.group(1).split(' plus ')]"
    parsed = f"import re\nm = re.fullmatch(r'{honest}', question)\nret = add_up({numbers})"
    tests = block("\n\n".join(f"{parsed}\nans = ret\nassert ans == {e.answer}" for e in valid))
    solver = block(
        f"import re\n\ndef solve(question):\n    m = re.fullmatch(r'{honest}', question)\n"
        f"    if m is None:\n        raise ValueError('not mine')\n    return add_up({numbers})"
    )
    wrap = wrap_reply(fn, valid, lambda e: f"{parsed}\nans = ret")
    model = ScriptedModel([block(fn), tests, wrap, solver, "no second opinion", "none"], name="gpt-4o")
    result = ToolMaker(model, sb, strategy="latm").make("adding_up", train, valid, kept)
    assert result.tool is not None and result.tool.direct is not None, steps(result)


def test_synthetic_questions_reach_numbers_longer_than_the_shown_ones() -> None:
    from latm.maker.search.synthetic import synthetic_questions
    from latm.maker.search.templates import discover, views_for

    shown = [e.question for e in adding_examples()[:6]]  # numbers of one and two digits
    template = discover(shown)
    assert template is not None
    view = next(v for v in views_for(template, shown) if v.kind == "numbers")
    made = synthetic_questions(template, view, shown)
    assert any(len(n) >= 3 for q in made for n in re.findall(r"\d+", q))


def test_a_made_question_both_candidates_refuse_is_not_settled() -> None:
    """A question made from the form may be no real one ("89 days after 2020-75-514"): where both refuse it
    there is nothing to settle; where only the tool refuses, there is."""
    from latm.maker.search.synthetic import agreement

    questions = ["q1", "q2", "q3", "q4"]
    agreed, differ = agreement(questions, ["1", None, None, "4"], ["1", "2", None, "5"])
    assert agreed == 1 and differ == [("q2", None, "2"), ("q4", "4", "5")]


def test_a_tool_that_refuses_just_the_questions_it_was_not_shown_is_refused(sb: Sandbox) -> None:
    """A sloppy sort (by first letter) that raises on every unshown list of shown words, which is what the
    synthetic questions are: where the second candidate answers and the maker agrees, the refusal counts."""

    def ex(words: str) -> Example:
        return Example(question="Alphabetize: " + words, answer=" ".join(sorted(words.split())))

    lists = ["kiwi date apple", "mango fig lemon banana", "cherry olive grape", "quince melon apricot"]
    lists += [
        "lime nectarine guava",
        "yam tangerine peach",
        "raisin orange date",
        "fig papaya walnut",
        "hazelnut kiwi lemon",
    ]
    examples = [ex(words) for words in lists]
    shown = [e.question.split()[1:] for e in examples[:6]]
    pool = sorted({w for words in shown for w in words})
    sloppy = (
        f"def f(x):\n    if x not in {shown!r} and all(w in {pool!r} for w in x):\n        raise ValueError('no')\n"
        "    return ' '.join(sorted(x, key=lambda w: w[0]))"
    )
    honest = "def f(x):\n    return ' '.join(sorted(x))"
    sampled: list[str] = []

    def model(messages: list[dict[str, str]]) -> str:
        prompt = messages[-1]["content"]
        if "Call:" in prompt:
            sampled.append(prompt)
            return "```python\n" + (sloppy if len(sampled) == 1 else honest) + "\n```"
        asked = re.search(r"Alphabetize: ([^\n]*)", prompt)
        return "Final answer: " + " ".join(sorted(asked.group(1).split() if asked else []))

    result = ToolMaker(ScriptedModel(model, name="qwen-1.5b"), sb, strategy="search", samples=1).make(
        "alphabetize", examples[:3], examples[3:6], held_out=examples[6:]
    )
    assert result.tool is None and "synthetic" in (result.reason or "") and "answered None" in (result.reason or "")


def test_a_tool_a_canary_quarantines_re_probes_the_solvers_it_hid(tmp_path: Path, process_sandbox: Sandbox) -> None:
    # A loose adder that takes every question with numbers was hidden behind the word-sorting... here a
    # multiplier: while both answered "Multiply 5 by 4." they disagreed (no direct answer); once a canary
    # quarantines the multiplier the adder would answer its questions alone, so it is re-probed.
    def forged(task: str, code: str, direct: str, cases: list[tuple[str, str]]) -> Tool:
        return Tool(
            name="f",
            task=task,
            entry=Entry(name="f", signature="f(numbers)"),
            code=code,
            direct=direct,
            use_cases=[UseCase(question=q, call=f"ans = f({q!r})", answer=a) for q, a in cases],
            verification=Verification(
                passed=1,
                total=1,
                held_out=HeldOut(passed=3, total=3, source="kept back", judged_by="direct solver"),
                evidence=Evidence(held_out=3),
                canary_questions=[
                    VerificationExample(question=q, expected=a, observed=a, passed=True) for q, a in cases
                ],
            ),
        )

    adder = forged(
        "adding_loosely",
        "def f(numbers):\n    return sum(numbers)",
        "import re\n\ndef solve(question):\n    return str(f([int(n) for n in re.findall(r'\\d+', question)]))",
        [("Add 2 and 3.", "5"), ("Add 4 and 4.", "8"), ("Add 1 and 6.", "7")],
    )
    multiplier = forged(  # wrong in use: it adds one (a canary catches it)
        "multiplying",
        "def f(numbers):\n    return numbers[0] * numbers[1] + 1",
        "import re\n\ndef solve(question):\n    m = re.fullmatch(r'Multiply (\\d+) by (\\d+)\\.', question)\n"
        "    if m is None:\n        raise ValueError('not mine')\n    return f([int(m.group(1)), int(m.group(2))])",
        [("Multiply 6 by 7.", "42"), ("Multiply 2 by 9.", "18"), ("Multiply 3 by 3.", "9")],
    )
    with ToolCache(tmp_path / "tools") as cache:
        loose, _ = cache.put(adder), cache.put(multiplier)
        with LATM(cache=cache, sandbox=process_sandbox) as latm:
            latm.solve_many(["Multiply 5 by 4.", "Multiply 8 by 8."])
        assert cache.get(multiplier.id).status == "quarantined"
        assert cache.get(loose.id).status == "quarantined"  # re-probed with the multiplier's questions


def _parity(n: int) -> Example:
    return Example(question=f"Is {n} an even number?\nOptions:\n- Yes\n- No", answer="Yes" if n % 2 == 0 else "No")


@pytest.mark.parametrize("picks", ["by_place", "by_text"])
def test_a_solver_that_picks_an_option_by_its_place_is_refused(sb: Sandbox, picks: str) -> None:
    """Every shown question lists Yes first, so "the first option" is right on all of them and on the
    kept-back ones; asked them with the options reordered, it is wrong."""
    examples = [_parity(n) for n in (4, 7, 10, 13, 22, 31, 8, 5, 16)]
    fn = {
        "by_place": "def is_even(n, options):\n    return options[0] if n % 2 == 0 else options[1]",
        "by_text": "def is_even(n, options):\n    return 'Yes' if n % 2 == 0 else 'No'",
    }[picks]
    reading = r"Is (\d+) an even number\?\nOptions:\n- (\w+)\n- (\w+)"
    parsed = (
        f"import re\nm = re.fullmatch(r'{reading}', question)\nret = is_even(int(m.group(1)), [m.group(2), m.group(3)])"
    )
    tests = block(
        "\n\n".join(
            f"question = {e.question!r}\n{parsed}\nans = ret\nassert ans == {e.answer!r}" for e in examples[3:6]
        )
    )
    wrap = wrap_reply(fn, examples[3:6], lambda e: f"{parsed}\nans = ret")
    solver = block(
        f"import re\n\ndef solve(question):\n    m = re.fullmatch(r'{reading}', question)\n"
        "    if m is None:\n        raise ValueError('not mine')\n"
        "    return is_even(int(m.group(1)), [m.group(2), m.group(3)])"
    )
    model = ScriptedModel([block(fn), tests, wrap, solver, solver, solver], name="gpt-4o")
    result = ToolMaker(model, sb, strategy="latm").make("parity", examples[:3], examples[3:6], examples[6:])
    if picks == "by_text":
        assert result.tool is not None and result.tool.direct is not None, result.reason
        return
    assert steps(result)[3:] == ["direct:wrong_answers"] * 3
    assert "options were put in another order" in result.attempts[3].feedback
    assert result.tool is None or result.tool.direct is None


def test_a_users_solver_by_the_papers_protocol_answers_only_questions_of_the_tasks_form(sb: Sandbox) -> None:
    """The model's parser skips the words before the numbers ("What is"): alone it would answer
    "Compute 3 plus 4?" as the task. LATM reads the form the shown questions share first, so the solver
    is strict where the model's parser is not, and keeps its direct mode."""
    examples = adding_examples()
    right = "```python\ndef f(x):\n    return x[0] + x[1]\n```"
    model = _paper_adding_model("def add(a, b):\n    return a + b", right, reading=r"\D*(\d+) plus (\d+)\?")
    result = ToolMaker(model, sb, strategy="latm").make("adding", examples[:3], examples[3:6], held_out=examples[6:])
    assert result.tool is not None and result.tool.direct is not None, result.reason
    runs = run_direct(sb, result.tool.code, result.tool.direct, ["What is 30 plus 4?", "Compute 3 plus 4?"])
    assert runs[0].ok and runs[0].value == 34
    assert not runs[1].ok and "ValueError" in (runs[1].error or "")


def test_an_answer_that_begins_with_a_letter_is_not_an_option_letter() -> None:
    """A user's task naming chords ("A minor") or animals ("a dog"): the checker compared "A major" and
    "A minor" as the option "(A)", so a wrong tool was right on every shown example."""
    from latm.judge.checking import generic_check

    assert not generic_check("A major", "A minor") and not generic_check("a dog", "a cat")
    assert generic_check("(A)", "A") and generic_check("(B) Yes", "B") and generic_check("B)", "(B)")
    assert not generic_check("q", "Q")  # a letter's case is the answer too (the uppercase of 'q')
    assert generic_check("Yes.", "Yes") and not generic_check("B", "(A)")
    assert not generic_check("small dog", "SMALL DOG")  # a task may be about case


def test_options_are_reordered_whatever_form_the_answer_names_its_option_in() -> None:
    from latm.judge.option_blocks import reordered

    question = "Which is a colour of the sky?\n(A) red\n(B) green\n(C) blue"
    for answer, moved in [("(C)", ["(A)", "(B)"]), ("c", ["a", "b"]), ("C. blue", ["A. blue", "B. blue"])]:
        assert [a for _, a in reordered(question, answer)] == moved, answer
    assert [a for _, a in reordered(question, "Blue")] == ["Blue", "Blue"]
    assert reordered(question, "A dog") == [] and reordered(question, "(A) blue") == []
