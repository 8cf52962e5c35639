"""``latm serve mcp`` through the MCP SDK's real client, over stdio (a server process per test).

The cache is filled once per module by the offline demo, plus two routable tools that misbehave:
one raises, one loops (it must end with the sandbox timeout, the server still answering).
"""

import json
import os
import shutil
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
import pytest
from click.testing import CliRunner
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from latm.cli import main
from tasks import get_task
from tests.toolfactory import make_tool
from toolcache import Entry, Tool, ToolCache, UseCase

ROOT = Path(__file__).resolve().parents[2]  # the checkout (this file is tests/interop/...)
TIMEOUT_S = 1.5  # the sandbox limit per call in these servers
ENV_OFF = {"LATM_MAKER": None, "LATM_USER": None, "LATM_BASE_URL": None, "OPENAI_API_KEY": None}


def misbehaving(name: str, task: str, body: str) -> Tool:
    """A routable tool (held-out verdict, current version of its task) whose function ``body`` misbehaves."""
    base = make_tool(task=task, name=name)
    data = base.model_dump(exclude={"id", "version"})
    data.update(
        code=f"def {name}(words):\n{body}",
        entry=Entry(name=name, signature="(words: str) -> str"),
        description=f"A test tool named {name} that misbehaves.",
        use_cases=[UseCase(question=f"Misbehave as {name}: x", call=f"ans = {name}('x')", answer="x")],
    )
    return Tool(**data)


@pytest.fixture(scope="module")
def tools_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("mcp-tools")
    env = {**ENV_OFF, "LATM_CACHE_DIR": str(directory), "LATM_SANDBOX_BACKEND": "process"}
    result = CliRunner().invoke(main, ["demo", "--n", "1", "--json"], env=env)
    assert result.exit_code == 0, result.output
    with ToolCache(directory) as cache:
        cache.put(misbehaving("boom", "boom_task", "    raise ValueError('boom: this tool always fails')\n"))
        cache.put(misbehaving("spin", "spin_task", "    while True:\n        pass\n"))
    return directory


@pytest.fixture
def private_dir(tools_dir: Path, tmp_path: Path) -> Path:
    """A copy of the module's cache that a test may change (tools, use counts)."""
    target = tmp_path / "tools"
    shutil.copytree(tools_dir, target)
    return target


@asynccontextmanager
async def serve(
    cache_dir: Path, *args: str, on_message: Callable[[Any], Awaitable[None]] | None = None
) -> AsyncIterator[ClientSession]:
    env = {k: v for k, v in os.environ.items() if k not in ENV_OFF}
    env.update(LATM_CACHE_DIR=str(cache_dir), LATM_SANDBOX_BACKEND="process")
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "latm.cli", "serve", "mcp", "--backend", "process", "--timeout", str(TIMEOUT_S), *args],
        env=env,
        cwd=str(ROOT),
    )
    with anyio.fail_after(40):
        async with stdio_client(params) as (read, write), ClientSession(read, write, message_handler=on_message) as s:
            await s.initialize()
            yield s


def run(test: Callable[[], Awaitable[None]]) -> None:
    anyio.run(test)


def text(result: types.CallToolResult) -> str:
    return "".join(c.text for c in result.content if isinstance(c, types.TextContent))


def question_of(task: str, seed: int = 11) -> tuple[str, str]:
    ex = get_task(task).generate(1, seed=seed)[0]
    return ex.question, ex.answer


def test_lists_tools_and_calls_them(tools_dir: Path) -> None:
    async def body() -> None:
        async with serve(tools_dir) as s:
            assert s.initialize_result is not None
            caps = s.initialize_result.capabilities.tools
            assert caps is not None and caps.list_changed
            listed = (await s.list_tools()).tools
            names = [t.name for t in listed]
            assert len(names) == len(set(names))
            assert {
                "track_swaps_tracking_shuffled_objects_five_objects",
                "track_swaps_tracking_shuffled_objects_seven_objects",
                "sort_words",
                "boom",
                "spin",
                "latm_solve",
            } <= set(names)
            assert "latm_make_tool" not in names  # no maker model configured
            sort_schema = next(t for t in listed if t.name == "sort_words").input_schema
            assert {"question", "words"} <= set(sort_schema["properties"])

            # by question: the direct solver answers with the task's own answer
            for task, tool in [
                ("word_sorting", "sort_words"),
                ("tracking_shuffled_objects_seven_objects", "track_swaps_tracking_shuffled_objects_seven_objects"),
                ("chinese_remainder_theorem", "solve_remainders"),
            ]:
                question, answer = question_of(task)
                res = await s.call_tool(tool, {"question": question})
                assert not res.is_error, text(res)
                assert text(res) == answer
                assert res.structured_content and res.structured_content["called_with"] == "question"

            # by arguments
            res = await s.call_tool("sort_words", {"words": ["pear", "apple", "fig"]})
            assert not res.is_error, text(res)
            assert text(res) == "apple fig pear"

            # bad arguments: an error naming what the tool takes
            res = await s.call_tool("sort_words", {"wrds": ["pear"]})
            assert res.is_error
            assert "wrds" in text(res) and "words" in text(res)

            # a tool that raises, a tool that loops: errors, and the server keeps answering
            res = await s.call_tool("boom", {"words": "b a"})
            assert res.is_error and "ValueError" in text(res) and "always fails" in text(res)
            started = anyio.current_time()
            res = await s.call_tool("spin", {"words": "b a"})
            assert res.is_error and "timed out" in text(res)
            assert anyio.current_time() - started < TIMEOUT_S * 6
            res = await s.call_tool("sort_words", {"words": ["b", "a"]})
            assert not res.is_error and text(res) == "a b"

            # an unknown tool, and latm_solve routing any question
            res = await s.call_tool("no_such_tool", {})
            assert res.is_error and "unknown tool" in text(res)
            question, answer = question_of("dyck_languages")
            res = await s.call_tool("latm_solve", {"question": question})
            assert not res.is_error, text(res)
            assert text(res) == answer
            assert res.structured_content and res.structured_content["mode"] == "direct"
            res = await s.call_tool("latm_solve", {"question": "  "})
            assert res.is_error

    run(body)


def test_sixteen_concurrent_calls(tools_dir: Path) -> None:
    cases = [question_of("word_sorting", seed) for seed in range(8)]
    cases += [question_of("tracking_shuffled_objects_five_objects", seed) for seed in range(8)]

    async def body() -> None:
        async with serve(tools_dir) as s:
            await s.list_tools()
            results: list[Any] = [None] * len(cases)

            async def one(i: int, question: str) -> None:
                name = "sort_words" if i < 8 else "track_swaps_tracking_shuffled_objects_five_objects"
                results[i] = await s.call_tool(name, {"question": question})

            with anyio.fail_after(30):
                async with anyio.create_task_group() as tg:
                    for i, (question, _) in enumerate(cases):
                        tg.start_soon(one, i, question)
            for res, (_, answer) in zip(results, cases, strict=True):
                assert not res.is_error, text(res)
                assert text(res) == answer

    run(body)


def test_tool_list_follows_the_cache(private_dir: Path) -> None:
    changes: list[anyio.Event] = [anyio.Event(), anyio.Event()]
    seen = 0

    async def on_message(message: Any) -> None:
        nonlocal seen
        if isinstance(message, types.ToolListChangedNotification) and seen < len(changes):
            changes[seen].set()
            seen += 1

    async def body() -> None:
        async with serve(private_dir, "--poll", "0.2", on_message=on_message) as s:
            assert "fresh_tool" not in {t.name for t in (await s.list_tools()).tools}
            fresh = make_tool(task="fresh_task", name="fresh_tool")
            with ToolCache(private_dir) as cache:
                cache.put(fresh)
            with anyio.fail_after(10):
                await changes[0].wait()
            assert "fresh_tool" in {t.name for t in (await s.list_tools()).tools}
            res = await s.call_tool("fresh_tool", {"words": "pear apple"})
            assert not res.is_error and text(res) == "apple pear"
            with ToolCache(private_dir) as cache:
                cache.remove(fresh.id)
            with anyio.fail_after(10):
                await changes[1].wait()
            assert "fresh_tool" not in {t.name for t in (await s.list_tools()).tools}

    run(body)


def test_router_lists_two_tools_and_finds_the_rest(tools_dir: Path) -> None:
    async def body() -> None:
        async with serve(tools_dir, "--expose", "router") as s:
            assert {t.name for t in (await s.list_tools()).tools} == {"latm_solve", "latm_find_tools"}
            question, answer = question_of("word_sorting")
            res = await s.call_tool("latm_find_tools", {"query": question})
            assert not res.is_error, text(res)
            assert res.structured_content is not None
            found = res.structured_content["tools"]
            assert 1 <= len(found) <= 5
            assert found[0]["name"] == "sort_words"
            assert "words" in found[0]["input_schema"]["properties"]
            assert json.loads(text(res))[0]["name"] == "sort_words"
            res = await s.call_tool("sort_words", {"question": question})  # callable though not listed
            assert not res.is_error and text(res) == answer
            res = await s.call_tool("latm_solve", {"question": question})
            assert not res.is_error and text(res) == answer

    run(body)


def test_uses_are_counted_under_mcp(private_dir: Path) -> None:
    env = {**ENV_OFF, "LATM_CACHE_DIR": str(private_dir)}

    def by_source() -> dict[str, int]:
        result = CliRunner().invoke(main, ["cache", "stats", "--json"], env=env)
        assert result.exit_code == 0, result.output
        return dict(json.loads(result.output)["by_source"])

    def boom_failures() -> int:
        with ToolCache(private_dir) as cache:
            return next(t for t in cache.list() if t.name == "boom").usage.failures

    before, failed_before = by_source(), boom_failures()  # the module's other tests used the copied cache

    async def body() -> None:
        async with serve(private_dir) as s:
            question, _ = question_of("word_sorting")
            assert not (await s.call_tool("sort_words", {"question": question})).is_error
            assert not (await s.call_tool("sort_words", {"words": ["b", "a"]})).is_error
            assert not (await s.call_tool("latm_solve", {"question": question})).is_error
            assert (await s.call_tool("boom", {"words": "x"})).is_error

    run(body)
    after = by_source()
    assert after["mcp"] - before.get("mcp", 0) == 4
    assert after.get("cli", 0) == before.get("cli", 0)
    assert boom_failures() == failed_before + 1


def test_http_refuses_a_remote_address_without_allow_remote() -> None:
    result = CliRunner().invoke(main, ["serve", "mcp", "--http", "0.0.0.0:8765"])
    assert result.exit_code == 2
    assert result.output.startswith("error: ") and "--allow-remote" in result.output
    assert result.output.count("\n") == 1


def test_modern_client_hears_list_changes_on_its_listen_stream(private_dir: Path) -> None:
    """The SDK's high-level Client speaks the 2026-07-28 protocol: changes ride subscriptions/listen."""
    from mcp import Client

    async def body() -> None:
        env = {k: v for k, v in os.environ.items() if k not in ENV_OFF}
        env.update(LATM_CACHE_DIR=str(private_dir), LATM_SANDBOX_BACKEND="process")
        params = StdioServerParameters(
            command=sys.executable,
            args=["-m", "latm.cli", "serve", "mcp", "--backend", "process", "--poll", "0.2"],
            env=env,
            cwd=str(ROOT),
        )
        with anyio.fail_after(40):
            async with Client(params) as client:
                async with client.listen(tools_list_changed=True) as sub:
                    with ToolCache(private_dir) as cache:
                        cache.put(make_tool(task="fresh_task", name="fresh_tool"))
                    async for _event in sub:
                        break
                assert "fresh_tool" in {t.name for t in (await client.list_tools()).tools}

    run(body)


def test_make_tool_is_offered_with_a_maker_and_makes_a_routable_tool(tmp_path: Path) -> None:
    from latm.facade import LATM
    from latm.interop.mcp_server import ToolServer
    from latm.models.demo import demo_maker
    from sandbox import Sandbox
    from tasks import get_task
    from toolcache import ToolCache

    examples = [e.model_dump() for e in get_task("word_sorting").generate(6, seed=2)]
    cache = ToolCache(tmp_path / "made")
    with Sandbox.open("process", pool_size=1) as sb, LATM(maker=demo_maker(), cache=cache, sandbox=sb) as latm:
        server = ToolServer(cache, sb, latm)
        assert "latm_make_tool" in [t.name for t in server.listed_tools()]
        result, changed = server.call("latm_make_tool", {"task": "word_sorting", "examples": examples})
        assert not result.is_error and changed and "sort_words" in text(result)
        assert "sort_words" in [t.name for t in server.listed_tools()]
        bad, _ = server.call("latm_make_tool", {"task": "word_sorting"})
        assert bad.is_error and "examples" in text(bad)
    with Sandbox.open("process", pool_size=1) as sb, LATM(cache=cache, sandbox=sb) as no_maker:
        assert "latm_make_tool" not in [t.name for t in ToolServer(cache, sb, no_maker).listed_tools()]


def test_latm_plan_answers_a_compound_question_over_mcp(tools_dir: Path, tmp_path: Path) -> None:
    import shutil

    from latm.facade import LATM
    from latm.interop.mcp_server import ToolServer
    from sandbox import Sandbox
    from tasks import get_task
    from toolcache import ToolCache

    shutil.copytree(tools_dir, tmp_path / "tools")
    sorting = get_task("word_sorting").generate(1, seed=4)[0]
    dyck = get_task("dyck_languages").generate(1, seed=4)[0]
    cache = ToolCache(tmp_path / "tools")
    with Sandbox.open("process", pool_size=1) as sb, LATM(cache=cache, sandbox=sb) as latm:
        server = ToolServer(cache, sb, latm)
        assert "latm_plan" in [t.name for t in server.listed_tools()]
        result, _ = server.call("latm_plan", {"question": f"{sorting.question}\n\n{dyck.question}"})
        assert not result.is_error and text(result) == f"{sorting.answer}\n{dyck.answer}"
        bad, _ = server.call("latm_plan", {"question": ""})
        assert bad.is_error and "takes one argument" in text(bad)
