"""The batch contract without Ray: the no-Ray error, before any work."""

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from latm.cli import main


def test_engine_ray_without_ray_says_how_to_install_it_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    src, out = tmp_path / "q.jsonl", tmp_path / "a.jsonl"
    src.write_text(json.dumps({"question": "Sort the following words alphabetically: List: b a"}) + "\n")
    r = CliRunner().invoke(main, ["solve", "--file", str(src), "--out", str(out), "--engine", "ray"])
    assert r.exit_code == 2
    assert "pip install 'latm[ray]'" in r.output
    assert not out.exists() and not (tmp_path / "a.jsonl.partial").exists()


def test_solve_dataset_without_ray_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from latm import LATM, UserError

    monkeypatch.setitem(sys.modules, "ray", None)
    with LATM() as latm, pytest.raises(UserError, match=r"pip install 'latm\[ray\]'"):
        latm.solve_dataset(object())
