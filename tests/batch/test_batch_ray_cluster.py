"""The Ray engine on a simulated 2-node cluster of 1-CPU nodes (one cluster for the module):
a worker killed mid-job, and LLM-mode rows under one rate limit for the whole cluster."""

import os
import signal
import threading
import time
from typing import Any

import pytest

ray = pytest.importorskip("ray")

from ray.cluster_utils import Cluster  # noqa: E402

from latm import LATM  # noqa: E402
from latm.batch.ray.engine import RateLimit, solve_dataset  # noqa: E402
from latm.models.demo import user_reply  # noqa: E402
from latm.testing import FakeOpenAIServer  # noqa: E402
from tasks import TASKS, get_task  # noqa: E402
from toolcache import Tool, ToolCache  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def two_nodes() -> Any:
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    cluster.add_node(num_cpus=1)
    ray.init(address=cluster.address, namespace="latm", log_to_driver=False)
    cluster.wait_for_nodes()
    yield cluster
    ray.shutdown()
    cluster.shutdown()


def test_a_worker_killed_mid_job_loses_no_question_and_writes_none_twice(demo_cache: ToolCache) -> None:
    per_task = 20_000 // len(TASKS)
    rows, expected = [], {}
    for name in TASKS:
        for i, e in enumerate(get_task(name).generate(per_task, seed=21)):
            rows.append({"id": f"{name}-{i}", "question": e.question})
            expected[f"{name}-{i}"] = e.answer
    assert len(rows) == 20_000
    ds = ray.data.from_items(rows, override_num_blocks=40)
    with LATM(cache=demo_cache) as latm:
        job = solve_dataset(latm, ds, workers=2, batch_size=500, backend="process")
        seen: list[dict[str, Any]] = []
        killed = None
        for table in job.dataset.iter_batches(batch_format="pyarrow", batch_size=None):
            seen += table.select(["id", "answer", "ok"]).to_pylist()
            if killed is None and len(seen) >= 2_000:
                pids = ray.get(job.ledger.worker_pids.remote())
                killed = sorted(pids.values())[0]
                os.kill(killed, signal.SIGKILL)
        summary = job.merge(latm)
    assert killed is not None and len(seen) == 20_000
    ids = [r["id"] for r in seen]
    assert len(set(ids)) == 20_000  # every id once
    wrong = [r for r in seen if not r["ok"] or r["answer"] != expected[r["id"]]]
    assert wrong == []
    assert summary["rows"] == 20_000 and summary["failed"] == 0
    assert summary["workers"] >= 2  # the killed actor's replacement reported too
    assert demo_cache.stats()["by_source"] == {"ray": 20_000}  # a batch counted once, even retried


class ThrottlingServer(FakeOpenAIServer):
    """Counts the requests in flight; answers every fifth with 429 and a Retry-After."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.active = self.peak = self.seen = self.throttled = 0
        self.after_429: list[float] = []
        self._last_429 = 0.0
        self._count_lock = threading.Lock()

    def _serve(self, handler: Any, payload: dict[str, Any]) -> None:
        with self._count_lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
            self.seen += 1
            throttle = self.seen % 5 == 0
            now = time.monotonic()
            if self._last_429 and now - self._last_429 < 1.0 and not throttle:
                self.after_429.append(now - self._last_429)
            if throttle:
                self._last_429 = now
                self.throttled += 1
        try:
            if throttle:
                body = b'{"error": {"message": "slow down", "type": "rate_limit"}}'
                handler.send_response(429)
                handler.send_header("Retry-After", "0.3")
                handler.send_header("Content-Type", "application/json")
                handler.send_header("Content-Length", str(len(body)))
                handler.end_headers()
                handler.wfile.write(body)
                return
            time.sleep(0.02)
            super()._serve(handler, payload)
        finally:
            with self._count_lock:
                self.active -= 1


def test_llm_mode_rows_share_one_rate_limit_across_workers(demo_cache: ToolCache) -> None:
    made = demo_cache.current("word_sorting")
    assert made is not None
    llm_only = Tool.model_validate(
        {**made.model_dump(), "id": "", "direct": None, "task": "word_sorting_llm", "version": 0}
    )
    demo_cache.remove(made.id)
    demo_cache.put(llm_only)

    def script(messages: list[dict[str, str]]) -> str:
        content = messages[-1]["content"]
        if "Task:" in content and "```" not in content:
            return "Task: word_sorting_llm"
        return user_reply(messages)

    qs = [{"question": e.question, "expected": e.answer} for e in get_task("word_sorting").generate(40, seed=9)]
    with ThrottlingServer(script) as server, LATM(user="gpt-4o-mini", base_url=server.url, cache=demo_cache) as latm:
        job = solve_dataset(
            latm,
            ray.data.from_items(qs, override_num_blocks=4),
            workers=2,
            batch_size=10,
            backend="process",
            rate_limit=RateLimit(rps=200, max_in_flight=3),
        )
        result = job.dataset.take_all()
        summary = job.merge(latm)
        limiter = next(iter(job.limiter_stats().values()))
        assert latm.usage.tokens > 0  # the workers' tokens reached the driver's totals
    assert len(result) == 40 and all(r["ok"] and r["mode"] == "llm" for r in result), result[:2]
    assert all(r["answer"] == r["expected"] and r["tokens"] > 0 for r in result)
    assert summary["workers"] == 2
    assert server.throttled > 0 and limiter["paused"] > 0
    assert server.peak <= 3  # the limit held across both workers
    stats = demo_cache.stats()
    assert stats["llm_uses"] == 40 and stats["tokens_using"] > 0
