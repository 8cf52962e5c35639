"""Export and import: self-describing, checksummed, all-or-nothing, versioned."""

import json
from pathlib import Path

import pytest

from toolcache import CacheImportError, ToolCache, migrations
from toolcache import models as tc_models

from ..toolfactory import make_tool


@pytest.fixture
def filled(tmp_path) -> ToolCache:  # type: ignore[no-untyped-def]
    with ToolCache(tmp_path / "src") as c:
        c.put(make_tool(1))
        c.put(make_tool(2, task="dyck_languages", name="close"))
        yield c


def test_round_trip(filled: ToolCache, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "tools.json"
    assert filled.export(path) == 2
    doc = json.loads(path.read_text())
    assert doc["format"] == "latm-toolcache" and doc["count"] == 2 and len(doc["checksum"]) == 64
    with ToolCache(tmp_path / "dst") as dst:
        imported = dst.import_(path)
        assert {t.task for t in imported} == {"word_sorting", "dyck_languages"}
        assert dst.get("close").code == filled.get("close").code


def _broken(path, mutate) -> None:  # type: ignore[no-untyped-def]
    doc = json.loads(path.read_text())
    mutate(doc)
    path.write_text(json.dumps(doc))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda p: p.write_text(p.read_text()[:-200]), "not valid JSON"),
        (lambda p: _broken(p, lambda d: d["tools"][0].update(code="import os")), "checksum"),
        (lambda p: _broken(p, lambda d: d["tools"].pop()), "count"),
        (lambda p: p.write_text('{"examples": []}'), "not a LATM tool export"),
        (lambda p: _broken(p, lambda d: d.update(schema_version=99)), "newer than this LATM"),
    ],
    ids=["truncated", "edited", "missing-tool", "foreign", "newer-schema"],
)
def test_bad_files_fail_clearly_and_change_nothing(filled: ToolCache, tmp_path, damage, message) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "tools.json"
    filled.export(path)
    damage(path)
    with ToolCache(tmp_path / "dst") as dst:
        dst.put(make_tool(9, task="other"))
        with pytest.raises(CacheImportError, match=message):
            dst.import_(path)
        assert [t.task for t in dst.list()] == ["other"]


def test_missing_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with ToolCache(tmp_path) as c, pytest.raises(CacheImportError, match="does not exist"):
        c.import_(tmp_path / "nope.json")


def test_verify_needs_a_verifier_and_quarantines_rejects(filled: ToolCache, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "tools.json"
    filled.export(path)
    with ToolCache(tmp_path / "dst") as dst:
        with pytest.raises(CacheImportError, match="verifier"):
            dst.import_(path, verify=True)
        tools = dst.import_(path, verify=lambda t: t.task == "word_sorting")
        assert {t.task: t.status for t in tools} == {
            "word_sorting": "verified",
            "dyck_languages": "quarantined",
        }


def test_older_schema_is_migrated(filled: ToolCache, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "tools.json"
    filled.export(path)
    # Pretend this code knows schema 2, where "description" became required text.
    monkeypatch.setattr(tc_models, "SCHEMA_VERSION", 2)
    monkeypatch.setattr(migrations, "SCHEMA_VERSION", 2)
    monkeypatch.setattr("toolcache.store.SCHEMA_VERSION", 2)
    monkeypatch.setitem(migrations.MIGRATIONS, 1, lambda r: {**r, "description": r["description"] + " (migrated)"})
    with ToolCache(tmp_path / "dst") as dst:
        tools = dst.import_(path)
    assert all(t.description.endswith("(migrated)") and t.schema_version == 2 for t in tools)


def test_missing_migration_is_a_clear_error(filled: ToolCache, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "tools.json"
    filled.export(path)
    monkeypatch.setattr(migrations, "SCHEMA_VERSION", 2)
    monkeypatch.setattr("toolcache.store.SCHEMA_VERSION", 2)
    with ToolCache(tmp_path / "dst") as dst, pytest.raises(CacheImportError, match="no migration"):
        dst.import_(path)


def test_an_import_never_brings_back_a_tool_this_cache_retired(tmp_path: Path) -> None:
    with ToolCache(tmp_path / "team") as team:
        shared = team.put(make_tool(1))
        team.export(tmp_path / "bundle.json")
    with ToolCache(tmp_path / "mine") as mine:
        mine.put(make_tool(1))
        mine.set_status(shared.id, "retired")  # `latm cache rm` here
        for trust in (False, True):
            mine.import_(tmp_path / "bundle.json", trust=trust)
            assert mine.get(shared.id).status == "retired"
        assert mine.put(make_tool(1), judged_here=True).status == "verified"  # made and judged here: it answers


def test_an_import_of_code_this_cache_refused_comes_in_quarantined(tmp_path: Path) -> None:
    from toolcache.digest import code_digest

    with ToolCache(tmp_path / "team") as team:
        shared = team.put(make_tool(1))
        team.export(tmp_path / "bundle.json")
    with ToolCache(tmp_path / "mine") as mine:
        mine.refuse("word_sorting", [code_digest(shared.code + "\n# a comment\n")], "caught in use: a canary failed")
        for trust in (False, True):
            (tool,) = mine.import_(tmp_path / "bundle.json", trust=trust)
            assert tool.status == "quarantined" and "refused its code before" in (tool.quarantine.reason or "")
