"""The tool maker's prompts, in the paper's protocol and answer formats.

The wording of propose, verify and wrap follows the LATM paper's tool-making prompts, so a
transcript of a real LATM session replays through ``ToolMaker`` unchanged. ``direct`` and
the repair messages are ours. Bump PROMPT_VERSION whenever any text here changes: it is
recorded in every tool's provenance and keys the response cache.
"""

from collections.abc import Sequence
from typing import Any

from tasks import Example

PROMPT_VERSION = "4"


def examples_block(examples: Sequence[Example]) -> str:
    return "\n\n".join(f"Question: {ex.question}\nAnswer: {ex.answer}" for ex in examples)


def propose(train: Sequence[Example]) -> str:
    return (
        f"Here are some examples of a type of question:\n\n{examples_block(train)}\n\n"
        "Please write a generic Python function to solve this type of problems using only standard "
        "python libraries. The output of the function can later be converted to the answer (option "
        "for multiple choice question). All the function should be wrapped by\n```python\n```\n"
        "Make the question's text (a string) the function's only argument: the function parses it "
        "itself, so any question of this type can be passed to it as it is."
    )


UNIT_TEST_FORMAT = (
    "```python\n"
    "{parse the question into the arguments of the function}\n"
    "{call the function and save the return value in a variable named `ret`}\n"
    "{for multiple choice question, parse the options}\n"
    "{convert the return value `ret` to the answer (if the question is a multiple choice question, "
    "convert to an option) and save it in a variable named `ans`}\n"
    "{assert ans == the provided answer (if the question is a multiple choice question, assert ans == option)}\n"
    "```"
)


def verify(valid: Sequence[Example]) -> str:
    return (
        f"Here are more examples:\n\n{examples_block(valid)}\n\n"
        "Write unit tests to verify the correctness of the function on the questions above using the "
        f"following format, one test per question, in the same order:\n{UNIT_TEST_FORMAT}\n"
        "In each test the variable `question` already holds that question's text (do not redefine it): "
        "parse the arguments out of it with code, and compute `ans` from `ret`; never type the answer in."
    )


def wrap(valid: Sequence[Example]) -> str:
    return (
        "Success! The function is correct. We will need to summarize the function and use cases up for "
        "further use. Please extract the information from the history in the following format:\n\n"
        "Here is a function to solve a class of problems:\n```python\n{the function, including necessary "
        "imports}\n```\n\nUse cases:\nQuestion: {question (including options)}\nSolution:\n```python\n"
        "{parse the question into the arguments of the function}\n{call the function and save the return "
        "value in a variable named `ret`}\n{for multiple choice question, parse the options}\n{convert the "
        "return value `ret` to the answer (if the question is a multiple choice question, convert to an "
        "option) and save it in a variable named `ans`}\n```\n"
        f"Do this for all the {len(valid)} questions in the verification step. As in the tests, each "
        "solution can parse its arguments from the variable `question`, which holds the question's text."
    )


def direct(entry: str) -> str:
    return (
        "Finally, write a strict function `solve(question: str) -> str` that parses a raw question of "
        f"exactly this type, calls `{entry}` and returns the final answer exactly as written in the "
        "examples (for multiple choice questions, the option like (A)). It must raise ValueError on any "
        "text it does not recognise, instead of guessing. Reply with the function in a ```python block, "
        "or with NONE if questions of this type cannot be parsed reliably."
    )


# -- repair messages ------------------------------------------------------------------------


def repair(problem: str, what: str = "the code") -> str:
    return f"{problem}\nPlease fix {what} and reply with the complete corrected version in a ```python block."


def wrong_answers(failures: list[str]) -> str:
    return (
        "The tests failed on these questions:\n"
        + "\n".join(failures)
        + (
            "\nFix the function (or the parsing in the tests) so that every test passes, and reply with the "
            "complete function and all the tests. Arguments typed by hand are easily mistyped: parse them "
            "with code from the variable `question`, which holds each question's text."
        )
    )


def vacuous(entry: str, numbers: list[int]) -> str:
    listed = ", ".join(str(n) for n in numbers)
    return (
        f"The code for question(s) {listed} still gives the expected answer when `{entry}` is replaced by a "
        "broken function (one that raises, returns a placeholder, or returns its result for another question), "
        "so it does not test the function: it types the answer in or computes it "
        f"without `{entry}`. Each must parse the question text, call `{entry}` and convert its return "
        "value to `ans`. Reply with the corrected code."
    )


def carried(what: str, found: list[str]) -> str:
    listed = "\n".join(f"- {f}" for f in found[:8])
    return repair(
        f"{what} carries the examples it was shown as literals:\n{listed}\nA tool must compute the answer of "
        "any question of this type from the question itself, not look up the examples' answers."
    )


def not_strict(caught: list[Any]) -> str:
    lines = "\n".join(
        f"- it answered {answer!r} to this question of another kind ({probe.task}): {probe.question[:160]!r}"
        for probe, answer in caught[:3]
    )
    return repair(
        f"`solve` accepts questions that are not of its type:\n{lines}\nIt must raise ValueError on any text "
        "it does not recognise, instead of guessing.",
        "`solve`",
    )


def reordered(wrong: list[Any]) -> str:
    lines = "\n".join(f"- question {q[:300]!r}: {o.describe(a)}" for q, a, o in wrong[:3])
    return repair(
        "`solve` answered the shown questions wrongly once their options were put in another order:\n"
        f"{lines}\nIt must choose an option by its text, not by its place in the list.",
        "`solve`",
    )


def held_out(total: int, kinds: dict[str, int]) -> str:
    listed = "\n".join(f"- {kind}: {n}" for kind, n in kinds.items())
    return repair(
        f"`solve` was tried on {total} other questions of this type, which it had not seen, and failed on "
        f"{sum(kinds.values())}:\n{listed}\nMake the parsing and the function general: every question of this "
        "type must be parsed and answered, not only the examples.",
        "`solve`",
    )


def typed_in(entry: str, what: str, found: list[tuple[int, str]]) -> str:
    listed = "\n".join(f"- {what} {n}: `{src[:160]}`" for n, src in found)
    return (
        f"These set `ans` to a typed-in literal instead of computing it from `ret`:\n{listed}\n"
        f"`ans` must be the return value of `{entry}` (`ret`) converted to the answer's format, e.g. "
        "`ans = ret`, `ans = ' '.join(ret)` or an option letter looked up from `ret`; never the answer "
        "itself. Reply with the corrected code."
    )


def case_count(expected: int, got: int) -> str:
    return (
        f"Expected {expected} tests (one per question, each ending with its `assert ans == ...`), "
        f"but found {got}. Reply with exactly {expected} tests in the given format."
    )
