"""`latm make`, `latm solve` and `latm demo` as a user types them (CliRunner)."""

import json
import os
from pathlib import Path

from click.testing import CliRunner

from latm.cli import main
from latm.models.demo import maker_reply
from latm.testing import FakeOpenAIServer
from tasks import get_task


def latm(*args: str) -> "CliRunner.invoke":
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def write_jsonl(path: Path, rows: list[object]) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    return path


def test_make_against_an_openai_compatible_server(tmp_path: Path) -> None:
    examples = get_task("tracking_shuffled_objects_five_objects").generate(6, seed=2)
    file = write_jsonl(tmp_path / "ex.jsonl", [e.model_dump() for e in examples])
    with FakeOpenAIServer(maker_reply) as server:
        r = latm(
            "make",
            "--task",
            "tracking_shuffled_objects_five_objects",
            "--examples",
            str(file),
            "--maker",
            "gpt-4o",
            "--base-url",
            server.url,
            "--json",
        )
    data = json.loads(r.output)
    assert r.exit_code == 0 and data["ok"] and data["tool"]["direct"]
    assert data["attempts"] == {"propose": 1, "verify": 1, "wrap": 1, "direct": 1}
    assert data["usage"]["calls"] == 4 and data["usage"]["cost_usd"] > 0
    shown = json.loads(latm("cache", "ls", "--json").output)
    assert [t["task"] for t in shown] == ["tracking_shuffled_objects_five_objects"]


def test_make_reports_bad_input_clearly(tmp_path: Path) -> None:
    bad = write_jsonl(tmp_path / "bad.jsonl", [{"q": 1}])
    r = CliRunner().invoke(main, ["make", "--task", "t", "--examples", str(bad), "--maker", "gpt-4o"])
    assert r.exit_code == 2 and "question" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(main, ["make", "--task", "t", "--examples", str(tmp_path / "none.jsonl")])
    assert r.exit_code == 2 and "does not exist" in r.output


def test_make_without_a_model_says_what_to_set_and_writes_nothing(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("LATM_MAKER", raising=False)
    examples = [
        {"question": f"What is {a} plus {b}?", "answer": str(a + b)}
        for a, b in zip(range(9), range(3, 12), strict=True)
    ]
    file = write_jsonl(tmp_path / "add.jsonl", examples)
    r = CliRunner().invoke(main, ["make", "--task", "addition", "--examples", str(file)])
    assert r.exit_code == 2 and "needs a maker model: --maker M (with --base-url URL" in r.output  # nothing paid
    assert "?" not in r.output.splitlines()[0]  # no placeholder where a model name goes
    assert not (Path(os.environ["LATM_CACHE_DIR"]) / "makings").exists()


def test_demo_twice_makes_nothing_the_second_time() -> None:
    first = json.loads(latm("demo", "--n", "5", "--json").output)
    assert first["offline"] and first["made"] == 8 and first["total"]["accuracy"] == 1.0
    assert first["total"]["llm_calls"] == 0 and first["total"]["direct_share"] == 1.0
    second = json.loads(latm("demo", "--n", "5", "--json").output)
    assert second["made"] == 0 and second["reused"] == 8 and second["total"]["cost_usd"] == 0


def test_demo_table_says_it_is_offline() -> None:
    r = latm("demo", "--n", "2", "--task", "word_sorting")
    assert r.exit_code == 0 and r.output.startswith("offline demo") and "word_sorting" in r.output


def test_solve_file_passes_fields_through_and_skips_malformed_lines(tmp_path: Path) -> None:
    latm("demo", "--n", "1", "--json")  # fills the cache with the demo tools
    exs = get_task("dyck_languages").generate(3, seed=6)
    file = write_jsonl(
        tmp_path / "q.jsonl",
        [
            {"question": exs[0].question, "id": 1},
            "{not json",
            {"question": exs[1].question, "id": 2, "extra": "kept"},
            {"no_question": True},
            {"question": exs[2].question, "id": 3},
        ],
    )
    out = tmp_path / "a.jsonl"
    r = CliRunner().invoke(main, ["solve", "--file", str(file), "--out", str(out)])
    assert r.exit_code == 1  # every question answered, but two lines could not be read
    assert "2 input line(s) could not be read" in r.stderr
    assert ":2: not valid JSON" in r.stderr and ':4: no "question" text' in r.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [row["id"] for row in rows] == [1, 2, 3] and rows[1]["extra"] == "kept"
    assert [row["answer"] for row in rows] == [e.answer for e in exs]
    assert all(row["mode"] == "direct" and row["tool"] == "complete_dyck" and row["tokens"] == 0 for row in rows)


def test_solve_one_question_json() -> None:
    latm("demo", "--n", "1", "--json")
    ex = get_task("word_sorting").generate(1, seed=77)[0]
    data = json.loads(latm("solve", ex.question, "--json").output)
    assert data["answer"] == ex.answer and data["mode"] == "direct" and data["cost_usd"] == 0


def test_solve_needs_a_question_or_a_file() -> None:
    r = CliRunner().invoke(main, ["solve"])
    assert r.exit_code == 2 and "QUESTION or --file" in r.output


def test_an_interrupted_make_resumes_without_paying_again_for_what_it_had(tmp_path: Path) -> None:
    import _thread

    examples = get_task("word_sorting").generate(6, seed=4)
    file = write_jsonl(tmp_path / "ex.jsonl", [e.model_dump() for e in examples])
    calls: list[int] = []

    def interrupting(messages: list[dict[str, str]]) -> str:  # Ctrl-C while the third reply is awaited
        calls.append(1)
        if len(calls) == 3:
            _thread.interrupt_main()
        return maker_reply(messages)

    args = ["make", "--task", "word_sorting", "--examples", str(file), "--maker", "gpt-4o"]
    with FakeOpenAIServer(interrupting) as server:
        first = CliRunner().invoke(main, [*args, "--base-url", server.url])
    assert first.exit_code == 3 and "--resume" in first.output, first.output
    journal = Path(os.environ["LATM_CACHE_DIR"]) / "makings" / "word_sorting"  # inside the cache's directory
    state = json.loads((journal / "state.json").read_text())
    assert state["stopped"] == "interrupted" and state["tokens_spent"] > 0
    answered_before = len(calls)
    with FakeOpenAIServer(maker_reply) as server:
        second = latm(*args, "--base-url", server.url, "--resume", "--json")
        asked_again = len(server.requests)
    data = json.loads(second.output)
    assert second.exit_code == 0 and data["ok"]
    assert asked_again <= 4 - (answered_before - 1)  # the replies it had came back free


def test_a_second_make_says_it_reuses_the_tool_and_remake_makes_a_new_version(tmp_path: Path) -> None:
    examples = get_task("word_sorting").generate(6, seed=7)
    file = write_jsonl(tmp_path / "ex.jsonl", [e.model_dump() for e in examples])
    with FakeOpenAIServer(maker_reply) as server:
        args = [
            "make",
            "--task",
            "word_sorting",
            "--examples",
            str(file),
            "--maker",
            "gpt-4o",
            "--base-url",
            server.url,
        ]
        assert latm(*args).exit_code == 0
        again = latm(*args)
        assert again.exit_code == 0 and "reusing it (--remake makes a new version)" in again.output
        calls = len(server.requests)
        remade = latm(*args, "--remake")
        assert remade.exit_code == 0 and len(server.requests) > calls
    history = json.loads(latm("cache", "history", "word_sorting", "--json").output)
    assert len(history) >= 1 and history[-1]["current"]


def test_bad_input_files_and_endpoints_are_said_in_plain_words(tmp_path: Path) -> None:
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes(b'{"question": "caf\xe9?", "answer": "x"}\n')
    r = CliRunner().invoke(main, ["make", "--task", "t", "--examples", str(latin), "--maker", "m"])
    assert r.exit_code == 2 and "is not UTF-8 text (it holds the byte" in r.output and "bug in LATM" not in r.output
    r = CliRunner().invoke(main, ["solve", "hi", "--maker", "m", "--base-url", "not-a-url"])
    assert r.exit_code != 0 and "is not a URL" in r.output and "API key" not in r.output


def test_sandbox_run_warns_when_the_process_backend_is_chosen(tmp_path: Path) -> None:
    from sandbox.cli import main as sandbox_run

    program = tmp_path / "p.py"
    program.write_text("print(6 * 7)\n")
    r = CliRunner().invoke(sandbox_run, ["--backend", "process", str(program)])
    assert r.exit_code == 0 and "42" in r.stdout and "warning: --backend process" in r.stderr


def test_make_against_a_server_that_does_not_answer_names_the_connection(tmp_path: Path) -> None:
    file = write_jsonl(tmp_path / "ex.jsonl", [e.model_dump() for e in get_task("word_sorting").generate(6)])
    args = ["make", "--task", "word_sorting", "--examples", str(file), "--maker", "m"]
    r = CliRunner().invoke(main, [*args, "--base-url", "http://127.0.0.1:9/v1"], env={"LATM_TIMEOUT": "2"})
    assert r.exit_code == 1 and "model call failed" in r.output and "0 sampled" not in r.output
