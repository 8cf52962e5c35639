"""The Ray engine: Ray Data ``map_batches`` with a callable class on an actor pool.

    ds = ray.data.read_json("questions.jsonl")
    answers = latm.solve_dataset(ds)            # lazy; the same columns plus answer, ok, mode, ...
    answers.write_parquet("answers/")

- The tool cache travels with the job: the driver exports its routable tools (the checksummed
  export bundle) into Ray's object store; each worker restores it into a private temporary
  cache (the checksum is verified; the driver's verdict on the tools is trusted). A worker never
  reads the driver's cache directory.
- Each worker (an actor) opens a warm sandbox pool once; direct questions of a batch go through
  ``call_many`` (``solve_many``); LLM-mode questions run concurrently inside the actor, under one
  rate limit per endpoint for the whole cluster (a named limiter actor: requests per second and
  requests in flight; a 429's Retry-After pauses every worker).
- Uses, failures, tokens and cost reach the driver's own cache even when Ray writes the dataset
  itself: workers report each batch's tallies to one small ledger actor for the job (once per
  batch, so a retried batch is not counted twice), merged into the cache with source ``ray`` when
  the job (``RayJob.merge``) or the ``LATM`` object ends.
- Ray Data restarts a killed actor and retries its batch (``max_restarts``/``max_task_retries``),
  so no question is lost and, as a batch's rows come out once, none is written twice.
"""

import hashlib
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from latm.batch.ray.limits import RateLimit, RateLimiter, build_model, endpoint_of, model_spec
from latm.batch.ray.snapshot import restore, snapshot
from latm.batch.rows import ADDED_COLUMNS, require_ray, solution_values, tallies
from latm.errors import UserError
from latm.settings import Settings

ACTOR_CPUS = 0.5  # each actor's share; its sandbox workers are processes of its own
DEFAULT_BATCH_SIZE = 2000  # rows an actor answers at once: each tool's share is one sandbox batch
NAMESPACE = "latm"


# -- the code the workers run ---------------------------------------------------------------------


# The Ray jobs (by id) LATM started itself: their workers can import LATM (shipped to a cluster, or
# this machine's own disk for a local Ray), so check_nodes need not probe for it.
_STARTED_HERE: set[str] = set()


def shipped_code() -> dict[str, Any]:
    """A job-level runtime_env shipping this driver's LATM packages to every worker (Ray uploads
    them once per content): a node runs exactly the driver's code, also when it cannot see the
    driver's disk or has another LATM version. Ray accepts local folders only at ``ray.init``.
    Third-party dependencies must be installed on the nodes (``pip install 'latm[ray]'``)."""
    import sandbox
    import tasks
    import toolcache

    latm_folder = Path(__file__).resolve().parents[2]  # latm/batch/ray/engine.py -> latm/
    folders = [str(latm_folder)] + [str(Path(m.__file__).parent) for m in (sandbox, tasks, toolcache) if m.__file__]
    return {"py_modules": folders, "excludes": ["__pycache__", "*.pyc"]}


def init_ray(address: str | None = None, **kw: Any) -> None:
    """``ray.init`` for a LATM job: its namespace, quiet, and, on a cluster, LATM's code shipped to
    the workers. A local Ray started here runs on this machine's disk: shipping would only cost
    its start-up (about 2 s measured)."""
    ray = require_ray()
    ray.init(
        address=address,
        namespace=NAMESPACE,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env=shipped_code() if address else None,
        **kw,
    )
    _STARTED_HERE.add(ray.get_runtime_context().get_job_id())


# -- the cluster-wide actors -----------------------------------------------------------------------


class Ledger:
    """The job's tallies, one entry per batch (a retried batch replaces, never adds)."""

    def __init__(self) -> None:
        self.entries: dict[str, dict[str, Any]] = {}
        self.taken: set[str] = set()
        self.workers: set[str] = set()
        self.pids: dict[str, int] = {}
        self.quarantined: dict[str, str] = {}  # tool id -> why, from any worker's canaries

    def add(self, key: str, entry: dict[str, Any]) -> dict[str, str]:
        """Records a batch's entry (once); returns every quarantine the job's workers reported so far,
        so a worker stops using a tool another worker's canary caught from its next batch on."""
        self.workers.add(entry["worker"])
        self.pids[entry["worker"]] = entry["pid"]
        self.quarantined.update((entry.get("canaries") or {}).get("quarantined", {}))
        if key not in self.taken and key not in self.entries:
            self.entries[key] = entry
        return dict(self.quarantined)

    def hello(self, worker: str, pid: int) -> None:
        self.workers.add(worker)
        self.pids[worker] = pid

    def take(self) -> list[dict[str, Any]]:
        """The entries not yet merged (each is handed out once)."""
        out = list(self.entries.values())
        self.taken.update(self.entries)
        self.entries.clear()
        return out

    def worker_pids(self) -> dict[str, int]:
        return dict(self.pids)


# -- the worker -----------------------------------------------------------------------------------


class SolveWorker:
    """One actor of the pool: a private cache restored from the snapshot, a warm sandbox pool, and
    a LATM that answers each batch with ``solve_many``."""

    def __init__(self, job: dict[str, Any]) -> None:
        import ray

        from sandbox import Sandbox

        self.question_column = job["question_column"]
        self.concurrency = job["concurrency"]
        self.ledger = job["ledger"][0]
        self.worker = f"{ray.get_runtime_context().get_node_id()[:8]}/{os.getpid()}"
        self.ledger.hello.remote(self.worker, os.getpid())
        self.directory = tempfile.mkdtemp(prefix="latm-ray-cache-")
        bundle = ray.get(job["bundle"][0])
        self.cache = restore(bundle, os.path.join(self.directory, "tools"))
        self.sandbox = Sandbox.open(job["backend"], pool_size=job["pool_size"]).warm(job["pool_size"])
        limiters = job["limiters"]
        self.latm = job["session"](  # the driver's own class (LATM), imported here by Ray from its module
            maker=build_model(job["maker"], limiters),
            user=build_model(job["user"], limiters),
            cache=self.cache,
            sandbox=self.sandbox,
            on_miss=job["on_miss"],
            prices=job["prices"],
            allow_shown_only=job["allow_shown_only"],
            llm_canaries=job["llm_canaries"],
            source="ray",
        )
        from latm.batch.local import direct_solvers

        self.solvers = direct_solvers(self.latm)

    def __call__(self, batch: Any) -> Any:
        import pyarrow as pa

        from latm.batch.local import solve_local
        from latm.use.solution import Solution

        questions = batch.column(self.question_column).to_pylist()
        valid = [i for i, q in enumerate(questions) if isinstance(q, str) and q.strip()]
        sols: dict[int, Any] = {}
        try:
            solved = solve_local(  # the uses go to the job's ledger, not this worker's private cache
                self.latm,
                [questions[i] for i in valid],
                self.concurrency,
                lambda i, s: None,
                record=False,
                solvers=self.solvers,
            )
            sols = dict(zip(valid, solved, strict=True))
        except Exception as exc:  # a row per question, never a failed job
            for i in valid:
                sols[i] = Solution(
                    question=questions[i], answer=None, mode="failed", error=f"{type(exc).__name__}: {exc}"
                )
        for i, q in enumerate(questions):
            if i not in sols:
                sols[i] = Solution(
                    question=str(q), answer=None, mode="failed", error=f"no question text in {self.question_column!r}"
                )
        ordered = [sols[i] for i in range(len(questions))]
        values = [solution_values(s) for s in ordered]
        usage = [s.usage.model_dump(mode="json") for s in ordered if s.usage.calls]
        modes: dict[str, int] = {}
        for s in ordered:
            modes[s.mode] = modes.get(s.mode, 0) + 1
        entry = {
            "canaries": self.latm.canaries.take(),  # recorded in the driver's cache by the merge
            "worker": self.worker,
            "pid": os.getpid(),
            "uses": tallies(ordered),
            "usage": usage,
            "rows": len(ordered),
            "failed": sum(not s.ok for s in ordered),
            "modes": modes,
        }
        import ray

        caught = ray.get(self.ledger.add.remote(batch_key(batch), entry))
        fresh = set(caught) & {t.id for t in self.cache.list() if t.status != "quarantined"} if caught else set()
        if fresh:  # another worker's canary caught a tool: this worker routes nothing more to it
            for tool_id in fresh:
                self.cache.set_status(tool_id, "quarantined", reason=caught[tool_id])
            self.solvers = [t for t in self.solvers if t.id not in fresh]
        renamed = [f"input_{c}" if c in ADDED_COLUMNS else c for c in batch.column_names]
        out = batch.rename_columns(renamed)
        types = {
            "answer": pa.string(),
            "ok": pa.bool_(),
            "mode": pa.string(),
            "tool": pa.string(),
            "tool_id": pa.string(),
            "error": pa.string(),
            "tokens": pa.int64(),
            "cost_usd": pa.float64(),
        }
        for name in ADDED_COLUMNS:
            out = out.append_column(name, pa.array([v[name] for v in values], type=types[name]))
        return out

    def __del__(self) -> None:
        try:
            self.sandbox.close()
            self.cache.close()
            shutil.rmtree(self.directory, ignore_errors=True)
        except Exception:
            pass


def batch_key(batch: Any) -> str:
    """A batch's identity (its content): a retried batch reports under the same key."""
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_table(batch)
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()


# -- the job --------------------------------------------------------------------------------------


def cluster_cpus(ray: Any) -> float:
    return float(ray.cluster_resources().get("CPU", 1.0))


def default_workers(ray: Any) -> int:
    """The cluster's CPUs minus one (for reads and the driver), at least two: with one, a killed
    worker stops the job until its replacement has started (measured: 3.8-4.1 s of stall against 1.2 s
    with a second worker carrying on, ``benchmarks/ray_recovery.py``)."""
    return max(2, int(cluster_cpus(ray)) - 1)


def check_nodes(ray: Any, docker: bool, image: str | None = None) -> None:
    """Before any work, on every alive node: LATM imports (unless this job shipped it), and with
    the Docker backend asked for, an engine and the image answer. Else a UserError naming the
    nodes (never a silent fallback, never a job whose actors die at start)."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    def probe(img: str | None, docker: bool) -> str | None:  # nested: pickled by value, runs without latm
        try:
            from sandbox import SandboxUnavailable, docker_backend
            from sandbox.settings import SandboxSettings
        except ImportError as exc:
            return (
                f"cannot import LATM ({exc}): install it there (pip install 'latm[ray]'), or let LATM start "
                "the Ray connection (latm solve --ray-address, or latm.batch.ray.engine.init_ray), which "
                "ships its code"
            )
        if docker:
            try:
                docker_backend.check_ready(SandboxSettings.load(image=img).image or docker_backend.DEFAULT_IMAGE)
            except SandboxUnavailable as exc:
                return str(exc)
        return None

    if not docker and ray.get_runtime_context().get_job_id() in _STARTED_HERE:
        return
    remote = ray.remote(num_cpus=0)(probe)
    nodes = [n for n in ray.nodes() if n.get("Alive")]
    refs = [
        remote.options(scheduling_strategy=NodeAffinitySchedulingStrategy(n["NodeID"], soft=False)).remote(
            image, docker
        )
        for n in nodes
    ]
    problems = [
        f"node {n['NodeID'][:12]} ({n.get('NodeManagerAddress', '?')}): {p}"
        for n, p in zip(nodes, ray.get(refs), strict=True)
        if p
    ]
    if problems:
        asked = "the Docker sandbox was asked for (--backend docker / LATM_SANDBOX_BACKEND=docker) but "
        asked = asked if docker else ""
        advice = (
            ". Install and start Docker there (and `latm sandbox build-image`), or choose --backend process"
            if docker
            else ""
        )
        raise UserError(asked + "; ".join(problems) + advice)


@dataclass
class RayJob:
    """A ``solve_dataset`` job: its lazy dataset, and the ledger its workers report to."""

    dataset: Any
    ledger: Any
    bundle: Any = None  # the snapshot's ref, kept in scope while the job may restart actors
    limiters: dict[str, Any] = field(default_factory=dict)
    workers_max: int = 1
    merged: dict[str, Any] = field(default_factory=lambda: {"rows": 0, "failed": 0, "modes": {}, "workers": 0})

    def merge(self, latm: Any) -> dict[str, Any]:
        """Records the reported uses in ``latm``'s cache (source ray) and its usage; returns the
        totals so far. Safe to call again: each batch is merged once."""
        import ray

        from latm.judge.canaries import Canaries
        from latm.judge.strictness import reprobe
        from latm.models.usage import Usage

        entries = ray.get(self.ledger.take.remote())
        groups: dict[tuple[str, str, bool], list[float]] = {}
        for e in entries:
            self.merged["rows"] += e["rows"]
            self.merged["failed"] += e["failed"]
            for mode, n in e["modes"].items():
                self.merged["modes"][mode] = self.merged["modes"].get(mode, 0) + n
            for u in e["uses"]:
                g = groups.setdefault((u["tool_id"], u["mode"], u["ok"]), [0, 0, 0.0])
                g[0] += u["count"]
                g[1] += u["tokens"]
                g[2] += u["cost_usd"]
            for d in e["usage"]:
                latm._spent(Usage.model_validate(d))
            if e.get("canaries"):
                names = e["canaries"].get("names", {})
                self.merged.setdefault("quarantined", {}).update(
                    {k: f"{names.get(k, k[:12])}: {why}" for k, why in e["canaries"].get("quarantined", {}).items()}
                )
                counts = e["canaries"].get("counts", {}).values()
                self.merged["canaries_passed"] = self.merged.get("canaries_passed", 0) + sum(c[0] for c in counts)
                self.merged["canaries_failed"] = self.merged.get("canaries_failed", 0) + sum(c[1] for c in counts)
                try:
                    Canaries.apply(latm.cache, e["canaries"])
                    for tool_id in e["canaries"].get("quarantined", {}):  # it left the routable tools
                        reprobe(latm.cache, latm.cache.get(tool_id), latm.sandbox, left=True)
                except Exception as exc:  # the tool was removed from the driver's cache meanwhile
                    import warnings

                    warnings.warn(f"canaries of a Ray batch not recorded: {exc}", stacklevel=2)
        for (tool_id, mode, ok), (count, tokens, cost) in groups.items():
            try:
                latm.cache.record_use(
                    tool_id, ok=ok, mode=mode, tokens=int(tokens), cost_usd=cost, count=int(count), source="ray"
                )
            except Exception as exc:  # the tool was removed from the driver's cache meanwhile
                import warnings

                warnings.warn(f"uses of tool {tool_id[:12]} not recorded: {exc}", stacklevel=2)
        self.merged["workers"] = len(ray.get(self.ledger.worker_pids.remote()))
        return dict(self.merged)

    def limiter_stats(self) -> dict[str, Any]:
        import ray

        return {url: ray.get(a.stats.remote()) for url, a in self.limiters.items()}


def solve_dataset(
    latm: Any,
    ds: Any,
    question_column: str = "question",
    *,
    concurrency: int = 16,
    workers: int | None = None,
    batch_size: int | None = None,
    backend: str | None = None,
    rate_limit: RateLimit | None = None,
    pool_size: int = 2,
) -> RayJob:
    """Builds the lazy job (nothing runs until the dataset is consumed or written)."""
    ray = require_ray()
    batch_size = batch_size or DEFAULT_BATCH_SIZE
    if not ray.is_initialized():
        init_ray()
    sandbox = (getattr(latm, "settings", None) or Settings.load()).sandbox  # the driver's, --backend included
    choice = backend or sandbox.backend
    if choice not in ("auto", "docker", "process"):
        raise UserError(f"unknown sandbox backend {choice!r}: use auto, docker or process")
    # with Docker asked for, never a silent fallback; with auto, each worker picks for its node
    check_nodes(ray, choice == "docker", sandbox.image)
    columns = ds.columns() if hasattr(ds, "columns") else None
    if columns is not None and question_column not in columns:
        raise UserError(f"the dataset has no column {question_column!r} (it has {', '.join(columns)})")
    limit = rate_limit or RateLimit()
    maker, user = model_spec(latm.maker_model), model_spec(latm.user_model)
    limiters: dict[str, Any] = {}
    limiter_cls = ray.remote(num_cpus=0, max_concurrency=1000)(RateLimiter)
    for spec in (maker, user):
        url = endpoint_of(spec)
        if url and url not in limiters:
            name = "latm-limit-" + hashlib.sha256(url.encode()).hexdigest()[:16]
            limiters[url] = limiter_cls.options(name=name, namespace=NAMESPACE, get_if_exists=True).remote(
                limit.rps, limit.max_in_flight
            )
    ledger = ray.remote(num_cpus=0)(Ledger).remote()
    bundle = ray.put(snapshot(latm.cache, latm.allow_shown_only, getattr(latm, "max_error", None)))
    n = workers or default_workers(ray)
    job = {
        "question_column": question_column,
        "concurrency": concurrency,
        "ledger": [ledger],
        "bundle": [bundle],
        "backend": choice,
        "pool_size": pool_size,
        "limiters": limiters,
        "maker": maker,
        "user": user,
        "session": type(latm),
        "on_miss": latm.on_miss,
        "prices": latm.prices,
        "allow_shown_only": latm.allow_shown_only,
        "llm_canaries": getattr(latm, "llm_canaries", False),
    }
    dataset = ds.map_batches(
        SolveWorker,
        fn_constructor_kwargs={"job": job},
        # the whole pool from the start: each worker's set-up overlaps the others', none waits for a scale-up
        compute=ray.data.ActorPoolStrategy(min_size=n, max_size=n),
        batch_size=batch_size,
        batch_format="pyarrow",
        num_cpus=ACTOR_CPUS,
    )  # Ray Data restarts a dead actor and retries its batch (max_restarts = max_task_retries = -1)
    return RayJob(dataset=dataset, ledger=ledger, bundle=bundle, limiters=limiters, workers_max=n)


def split_table(table: Any, rows_per_block: int) -> list[Any]:
    """An Arrow table as blocks of at most ``rows_per_block`` rows (for ``ray.data.from_arrow``)."""
    step = max(1, rows_per_block)
    return [table.slice(i, step) for i in range(0, max(table.num_rows, 1), step)] if table.num_rows else [table]


def questions_dataset(rows: Sequence[dict[str, Any]], rows_per_block: int) -> Any:
    ray = require_ray()
    import pyarrow as pa

    table = pa.Table.from_pylist(list(rows))
    return ray.data.from_arrow(split_table(table, rows_per_block))
