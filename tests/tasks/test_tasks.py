"""Tasks: generators in the real format, checkers with the paper's normalisation, oracles."""

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tasks import TASKS, Example, TaskDataError, get_task, load_bbh

from ..conftest import BBH_DEV

SMALL = {name: (10 if "seven" in name else 40) for name in TASKS}


def solver(name: str) -> Any:
    ref = get_task(name).reference
    namespace: dict[str, Any] = {}
    exec(ref.code + "\n" + ref.direct, namespace)  # our own reference code
    return namespace["solve"]


def test_the_paper_tasks_are_all_registered() -> None:
    assert set(TASKS) == {
        "word_sorting",
        "dyck_languages",
        "logical_deduction_five_objects",
        "logical_deduction_seven_objects",
        "tracking_shuffled_objects_five_objects",
        "tracking_shuffled_objects_seven_objects",
        "chinese_remainder_theorem",
        "schedule_meeting",
    }


def test_unknown_task_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="word_sorting"):
        get_task("word_sort")


@pytest.mark.parametrize("name", sorted(TASKS))
def test_generation_is_reproducible_by_seed(name: str) -> None:
    task = get_task(name)
    assert task.generate(3, seed=7) == task.generate(3, seed=7)
    assert task.generate(3, seed=7) != task.generate(3, seed=8)


@pytest.mark.parametrize("name", sorted(TASKS))
def test_reference_tool_solves_every_generated_instance(name: str) -> None:
    task, solve = get_task(name), solver(name)
    for ex in task.generate(SMALL[name], seed=3):
        assert task.check(solve(ex.question), ex.answer), ex


@pytest.mark.parametrize("name", sorted(TASKS))
def test_reference_tool_solves_the_real_examples(name: str) -> None:
    path = BBH_DEV / f"{name}.json"
    if not path.exists():
        pytest.skip("../shared/bbh-dev is not present (a user's clone)")
    task, solve = get_task(name), solver(name)
    real = load_bbh(path)
    assert len(real) == 50
    assert all(task.check(solve(ex.question), ex.answer) for ex in real)


@pytest.mark.parametrize("name", sorted(TASKS))
def test_generated_instances_look_like_the_real_ones(name: str) -> None:
    """Same opening words, same option layout, answers of the same shape."""
    path = BBH_DEV / f"{name}.json"
    if not path.exists():
        pytest.skip("../shared/bbh-dev is not present")
    real = load_bbh(path)
    fresh = get_task(name).generate(SMALL[name], seed=5)

    def shape(ex: Example) -> tuple[str, bool, str]:
        answer_kind = re.sub(r"[a-z]+", "w", re.sub(r"\d", "9", ex.answer))[:6]
        return ex.question[:12], "\nOptions:\n(A) " in ex.question, answer_kind[:2]

    real_shapes = {shape(e)[:2] for e in real}
    assert {shape(e)[:2] for e in fresh} <= real_shapes


@pytest.mark.parametrize("name", sorted(TASKS))
def test_direct_solver_is_strict(name: str) -> None:
    solve = solver(name)
    for alien in (
        "What is 2 + 2?",
        get_task(next(n for n in TASKS if n[:5] != name[:5])).generate(1)[0].question,
    ):
        with pytest.raises(ValueError):
            solve(alien)


@given(st.sampled_from(sorted(TASKS)), st.integers(min_value=0, max_value=10_000))
@settings(max_examples=30, deadline=None)
def test_generated_answers_are_well_formed(name: str, seed: int) -> None:
    ex = get_task(name).generate(1, seed=seed)[0]
    assert ex.question.strip() == ex.question or ex.question.endswith("one")
    if "Options:" in ex.question:
        letters = re.findall(r"^\(([A-G])\)", ex.question, re.M)
        assert ex.answer in {f"({x})" for x in letters}
    if name == "chinese_remainder_theorem":
        bound = int(re.search(r"no more than (\d+)", ex.question).group(1))  # type: ignore[union-attr]
        moduli = [int(m) for m in re.findall(r"among (\d+)", ex.question)]
        remainders = [int(r) for r in re.findall(r"we have (\d+) left", ex.question)]
        assert 0 <= int(ex.answer) <= bound
        assert all(int(ex.answer) % m == r for m, r in zip(moduli, remainders, strict=True))
    if name == "dyck_languages":
        seq = ex.question.split("Input: ")[1].split() + ex.answer.split()
        pairs, stack = {")": "(", "]": "[", "}": "{", ">": "<"}, []
        for tok in seq:
            if tok in pairs:
                assert stack.pop() == pairs[tok]
            else:
                stack.append(tok)
        assert not stack


@given(st.sampled_from(["A", "B", "G"]), st.sampled_from(["({})", "{}", "({}) some text", " {}) ", "{}."]))
def test_option_checker_accepts_every_letter_spelling(letter: str, template: str) -> None:
    task = get_task("tracking_shuffled_objects_five_objects")
    assert task.check(template.format(letter), f"({letter})")
    assert not task.check(template.format("C" if letter != "C" else "D"), f"({letter})")


@given(st.text(alphabet="()[]{}<> ", min_size=1))
def test_dyck_checker_ignores_whitespace(answer: str) -> None:
    task = get_task("dyck_languages")
    assert task.check(answer.replace(" ", ""), answer) and task.check(" ".join(answer), answer)


@pytest.mark.parametrize(
    ("prediction", "answer", "ok"),
    [
        ("No time slot works.", "No time slot works.", True),
        ("no time slot works", "No time slot works.", True),
        ("10:30 - 12:00", "10:30 - 12:00", True),
        ("10:30-12:00", "10:30 - 12:00", True),
        ("10:00 - 11:00", "10:30 - 12:00", False),
        (None, "10:30 - 12:00", False),
    ],
)
def test_meeting_checker(prediction: str | None, answer: str, ok: bool) -> None:
    assert get_task("schedule_meeting").check(prediction, answer) is ok


def test_numbers_compare_as_numbers() -> None:
    task = get_task("chinese_remainder_theorem")
    assert task.check(14687, "14687") and task.check(" 14687\n", "14687") and not task.check("1468", "14687")


def test_loader_reads_bbh_format_and_rejects_others(tmp_path: Path) -> None:
    good = tmp_path / "t.json"
    good.write_text(json.dumps({"examples": [{"input": "q", "target": "a"}]}))
    assert load_bbh(good) == [Example(question="q", answer="a")]
    for bad, message in [
        ("{", "not valid JSON"),
        ('{"rows": []}', "examples"),
        ('{"examples": [{"input": "q"}]}', "target"),
    ]:
        (tmp_path / "bad.json").write_text(bad)
        with pytest.raises(TaskDataError, match=message):
            load_bbh(tmp_path / "bad.json")
    with pytest.raises(TaskDataError, match="does not exist"):
        load_bbh(tmp_path / "missing.json")


def test_call_for_writes_a_use_case_that_runs() -> None:
    task = get_task("word_sorting")
    ex = task.generate(1, seed=1)[0]
    ns: dict[str, Any] = {}
    exec(task.reference.code + "\n" + task.reference.call_for(ex.question), ns)
    assert task.check(ns["ans"], ex.answer)
    assert "sort_words(words=[" in task.reference.call_for(ex.question)
