"""The search strategy for weak makers: the framework's template and parser, sampled candidates
verified together, then the same judge as any tool."""

import re

import pytest

from latm.judge.cases import run_direct
from latm.maker import ToolMaker
from latm.maker.search.templates import View, discover, parser_code, views_for
from latm.testing import ScriptedModel
from sandbox import Sandbox
from tasks import Example, get_task

WORDS = get_task("word_sorting")
SHOWN = WORDS.generate(6, seed=31)
RIGHT = "```python\ndef f(x):\n    return ' '.join(sorted(x))\n```"
WRONG = "The rule: reverse them.\n```python\ndef f(x):\n    return ' '.join(sorted(x, reverse=True))\n```"


def test_the_template_is_found_and_its_parser_refuses_other_questions(sb: Sandbox) -> None:
    template = discover([e.question for e in SHOWN])
    assert template is not None and template.prefix == "Sort the following words alphabetically: List: "
    assert template.suffix == "" and not template.options
    code = parser_code(template, View("words")) + "\n\ndef probe(q):\n    return parse_question(q)\n"
    ok = sb.call(code, "probe", ["Sort the following words alphabetically: List: pear fig"])
    assert ok.value == {"x": ["pear", "fig"]}
    refused = sb.call(code, "probe", ["Complete the rest of the sequence: Input: ( ["])
    assert not refused.ok and refused.error is not None and refused.error.type == "ValueError"
    tracking = discover([e.question for e in get_task("tracking_shuffled_objects_five_objects").generate(4)])
    assert tracking is not None and tracking.options


def search_maker(sb: Sandbox, replies: list[str], **kw: object) -> ToolMaker:
    return ToolMaker(ScriptedModel(replies, name="qwen-1.5b"), sb, strategy="search", samples=3, **kw)  # type: ignore[arg-type]


def test_the_right_candidate_among_samples_becomes_a_tool_judged_on_unseen_questions(sb: Sandbox) -> None:
    maker = search_maker(sb, [WRONG, "no code at all", RIGHT])
    result = maker.make("word_sorting", SHOWN[:3], SHOWN[3:])
    assert result.tool is not None, result.reason
    tool = result.tool
    assert tool.provenance.strategy == "search" and tool.direct and "parse_question" in tool.code
    held = tool.verification.held_out
    assert held is not None and held.ok and held.total == 300 and held.judged_by == "direct solver"
    assert [u.answer for u in tool.use_cases] == [e.answer for e in SHOWN[3:]]
    search = next(a for a in result.attempts if a.step == "search")
    assert search.observations[0]["scores"] == [0, 6]  # the two candidates with code, scored in one round
    assert maker.model.temperatures[:3] == [0.0, 0.8, 0.8]  # type: ignore[attr-defined]


def test_a_candidate_that_memorised_the_shown_examples_is_refused(sb: Sandbox) -> None:
    table = {" ".join(e.question.split("List: ")[1].split())[::-1]: e.answer[::-1] for e in SHOWN}
    lookup = f"```python\ndef f(x):\n    table = {table!r}\n    return table[' '.join(x)[::-1]][::-1]\n```"
    result = search_maker(sb, [lookup, WRONG, WRONG]).make("word_sorting", SHOWN[:3], SHOWN[3:])
    assert result.tool is None and "held_out" in (result.reason or "")  # a wrong rule: no other view is asked


def test_the_prompt_shows_three_examples_and_a_candidate_is_scored_on_every_shown_one(sb: Sandbox) -> None:
    asked: list[str] = []
    seen = {" ".join(e.question.split("List: ")[1].split()): e.answer for e in SHOWN[:3]}
    copier = f"```python\ndef f(x):\n    return {seen!r}.get(' '.join(x), 'unknown')\n```"

    def model(messages: list[dict[str, str]]) -> str:
        asked.append(messages[-1]["content"])
        return copier if len(asked) == 1 else RIGHT

    maker = ToolMaker(ScriptedModel(model, name="qwen-1.5b"), sb, strategy="search", samples=3)
    result = maker.make("word_sorting", SHOWN[:3], SHOWN[3:])
    assert all(e.question in asked[0] for e in SHOWN[:3]) and not any(e.question in asked[0] for e in SHOWN[3:])
    search = next(a for a in result.attempts if a.step == "search")
    assert search.observations[0]["scores"] == [3, 6, 6]  # the copier is right only on what it was shown
    assert result.tool is not None and "get(" not in result.tool.code


def test_auto_searches_when_the_papers_protocol_fails_within_one_budget(sb: Sandbox) -> None:
    stub = "```python\ndef sort_words(text):\n    pass\n```"

    def weak(messages: list[dict[str, str]]) -> str:
        asked = messages[-1]["content"]
        return RIGHT if asked.startswith("Each question below") else stub

    model = ScriptedModel(weak, name="qwen-1.5b")
    result = ToolMaker(model, sb, strategy="auto", max_attempts=2).make("word_sorting", SHOWN[:3], SHOWN[3:])
    assert result.tool is not None and result.tool.provenance.strategy == "search"
    assert [a.step for a in result.attempts][:3] == ["propose", "propose", "search"]
    assert result.tool.provenance.tokens_in == result.usage.prompt_tokens  # both strategies' tokens, one record


def test_auto_searches_first_for_a_users_own_task_and_then_tries_the_papers_protocol(sb: Sandbox) -> None:
    """A task LATM does not ship, whose questions share a template: the search's strict reader parses
    it, so the search comes first; the paper's protocol gets what the search left."""
    stub = "```python\ndef sort_words(text):\n    pass\n```"
    asked: list[str] = []

    def weak(messages: list[dict[str, str]]) -> str:
        asked.append(messages[-1]["content"])
        return RIGHT if asked[-1].startswith("Each question below") else stub

    result = ToolMaker(ScriptedModel(weak, name="qwen-1.5b"), sb, strategy="auto").make(
        "my_sorting", SHOWN[:3], SHOWN[3:]
    )
    assert result.tool is not None and result.tool.provenance.strategy == "search"
    steps = [a.step for a in result.attempts]
    assert steps[0] == "search" and "propose" not in steps
    assert all(a.startswith("Each question below") for a in asked)  # the paper's protocol was never asked

    def no_code_for_the_search(messages: list[dict[str, str]]) -> str:
        return "I cannot." if messages[-1]["content"].startswith("Each question below") else stub

    result = ToolMaker(ScriptedModel(no_code_for_the_search, name="qwen-1.5b"), sb, max_attempts=2).make(
        "my_sorting", SHOWN[:3], SHOWN[3:]
    )
    assert result.tool is None
    assert [a.step for a in result.attempts][:3] == ["search", "propose", "propose"]
    assert (result.reason or "").startswith("search: ") and "; then propose failed" in (result.reason or "")

    def wrong_for_the_search(messages: list[dict[str, str]]) -> str:  # candidates, all wrong: a search that spends
        return WRONG if "`def f(" in messages[-1]["content"] else stub

    maker = ToolMaker(ScriptedModel(wrong_for_the_search, name="qwen-1.5b"), sb, max_attempts=1, token_budget=6000)
    result = maker.make("my_sorting", SHOWN[:3], SHOWN[3:])
    search = next(a for a in result.attempts if a.step == "search")
    assert search.observations[-1]["tokens"] < 2 / 3 * 6000 + 700  # a third of the budget is left ...
    assert [a.step for a in result.attempts][-1] == "propose"  # ... for the paper's protocol


def test_auto_runs_the_papers_protocol_first_for_a_users_task_with_no_form(sb: Sandbox) -> None:
    """Questions that share no fixed words (only their "?") give no strict reader: the paper's protocol first."""
    free = [
        Example(question="Ann has 3 apples and eats one. How many are left?", answer="2"),
        Example(question="What is the sum of 4 and 9?", answer="13"),
        Example(question="Tom walks 2 miles a day; how far does he walk in 5 days?", answer="10"),
        Example(question="Double 21?", answer="42"),
    ]
    stub = "```python\ndef solve_it(text):\n    pass\n```"
    result = ToolMaker(ScriptedModel([stub] * 40, name="qwen-1.5b"), sb, max_attempts=1, token_budget=3000).make(
        "word_problems", free[:2], free[2:]
    )
    assert [a.step for a in result.attempts][:2] == ["propose", "search"]
    assert discover(["((7 + 19) * 3) =", "(4 - 2) =", "9 * 9 ="]).has_form  # a fixed symbol is a form


def test_the_search_stops_at_its_token_budget(sb: Sandbox) -> None:
    result = search_maker(sb, [WRONG] * 40, token_budget=1500).make("word_sorting", SHOWN[:3], SHOWN[3:])
    assert result.tool is None and result.usage.tokens < 1500 + 700  # one reply past the line at most
    assert "no candidate answered every shown example" in (result.reason or "")


TRACKING = get_task("tracking_shuffled_objects_five_objects")
TRACKING_SHOWN = TRACKING.generate(6, seed=3)
SWAPPER = """The rule: apply the swaps in order to who holds what, then read what the asked person holds.
```python
def f(table, pairs, asked, options):
    holding = dict(table)
    for a, b in pairs:
        holding[a], holding[b] = holding[b], holding[a]
    return holding[asked]
```"""


def test_repeated_forms_reach_the_model_as_a_table_and_pairs_and_the_tool_reads_new_questions(sb: Sandbox) -> None:
    questions = [e.question for e in TRACKING_SHOWN[:3]]
    template = discover(questions)
    assert template is not None
    records_view = views_for(template, questions, hold_form_words=False)[0]  # as for a built-in task
    assert records_view.kind == "records"
    fresh = TRACKING.generate(1, seed=77)[0].question  # the framework's reading of an unseen question
    args = records_view.args(template, fresh)
    assert sorted(args) == ["asked", "options", "pairs", "table"]
    assert list(args["table"]) == ["Alice", "Bob", "Claire", "Dave", "Eve"]
    assert all(f"{a} and {b} " in fresh for a, b in args["pairs"]) and len(args["pairs"]) == 5
    assert sorted(args["table"].values()) == sorted(args["options"])
    prompts: list[str] = []

    def model(messages: list[dict[str, str]]) -> str:
        prompts.append(messages[-1]["content"])
        return SWAPPER

    result = ToolMaker(ScriptedModel(model, name="qwen-1.5b"), sb, strategy="search", samples=1).make(
        "tracking_shuffled_objects_five_objects", TRACKING_SHOWN[:3], TRACKING_SHOWN[3:]
    )
    assert result.tool is not None, result.reason
    held = result.tool.verification.held_out
    assert held is not None and held.passed == held.total == 300  # unseen questions, read by the tool's own parser
    assert "def f(table, pairs, asked, options):" in prompts[0] and "Question: " + questions[0] in prompts[0]


def test_a_users_records_hold_their_fixed_words_and_a_built_in_tasks_read_its_unseen_scenarios() -> None:
    """A user's task: a record's word that every shown record has ("buys") is the task's; a changed one
    ("sells") is another task, though the slots still read. A built-in task's generator has scenarios
    the six shown may lack ("trade positions" where they all "swap"): its reader reads them, and its tool
    is judged on 300 of them."""
    shopping = [
        "Purchases: Ann buys 3 figs at 2 coins each; Bo buys 1 kiwi at 5 coins each. What is the total?",
        "Purchases: Cy buys 2 limes at 1 coins each; Di buys 4 plums at 3 coins each. What is the total?",
    ]
    template = discover(shopping)
    assert template is not None
    records = next(v for v in views_for(template, shopping) if v.kind == "records")
    same = "Purchases: Ed buys 5 figs at 2 coins each; Flo buys 2 pears at 4 coins each. What is the total?"
    assert records.args(template, same) == {"rows": [["Ed", 5, "figs", 2], ["Flo", 2, "pears", 4]]}
    for other in ("Flo sells", "Flo never buys"):  # a changed word; a longer record
        with pytest.raises(ValueError):
            records.args(template, same.replace("Flo buys", other))
    for seed in (0, 2):
        shown = [e.question for e in TRACKING.generate(6, seed=seed)]
        template = discover(shown)
        assert template is not None
        view = next(v for v in views_for(template, shown, hold_form_words=False) if v.kind == "records")
        for example in TRACKING.generate(300, seed=5):
            view.args(template, example.question)  # raises ValueError where it does not read


def test_a_line_ends_a_record_so_the_last_of_a_list_is_read() -> None:
    """Availability lists one per line: the last range of a line is a record, not part of a clause with
    the next line's words (where it was dropped, no function could be right); a list of two ranges is
    read as the task's records, not as one record with its label."""
    meeting = get_task("schedule_meeting")
    shown = [e.question for e in meeting.generate(6, seed=0)]
    template = discover(shown)
    assert template is not None
    view = next(v for v in views_for(template, shown, hold_form_words=False) if v.kind == "records")
    for example in meeting.generate(300, seed=5):  # one of them lists two ranges for A
        lines = example.question.split("\n")
        ranges = [line.split(": ")[1].split(", ") for line in lines[1:3]]
        args = view.args(template, example.question)
        assert [[f"{a} - {b}" for a, b in args[name]] for name in ("pairs", "pairs2")] == ranges


def test_a_candidate_failing_everywhere_on_one_exception_is_repaired_with_its_error(sb: Sandbox) -> None:
    typo = "```python\ndef f(x):\n    return ' '.join(sortd(x))\n```"
    asked: list[str] = []

    def model(messages: list[dict[str, str]]) -> str:
        asked.append(messages[-1]["content"])
        return RIGHT if asked[-1].startswith("This function is wrong") else typo

    result = ToolMaker(ScriptedModel(model, name="qwen-1.5b"), sb, strategy="search", samples=1).make(
        "word_sorting", SHOWN[:3], SHOWN[3:]
    )
    assert result.tool is not None, result.reason
    search = next(a for a in result.attempts if a.step == "search")
    assert [(o["asked"], o["scores"]) for o in search.observations] == [("fresh", [0]), ("repair", [6])]
    assert "NameError: name 'sortd' is not defined" in asked[1]


def test_records_that_happen_to_agree_on_a_part_are_still_read_by_position() -> None:
    crt = get_task("chinese_remainder_theorem")
    questions = [e.question for e in crt.generate(6, seed=5)]
    template = discover(questions)
    assert template is not None
    view = views_for(template, questions)[0]
    assert view.kind == "records"
    same = (
        "There is a box of no more than 165 lemons. If we divide them equally among 3 racoons, we have 2 left; "
        "if we divide them equally among 5 dinosaurs, we have 2 left; if we divide them equally among 11 "
        "dinosaurs, we have 2 left. How many lemons are in the box?"
    )
    args = view.args(template, same)  # the remainder is the same in every record, and two animals are
    rows = next(v for v in args.values() if isinstance(v, list))
    assert [[r for r in row if isinstance(r, int)] for row in rows] == [[3, 2], [5, 2], [11, 2]]
    assert 165 in args.values()


def test_a_candidate_whose_lambda_has_a_parameter_named_f_becomes_a_tool(sb: Sandbox) -> None:
    """The candidate is renamed into the tool's entry: a parameter `f` of its own is not the function."""
    shadowing = "```python\ndef f(x):\n    return ' '.join(sorted(x, key=lambda f: f.lower()))\n```"
    result = ToolMaker(ScriptedModel([shadowing] * 4, name="qwen-1.5b"), sb, strategy="search", samples=1).make(
        "word_sorting", SHOWN[:3], SHOWN[3:]
    )
    assert result.tool is not None, result.reason
    assert "lambda f: f.lower()" in result.tool.code
    from latm.maker.search.templates import renamed

    helper = "def f(x):\n    return x\n\ndef g(y, f=f):\n    return f(y)\n"  # the default is read outside g
    assert "def g(y, f=solve_it):\n    return f(y)" in renamed(helper, "f", "solve_it")


def test_a_function_the_judge_refuses_sends_the_search_on_to_the_next_view(sb: Sandbox) -> None:
    """The names are the same in every shown question, so the records view hands f the values alone and
    a renamed question reads the same: the near-variants refuse that tool. The numbers view holds the
    names as fixed text; its function becomes the tool."""
    names = ["Ann", "Ben", "Cal"]

    def most(values: tuple[int, ...], who: list[str] = names) -> Example:
        text = " ".join(f"{n} has {v} pears." for n, v in zip(who, values, strict=True))
        return Example(question=text + " Who has the most pears?", answer=who[values.index(max(values))])

    examples = [
        most(v) for v in [(3, 5, 2), (7, 1, 4), (6, 9, 8), (2, 4, 9), (8, 3, 1), (1, 6, 5), (4, 2, 7), (9, 5, 3)]
    ]
    examples.append(most((5, 8, 6)))

    def model(messages: list[dict[str, str]]) -> str:
        argument = re.search(r"`def f\((\w+)", messages[-1]["content"])
        name = argument.group(1) if argument else "x"
        return f"```python\ndef f({name}):\n    return ['Ann', 'Ben', 'Cal'][{name}.index(max({name}))]\n```"

    result = ToolMaker(ScriptedModel(model, name="qwen-1.5b"), sb, strategy="search", samples=1).make(
        "most_pears", examples[:3], examples[3:6], held_out=examples[6:]
    )
    assert result.tool is not None and result.tool.direct is not None, result.reason
    assert [a.number for a in result.attempts if a.step == "search"] == [1, 2]
    renamed_question = most((3, 5, 2), ["Ann", "Eve", "Cal"]).question
    assert not run_direct(sb, result.tool.code, result.tool.direct, [renamed_question])[0].ok


def test_a_rule_refused_on_a_made_question_is_not_tried_again_in_the_next_view(sb: Sandbox) -> None:
    """Sums below 100 in every example: `(a + b) % 100` is right on all of them. The synthetic check
    refuses it (876 plus 141: the maker works out 1017); the same rule written for the words view must not
    then become the tool: only a reading too loose for the task sends the search to the next view."""
    pairs = [(17, 25), (31, 42), (8, 56), (23, 19), (40, 33), (12, 7), (26, 51), (9, 38), (44, 45)]
    examples = [Example(question=f"What is {a} plus {b}?", answer=str(a + b)) for a, b in pairs]
    wrapped = {"numbers": "(x[0] + x[1]) % 100", "words": "(int(x[0]) + int(x[2])) % 100"}
    right = {"numbers": "x[0] + x[1]", "words": "int(x[0]) + int(x[2])"}
    asked: list[str] = []

    def model(messages: list[dict[str, str]]) -> str:
        prompt = messages[-1]["content"]
        if "`def f(" in prompt:
            view = "numbers" if "Call: f(x=[17" in prompt else "words"
            asked.append(view)
            body = wrapped[view] if asked.count(view) == 1 else right[view]
            return f"```python\ndef f(x):\n    return {body}\n```"
        numbers = re.findall(r"(\d+) plus (\d+)", prompt)
        return f"Answer: {int(numbers[-1][0]) + int(numbers[-1][1])}" if numbers else "I cannot."

    result = ToolMaker(ScriptedModel(model, name="qwen-1.5b"), sb, strategy="search", samples=1).make(
        "adding", examples[:3], examples[3:6], held_out=examples[6:]
    )
    assert result.tool is None and "synthetic" in (result.reason or "")
    assert "words" not in asked


def test_the_makers_worked_answer_settles_a_disagreement_whatever_its_case(sb: Sandbox) -> None:
    """The tool answers "Yes", a sloppy second opinion "No"; the maker, asked to work the question out,
    writes "yes". It sides with the tool: the tool's form is held by the examples, not by a chat reply."""
    pairs = [(17, 3), (20, 4), (23, 5), (14, 7), (31, 2), (8, 3), (29, 4), (12, 6), (11, 2)]
    examples = [Example(question=f"Is {n} divisible by {d}?", answer="Yes" if n % d == 0 else "No") for n, d in pairs]
    honest = "```python\ndef f(x):\n    return 'Yes' if x[0] % x[1] == 0 else 'No'\n```"
    sloppy = "```python\ndef f(x):\n    return 'Yes' if x[0] % x[1] == 0 and x[0] < 25 else 'No'\n```"
    candidates = iter([honest])

    def model(messages: list[dict[str, str]]) -> str:
        prompt = messages[-1]["content"]
        if "`def f(" in prompt:
            return next(candidates, sloppy)
        asked = re.findall(r"Is (\d+) divisible by (\d+)\?", prompt)
        n, d = (int(v) for v in asked[-1]) if asked else (1, 2)
        return "Answer: " + ("yes" if n % d == 0 else "no")

    result = ToolMaker(ScriptedModel(model, name="qwen-1.5b"), sb, strategy="search", samples=1).make(
        "divisible", examples[:3], examples[3:6], held_out=examples[6:]
    )
    assert result.tool is not None, result.reason
    assert "x[0] < 25" not in result.tool.code
