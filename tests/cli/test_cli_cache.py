"""`latm cache ...` through CliRunner: tables for people, JSON for scripts, clear errors."""

import json

import pytest
from click.testing import CliRunner

from latm.cli import main
from toolcache import ToolCache

from ..toolfactory import make_tool


def latm(*args: str) -> "CliRunner.invoke":
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def two_tools() -> list[str]:
    with ToolCache() as c:  # LATM_CACHE_DIR points at a private dir (conftest)
        a = c.put(make_tool(1))
        b = c.put(make_tool(2))
        c.record_use(b.id, ok=True, mode="direct", count=3)
        c.record_use(b.id, ok=True, mode="llm", tokens=100, cost_usd=0.0002)
        return [a.id, b.id]


def test_ls_json(two_tools: list[str]) -> None:
    r = latm("cache", "ls", "--json")
    rows = json.loads(r.output)
    assert r.exit_code == 0 and [row["version"] for row in rows] == [1, 2]
    assert rows[1]["uses"] == 4 and rows[1]["direct_share"] == 0.75
    assert rows[0]["break_even_uses"] == 5


def test_ls_table_and_filters(two_tools: list[str]) -> None:
    r = latm("cache", "ls")
    assert r.exit_code == 0 and "sort_words" in r.output and "word_sorting" in r.output
    assert json.loads(latm("cache", "ls", "--task", "nope", "--json").output) == []
    assert len(json.loads(latm("cache", "ls", "--status", "verified", "--json").output)) == 2


def test_show_with_code_and_json(two_tools: list[str]) -> None:
    r = latm("cache", "show", "word_sorting", "--code")
    assert r.exit_code == 0 and "def sort_words" in r.output and "1/1 passed" in r.output
    data = json.loads(latm("cache", "show", two_tools[0][:10], "--json").output)
    assert data["id"] == two_tools[0] and "trace" not in data["provenance"]


def test_show_unknown_is_a_clear_error_not_a_traceback(two_tools: list[str]) -> None:
    r = latm("cache", "show", "no-such-tool")
    assert r.exit_code == 1 and "no tool matches" in r.output and "Traceback" not in r.output


def test_a_ref_in_an_empty_cache_says_the_cache_is_empty() -> None:
    r = latm("cache", "rm", "nosuch", "--yes")
    assert r.exit_code == 1 and "no tool matches 'nosuch' (the cache holds no tools)" in r.output


def test_a_long_question_shown_cut_says_it_was_cut() -> None:
    from latm.text import clip

    question = "Sort the following words alphabetically: List: " + "word " * 40
    shown = clip(question, 100)
    assert shown.startswith(question[:100]) and shown.endswith(f"… (+{len(question) - 100} chars)")
    assert clip("short", 100) == "short"


def test_history_marks_current(two_tools: list[str]) -> None:
    rows = json.loads(latm("cache", "history", "word_sorting", "--json").output)
    assert [(r["version"], r["current"]) for r in rows] == [(1, False), (2, True)]


def test_rm_then_show_says_removed(two_tools: list[str]) -> None:
    assert latm("cache", "rm", two_tools[1], "--yes", "--purge").exit_code == 0
    r = latm("cache", "show", two_tools[1])
    assert r.exit_code == 1 and "was removed" in r.output
    assert latm("cache", "show", "word_sorting", "--json").exit_code == 0  # v1 is current again


def test_rm_asks_first_and_keeps_the_tool_in_history(two_tools: list[str]) -> None:
    refused = CliRunner().invoke(main, ["cache", "rm", two_tools[1]], input="n\n")
    assert refused.exit_code == 1 and "remove sort_words v2" in refused.output
    assert json.loads(latm("cache", "show", two_tools[1], "--json").output)["status"] == "verified"
    done = CliRunner().invoke(main, ["cache", "rm", two_tools[1]], input="y\n")
    assert done.exit_code == 0 and "kept in history" in done.output
    history = json.loads(latm("cache", "history", "word_sorting", "--json").output)
    assert [(r["version"], r["status"], r["current"]) for r in history] == [
        (1, "verified", True),
        (2, "retired", False),
    ]


def test_export_import_round_trip(two_tools: list[str], tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "tools.json"
    assert json.loads(latm("cache", "export", str(out), "--json").output)["exported"] == 2
    monkeypatch.setenv("LATM_CACHE_DIR", str(tmp_path / "other"))
    r = latm("cache", "import", str(out), "--json")
    assert r.exit_code == 0 and len(json.loads(r.output)) == 2
    out.write_text(out.read_text()[:100])
    r = latm("cache", "import", str(out))
    assert r.exit_code == 1 and "not valid JSON" in r.output


def test_stats(two_tools: list[str]) -> None:
    data = json.loads(latm("cache", "stats", "--json").output)
    assert data["tools"] == 2 and data["uses"] == 4 and data["llm_uses"] == 1
    assert "saved" in latm("cache", "stats").output


def test_rm_reprobes_the_other_solvers_with_the_removed_tasks_questions() -> None:
    # A loose solver of another task that takes word-sorting questions and answers them backwards: while
    # the word-sorting tool was there the two disagreed (no direct answer); once it is removed, the loose
    # one would answer them alone, so `rm` quarantines it.
    from tasks import get_task
    from toolcache import Entry, Evidence, HeldOut, Tool, UseCase, Verification

    reference = get_task("word_sorting").reference
    shown = get_task("word_sorting").generate(3, seed=2)
    proper = Tool(
        name="sort_words",
        task="word_sorting",
        entry=Entry(name="sort_words", signature="sort_words(words)"),
        code=reference.code,
        direct=reference.direct,
        use_cases=[UseCase(question=e.question, call=reference.call_for(e.question), answer=e.answer) for e in shown],
        verification=Verification(
            passed=3,
            total=3,
            held_out=HeldOut(passed=300, total=300, source="generated", judged_by="direct solver"),
            evidence=Evidence(held_out=300, batch_limit=300),
        ),
    )
    with ToolCache() as c:
        kept = c.put(proper)
        backwards = c.put(
            Tool.model_validate(
                {
                    **proper.model_dump(),
                    "id": "",
                    "task": "alphabet_backwards",
                    "direct": (
                        "def solve(question):\n    prefix = 'Sort the following words alphabetically: List: '\n"
                        "    if not question.startswith(prefix):\n        raise ValueError('not mine')\n"
                        "    return ' '.join(sorted(question[len(prefix):].split(), reverse=True))\n"
                    ),
                }
            )
        )
    r = latm("cache", "rm", kept.id, "--yes", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["quarantined"].keys() == {backwards.short_id}
    with ToolCache() as c:
        assert c.get(backwards.id).status == "quarantined"


def test_a_removed_tool_made_again_answers_again(_process_backend: None) -> None:
    def demo() -> dict:  # type: ignore[type-arg]
        r = latm("demo", "--n", "3", "--task", "word_sorting", "--json")
        assert r.exit_code == 0, r.output
        return json.loads(r.output)

    demo()
    assert latm("cache", "rm", "word_sorting", "--yes").exit_code == 0
    again = latm("cache", "rm", "word_sorting", "--yes")
    assert again.exit_code == 1 and "is already retired; --purge deletes its record" in again.output
    made = demo()  # the same code made and judged again: it answers again, with its history
    assert made["made"] == 1 and made["total"]["accuracy"] == 1.0 and made["total"]["direct_share"] == 1.0
    rows = json.loads(latm("cache", "ls", "--json").output)
    assert [(r["name"], r["status"], r["uses"]) for r in rows] == [("sort_words", "verified", 6)]


def test_an_import_brings_none_of_the_exporters_uses(two_tools: list[str], tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "tools.json"
    assert latm("cache", "export", str(out), "--json").exit_code == 0
    monkeypatch.setenv("LATM_CACHE_DIR", str(tmp_path / "other"))
    assert latm("cache", "import", str(out), "--json").exit_code == 0
    rows = json.loads(latm("cache", "ls", "--json").output)
    assert [row["uses"] for row in rows] == [0, 0]  # the exporter's 4 uses stay the exporter's
    shown = latm("cache", "show", rows[1]["id"]).output  # ...kept as where it came from
    assert "imported: in the cache that exported it, 4 uses (3 direct, 1 LLM" in shown and "usage 0 uses" in shown


def test_show_code_prints_it_verbatim_to_copy(two_tools: list[str]) -> None:
    r = latm("cache", "show", two_tools[0], "--code")
    with ToolCache() as c:
        code = c.get(two_tools[0]).code
    assert r.exit_code == 0 and code.rstrip() in r.output  # no line numbers, no trailing padding
    assert all(line == line.rstrip() for line in r.output.splitlines() if line.startswith("def "))
