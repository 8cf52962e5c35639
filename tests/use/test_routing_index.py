"""The routing index: a question is offered only to the solvers whose task's fixed words it has, a
question of no known task runs no solver, and two solvers that disagree answer nothing directly."""

import json

import pytest

from latm import LATM
from latm.use.dispatcher import route_direct
from latm.use.routing_index import RoutingIndex, signature
from latm.use.tool_user import ToolUser
from sandbox import Sandbox
from tasks import TASKS, get_task
from toolcache import Tool, ToolCache, UseCase, VerificationExample

from ..conftest import SHARED

SORTING = get_task("word_sorting")


def test_a_question_of_no_known_task_runs_no_solver(demo_cache: ToolCache, process_sandbox: Sandbox) -> None:
    solvers = [t for t in (demo_cache.current(task) for task in demo_cache.tasks()) if t is not None and t.direct]
    unrelated = [f"What is the capital of country number {i}? Answer in one word." for i in range(50)]
    found = route_direct(ToolUser(None, process_sandbox), unrelated, solvers)
    assert found.solver_runs == 0 and found.answered == {}
    mixed = [ex.question for task in TASKS.values() for ex in task.generate(5, seed=3)]
    found = route_direct(ToolUser(None, process_sandbox), mixed, solvers)
    assert len(found.answered) == len(mixed)  # every built-in question reached its own solver
    # and only it: the seven-object shuffles have every fixed word of the five-object task (Alice to Eve)
    # but not its opening words, so they are offered to their own task's solver alone
    assert found.solver_runs == len(mixed)


def test_a_changed_fixed_word_is_offered_to_no_solver(demo_cache: ToolCache) -> None:
    index = RoutingIndex([t for t in (demo_cache.current(x) for x in demo_cache.tasks()) if t is not None])
    question = SORTING.generate(1, seed=4)[0].question
    from latm.use.routing_index import words

    assert [t.task for t in index.candidates(words(question))] == ["word_sorting"]
    changed = question.replace("alphabetically", "by length")
    assert index.candidates(words(changed)) == []


def test_two_solvers_that_accept_a_question_and_disagree_answer_nothing_directly(
    demo_cache: ToolCache, process_sandbox: Sandbox
) -> None:
    # A second tool, of a task of the user's, whose solver takes the same questions and answers them
    # backwards: put straight into the cache (as an import with --trust might).
    honest = demo_cache.current("word_sorting")
    assert honest is not None and honest.direct is not None
    shown = SORTING.generate(4, seed=9)
    backwards = Tool.model_validate(
        {
            **honest.model_dump(),
            "id": "",
            "task": "reverse_alphabetical",
            "direct": (
                "def solve(question):\n    prefix = 'Sort the following words alphabetically: List: '\n"
                "    if not question.startswith(prefix):\n        raise ValueError('not mine')\n"
                "    return ' '.join(sorted(question[len(prefix):].split(), reverse=True))\n"
            ),
            "use_cases": [UseCase(question=e.question, call="ans = None", answer=e.answer).model_dump() for e in shown],
            "verification": honest.verification.model_copy(
                update={
                    "canary_questions": [],
                    "examples": [
                        VerificationExample(question=e.question, expected=e.answer, observed=e.answer, passed=True)
                        for e in shown
                    ],
                }
            ).model_dump(),
        }
    )
    demo_cache.put(backwards)
    questions = [e.question for e in SORTING.generate(30, seed=10)]
    with LATM(cache=demo_cache, sandbox=process_sandbox, canaries=False) as latm:
        solutions = latm.solve_many(questions)
    multi = [q for q, s in zip(questions, solutions, strict=True) if len(q.split("List: ")[1].split()) > 1]
    assert multi, "the draw has lists of more than one word"
    for question, solution in zip(questions, solutions, strict=True):
        if question in multi:  # the two disagree: no silent answer from either
            assert solution.answer is None and "disagree" in (solution.error or "") + solution.route
        else:  # one word: both give the same answer
            assert solution.mode == "direct" and solution.answer == question.split("List: ")[1].strip()


@pytest.mark.skipif(not (SHARED / "bbh-dev").is_dir(), reason="needs the real BIG-Bench-Hard examples")
@pytest.mark.parametrize("task", sorted(TASKS))
def test_every_real_question_fits_its_tasks_signature(task: str, demo_cache: ToolCache) -> None:
    from latm.use.routing_index import words

    tool = demo_cache.current(task)
    assert tool is not None
    sig = signature(tool)
    assert sig, "a built-in task has fixed words"
    real = json.loads((SHARED / "bbh-dev" / f"{task}.json").read_text())["examples"]
    assert [ex["input"][:60] for ex in real if not sig <= words(ex["input"])] == []


def test_a_solver_is_never_handed_a_question_without_its_tasks_fixed_words(
    demo_cache: ToolCache, process_sandbox: Sandbox
) -> None:
    from latm.judge.cases import run_direct

    tool = demo_cache.current("schedule_meeting")
    assert tool is not None and tool.direct is not None
    question = get_task("schedule_meeting").generate(1, seed=3)[0].question
    changed = question.replace("earliest", "latest")
    assert changed != question
    assert run_direct(process_sandbox, tool.code, tool.direct, [changed])[0].ok  # its solver would answer it
    answer = ToolUser(None, process_sandbox).use(tool, changed)
    assert answer.value is None and "lacks the word(s) 'earliest'" in (answer.error or "")


def test_text_before_a_built_in_question_or_after_its_options_is_another_task(
    demo_cache: ToolCache, process_sandbox: Sandbox
) -> None:
    shuffle = get_task("tracking_shuffled_objects_five_objects").generate(1, seed=5)[0].question
    remainder = get_task("chinese_remainder_theorem").generate(1, seed=5)[0].question
    sorting = SORTING.generate(1, seed=5)[0].question
    variants = [
        "Do not answer the puzzle below; reply only with (A).\n" + shuffle,  # before its opening words
        shuffle + "\nWhich option is the second from the top?",  # after its option block
        remainder.replace("?", " plus one?"),  # within: its own solver holds its whole form
        sorting + " Then reverse them.",  # its own solver holds its list to words
    ]
    found = route_direct(
        ToolUser(None, process_sandbox),
        variants,
        [t for t in (demo_cache.current(x) for x in demo_cache.tasks()) if t and t.direct],
    )
    assert found.answered == {}
    tool = demo_cache.current("tracking_shuffled_objects_five_objects")
    assert tool is not None
    answer = ToolUser(None, process_sandbox).use(tool, variants[0])
    assert answer.value is None and "text before or after its form" in (answer.error or "")
