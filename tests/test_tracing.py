"""OpenTelemetry spans: with a tracer configured, one `solve` and one `make` leave the tree of what ran."""

from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from latm import LATM
from latm.models.demo import demo_maker
from latm.testing import ScriptedModel
from sandbox import Sandbox
from tasks import get_task
from toolcache import ToolCache

EXPORTER = InMemorySpanExporter()


@pytest.fixture(scope="module", autouse=True)
def _tracer() -> Iterator[None]:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(EXPORTER))
    trace.set_tracer_provider(provider)  # once per process: the first provider set stays
    yield


def tree(spans: tuple[ReadableSpan, ...]) -> dict[str, list[str]]:
    """Each span's name -> the names of its children."""
    by_id = {s.context.span_id: s for s in spans}
    out: dict[str, list[str]] = {}
    for s in spans:
        parent = by_id.get(s.parent.span_id) if s.parent else None
        if parent is not None:
            out.setdefault(parent.name, []).append(s.name)
    return out


def test_a_make_and_a_solve_leave_their_spans(tmp_path, process_sandbox: Sandbox) -> None:  # type: ignore[no-untyped-def]
    EXPORTER.clear()
    examples = get_task("word_sorting").generate(6, seed=3)
    with (
        ToolCache(tmp_path / "tools") as cache,
        LATM(maker=demo_maker(), user=ScriptedModel([]), cache=cache, sandbox=process_sandbox) as latm,
    ):
        assert latm.make_tool("word_sorting", examples).tool is not None
        made = tree(EXPORTER.get_finished_spans())
        assert set(made["latm.make_tool"]) >= {"latm.step"}
        assert "latm.model_call" in made["latm.step"] and "latm.sandbox_round" in made["latm.step"]
        calls = [s for s in EXPORTER.get_finished_spans() if s.name == "latm.model_call"]
        assert calls and all(s.attributes and s.attributes["gen_ai.usage.input_tokens"] > 0 for s in calls)
        EXPORTER.clear()
        assert latm.solve(examples[0].question).answer == examples[0].answer
    solved = tree(EXPORTER.get_finished_spans())
    assert set(solved["latm.solve"]) >= {"latm.route", "latm.answer"}
    assert "latm.sandbox_round" in solved["latm.route"]
    answer = next(s for s in EXPORTER.get_finished_spans() if s.name == "latm.answer")
    assert answer.attributes is not None and answer.attributes["latm.mode"] == "direct"
