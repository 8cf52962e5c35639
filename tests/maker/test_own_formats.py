"""A user's own task in the formats real task sets use: option blocks in other styles, fixed text
that is only part of the varying text, expressions: found by rules, made into tools by the search."""

import random

from latm.maker import ToolMaker
from latm.maker.search.templates import View, discover, parser_code, views_for
from latm.testing import ScriptedModel
from sandbox import Sandbox
from tasks import Example


def parse(template_questions: list[str], question: str, view: str = "text") -> dict | None:  # type: ignore[type-arg]
    template = discover(template_questions)
    assert template is not None
    namespace: dict = {}  # type: ignore[type-arg]
    exec(parser_code(template, View(view)), namespace)
    try:
        return namespace["parse_question"](question)  # type: ignore[no-any-return]
    except ValueError:
        return None


def test_option_blocks_in_every_style_are_found_and_their_header_is_fixed() -> None:
    for lines in (["(A) up", "(B) down"], ["A. up", "B. down"], ["A) up", "B) down"], ["- up", "- down"]):
        questions = [f"Which way does {x} fall?\nOptions:\n" + "\n".join(lines) for x in ("rain", "snow", "hail")]
        template = discover(questions)
        assert template is not None and template.options is not None and template.header == "Options:", lines
        assert template.split(questions[0]) == ("rain", ["up", "down"])
        other_header = questions[0].replace("Options:", "Answer with one:")
        assert template.split(other_header) is None  # a changed fixed word is another task


def test_a_shared_beginning_that_is_part_of_a_word_stays_in_the_varying_text() -> None:
    shown = ["((3 + 4) * 2) =", "((1 - 2) * 5) =", "((7 * 7) - 1) ="]
    template = discover(shown)
    assert template is not None and template.prefix == "" and template.suffix == " ="
    assert parse(shown, "(3 + 4) * 2 =") == {"x": "(3 + 4) * 2"}  # one parenthesis: still the task
    assert parse(shown, "(3 + 4) * 2 is") is None


def yes_no(n: int) -> Example:
    return Example(question=f"Is {n} an even number?\nOptions:\n- Yes\n- No", answer="Yes" if n % 2 == 0 else "No")


def test_a_task_with_bulleted_options_becomes_a_tool_that_refuses_near_variants(sb: Sandbox) -> None:
    rng = random.Random(3)
    examples = [yes_no(rng.randint(1, 999)) for _ in range(9)]
    candidate = "```python\ndef f(x, options):\n    return options[0] if x[0] % 2 == 0 else options[1]\n```"
    maker = ToolMaker(ScriptedModel([candidate] * 4, name="qwen-1.5b"), sb, strategy="search", samples=1)
    result = maker.make("even_numbers", examples[:3], examples[3:6], held_out=examples[6:])
    assert result.tool is not None and result.tool.direct is not None, result.reason
    assert result.tool.verification.trust == "held_out"
    from latm.judge.cases import run_direct

    questions = [
        yes_no(7).question,
        "Is 7 an odd number?\nOptions:\n- Yes\n- No",  # a changed fixed word
        "Is 7 an even number?\nOptions:\n- Yes\n- No\n- Maybe",  # a third option
        "Is 7 an even number?\nChoices:\n- Yes\n- No",  # another header
    ]
    runs = run_direct(sb, result.tool.code, result.tool.direct, questions)
    assert runs[0].ok and runs[0].value == "No"
    assert [r.ok for r in runs[1:]] == [False, True, False]  # options are data: a third one is still the task


def test_every_shown_format_reads_back_with_its_views() -> None:
    shown = ["Is 4 an even number?\nOptions:\n- Yes\n- No", "Is 9 an even number?\nOptions:\n- Yes\n- No"]
    template = discover(shown)
    assert template is not None
    kinds = [v.kind for v in views_for(template, shown)]
    assert kinds[:1] == ["numbers"] and "text" in kinds
