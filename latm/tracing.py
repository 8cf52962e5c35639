"""OpenTelemetry spans for what LATM does: a making and each of its steps, each model call, routing, each
sandbox round and each answer. They use the ``opentelemetry-api`` package: a no-op until the user
configures a tracer provider (any exporter, any LLM observability tool that reads OpenTelemetry), and
nothing at all where the package is missing. Attributes follow the GenAI semantic conventions where
one exists (``gen_ai.request.model``, ``gen_ai.usage.input_tokens``, ``gen_ai.usage.output_tokens``).
"""

import contextlib
from collections.abc import Iterator
from typing import Any

try:
    from opentelemetry import trace as _trace
except ImportError:  # pragma: no cover - the api is a dependency; this keeps a stripped install working
    _trace = None  # type: ignore[assignment]


class _NoSpan:
    def set_attribute(self, key: str, value: Any) -> None:
        pass


_NO_SPAN = _NoSpan()


@contextlib.contextmanager
def span(name: str, **attributes: Any) -> Iterator[Any]:
    """A span named ``latm.<name>`` around the block, with these attributes (None values left out)."""
    if _trace is None or isinstance(_trace.get_tracer_provider(), _trace.ProxyTracerProvider):
        yield _NO_SPAN  # no tracer configured: nothing to record, and nothing to pay per answer
        return
    tracer = _trace.get_tracer("latm")
    with tracer.start_as_current_span(f"latm.{name}") as current:
        for key, value in attributes.items():
            if value is not None:
                current.set_attribute(key, value if isinstance(value, bool | int | float | str) else str(value))
        yield current


def record_tokens(current: Any, model: str, prompt_tokens: int, completion_tokens: int) -> None:
    """A model call's model and tokens on its span."""
    current.set_attribute("gen_ai.request.model", model)
    current.set_attribute("gen_ai.usage.input_tokens", prompt_tokens)
    current.set_attribute("gen_ai.usage.output_tokens", completion_tokens)
