"""The tool user by function calling, through the real openai client and a local fake server,
and `run_tool_call` for any agent loop built on the openai SDK."""

import json

import pytest

from latm.models import OpenAIModel
from latm.testing import FakeOpenAIServer, ScriptedModel
from latm.use.exposure import run_tool_call
from latm.use.tool_user import ToolUser
from sandbox import Sandbox
from tasks import get_task
from toolcache import Tool, ToolCache

EX = get_task("word_sorting").generate(3, seed=42)


@pytest.fixture
def sorter(demo_cache: ToolCache) -> Tool:
    """The demo's word sorter without its direct solver: every question goes to the user model."""
    tool = demo_cache.current("word_sorting")
    assert tool is not None
    return tool.model_copy(update={"direct": None})


def words(question: str) -> list[str]:
    return question.split("List: ")[1].split()


def call(arguments: object, name: str = "sort_words") -> dict[str, object]:
    return {"tool_calls": [{"name": name, "arguments": arguments}]}


def code_reply(question: str) -> str:
    return f"```python\nret = sort_words({words(question)!r})\nans = ret\n```"


def asked(messages: list[dict[str, str]]) -> str:
    """The question of a tool-user prompt (code mode ends it with 'Solution:')."""
    return messages[-1]["content"].rsplit("Question: ", 1)[1].removesuffix("\nSolution:")


def test_one_function_call_answers_at_a_fraction_of_the_code_modes_tokens(sb: Sandbox, sorter: Tool) -> None:
    q = EX[0].question
    with FakeOpenAIServer(lambda messages: call({"words": words(q)})) as server:
        by_function = ToolUser(OpenAIModel("m", base_url=server.url), sb, calling="functions").use(sorter, q)
        sent = server.payloads[-1]
    assert (by_function.value, by_function.calling) == (EX[0].answer, "functions"), by_function.error
    assert sent["tools"][0]["function"]["name"] == "sort_words"
    assert sent["tool_choice"] == {"type": "function", "function": {"name": "sort_words"}}
    assert sent["tools"][0]["function"]["parameters"]["properties"]["words"]["type"] == "array"
    with FakeOpenAIServer(lambda messages: code_reply(q)) as server:
        by_code = ToolUser(OpenAIModel("m", base_url=server.url), sb, calling="code").use(sorter, q)
    assert by_code.value == EX[0].answer and by_code.calling == "code"
    assert by_function.usage.tokens < by_code.usage.tokens  # no tool code and no use cases in the prompt


@pytest.mark.parametrize(
    "first",
    [
        call("{not json"),  # malformed arguments
        call({"words": ["x"]}, name="sort_everything"),  # a function that does not exist
        call({"wrds": ["x"]}),  # arguments the function does not take
    ],
)
def test_an_unusable_call_is_retried_once_with_the_error(sb: Sandbox, sorter: Tool, first: object) -> None:
    q = EX[1].question
    replies = [first, call({"words": words(q)})]
    with FakeOpenAIServer(replies) as server:
        answer = ToolUser(OpenAIModel("m", base_url=server.url), sb, calling="functions").use(sorter, q)
        retry = server.requests[1][-1]["content"]
    assert answer.value == EX[1].answer and answer.calling == "functions"
    assert "sort_words" in retry and any(w in retry for w in ("unusable call", "failed", "refused"))


def test_auto_falls_back_to_code_on_a_400_and_remembers_it(sb: Sandbox, sorter: Tool) -> None:
    with FakeOpenAIServer(lambda messages: code_reply(asked(messages)), takes_tools=False) as server:
        user = ToolUser(OpenAIModel("m", base_url=server.url), sb)  # calling="auto"
        first = user.use(sorter, EX[0].question)
        second = user.use(sorter, EX[2].question)
        offered = [bool(p.get("tools")) for p in server.payloads]
    assert (first.value, first.calling) == (EX[0].answer, "code")
    assert second.value == EX[2].answer
    assert offered == [True, False, False]  # asked once with functions; then code only


def test_auto_falls_back_to_code_when_the_reply_has_no_call(sb: Sandbox, sorter: Tool) -> None:
    q = EX[0].question
    model = ScriptedModel(["I would sort them.", code_reply(q)], name="m", functions=True)
    answer = ToolUser(model, sb).use(sorter, q)
    assert (answer.value, answer.calling) == (EX[0].answer, "code")
    assert model.tools_offered[0] and model.tools_offered[1] is None


def test_functions_only_reports_an_endpoint_without_function_calling(sb: Sandbox, sorter: Tool) -> None:
    with FakeOpenAIServer(["unused"], takes_tools=False) as server:
        answer = ToolUser(OpenAIModel("m", base_url=server.url), sb, calling="functions").use(sorter, EX[0].question)
    assert answer.value is None and "does not take functions" in (answer.error or "")


def test_run_tool_call_answers_a_chat_completions_tool_call_in_the_sandbox(sb: Sandbox, demo_cache: ToolCache) -> None:
    import openai

    q = EX[0].question
    with FakeOpenAIServer([call({"question": q}, name="sort_words")]) as server:
        client = openai.OpenAI(base_url=server.url, api_key="local")
        from latm.interop.openai_tools import openai_tools

        tools = openai_tools(demo_cache)
        done = client.chat.completions.create(model="m", messages=[{"role": "user", "content": q}], tools=tools)
    tool_call = done.choices[0].message.tool_calls[0]
    message = run_tool_call(tool_call, demo_cache, sb)
    assert message == {"role": "tool", "tool_call_id": tool_call.id, "content": EX[0].answer}
    by_args = run_tool_call(
        {"id": "c2", "function": {"name": "sort_words", "arguments": '{"words": ["b", "a"]}'}}, demo_cache, sb
    )
    assert by_args["content"] == "a b"
    bad = run_tool_call({"id": "c3", "function": {"name": "sort_words", "arguments": "{nope"}}, demo_cache, sb)
    assert bad["content"].startswith("error: the arguments are not valid JSON")
    unknown = run_tool_call({"id": "c4", "function": {"name": "rm_rf", "arguments": "{}"}}, demo_cache, sb)
    assert unknown["content"].startswith("error: no LATM tool is named 'rm_rf'")
    stats = demo_cache.stats()
    assert stats["by_source"].get("openai") == 2  # the two calls that reached a tool
    assert json.loads(json.dumps(tools))[0]["type"] == "function"
