"""LATM: Large Language Models as Tool Makers.

A strong model writes a generic Python tool from a few solved examples, proves it in a
sandbox and caches it; later questions of that task are answered by the tool, through its
direct solver (no LLM at all) or a cheap model that writes the call.

    from latm import LATM, Example
    with LATM(maker="gpt-4o", user="gpt-4o-mini") as latm:
        latm.make_tool("word_sorting", examples)
        print(latm.solve("Sort the following words alphabetically: List: pear apple").answer)
"""

from latm.errors import (
    LATMError,
    ModelConfigError,
    ModelError,
    ModelHTTPError,
    ModelUnreachable,
    NoToolForQuestion,
    ResponseCacheMiss,
    UnexpectedModelBehavior,
    UserError,
)
from latm.facade import LATM, Solution
from latm.interop.exposure import run_tool_call
from latm.interop.openai_tools import openai_tools
from latm.maker import Attempt, MakeResult, ToolMaker
from latm.models import CachedModel, ChatModel, Completion, OpenAIModel
from latm.models.usage import PriceTable, Usage
from latm.use.dispatcher import Dispatcher, Route
from latm.use.tool_user import Answer, ToolUser
from tasks import Example
from toolcache.models import package_version

__version__ = package_version()

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
    "ResponseCacheMiss",
    "Route",
    "Solution",
    "ToolMaker",
    "ToolUser",
    "UnexpectedModelBehavior",
    "Usage",
    "UserError",
    "__version__",
    "openai_tools",
    "run_tool_call",
]
