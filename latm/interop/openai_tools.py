"""OpenAI function schemas for the tool cache: one function per exposed (routable) tool.

``openai_tools(cache)`` is the ``tools=`` list of an OpenAI chat completion (or any API that
takes the same shape): each entry names the tool by its exposed name and describes it with
``latm.use.exposure``, so a tool reads the same here as on the MCP server and in the skills export
(routable tools only, one stable name each). A direct-solver tool takes ``question`` or its function's
arguments; run a call with ``latm.use.exposure.call_exposed``, which keeps it in LATM's sandbox.
"""

from typing import Any

from latm.errors import raises_ours
from latm.use.exposure import expose
from toolcache import ToolCache


@raises_ours
def openai_tools(cache: ToolCache) -> list[dict[str, Any]]:
    """``[{"type": "function", "function": {"name", "description", "parameters"}}]`` for every exposed tool."""
    return [
        {
            "type": "function",
            "function": {"name": e.name, "description": e.description, "parameters": e.input_schema()},
        }
        for e in expose(cache)
    ]
