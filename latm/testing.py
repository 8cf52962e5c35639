"""Offline models for tests and demos (public API: use them in your own tests).

- ``ScriptedModel(responses)``: answers from a list in order, or from a function of the
  messages. Never touches the network.
- ``FakeOpenAIServer``: a local OpenAI-compatible HTTP server answering from a script, so
  the real openai client is exercised end to end; it can inject latency, 429s, 500s,
  hangs (client timeouts) and malformed bodies.

    with FakeOpenAIServer(["hello"]) as server:
        model = OpenAIModel("fake", base_url=server.url)
        assert model.complete([{"role": "user", "content": "hi"}]).text == "hello"
"""

from latm.models.fake_server import FakeOpenAIServer, Fault
from latm.models.scripted import ScriptedModel, ScriptExhausted

__all__ = ["FakeOpenAIServer", "Fault", "ScriptExhausted", "ScriptedModel"]
