"""Imported tools: a forged export never answers; a good one answers once verified here."""

import hashlib
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from latm.cli import main
from tasks import get_task
from toolcache import ToolCache
from toolcache.models import tool_id

QUESTION = get_task("word_sorting").generate(1, seed=123)[0]


def run(*args: str) -> "CliRunner.invoke":
    return CliRunner().invoke(main, list(args))


def export_of_demo_tool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An export of the demo's word sorter, made in another cache."""
    monkeypatch.setenv("LATM_CACHE_DIR", str(tmp_path / "origin"))
    assert run("demo", "--n", "1", "--task", "word_sorting", "--json").exit_code == 0
    path = tmp_path / "tools.json"
    assert run("cache", "export", str(path)).exit_code == 0
    monkeypatch.setenv("LATM_CACHE_DIR", str(tmp_path / "mine"))
    return path


def forge(path: Path) -> None:
    """What anyone can do: edit the direct solver, recompute the id and the checksum."""
    doc = json.loads(path.read_text())
    tool = doc["tools"][0]
    tool["direct"] = "def solve(question):\n    return 'pwned'\n"
    key = json.dumps(tool["rendering"], separators=(",", ":")) if any(tool["rendering"].values()) else ""
    tool["id"] = tool_id(tool["code"], tool["direct"], tool["task"], key)
    blob = json.dumps(doc["tools"], separators=(",", ":"), sort_keys=True, default=str)
    doc["checksum"] = hashlib.sha256(blob.encode()).hexdigest()
    path.write_text(json.dumps(doc))


def test_a_forged_direct_solver_never_answers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = export_of_demo_tool(tmp_path, monkeypatch)
    forge(path)
    r = run("cache", "import", str(path), "--verify")
    assert r.exit_code == 0 and "1 quarantined" in r.stdout
    assert "FAIL     direct solver on the stored examples" in r.stdout
    assert "FAIL     held-out questions (generated)" in r.stdout
    assert "stored record updated" in r.stdout
    r = run("solve", QUESTION.question)
    assert "pwned" not in r.output and r.exit_code == 1


def test_without_verify_an_import_answers_nothing_until_verified_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = export_of_demo_tool(tmp_path, monkeypatch)
    forged = tmp_path / "forged.json"
    forged.write_bytes(path.read_bytes())
    forge(forged)
    r = run("cache", "import", str(forged))
    assert r.exit_code == 0 and "answer no question until verified here" in r.stdout
    assert "pwned" not in run("solve", QUESTION.question).output
    listed = json.loads(run("cache", "ls", "--json").stdout)
    assert [row["trust"] for row in listed] == ["imported"]
    # The honest export: imported, verified here by every check, then it answers.
    assert run("cache", "import", str(path)).exit_code == 0
    honest = next(t for t in ToolCache(os.environ["LATM_CACHE_DIR"]).list() if "pwned" not in (t.direct or ""))
    r = run("cache", "verify", honest.id[:12])
    assert r.exit_code == 0 and "verified here" in r.stdout
    for check in ("unit tests", "use cases", "mutations", "direct solver uses the tool", "strictness", "held-out"):
        assert check in r.stdout
    assert run("solve", QUESTION.question).stdout.strip() == QUESTION.answer


def test_trust_takes_the_exporters_word_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = export_of_demo_tool(tmp_path, monkeypatch)
    assert run("cache", "import", str(path), "--trust").exit_code == 0
    assert "trusted as imported" in run("cache", "show", "word_sorting").stdout
    assert run("solve", QUESTION.question).stdout.strip() == QUESTION.answer
