"""A damaged tool cache, as a user meets it: every command gives a clean result plus a warning
naming the damaged record, or one `error:` line naming the file and the fix; never a traceback.
`latm cache doctor` finds the damage, `--fix` moves it aside and loses no readable tool."""

import json
import os
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from latm import cli as latm_cli
from latm.cli import main
from toolcache import BadRecordWarning, CacheUnreadable, RecordUnreadable, Tool, ToolCache, default_directory
from toolcache.doctor import diagnose, repair

from ..toolfactory import make_tool

SOLVE = "Sort the following words alphabetically: List: b a"


def latm(*args: str) -> Result:
    """One CLI run, as in a fresh process: every warning shows (none was seen before)."""
    getattr(latm_cli, "_shown_warnings", set()).clear()
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        return CliRunner().invoke(main, list(args))


def flat(text: str) -> str:
    """Output with rich's line wrapping undone."""
    return " ".join(text.split())


def assert_clean(r: Result) -> None:
    assert "Traceback" not in r.output and "internal error" not in r.output, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)


# -- a cache with three tools, then one kind of damage --------------------------------------------


def three_tools() -> tuple[Tool, Tool, Tool]:
    """word_sorting v1 and v2 (v2 current), and a dyck_languages tool, with some usage."""
    with ToolCache() as c:
        v1, v2 = c.put(make_tool(1)), c.put(make_tool(2))
        other = c.put(make_tool(3, task="dyck_languages", name="close_brackets"))
        c.record_use(v1.id, ok=True, count=2)
        return c.get(v1.id), c.get(v2.id), c.get(other.id)


def db_file() -> Path:
    return default_directory() / "cache.db"


def garbage_db(bad: Tool) -> None:
    db_file().write_bytes(os.urandom(1000) + b"not a database" * 500)


def truncated_db(bad: Tool) -> None:  # the last page is lost: what is before it can be salvaged
    size = db_file().stat().st_size
    with db_file().open("r+b") as fh:
        fh.truncate(size - 4096)


def half_db(bad: Tool) -> None:
    size = db_file().stat().st_size
    with db_file().open("r+b") as fh:
        fh.truncate(size // 2)


def file_not_dir(bad: Tool) -> None:
    shutil.rmtree(default_directory())
    default_directory().write_text("I am a file, not a cache directory\n")


def cut_record(bad: Tool) -> None:
    with ToolCache() as c:
        raw = c._db.get(f"tool:{bad.id}")
        c._db.set(f"tool:{bad.id}", raw[: len(raw) // 2])


def edited_record(bad: Tool) -> None:
    with ToolCache() as c:
        record = json.loads(c._db.get(f"tool:{bad.id}"))
        record["code"] += "\n# edited by hand\n"
        c._db.set(f"tool:{bad.id}", json.dumps(record))


RECORD_DAMAGE: dict[str, Callable[[Tool], None]] = {"cut_record": cut_record, "edited_record": edited_record}
FILE_DAMAGE: dict[str, Callable[[Tool], None]] = {
    "garbage_db": garbage_db,
    "truncated_db": truncated_db,
    "half_db": half_db,
    "file_not_dir": file_not_dir,
}
ALL_DAMAGE = {**RECORD_DAMAGE, **FILE_DAMAGE}


@pytest.fixture(params=sorted(ALL_DAMAGE))
def damaged(request: pytest.FixtureRequest) -> tuple[str, Tool, Tool, Tool]:
    """(kind, good v1, the damaged v2, good other tool)."""
    v1, v2, other = three_tools()
    ALL_DAMAGE[request.param](v2)
    return request.param, v1, v2, other


def raw_of(tool_id: str) -> str:
    with ToolCache() as c:
        return c._db.get(f"tool:{tool_id}")


# -- every command: a clean result plus a warning, or one clean error line -------------------------


def test_every_command_is_clean_on_damage(damaged: tuple[str, Tool, Tool, Tool], tmp_path: Path) -> None:
    kind, v1, bad, other = damaged
    out = tmp_path / "export.json"
    runs = {
        "ls": latm("cache", "ls"),
        "show": latm("cache", "show", other.id[:10]),
        "show_task": latm("cache", "show", "word_sorting", "--json"),
        "export": latm("cache", "export", str(out)),
        "stats": latm("cache", "stats"),
        "solve": latm("solve", SOLVE),
    }
    for name, r in runs.items():
        assert_clean(r)
        text = flat(r.output)
        if kind in RECORD_DAMAGE:
            if name != "solve":
                assert r.exit_code == 0, (name, r.output)
            if name == "show":  # by id: it never reads the damaged record, nor warns about it
                continue
            assert f"warning: the tool record of tool {bad.short_id} (key tool:{bad.id})" in text, (name, text)
            assert "`latm cache doctor --fix` moves it aside" in text
            assert text.count(f"key tool:{bad.id}") == 1, text  # one warning per record per run
        else:
            assert r.exit_code == 1, (name, r.output)
            errors = [line for line in r.output.splitlines() if line.startswith("error:")]
            assert len(errors) == 1, r.output
            named = str(default_directory()) if kind == "file_not_dir" else str(db_file())
            assert named in text and "`latm cache doctor --fix`" in text and "LATM_CACHE_DIR" in text, text
    if kind in RECORD_DAMAGE:
        assert other.short_id in runs["ls"].output and v1.short_id in runs["ls"].output
        listed = latm("cache", "ls", "--json")
        assert sorted(row["id"] for row in json.loads(listed.stdout)) == sorted([v1.short_id, other.short_id])
        assert "close_brackets" in runs["show"].output
        assert json.loads(runs["show_task"].stdout)["id"] == v1.id  # the newest readable version
        exported = json.loads(out.read_text())
        assert sorted(t["id"] for t in exported["tools"]) == sorted([v1.id, other.id])
        assert "2 tool(s) for 2 task(s)" in runs["stats"].output
        shown_bad = latm("cache", "show", bad.id)
        assert_clean(shown_bad)
        assert shown_bad.exit_code == 1 and "unreadable" in shown_bad.output
        assert "error: the tool record of tool" in flat(shown_bad.output)
    else:
        assert not out.exists()


def test_damaged_record_in_the_library(tmp_path: Path) -> None:
    with ToolCache(tmp_path) as c:
        v1, v2 = c.put(make_tool(1)), c.put(make_tool(2))
        other = c.put(make_tool(3, task="dyck_languages", name="close_brackets"))
        c._db.set(f"tool:{v2.id}", c._db.get(f"tool:{v2.id}")[:100])
    with ToolCache(tmp_path) as c, warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        assert [t.id for t in c.list()] == [other.id, v1.id]
        assert c.find(task="word_sorting") == [c.get(v1.id)]
        assert c.current("word_sorting").id == v1.id  # type: ignore[union-attr]
        assert c.get("word_sorting").id == v1.id and c.get("sort_words").id == v1.id
        assert [t.id for t in c.history("word_sorting")] == [v1.id]
        assert c.tasks() == ["dyck_languages", "word_sorting"] and c.stats()["tools"] == 2
        assert c.export(tmp_path / "out.json") == 2
        for call in (lambda: c.get(v2.id), lambda: c.resolve(v2.id), lambda: c.get(v2.id[:8])):
            with pytest.raises(RecordUnreadable, match=f"{v2.short_id}.*unreadable.*not valid JSON.*doctor --fix"):
                call()
        c.record_use(v1.id, ok=True)  # the rest still works, writing included
        c.put(make_tool(4))
        assert c.get("word_sorting").version == 3
    bad = [w for w in seen if issubclass(w.category, BadRecordWarning)]
    assert len(bad) == 1, [str(w.message) for w in bad]  # once per instance
    assert f"tool {v2.short_id} (key tool:{v2.id})" in str(bad[0].message)
    with ToolCache(tmp_path) as c, pytest.warns(BadRecordWarning, match=v2.short_id):
        c.list()  # a new instance warns again


def test_damaged_usage_loses_only_the_counts(tmp_path: Path) -> None:
    with ToolCache(tmp_path) as c:
        t = c.put(make_tool(1))
        c.record_use(t.id, ok=True, count=5)
        c._db.set(f"usage:{t.id}", '{"uses": 5, "dire')
    with ToolCache(tmp_path) as c, pytest.warns(BadRecordWarning, match=f"usage record of tool {t.short_id}"):
        assert c.get(t.id).usage.uses == 0
    report = repair(tmp_path)
    assert report.ok and [b.key for b in report.bad_records] == [f"usage:{t.id}"]
    lines = [json.loads(x) for x in Path(report.quarantine_file or "").read_text().splitlines()]
    assert lines == [{"key": f"usage:{t.id}", "raw": '{"uses": 5, "dire', "reason": lines[0]["reason"]}]
    with ToolCache(tmp_path) as c:
        assert c.get(t.id).id == t.id


def test_unreadable_database_is_one_error_at_open(tmp_path: Path) -> None:
    (tmp_path / "cache.db").write_bytes(b"\x00garbage" * 2000)
    with pytest.raises(CacheUnreadable, match=r"cache\.db is unreadable.*doctor --fix.*LATM_CACHE_DIR"):
        ToolCache(tmp_path)
    (tmp_path / "file").write_text("x")
    with pytest.raises(CacheUnreadable, match="is a file, not a directory"):
        ToolCache(tmp_path / "file")
    with pytest.raises(CacheUnreadable, match="is a file"):
        ToolCache(tmp_path / "file" / "below")


# -- the doctor ----------------------------------------------------------------------------------


def test_doctor_on_a_healthy_cache() -> None:
    v1, v2, other = three_tools()
    r = latm("cache", "doctor")
    assert_clean(r)
    assert r.exit_code == 0 and "healthy: 3 readable tool(s) for 2 task(s)" in r.output
    data = json.loads(latm("cache", "doctor", "--json").output)
    assert data["healthy"] and data["ok"] and len(data["tools"]) == 3
    fixed = latm("cache", "doctor", "--fix")
    assert fixed.exit_code == 0 and "healthy" in fixed.output
    assert not list(default_directory().glob("quarantine-*"))
    with ToolCache() as c:
        assert [t.id for t in c.list()] == [other.id, v1.id, v2.id]


def test_doctor_on_no_cache_at_all() -> None:
    shutil.rmtree(default_directory())
    r = latm("cache", "doctor")
    assert r.exit_code == 0 and "healthy" in r.output and not default_directory().exists()


def test_doctor_reports_then_fixes(damaged: tuple[str, Tool, Tool, Tool]) -> None:
    kind, v1, bad, other = damaged
    bad_raw = raw_of(bad.id) if kind in RECORD_DAMAGE else None
    salvageable = {t.id for t in diagnose(default_directory()).tools}

    found = latm("cache", "doctor")
    assert_clean(found)
    assert found.exit_code == 1, found.output
    text = flat(found.output)
    assert "run `latm cache doctor --fix`" in text
    if kind in RECORD_DAMAGE:
        assert f"damaged record tool:{bad.id} (tool {bad.short_id})" in text
        assert "index: task:word_sorting lists" in text
    else:
        assert "problem: the " in text

    fixed = latm("cache", "doctor", "--fix")
    assert_clean(fixed)
    assert fixed.exit_code == 0, fixed.output
    assert "repaired:" in fixed.output

    again = latm("cache", "doctor", "--json")
    assert again.exit_code == 0 and json.loads(again.output)["healthy"], again.output
    directory = default_directory()
    with ToolCache() as c, warnings.catch_warnings():
        warnings.simplefilter("error")  # no damaged record is left to warn about
        held = {t.id: t for t in c.list()}
        if kind in RECORD_DAMAGE:
            assert set(held) == {v1.id, other.id}
            assert held[v1.id] == v1 and held[other.id] == other  # usage included
            assert c.get("word_sorting").id == v1.id
            assert [t.id for t in c.history("word_sorting")] == [v1.id]
        else:
            assert set(held) == salvageable
            assert all(held[t.id] == t for t in (v1, bad, other) if t.id in held)
        assert ls_ids() == sorted(held)
    if kind in RECORD_DAMAGE:
        (quarantine,) = directory.glob("quarantine-*.jsonl")
        lines = [json.loads(x) for x in quarantine.read_text().splitlines()]
        assert {"key", "raw", "reason"} <= set(lines[0])
        assert lines[0]["key"] == f"tool:{bad.id}" and lines[0]["raw"] == bad_raw and lines[0]["reason"]
        assert f"usage:{bad.id}" in {x["key"] for x in lines}  # its usage went with it, not lost
    elif kind == "file_not_dir":
        assert directory.is_dir()
        (moved,) = directory.parent.glob(f"{directory.name}.damaged-*")
        assert moved.read_text().startswith("I am a file")
    else:
        (moved,) = directory.glob("cache.db.damaged-*")
        assert moved.stat().st_size > 0
    if kind == "truncated_db":
        assert salvageable, "the pages before the cut hold tools"
    if kind in FILE_DAMAGE:
        assert f"salvaged {len(salvageable)} tool(s) into a fresh database" in fixed.output


def ls_ids() -> list[str]:
    r = latm("cache", "ls", "--json")
    assert r.exit_code == 0 and "warning" not in r.output, r.output
    full = {t.short_id: t.id for t in ToolCache().list()}
    return sorted(full[row["id"]] for row in json.loads(r.stdout))


def test_truncated_database_salvages_what_sqlite_still_reads() -> None:
    _, v2, _ = three_tools()
    with ToolCache() as c:
        for i in range(4, 12):
            c.put(make_tool(i, task=f"task{i % 3}"))
        every = {t.id: t for t in c.list()}
    truncated_db(v2)
    report = repair(default_directory())
    assert report.ok and report.fixed and report.salvaged == len(report.tools) > len(every) // 2
    with ToolCache() as c:
        held = c.list()
    assert held and all(every[t.id] == t for t in held)  # salvaged whole: records, versions, usage
    for task in {t.task for t in held}:
        with ToolCache() as c:
            versions = [t.version for t in c.history(task)]
        assert versions == sorted(versions)


def test_damaged_index_is_rebuilt_in_version_order_and_printed_verbatim() -> None:
    v1, v2, _ = three_tools()
    with ToolCache() as c:
        c._db.set("task:word_sorting", json.dumps([v2.id, v1.id, "f" * 64]))  # wrong order, a stray id
        c._db.set("name:[bold]x[/bold]", "not json")
    with ToolCache() as c, pytest.warns(BadRecordWarning, match=r"index record name:\[bold\]x"):
        assert c._index("name:[bold]x[/bold]") == []  # rebuilt on the fly from the tool records
    r = latm("cache", "doctor")
    assert r.exit_code == 1 and "damaged record name:[bold]x[/bold]: not valid JSON" in flat(r.output)
    assert "index: task:word_sorting lists ffffffffffff, with no readable record" in flat(r.output)
    fixed = latm("cache", "doctor", "--fix")
    assert fixed.exit_code == 0 and "rebuilt task:word_sorting (2 tool(s))" in fixed.output
    with ToolCache() as c:
        assert c._db.get("task:word_sorting") == json.dumps([v1.id, v2.id], separators=(",", ":"))
        assert c._db.get("name:[bold]x[/bold]") is None
        assert [t.version for t in c.history("word_sorting")] == [1, 2]
    assert diagnose(default_directory()).healthy


def test_a_file_above_the_cache_directory_is_named_and_left_alone(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "blocker").write_text("mine")
    monkeypatch.setenv("LATM_CACHE_DIR", str(tmp_path / "blocker" / "tools"))
    r = latm("cache", "ls")
    assert_clean(r)
    assert r.exit_code == 1 and f"{tmp_path / 'blocker'} is a file" in flat(r.output) and "LATM_CACHE_DIR" in r.output
    for args in (["cache", "doctor"], ["cache", "doctor", "--fix"]):
        r = latm(*args)
        assert_clean(r)
        assert r.exit_code == 1 and "is a file; point LATM_CACHE_DIR elsewhere" in flat(r.output)
    assert (tmp_path / "blocker").read_text() == "mine"
