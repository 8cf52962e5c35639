"""A Ray cluster that goes away mid-job (its own cluster: the test kills it): the run says so and
exits 3, what was written is whole rows, and --resume finishes the job with every id once (on the
local engine: the answer file is the contract of both)."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

ray = pytest.importorskip("ray")

from ray.cluster_utils import Cluster  # noqa: E402

from tasks import TASKS, get_task  # noqa: E402
from toolcache import ToolCache  # noqa: E402

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]  # the checkout (this file is tests/batch/...)


def solve(cache: Path, *args: str) -> subprocess.Popen[str]:
    env = dict(os.environ, LATM_CACHE_DIR=str(cache), PYTHONPATH=str(ROOT))
    env.pop("RAY_ADDRESS", None)
    command = [sys.executable, "-m", "latm.cli", "solve", *args, "--backend", "process"]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_the_cluster_going_away_is_said_and_resume_finishes_the_job(demo_cache: ToolCache, tmp_path: Path) -> None:
    rows: list[dict[str, Any]] = []
    for name in [t for t in TASKS if t != "logical_deduction_seven_objects"]:  # its generator is slow
        for i, e in enumerate(get_task(name).generate(2_500, seed=8)):
            rows.append({"id": f"{name}-{i}", "question": e.question, "expected": e.answer})
    src, out = tmp_path / "q.jsonl", tmp_path / "a.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    partial = Path(str(out) + ".partial")
    cache = Path(demo_cache.directory)
    demo_cache.close()

    cluster = Cluster(initialize_head=True, connect=False, head_node_args={"num_cpus": 2, "include_dashboard": False})
    try:
        run = solve(cache, "--file", str(src), "--out", str(out), "--engine", "ray", "--ray-address", cluster.address)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and run.poll() is None:
            if partial.exists() and partial.stat().st_size > 0:
                break
            time.sleep(0.2)
        assert run.poll() is None, run.communicate()  # still running, some rows written
    finally:
        cluster.shutdown()  # the cluster goes away mid-job
    _, err = run.communicate(timeout=120)
    assert run.returncode == 3, err
    assert "the Ray cluster went away mid-job" in err and "run again with --resume" in err
    written = [json.loads(line) for line in partial.read_text().splitlines()]  # every row whole
    assert 0 < len(written) < len(rows) and not out.exists()

    # the rows are the one contract of both engines: the local one finishes the job
    again = solve(cache, "--file", str(src), "--out", str(out), "--resume", "--engine", "local")
    _, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    assert f"{len(written)} question(s) already answered" in err
    answers = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(a["id"] for a in answers) == sorted(r["id"] for r in rows)  # every id once
    assert all(a["ok"] and a["answer"] == a["expected"] for a in answers)
