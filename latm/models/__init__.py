"""The model layer: what LATM needs of a model, and every model it ships.

``ChatModel`` is the protocol (``protocol``); ``OpenAIModel`` speaks to any OpenAI-compatible
endpoint and is the only importer of ``openai`` (``openai_client``); ``CachedModel`` records and
replays replies (``response_cache``); ``Usage`` and ``PriceTable`` count tokens and dollars
(``usage``); ``ScriptedModel`` and ``FakeOpenAIServer`` run everything offline (``scripted``,
``fake_server``), and the demo's scripted maker and user live in ``demo``. Nothing here knows of
tools, makers or judges: the layer sits just above the leaves.
"""

from latm.models.openai_client import OpenAIModel
from latm.models.protocol import ChatModel, Completion, FunctionCallingModel, Message, ToolCall, Tools
from latm.models.resolve import SyncOnlyAdapter, resolve_model
from latm.models.response_cache import CachedModel
from latm.settings import CacheMode

__all__ = [
    "CacheMode",
    "CachedModel",
    "ChatModel",
    "Completion",
    "FunctionCallingModel",
    "Message",
    "OpenAIModel",
    "SyncOnlyAdapter",
    "ToolCall",
    "Tools",
    "resolve_model",
]
