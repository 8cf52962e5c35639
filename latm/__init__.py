"""LATM: Large Language Models as Tool Makers.

A strong model writes a generic Python tool from a few solved examples, proves it in a
sandbox and caches it; later questions of that task are answered by the tool, through its
direct solver (no LLM at all) or a cheap model that writes the call.

    from latm import LATM, Example
    with LATM(maker="gpt-4o", user="gpt-4o-mini") as latm:
        latm.make_tool("word_sorting", examples)
        print(latm.solve("Sort the following words alphabetically: List: pear apple").answer)

Everything a user imports is in ``__all__``; the folders below are the house (``docs/architecture.md``).
"""

from latm.errors import (
    LATMError,
    ModelConfigError,
    ModelError,
    ModelHTTPError,
    ModelUnreachable,
    NoToolForQuestion,
    RenderingError,
    ReplyProblem,
    ResponseCacheMiss,
    RetrySignal,
    RunError,
    StepFailed,
    UnexpectedModelBehavior,
    UserError,
)
from latm.facade import LATM
from latm.interop.openai_tools import openai_tools
from latm.maker import Attempt, MakeResult, ToolMaker
from latm.models import CachedModel, ChatModel, Completion, OpenAIModel
from latm.models.usage import PriceTable, Usage
from latm.settings import Settings
from latm.use.dispatcher import Dispatcher, Route
from latm.use.exposure import run_tool_call
from latm.use.solution import Solution
from latm.use.tool_user import Answer, ToolUser
from tasks import Example
from toolcache.models import package_version as _package_version

__version__ = _package_version()

__all__ = [
    "LATM",
    "Answer",
    "Attempt",
    "CachedModel",
    "ChatModel",
    "Completion",
    "Dispatcher",
    "Example",
    "LATMError",
    "MakeResult",
    "ModelConfigError",
    "ModelError",
    "ModelHTTPError",
    "ModelUnreachable",
    "NoToolForQuestion",
    "OpenAIModel",
    "PriceTable",
    "RenderingError",
    "ReplyProblem",
    "ResponseCacheMiss",
    "RetrySignal",
    "Route",
    "RunError",
    "Settings",
    "Solution",
    "StepFailed",
    "ToolMaker",
    "ToolUser",
    "UnexpectedModelBehavior",
    "Usage",
    "UserError",
    "__version__",
    "openai_tools",
    "run_tool_call",
]
