"""The README's agent loop on the openai SDK, run as written against a local fake endpoint."""

import re
from pathlib import Path

import pytest

from latm.testing import FakeOpenAIServer
from tasks import get_task
from toolcache import ToolCache

README = Path(__file__).resolve().parents[2] / "README.md"  # the checkout's (this file is tests/cli/...)


def agent_loop_source() -> str:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    return next(b for b in blocks if "run_tool_call" in b and "while True" in b)


def test_the_readme_agent_loop_answers_with_a_latm_tool(
    demo_cache: ToolCache, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ex = get_task("word_sorting").generate(1, seed=8)[0]

    def model(messages: list[dict[str, object]]) -> object:
        if messages[-1]["role"] == "tool":  # the tool answered: the model reports it
            return f"The sorted words: {messages[-1]['content']}"
        return {"tool_calls": [{"name": "sort_words", "arguments": {"question": ex.question}}]}

    monkeypatch.setenv("LATM_CACHE_DIR", str(demo_cache.directory))
    monkeypatch.setenv("LATM_SANDBOX_BACKEND", "process")
    with FakeOpenAIServer(model) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.url)
        monkeypatch.setenv("OPENAI_API_KEY", "local")
        exec(agent_loop_source(), {"question": ex.question})
        assert len(server.payloads) == 2 and server.payloads[1]["messages"][-1]["role"] == "tool"
    assert capsys.readouterr().out.strip() == f"The sorted words: {ex.answer}"
    assert demo_cache.get("word_sorting").usage.by_source.get("openai") == 1
