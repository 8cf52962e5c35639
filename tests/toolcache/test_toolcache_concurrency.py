"""Several processes writing and counting at once lose nothing; a killed writer breaks nothing."""

import multiprocessing as mp
import os
import signal
import time

from toolcache import ToolCache

from ..toolfactory import make_tool

PROCS, PER_PROC = 4, 250


def _writer(directory: str, worker: int) -> None:
    with ToolCache(directory) as cache:
        shared = cache.get("shared")
        for i in range(PER_PROC):
            cache.put(make_tool(worker * 10_000 + i, task=f"task-{worker}-{i % 5}"))
            cache.record_use(shared.id, ok=i % 7 != 0, mode="direct" if i % 2 else "llm", tokens=1)


def test_four_processes_lose_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    directory = str(tmp_path)
    with ToolCache(directory) as cache:
        cache.put(make_tool(-1, task="shared", name="shared"))
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(directory, w)) for w in range(PROCS)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(300)
        assert p.exitcode == 0
    with ToolCache(directory) as cache:
        assert len(cache) == PROCS * PER_PROC + 1
        for w in range(PROCS):
            for k in range(5):
                versions = cache.history(f"task-{w}-{k}")
                assert [t.version for t in versions] == list(range(1, PER_PROC // 5 + 1))
        usage = cache.get("shared").usage
        assert usage.uses == PROCS * PER_PROC and usage.tokens == PROCS * PER_PROC
        assert usage.direct_uses + usage.llm_uses == usage.uses
        assert usage.failures == PROCS * len([i for i in range(PER_PROC) if i % 7 == 0])


def _endless_writer(directory: str) -> None:
    with ToolCache(directory) as cache:
        i = 0
        while True:
            cache.put(make_tool(i, task=f"t{i % 3}"))
            i += 1


def test_killed_writer_leaves_a_readable_cache(tmp_path) -> None:  # type: ignore[no-untyped-def]
    ctx = mp.get_context("spawn")
    proc = ctx.Process(target=_endless_writer, args=(str(tmp_path),))
    proc.start()
    time.sleep(2.5)
    assert proc.pid is not None
    os.kill(proc.pid, signal.SIGKILL)
    proc.join()
    with ToolCache(tmp_path) as cache:
        tools = cache.list()
        assert tools, "the writer wrote nothing before it was killed"
        for task in {t.task for t in tools}:
            history = cache.history(task)
            assert [t.version for t in history] == list(range(1, len(history) + 1))
        # every index entry resolves to a full record, and every record is indexed
        assert sum(len(cache.history(t)) for t in cache.tasks()) == len(tools)
        cache.put(make_tool(10**6, task="after"))
        assert cache.get("after").version == 1
