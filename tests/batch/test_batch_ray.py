"""The Ray engine on one local Ray (shared by this module): the row contract, the snapshot, the
ledger, failing rows, Parquet, --resume and the Docker check."""

import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

ray = pytest.importorskip("ray")

from latm import LATM  # noqa: E402
from latm.cli import main  # noqa: E402
from tasks import TASKS, get_task  # noqa: E402
from toolcache import Tool, ToolCache  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def local_ray(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One local Ray for the module; its workers' own LATM_CACHE_DIR is an empty folder."""
    empty = tmp_path_factory.mktemp("worker-cache")
    old = os.environ.get("LATM_CACHE_DIR")
    os.environ["LATM_CACHE_DIR"] = str(empty)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, namespace="latm")
    if old is None:
        os.environ.pop("LATM_CACHE_DIR")
    else:
        os.environ["LATM_CACHE_DIR"] = old
    yield empty
    ray.shutdown()


def questions(per_task: int, seed: int = 3) -> list[dict[str, Any]]:
    rows = []
    for name in TASKS:
        for i, e in enumerate(get_task(name).generate(per_task, seed=seed)):
            rows.append({"id": f"{name}-{i}", "question": e.question, "expected": e.answer, "task": name})
    return rows


def test_solve_dataset_rows_and_uses_reach_the_driver_cache(demo_cache: ToolCache, local_ray: Path) -> None:
    rows = questions(25)
    rows[3]["ok"] = "label kept"  # an input field the row would overwrite
    with LATM(cache=demo_cache) as latm:
        out = latm.solve_dataset(ray.data.from_items(rows), backend="process", batch_size=50)
        result = out.take_all()  # Ray consumes the dataset; no row passes through LATM
    assert len(result) == len(rows)
    by_id = {r["id"]: r for r in result}
    assert set(by_id) == {r["id"] for r in rows}
    assert all(r["ok"] and r["mode"] == "direct" and r["answer"] == r["expected"] for r in result)
    assert by_id[rows[3]["id"]]["input_ok"] == "label kept"
    first = by_id[rows[0]["id"]]
    assert list(first)[-8:] == ["answer", "ok", "mode", "tool", "tool_id", "error", "tokens", "cost_usd"]
    stats = demo_cache.stats()  # merged when the LATM object closed
    assert stats["uses"] == len(rows) and stats["by_source"] == {"ray": len(rows)}
    assert list(local_ray.iterdir()) == []  # the workers never used their own cache directory


def test_a_tool_that_raises_or_times_out_is_a_failed_row_not_a_failed_job(demo_cache: ToolCache) -> None:
    made = demo_cache.current("word_sorting")
    assert made is not None and made.direct is not None
    direct = made.direct.replace(
        "def solve(question):\n",
        "def solve(question):\n    if 'boom' in question:\n        raise RuntimeError('boom')\n"
        "    while 'hang' in question:\n        pass\n",
    )
    demo_cache.put(Tool.model_validate({**made.model_dump(), "id": "", "direct": direct}))
    rows = [
        {"question": "Sort the following words alphabetically: List: pear apple fig"},
        {"question": "Sort the following words alphabetically: List: boom apple"},
        {"question": "Sort the following words alphabetically: List: hang apple"},
        {"question": "Sort the following words alphabetically: List: kiwi date"},
        {"question": "   "},
    ]
    with LATM(cache=demo_cache) as latm:
        result = latm.solve_dataset(ray.data.from_items(rows), backend="process").take_all()
    by_question = {r["question"]: r for r in result}
    assert len(result) == 5
    assert by_question[rows[0]["question"]]["answer"] == "apple fig pear"
    assert by_question[rows[3]["question"]]["answer"] == "date kiwi"  # same batch as the hanging row
    for failed in (rows[1], rows[2]):
        row = by_question[failed["question"]]
        assert not row["ok"] and row["mode"] == "failed" and "no direct solver accepted it" in row["error"]
    assert "timed out" in by_question[rows[2]["question"]]["error"]
    assert "no question text" in by_question["   "]["error"]


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def run_cli(*args: str, cache: Path) -> Any:
    return CliRunner().invoke(
        main, ["solve", *args, "--engine", "ray", "--backend", "process"], env={"LATM_CACHE_DIR": str(cache)}
    )


def test_cli_jsonl_then_resume_after_an_interrupted_job(demo_cache: ToolCache, tmp_path: Path) -> None:
    rows = questions(30, seed=5)
    src, out = tmp_path / "q.jsonl", tmp_path / "a.jsonl"
    write_jsonl(src, rows)
    directory = Path(demo_cache.directory)
    r = run_cli("--file", str(src), "--out", str(out), cache=directory)
    assert r.exit_code == 0, r.output
    assert "240 rows: 240 answered, 0 failed" in r.output and "questions/s" in r.output
    whole = out.read_text().splitlines()
    assert [json.loads(x)["line"] for x in whole] == list(range(1, 241))
    # an interrupted job: part of the rows written, the last one cut off mid-line
    partial = Path(str(out) + ".partial")
    partial.write_text("\n".join(whole[:100]) + "\n" + whole[100][:30])
    out.unlink()
    r = run_cli("--file", str(src), "--out", str(out), "--resume", cache=directory)
    assert r.exit_code == 0, r.output
    assert "100 question(s) already answered, 140 to go" in r.output
    answers = [json.loads(x) for x in out.read_text().splitlines()]
    assert sorted(a["id"] for a in answers) == sorted(x["id"] for x in rows)
    assert all(a["answer"] == a["expected"] for a in answers)
    assert not partial.exists()


def test_cli_parquet_in_and_out_with_resume(demo_cache: ToolCache, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = questions(20, seed=7)
    src, out = tmp_path / "q.parquet", tmp_path / "answers.parquet"
    pq.write_table(pa.Table.from_pylist(rows), src)
    directory = Path(demo_cache.directory)
    r = run_cli("--file", str(src), "--out", str(out), "--workers", "1", cache=directory)
    assert r.exit_code == 0, r.output
    assert out.is_dir()
    table = pq.read_table(out)
    assert table.num_rows == len(rows)
    assert all(a == e for a, e in zip(table["answer"].to_pylist(), table["expected"].to_pylist(), strict=True))
    # keep one part, as if the job had stopped after it; --resume answers the rest
    parts = sorted(out.glob("part-*.parquet"))
    kept = pq.read_table(parts[0]).num_rows
    for p in parts[1:]:
        p.unlink()
    out.rename(str(out) + ".partial")
    r = run_cli("--file", str(src), "--out", str(out), "--resume", cache=directory)
    assert r.exit_code == 0, r.output
    assert f"{kept} question(s) already answered" in r.output
    ids = pq.read_table(out)["id"].to_pylist()
    assert sorted(ids) == sorted(x["id"] for x in rows)


def test_docker_asked_for_fails_at_start_naming_the_node(
    demo_cache: ToolCache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LATM_SANDBOX_IMAGE", "latm-no-such-image:0")
    src = tmp_path / "q.jsonl"
    write_jsonl(src, questions(1))
    r = CliRunner().invoke(
        main,
        ["solve", "--file", str(src), "--out", str(tmp_path / "a.jsonl"), "--engine", "ray", "--backend", "docker"],
        env={"LATM_CACHE_DIR": str(demo_cache.directory)},
    )
    assert r.exit_code == 2, r.output
    node = ray.get_runtime_context().get_node_id()[:12]
    assert "the Docker sandbox was asked for" in r.output and f"node {node}" in r.output
    assert not (tmp_path / "a.jsonl").exists() and not (tmp_path / "a.jsonl.partial").exists()
