"""`latm solve --file`: no answer a user paid for is lost, overwritten or taken for a whole file."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from latm.cli import main
from latm.facade import LATM
from latm.testing import FakeOpenAIServer
from tasks import get_task

QUESTIONS = get_task("word_sorting").generate(6, seed=21)
UNSERVED = "What is the capital of France?"


@pytest.fixture(autouse=True)
def _demo_tools(_process_backend: None) -> None:
    assert CliRunner().invoke(main, ["demo", "--n", "1", "--task", "word_sorting", "--json"]).exit_code == 0


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def rows_of(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def run(*args: str) -> "CliRunner.invoke":
    return CliRunner().invoke(main, list(args))


def test_without_out_the_answers_go_to_stdout_as_jsonl(tmp_path: Path) -> None:
    file = write_jsonl(tmp_path / "q.jsonl", [{"question": q.question, "id": i} for i, q in enumerate(QUESTIONS)])
    r = run("solve", "--file", str(file))
    assert r.exit_code == 0, r.output
    rows = rows_of(r.stdout)
    assert sorted(row["id"] for row in rows) == list(range(6))
    assert {row["id"]: row["answer"] for row in rows} == {i: q.answer for i, q in enumerate(QUESTIONS)}
    assert "6 answered, 0 failed" in r.stderr


def test_a_bad_output_is_refused_before_any_paid_call(tmp_path: Path) -> None:
    file = write_jsonl(tmp_path / "q.jsonl", [{"question": UNSERVED}])
    original = file.read_text()
    with FakeOpenAIServer(lambda messages: "Answer: Paris") as server:
        for out, says in ((tmp_path / "missing" / "a.jsonl", "does not exist"), (file, "is the input file")):
            r = run("solve", "--file", str(file), "--out", str(out), "--maker", "gpt-4o", "--base-url", server.url)
            assert r.exit_code == 2 and says in r.stderr and "Traceback" not in r.output
        assert server.requests == []  # nothing was paid for
    assert file.read_text() == original  # 13 lines stay 13 lines


def test_a_blank_question_is_an_input_error_before_any_paid_call(tmp_path: Path) -> None:
    file = write_jsonl(tmp_path / "q.jsonl", [{"question": UNSERVED}, {"question": "   "}])
    with FakeOpenAIServer(lambda messages: "Answer: Paris") as server:
        r = run("solve", "--file", str(file), "--maker", "gpt-4o", "--base-url", server.url)
        assert r.exit_code == 2 and ":2: the question is empty" in r.stderr
        assert server.requests == []
    for blank in ("", "  \n "):
        with pytest.raises(Exception, match="non-empty"), LATM() as latm:
            latm.solve(blank)
        with pytest.raises(Exception, match="non-empty"), LATM() as latm:
            latm.solve_many(["Sort the following words alphabetically: List: b a", blank])


def test_failures_are_rows_counted_in_the_summary_and_the_exit_status(tmp_path: Path) -> None:
    file = write_jsonl(tmp_path / "q.jsonl", [{"question": QUESTIONS[0].question}, {"question": UNSERVED}])
    out = tmp_path / "a.jsonl"
    r = run("solve", "--file", str(file), "--out", str(out))
    assert r.exit_code == 1 and "1 answered, 1 failed" in r.stderr
    rows = rows_of(out.read_text())
    assert [(row["line"], row["ok"]) for row in rows] == [(1, True), (2, False)]
    assert rows[1]["answer"] is None and "no tool" in str(rows[1]["error"])


def test_labelled_input_keeps_its_labels_and_is_scored(tmp_path: Path) -> None:
    labelled = [{"question": q.question, "answer": q.answer} for q in QUESTIONS[:2]]
    labelled.append({"question": QUESTIONS[2].question, "answer": "a deliberately wrong label"})
    labelled.append({"question": QUESTIONS[3].question})  # no label: no `correct`
    file = write_jsonl(tmp_path / "q.jsonl", labelled)
    out = tmp_path / "a.jsonl"
    r = run("solve", "--file", str(file), "--out", str(out))
    assert r.exit_code == 0 and "kept as input_answer" in r.stderr  # the status is the run's, not the score's
    rows = rows_of(out.read_text())
    assert [row.get("correct") for row in rows] == [True, True, False, None]
    assert all(row["input_answer"] == row["answer"] for row in rows[:2])
    assert "accuracy 2/3 (66.7%)" in r.stderr and "by tool: sort_words 2/3" in r.stderr
    assert "by mode: direct 2/3" in r.stderr and "deliberately wrong label" in r.stderr  # the first mistakes


def test_another_field_holds_the_expected_answers(tmp_path: Path) -> None:
    file = write_jsonl(tmp_path / "q.jsonl", [{"question": q.question, "gold": q.answer} for q in QUESTIONS[:3]])
    r = run("solve", "--file", str(file), "--expected", "gold")
    assert r.exit_code == 0 and "accuracy 3/3 (100.0%)" in r.stderr
    assert [row["correct"] for row in rows_of(r.stdout)] == [True, True, True]


def test_an_interrupted_run_keeps_what_it_answered_and_resume_finishes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = write_jsonl(tmp_path / "q.jsonl", [{"question": q.question} for q in QUESTIONS])
    out = tmp_path / "a.jsonl"
    import latm.batch.local as local_engine

    real = local_engine.solve_local

    def interrupted(latm, questions, concurrency, on_rows):  # type: ignore[no-untyped-def]
        # Ctrl-C after three answers were written.
        sols = real(latm, questions[:3], concurrency, on_rows)
        assert len(sols) == 3
        raise KeyboardInterrupt

    monkeypatch.setattr(local_engine, "solve_local", interrupted)
    r = run("solve", "--file", str(file), "--out", str(out))
    assert r.exit_code == 3 and "--resume" in r.stderr
    assert not out.exists()  # a partial file is never taken for a whole one
    assert sorted(row["line"] for row in rows_of(Path(str(out) + ".partial").read_text())) == [1, 2, 3]
    monkeypatch.setattr(local_engine, "solve_local", real)
    r = run("solve", "--file", str(file), "--out", str(out), "--resume")
    assert r.exit_code == 0 and "3 question(s) already answered, 3 to go" in r.stderr
    rows = rows_of(out.read_text())
    assert [row["line"] for row in rows] == [1, 2, 3, 4, 5, 6]  # each once, in input order
    assert [row["answer"] for row in rows] == [q.answer for q in QUESTIONS]
    assert not Path(str(out) + ".partial").exists()


def test_a_resumed_run_counts_the_failed_rows_it_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    questions = [UNSERVED] + [q.question for q in QUESTIONS[:3]]
    file = write_jsonl(tmp_path / "q.jsonl", [{"question": q} for q in questions])
    out = tmp_path / "a.jsonl"
    import latm.batch.local as local_engine

    real = local_engine.solve_local

    def interrupted(latm, questions, concurrency, on_rows):  # type: ignore[no-untyped-def]
        real(latm, questions[:2], concurrency, on_rows)  # the unserved question failed, then Ctrl-C
        raise KeyboardInterrupt

    monkeypatch.setattr(local_engine, "solve_local", interrupted)
    assert run("solve", "--file", str(file), "--out", str(out)).exit_code == 3
    monkeypatch.setattr(local_engine, "solve_local", real)
    r = run("solve", "--file", str(file), "--out", str(out), "--resume")
    assert "2 answered, 0 failed" in r.stderr  # this run's own rows all answered...
    assert r.exit_code == 1 and "1 row(s) kept from the earlier run have no answer" in r.stderr  # ...not the file's
    assert [row["ok"] for row in rows_of(out.read_text())] == [False, True, True, True]


def test_rows_written_out_of_order_land_in_input_order_byte_for_byte(tmp_path: Path) -> None:
    from latm.batch.answer_file import AnswerWriter, done_keys

    out = tmp_path / "a.jsonl"
    kept = [json.dumps({"line": 3, "answer": "ça"}, ensure_ascii=False)]  # from a resumed run
    rows = [{"line": 4, "answer": "日本"}, {"line": 1, "answer": "x"}, {"line": 2, "answer": "ü\u2028"}]
    with AnswerWriter(out, kept=kept) as writer:
        writer.write_many(rows[:2])
        writer.write(rows[2])
        writer.finish(complete=True)
    expected = [json.loads(kept[0]), *rows]
    assert out.read_text(encoding="utf-8").split("\n") == [
        *(json.dumps(r, ensure_ascii=False) for r in sorted(expected, key=lambda r: r["line"])),
        "",
    ]
    assert writer.written == 3
    keys, again = done_keys(out, by_id=False)  # a resume reads the U+2028 row back as one row
    assert keys == {("line", n) for n in (1, 2, 3, 4)} and len(again) == 4


def test_solve_plan_answers_each_paragraph_with_its_tool() -> None:
    first, second = QUESTIONS[0], QUESTIONS[1]
    r = run("solve", "--plan", f"{first.question}\n\n{second.question}", "--json")
    data = json.loads(r.stdout)
    assert r.exit_code == 0 and data["mode"] == "split" and data["answer"] == f"{first.answer}\n{second.answer}"
    assert [c["answer"] for c in data["calls"]] == [first.answer, second.answer]
    assert run("solve", "--plan", "--file", "x.jsonl").exit_code == 2
