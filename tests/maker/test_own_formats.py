"""A user's own task in the formats real task sets use: option blocks in other styles, fixed text
that is only part of the varying text, expressions: found by rules, made into tools by the search."""

import itertools
import random
import re

from latm.maker import MakeResult, ToolMaker
from latm.maker.search.templates import View, discover, parser_code, views_for
from latm.testing import ScriptedModel
from sandbox import Sandbox
from tasks import Example


def parse(template_questions: list[str], question: str, view: str = "text") -> dict | None:  # type: ignore[type-arg]
    template = discover(template_questions)
    assert template is not None
    found = next((v for v in views_for(template, template_questions) if v.kind == view), View(view))  # type: ignore[arg-type]
    namespace: dict = {}  # type: ignore[type-arg]
    exec(parser_code(template, found), namespace)  # the framework's own parser
    try:
        return namespace["parse_question"](question)  # type: ignore[no-any-return]
    except ValueError:
        return None


def made_by_search(sb: Sandbox, task: str, examples: list[Example], reply: str) -> tuple[MakeResult, list[str]]:
    """The search's making from 3 shown, 3 validation and 3 kept-back examples, the model always giving
    ``reply``; and the prompts it was asked."""
    asked: list[str] = []

    def model(messages: list[dict[str, str]]) -> str:
        asked.append(messages[-1]["content"])
        return reply

    result = ToolMaker(ScriptedModel(model, name="qwen-1.5b"), sb, strategy="search", samples=1).make(
        task, examples[:3], examples[3:6], held_out=examples[6:9]
    )
    return result, asked


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
    by_place = "```python\ndef f(x, options):\n    return options[0] if x[0] % 2 == 0 else options[1]\n```"
    by_text = "```python\ndef f(x, options):\n    return 'Yes' if x[0] % 2 == 0 else 'No'\n```"
    replies = [by_place, by_place, by_text, by_text, by_text]
    maker = ToolMaker(ScriptedModel(replies, name="qwen-1.5b"), sb, strategy="search", samples=1)
    result = maker.make("even_numbers", examples[:3], examples[3:6], held_out=examples[6:])
    assert result.tool is not None and result.tool.direct is not None, result.reason
    assert result.tool.verification.trust == "held_out"
    # the shown questions always list Yes first: a function that picks the first option is right on them
    # only by the order; asked them with the options reordered, it is not, and is never a tool
    search = next(a for a in result.attempts if a.step == "search")
    assert [o["scores"] for o in search.observations] == [[0], [0], [6]]
    assert "options[0]" not in result.tool.code
    from latm.judge.cases import run_direct

    questions = [
        yes_no(7).question,
        "Is 7 an odd number?\nOptions:\n- Yes\n- No",  # a changed fixed word
        "Is 7 an even number?\nOptions:\n- Yes\n- No\n- Maybe",  # a third option
        "Is 7 an even number?\nChoices:\n- Yes\n- No",  # another header
    ]
    runs = run_direct(
        sb, result.tool.code, result.tool.direct, [*questions, "Is 8 an even number?\nOptions:\n- No\n- Yes"]
    )
    assert runs[0].ok and runs[0].value == "No"
    assert [r.ok for r in runs[1:4]] == [False, True, False]  # options are data: a third one is still the task
    assert runs[4].ok and runs[4].value == "Yes"


def test_every_shown_format_reads_back_with_its_views() -> None:
    shown = ["Is 4 an even number?\nOptions:\n- Yes\n- No", "Is 9 an even number?\nOptions:\n- Yes\n- No"]
    template = discover(shown)
    assert template is not None
    kinds = [v.kind for v in views_for(template, shown)]
    assert kinds[:1] == ["numbers"] and "text" in kinds


def truth_question(rng: random.Random, names: list[str]) -> Example:
    people = rng.sample(names, 4)
    truth = {people[0]: rng.random() < 0.5}
    lines = [f"{people[0]} {'tells the truth' if truth[people[0]] else 'lies'}."]
    for before, person in itertools.pairwise(people):
        says_truth = rng.random() < 0.5
        truth[person] = truth[before] == says_truth
        lines.append(f"{person} says {before} {'tells the truth' if says_truth else 'lies'}.")
    question = f"Question: {' '.join(lines)} Does {people[-1]} tell the truth?"
    return Example(question=question, answer="Yes" if truth[people[-1]] else "No")


TRUTH_F = """```python
def f(statements):
    truth = {}
    for s in statements[:-1]:
        if s[1] == 'tells':
            truth[s[0]] = True
        elif s[1] == 'lies':
            truth[s[0]] = False
        else:
            truth[s[0]] = truth[s[2]] == (s[3] == 'tells')
    return 'Yes' if truth[statements[-1][1]] else 'No'
```"""


def test_statements_reach_the_function_as_lists_of_words_and_become_a_tool(sb: Sandbox) -> None:
    rng = random.Random(5)
    names = "Sherrie Vernell Alexis Elanor Fidel Jamey Kandi Millicent Osvaldo Rashida".split()
    examples = [truth_question(rng, names) for _ in range(9)]
    result, asked = made_by_search(sb, "web_of_lies", examples, TRUTH_F)
    assert result.tool is not None and result.tool.verification.trust == "held_out", result.reason
    assert any("`statements` lists the sentences" in a for a in asked)  # the prompt says what they mean
    other_names = "Ka Bo Di Lu".split()  # names no shown question has: statements are data
    fresh = [truth_question(rng, other_names) for _ in range(20)]
    from latm.judge.cases import run_direct

    runs = run_direct(sb, result.tool.code, result.tool.direct or "", [e.question for e in fresh])
    assert [r.value for r in runs] == [e.answer for e in fresh]


EXPRESSIONS = [
    ("((3 + 4) * 2) =", "14"),
    ("((1 - 2) * 5) =", "-5"),
    ("((7 * 7) - 1) =", "48"),
    ("((2 + 2) * 2) =", "8"),
    ("((9 - 3) * 3) =", "18"),
    ("((6 * 2) + 1) =", "13"),
    ("((8 - 1) * 2) =", "14"),
    ("((5 + 5) - 3) =", "7"),
]

EVAL_F = "```python\ndef f(tokens):\n    return eval(' '.join(str(t) for t in tokens))\n```"
TOKENS_F = """```python
import ast

def f(tokens):
    tree = ast.parse(' '.join(str(t) for t in tokens), mode='eval')

    def value(node):
        if isinstance(node, ast.Expression):
            return value(node.body)
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -value(node.operand)
        ops = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b}
        return ops[type(node.op)](value(node.left), value(node.right))

    return value(tree)
```"""


def test_an_expression_task_gets_the_policys_hint_after_eval_and_a_tool_that_parses_with_ast(sb: Sandbox) -> None:
    examples = [Example(question=q, answer=a) for q, a in EXPRESSIONS]
    replies = iter([EVAL_F, TOKENS_F])
    asked: list[str] = []

    def model(messages: list[dict[str, str]]) -> str:
        asked.append(messages[-1]["content"])
        return next(replies, TOKENS_F)

    result = ToolMaker(ScriptedModel(model, name="qwen-1.5b"), sb, strategy="search", samples=1).make(
        "arithmetic", examples[:3], examples[3:6], held_out=examples[6:]
    )
    assert "`tokens` is the expression" in asked[0]
    assert "call evaluate_expression" in asked[1] and "ast.parse" in asked[1]  # the refusal of eval says how
    assert result.tool is not None and result.tool.verification.trust == "held_out", result.reason
    from latm.judge.cases import run_direct

    one_parenthesis = run_direct(sb, result.tool.code, result.tool.direct or "", ["(3 + 4) * 10 ="])
    assert one_parenthesis[0].value == 70


def test_a_tool_may_call_the_provided_evaluator_and_carries_it_in_its_own_code(sb: Sandbox) -> None:
    """A small model's natural tool is eval; the policy offers evaluate_expression instead, whose definition
    the tool's code then carries (an exported tool runs alone). It evaluates numbers and operators only."""
    examples = [Example(question=q, answer=a) for q, a in EXPRESSIONS]
    provided = (  # its own, broken definition of the reserved name, as the 1.5B writes: replaced by the provided one
        "```python\ndef f(tokens):\n    def evaluate_expression(tokens):\n        return 0\n\n"
        "    return evaluate_expression(tokens)\n```"
    )
    result, asked = made_by_search(sb, "arithmetic", examples, provided)
    assert "`evaluate_expression(tokens)` returns the value" in asked[0] and "Call it" in asked[0]
    assert result.tool is not None and "def evaluate_expression(expression):" in result.tool.code, result.reason
    assert "return 0" not in result.tool.code
    from latm.judge.cases import run_direct

    asked_now = ["(3 + 4) * 10 =", "((2 ** 3) - 1) =", "((2 < 3) - 1) =", "((x + 3) - 1) ="]
    runs = run_direct(sb, result.tool.code, result.tool.direct or "", asked_now)
    assert [r.value if r.ok else None for r in runs] == [70, 7, None, None]  # arithmetic is; a comparison, a name not
    from sandbox.expressions import evaluate_expression

    assert evaluate_expression("not ( True ) and ( False )") is False and evaluate_expression("1 and 0 or 7") == 7
    hostile_ones = ("__import__('os').system('id')", "(1).__class__", "[1][0]", "2 ** 100000", "x + 1")
    for hostile in (*hostile_ones, "(10 ** 1000) ** 1000", "(-8) ** 0.5", "(10 ** 400) * (10 ** 1000)"):
        try:
            evaluate_expression(hostile)
        except ValueError:
            continue
        raise AssertionError(f"evaluated {hostile!r}")


def test_a_tool_right_only_on_the_operators_it_was_shown_is_refused(sb: Sandbox) -> None:
    """The expression view reads any operator of a kind the shown questions use ("*" beside "+"), so the
    synthetic questions swap operators within their kind, and the provided evaluator (the shown answers are
    the expressions' values) is the second opinion: a tool that only adds and subtracts is caught."""
    from sandbox.expressions import evaluate_expression

    def ex(text: str) -> Example:
        return Example(question=f"{text} =", answer=str(evaluate_expression(text)))

    sums = ["19 + 9", "16 - 16", "7 + 16 + 13", "4 - 1 + 2", "12 + 30", "8 - 3", "5 + 5 - 2", "9 - 4", "1 + 1"]
    examples = [ex(text) for text in sums]
    narrow = (
        "```python\ndef f(tokens):\n    total, sign = 0, 1\n    for t in tokens:\n        if t == '+':\n"
        "            sign = 1\n        elif t == '-':\n            sign = -1\n        elif isinstance(t, int):\n"
        "            total += sign * t\n    return total\n```"
    )

    def model(messages: list[dict[str, str]]) -> str:
        prompt = messages[-1]["content"]
        if "Call:" in prompt:
            return narrow
        asked = re.search(r"([-+*/%\d ()]+) =", prompt)  # the maker settles a disagreement by working it out
        return f"Final answer: {evaluate_expression(asked.group(1)) if asked else 0}"

    result = ToolMaker(ScriptedModel(model, name="qwen-1.5b"), sb, strategy="search", samples=1).make(
        "sums", examples[:3], examples[3:6], held_out=examples[6:]
    )
    assert result.tool is None and "synthetic" in (result.reason or ""), result.reason


def test_the_api_and_the_cli_split_examples_the_same_way_and_say_how_many_more_would_do() -> None:
    from latm.maker.split import default_k, describe_split

    assert describe_split("my_task", 9, default_k("my_task", 9)) == (
        "3 shown to the maker for training, 3 for validation, 3 kept back (never shown) to judge the tool"
    )
    few = describe_split("my_task", 4, default_k("my_task", 4))
    assert "0 kept back: too few" in few and "1 more example(s) (5 in all)" in few
    assert describe_split("my_task", 5, default_k("my_task", 5)).endswith("3 kept back (never shown) to judge the tool")
    assert "fresh generated questions" in describe_split("word_sorting", 6, default_k("word_sorting", 6))


def test_a_one_word_task_refuses_a_question_about_two_words() -> None:
    shown = [f"How many vowels are in the word '{w}'?" for w in ("banana", "kettle", "ember")]
    template = discover(shown)
    assert template is not None
    words = next(v for v in views_for(template, shown) if v.kind == "words")
    namespace: dict = {}  # type: ignore[type-arg]
    exec(parser_code(template, words), namespace)
    assert namespace["parse_question"]("How many vowels are in the word 'lantern'?") == {"x": ["lantern"]}
    try:
        namespace["parse_question"]("How many vowels are in the word 'ice cream'?")
        raise AssertionError("a question about two words was read as one of one word")
    except ValueError:
        pass


def test_instructions_in_a_few_fixed_phrasings_are_found_and_a_tool_is_made(sb: Sandbox) -> None:
    rng = random.Random(8)
    phrasings = ["", "Answer with a number. ", "Reply with digits only. "]
    examples = []
    for i in range(9):
        a, b = rng.randint(1, 99), rng.randint(1, 99)
        examples.append(Example(question=f"{phrasings[i % 3]}What is {a} plus {b}?", answer=str(a + b)))
    template = discover([e.question for e in examples[:6]])
    assert template is not None and template.prefix == "What is " and "Answer with a number. " in template.openings
    assert template.split("Reply with digits only. What is 3 plus 4?") is not None
    assert template.split("Reply in words. What is 3 plus 4?") is None  # a phrasing no question has
    adder = "```python\ndef f(x, instruction):\n    return x[0] + x[1]\n```"  # the phrasing is handed over too
    result = ToolMaker(ScriptedModel([adder] * 4, name="qwen-1.5b"), sb, strategy="search", samples=1).make(
        "adding_with_instructions", examples[:3], examples[3:6], held_out=examples[6:]
    )
    assert result.tool is not None and result.tool.verification.trust == "held_out", result.reason
    from latm.judge.cases import run_direct

    runs = run_direct(sb, result.tool.code, result.tool.direct or "", ["Answer with a number. What is 20 plus 22?"])
    assert runs[0].value == 42


def test_the_search_reports_each_round_as_it_goes(sb: Sandbox) -> None:
    heard = []
    examples = [Example(question=q, answer=a) for q, a in EXPRESSIONS]
    maker = ToolMaker(
        ScriptedModel([TOKENS_F] * 4, name="qwen-1.5b"),
        sb,
        strategy="search",
        samples=1,
        on_attempt=lambda a: heard.append(a) if a.outcome == "progress" else None,
    )
    result = maker.make("arithmetic", examples[:3], examples[3:6], held_out=examples[6:])
    assert result.tool is not None
    assert (
        heard and "best 6/6" in heard[-1].feedback and "tokens" in heard[-1].feedback and "left" in heard[-1].feedback
    )
    assert all(a.outcome != "progress" for a in result.attempts)  # live lines are not the making's record


def test_lettered_options_in_another_style_with_letter_answers_become_a_tool(sb: Sandbox) -> None:
    rng = random.Random(4)

    def q(n: int) -> Example:
        return Example(question=f"Is {n} an even number?\nA. Yes\nB. No", answer="A" if n % 2 == 0 else "B")

    examples = [q(rng.randint(1, 999)) for _ in range(9)]
    asked: list[str] = []
    letter = "```python\ndef f(x, options):\n    return 'AB'[options.index('Yes' if x[0] % 2 == 0 else 'No')]\n```"

    def model(messages: list[dict[str, str]]) -> str:
        asked.append(messages[-1]["content"])
        return letter

    result = ToolMaker(ScriptedModel(model, name="qwen-1.5b"), sb, strategy="search", samples=1).make(
        "even_lettered", examples[:3], examples[3:6], held_out=examples[6:]
    )
    assert "Returns: 'A'" in asked[0] or "Returns: 'B'" in asked[0]  # the letter, as the answers have it
    assert result.tool is not None and result.tool.verification.trust == "held_out", result.reason


def test_a_comma_inside_a_number_is_not_a_lists_comma() -> None:
    """Lists written "3, 5, 7": "1,200" is one number with a thousands separator, which no view reads;
    taken as the two numbers 1 and 200 the tool would answer confidently and wrongly."""
    shown = ["Find the largest number in the list: 3, 5, 7.", "Find the largest number in the list: 12, 40."]
    for view in ("numbers", "records"):
        assert parse(shown, "Find the largest number in the list: 9, 11.", view) in (
            {"x": [9, 11]},
            {"values": [9, 11]},
        )
        assert parse(shown, "Find the largest number in the list: 1,200, 950.", view) is None, view
        assert parse(shown, "Find the largest number in the list: 3,5.", view) is None, view


def test_the_frameworks_parsers_hold_what_they_do_not_hand_over() -> None:
    # numbers view: the words between numbers are one of those the shown questions have there
    shown = ["Compute 3 + 4 =", "Calculate 6 + 1 =", "Work out 2 + 2 ="]
    assert parse(shown, "Compute 8 + 9 =", "numbers") == {"x": [8, 9]}
    for other in ("Negate 3 + 4 =", "Compute 3 - 4 =", "Compute 3 + 4 + 5 ="):
        assert parse(shown, other, "numbers") is None, other
    # a decimal is one number, its zeros after the point kept ("3.05" is not 3 and 5, nor "3.5")
    sums = ["What is 3.5 plus 2.25?", "What is 1.75 plus 4.5?"]
    assert parse(sums, "What is 3.05 plus -0.5?", "numbers") == {"x": [3.05, -0.5]}
    prices = ["A pen costs 2.5. How much do 4 pens cost?", "A pen costs 1.25. How much do 3 pens cost?"]
    assert parse(prices, "A pen costs 2.05. How much do 4 pens cost?", "numbers") == {"x": [2.05, 4]}
    # ... but a dotted run is its parts ("1.10.0" is not 1.1 and 0, which "1.1.0" would be too)
    versions = ["Which is newer: 1.9.0 or 1.10.0?", "Which is newer: 2.3.1 or 2.3.0?"]
    assert parse(versions, "Which is newer: 1.10.0 or 1.1.0?", "numbers") == {"x": [1, 10, 0, 1, 1, 0]}
    # places whose words vary are held together, as one shown question has them
    units = ["Convert 3 hours and 20 minutes to minutes.", "Convert 2 minutes and 5 seconds to seconds."]
    assert parse(units, "Convert 4 hours and 2 minutes to minutes.", "numbers") == {"x": [4, 2]}
    for mixed in ("Convert 3 hours and 20 seconds to seconds.", "Convert 3 minutes and 20 minutes to minutes."):
        assert parse(units, mixed, "numbers") is None, mixed
    # a hyphen between digits is text, not a minus sign; a minus before a number is its sign
    dates = ["What is the date 89 days after 2020-07-22?", "What is the date 5 days after 1999-12-30?"]
    assert parse(dates, "What is the date 3 days after 2021-01-09?", "numbers") == {"x": [3, 2021, 1, 9]}
    assert parse(dates, "What is the date 3 days after 2021/01/09?", "numbers") is None
    assert parse(["Add -5 and 3.", "Add 2 and -7."], "Add -1 and -2.", "numbers") == {"x": [-1, -2]}
    chains = ["Evaluate 9-4-2.", "Evaluate 40-3.", "Evaluate 7-1-1-1."]  # as many numbers as you like
    assert parse(chains, "Evaluate 8-2-1.", "numbers") == {"x": [8, 2, 1]}
    assert parse(chains, "Evaluate 9 - 4 - 2.", "numbers") == {"x": [9, 4, 2]}
    assert parse(chains, "Evaluate 9 -4 -2.", "numbers") is None  # signs, not the task's "-" between numbers
    mixed = ["Compute 10 plus 3 minus 2.", "Compute 4 plus 1.", "Compute 7 minus 1 plus 2 plus 3."]
    template = discover(mixed)  # which word stands where is the question: the numbers alone cannot say
    assert template is not None and "numbers" not in [v.kind for v in views_for(template, mixed)]
    # records view: the punctuation it cuts clauses at is the task's ("." became "%" is another task)
    ages = [
        "Ages: Ines: 69; Dmitri: 21; Alice: 55; Kemal: 66. How old is Alice?",
        "Ages: Farid: 28; Nadia: 39; Alice: 58; Bram: 22. How old is Farid?",
        "Ages: Hiro: 44; Ines: 37; Alice: 62; Mateo: 73. How old is Mateo?",
    ]
    asked = "Ages: Jonas: 33; Leila: 71; Priya: 57; Alice: 79. How old is Jonas?"
    read = parse(ages, asked, "records")
    assert read is not None and read["asked"] == "Jonas" and "Priya" in read["values"]
    assert parse(ages, asked.replace("79.", "79%"), "records") is None
    assert parse(ages, asked.replace("Jonas?", "Jonas in 10 years?"), "records") is None  # the asking clause is held
    assert parse(ages, asked.replace("How old", "Ten years pass. How old"), "records") is None  # and every other
    # expression view: names and operators are those the shown questions use
    exprs = ["((3 + 4) * 2) =", "((1 - 2) * 5) =", "((7 * 7) - 1) ="]
    assert parse(exprs, "((2 + 2) * 3) =", "expression") == {"tokens": ["(", "(", 2, "+", 2, ")", "*", 3, ")"]}
    assert parse(exprs, "((2 + 2) * 3) modulo 5 =", "expression") is None
    assert parse(exprs, "sqrt(16) + 1 =", "expression") is None
    # words view: a word may not begin or end in a mark the shown words do not (a mark inside is the word's)
    alphabetize = ["Alphabetize: pear fig kiwi", "Alphabetize: plum o'clock date", "Alphabetize: yam lime"]
    assert parse(alphabetize, "Alphabetize: rock'n'roll apple", "words") == {"x": ["rock'n'roll", "apple"]}
    for other in ("Alphabetize: pear fig kiwi. Then reverse them", "Alphabetize: pear, fig, kiwi"):
        assert parse(alphabetize, other, "words") is None, other
    # where the shown questions ask in several phrasings, a new question asks in their words, names nothing new
    apples = [
        "Alice has 3 apples, Bob has 5 apples, Carol has 2 apples. How many apples are there in total?",
        "Dan has 4 apples, Eve has 1 apples, Finn has 7 apples. What is the total number of apples?",
        "Gus has 2 apples, Hal has 6 apples, Ivy has 3 apples. How many apples do they have in all?",
    ]
    listed = "Jo has 3 apples, Kim has 5 apples, Lu has 2 apples. "
    assert parse(apples, listed + "How many apples do they have in total?", "records") is not None
    for other in ("How many apples does Kim have?", "What is the largest number of apples?"):
        assert parse(apples, listed + other, "records") is None, other
    # items view: what lies between two items is a list's; the text around the list is the task's
    things = [
        "I have three books, five candles, and four drums. How many objects do I have?",
        "I have a spoon, five apples, a bottle, and two chairs. How many objects do I have?",
        "I have five bottles, a spoon, two candles, and four apples. How many objects do I have?",
    ]
    assert parse(things, "I have two lamps and a kite. How many objects do I have?", "items") == {
        "items": [[2, "lamps"], [1, "kite"]]
    }
    for other in (
        "I have five bottles, a lamp, but I lost five kites. How many objects do I have?",
        "I have three books, two lamps, no kites. How many objects do I have?",
        "I have three books and a lamp that I lost. How many objects do I have?",
        "I have a dozen books, a lamp, and two drums. How many objects do I have?",  # a dozen is not one
        "I have a spoon, twenty one lamps, and a kite. How many objects do I have?",  # 21, not 20 "one lamps"
    ):
        assert parse(things, other, "items") is None, other
    veg = [  # names of three words: "and five yams" is not one, nor "one yams" (the near-variant repeating "and five")
        "I have three stalks of celery, a yam, and two onions. How many vegetables do I have?",
        "I have a cabbage and two heads of broccoli. How many vegetables do I have?",
        "I have a potato, a carrot, and three garlics. How many vegetables do I have?",
    ]
    assert parse(veg, "I have two stalks of celery and a yam. How many vegetables do I have?", "items") is not None
    for other in ("and five and five yams", "and twenty one yams", "and a yam 2 big"):
        assert parse(veg, f"I have three stalks of celery {other}. How many vegetables do I have?", "items") is None
    # a fixed word next to the list that also counts inside it ("I have a ...") is the list's; text around
    # the list that varies (what is counted) is handed over too, and held to the shapes shown
    kinds = [
        "I have a piano, a flute, and a trombone. How many musical instruments do I have?",
        "I have a chicken, a snail, three dogs, and a goat. How many animals do I have?",
        "I have a cabbage, two onions, and a yam. How many vegetables do I have?",
    ]
    read = parse(kinds, "I have two plums and an orange. How many fruits do I have?", "items")
    assert read is not None and read["items"] == [[2, "plums"], [1, "orange"]] and "fruits" in read["text"]
    assert parse(kinds, "I have two plums and an orange. How many more fruits do you want do I have?", "items") is None
    # statements view: the punctuation it drops is the task's (a statement turned into a question is not)
    said = [
        "Question: Fidel lies. Jamey says Fidel tells the truth. Kandi says Jamey lies. Does Kandi tell the truth?",
        "Question: Ana tells the truth. Bo says Ana lies. Cy says Bo lies. Does Cy tell the truth?",
        "Question: Ed lies. Flo says Ed lies. Gus says Flo tells the truth. Does Gus tell the truth?",
    ]
    honest = "Question: Hal lies. Ida says Hal lies. Jo says Ida lies. Does Jo tell the truth?"
    assert parse(said, honest, "statements") is not None
    assert parse(said, honest.replace("says Hal lies.", "says, Hal lies?"), "statements") is None
    # option letters are A, B, C in order, and a long line ending in a colon is the question, not a header
    block = "Which is heavier:\n(A) a feather\n(B) a brick"
    template = discover([block, block.replace("heavier", "lighter")])
    assert template is not None and template.header == "" and template.split(block) is not None
    assert template.split("Which is heavier:\n(B) a feather\n(A) a brick") is None


def test_views_come_in_the_order_the_data_calls_for() -> None:
    """A list of counted things is not an expression (its commas are not operators); numbers with the same
    text around them in every question (a date's hyphens) come before an expression; an expression whose
    operators vary comes before the numbers alone, which cannot see them."""

    def kinds(shown: list[str]) -> list[str]:
        template = discover(shown)
        assert template is not None
        return [v.kind for v in views_for(template, shown)]

    objects = [
        "I have three books, a lamp, and two drums. How many objects do I have?",
        "I have a kite, five spoons, and a drum. How many objects do I have?",
        "I have two chairs and four apples. How many objects do I have?",
    ]
    assert kinds(objects)[0] == "items" and "expression" not in kinds(objects)
    dates = [
        "What is the date 89 days after 2020-07-22?",
        "What is the date 5 days after 2023-05-09?",
        "What is the date 244 days after 2025-11-18?",
    ]
    assert kinds(dates).index("numbers") < kinds(dates).index("expression")
    sums = ["(18 + (6 - 10)) =", "(5 * 8) - 1 =", "((7 + 19) + 3) ="]
    assert kinds(sums).index("expression") < kinds(sums).index("numbers")


def test_an_instruction_in_a_few_phrasings_reaches_the_function(sb: Sandbox) -> None:
    """'Sort them in ascending order.' / '... descending ...' end the questions: the template holds them
    to those phrasings and hands the one a question has to f, which needs it to answer."""
    rng = random.Random(5)

    def sorting(order: str) -> Example:
        xs = rng.sample(range(1, 10), rng.randint(3, 5))
        answer = " ".join(map(str, sorted(xs, reverse=order == "descending")))
        return Example(question=f"Numbers: {' '.join(map(str, xs))}. Sort them in {order} order.", answer=answer)

    examples = [sorting(o) for o in ["ascending", "descending"] * 4 + ["ascending"]]
    reply = (
        "```python\ndef f(x, instruction):\n"
        "    return ' '.join(map(str, sorted(x, reverse='descending' in instruction)))\n```"
    )
    result, asked = made_by_search(sb, "sort_numbers", examples, reply)
    assert "`def f(x, instruction):`" in asked[0] and "`instruction` is the sentence" in asked[0]
    # a sentence that ends some questions by chance and stands inside others is data, not an instruction
    steps = "If you follow these instructions, do you return to the starting point? "
    walks = [
        "Turn left. Turn around. Take 1 step. Take 6 steps.",
        "Take 3 steps. Turn around. Take 4 steps. Take 1 step.",
        "Take 8 steps. Turn right. Take 1 step.",
        "Turn around. Take 4 steps. Take 2 steps.",
    ]
    walk_template = discover([steps + w + "\nOptions:\n- Yes\n- No" for w in walks])
    assert walk_template is not None and walk_template.endings == ()
    assert result.tool is not None and result.tool.direct is not None, result.reason
    from latm.judge.cases import run_direct

    runs = run_direct(
        sb,
        result.tool.code,
        result.tool.direct,
        ["Numbers: 4 9 2. Sort them in descending order.", "Numbers: 4 9 2. Sort them in random order."],
    )
    assert runs[0].ok and runs[0].value == "9 4 2" and not runs[1].ok


def test_lettered_choices_above_an_answer_label_are_options(sb: Sandbox) -> None:
    """Evaluation prompts end "A. x ... D. w\\nAnswer:": the choices are still an option block (handed to f,
    asked again reordered), and the label under it is fixed text like a header."""
    rng = random.Random(11)

    def divisible() -> Example:
        k = rng.choice([3, 5, 7])
        choices = [rng.randint(1, 20) * k + rng.randint(1, k - 1) for _ in range(3)] + [rng.randint(1, 20) * k]
        rng.shuffle(choices)
        lines = [f"{'ABCD'[i]}. {c}" for i, c in enumerate(choices)]
        right = "ABCD"[[c % k == 0 for c in choices].index(True)]
        return Example(question=f"Which number is divisible by {k}?\n" + "\n".join(lines) + "\nAnswer:", answer=right)

    examples = [divisible() for _ in range(9)]
    template = discover([e.question for e in examples[:6]])
    assert template is not None and template.options == "dot" and template.header == "\nAnswer:"
    sums = discover(["Add these up:\n- 3\n- 5\nTotal:", "Add these up:\n- 1\n- 2\n- 4\nTotal:"])
    assert sums is not None and sums.options is None  # a bulleted list over a label is as likely data
    by_text = "```python\ndef f(x, options):\n    return 'ABCD'[[int(o) % x[0] == 0 for o in options].index(True)]\n```"
    result, asked = made_by_search(sb, "divisible_choice", examples, by_text)
    assert "options=['" in asked[0]
    assert result.tool is not None and result.tool.direct is not None, result.reason
    from latm.judge.cases import run_direct

    again = [
        "Which number is divisible by 3?\nA. 9\nB. 4\nAnswer:",
        "Which number is divisible by 3?\nA. 9\nB. 4\nReply:",
    ]
    runs = run_direct(sb, result.tool.code, result.tool.direct, again)
    assert runs[0].ok and runs[0].value == "A" and not runs[1].ok
