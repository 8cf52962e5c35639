"""The model layer through the real openai client against a local fake server."""

import asyncio
import time
from typing import Any

import pytest

from latm.errors import ModelConfigError, ModelHTTPError, ModelUnreachable, ResponseCacheMiss, UnexpectedModelBehavior
from latm.models import CachedModel, OpenAIModel, resolve_model
from latm.models.usage import PriceTable, TokenCount, Usage
from latm.testing import FakeOpenAIServer, ScriptedModel

HI = [{"role": "user", "content": "hi"}]


def test_openai_client_round_trip_with_usage() -> None:
    with FakeOpenAIServer(["hello there"]) as server:
        model = OpenAIModel("gpt-4o-mini", base_url=server.url)
        done = model.complete(HI)
    assert done.text == "hello there" and done.model == "gpt-4o-mini" and not done.cached
    assert done.usage.prompt_tokens > 0 and done.usage.completion_tokens > 0
    assert server.requests == [HI]


def test_async_twin() -> None:
    with FakeOpenAIServer(["a", "b"]) as server:
        model = OpenAIModel("m", base_url=server.url)

        async def both() -> list[str]:
            return [c.text for c in await asyncio.gather(model.acomplete(HI), model.acomplete(HI))]

        assert sorted(asyncio.run(both())) == ["a", "b"]


def test_retries_429_and_500_then_succeeds() -> None:
    with FakeOpenAIServer(["finally"]) as server:
        server.fail_next(429)
        server.fail_next(500)
        done = OpenAIModel("m", base_url=server.url, max_retries=3).complete(HI)
    assert done.text == "finally" and server.hits == 3


def test_gives_up_with_a_clear_http_error() -> None:
    with FakeOpenAIServer(["never"]) as server:
        server.fail_next(503, times=5)
        with pytest.raises(ModelHTTPError, match="503"):
            OpenAIModel("m", base_url=server.url, max_retries=1).complete(HI)


def test_refused_key_names_the_setting() -> None:
    with FakeOpenAIServer(["x"]) as server:
        server.fail_next(401)
        with pytest.raises(ModelConfigError, match="OPENAI_API_KEY"):
            OpenAIModel("m", base_url=server.url, api_key="bad").complete(HI)


def test_unknown_model_names_the_model() -> None:
    with FakeOpenAIServer(["x"]) as server:
        server.fail_next(404)
        with pytest.raises(ModelConfigError, match="'nope'"):
            OpenAIModel("nope", base_url=server.url).complete(HI)


def test_unreachable_endpoint_names_the_url_setting() -> None:
    model = OpenAIModel("m", base_url="http://127.0.0.1:9/v1", max_retries=0)
    with pytest.raises(ModelUnreachable, match="base-url"):
        model.complete(HI)


def test_timeout_is_retried_then_reported() -> None:
    with FakeOpenAIServer(["late but fine"]) as server:
        server.hang_next(1.5)
        t0 = time.monotonic()
        done = OpenAIModel("m", base_url=server.url, timeout=0.5, max_retries=2).complete(HI)
        assert done.text == "late but fine" and time.monotonic() - t0 < 10
        server.hang_next(1.5, times=3)
        with pytest.raises(ModelUnreachable, match="did not answer"):
            OpenAIModel("m", base_url=server.url, timeout=0.3, max_retries=1).complete(HI)


def test_malformed_body_is_a_clear_error() -> None:
    with FakeOpenAIServer(["x"]) as server:
        server.malformed_next(times=5)
        with pytest.raises((UnexpectedModelBehavior, ModelHTTPError)):
            OpenAIModel("m", base_url=server.url, max_retries=0).complete(HI)


def test_missing_key_for_the_real_api_says_what_to_set() -> None:
    with pytest.raises(ModelConfigError, match="OPENAI_API_KEY"):
        OpenAIModel("gpt-4o")


def test_settings_come_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LATM_BASE_URL", "http://localhost:8765/v1")
    model = OpenAIModel("qwen")
    assert model.base_url == "http://localhost:8765/v1"  # a local endpoint needs no key
    monkeypatch.setenv("LATM_MAKER", "qwen-maker")
    resolved = resolve_model(None, role="maker")
    assert resolved is not None and resolved.name == "qwen-maker"
    assert resolve_model(None, role="user") is None


def test_local_servers_get_a_long_timeout_and_latm_timeout_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LATM_TIMEOUT", raising=False)
    local = OpenAIModel("qwen", base_url="http://127.0.0.1:8765/v1")
    remote = OpenAIModel("gpt-4o", api_key="sk-test")
    assert local.timeout > remote.timeout  # a CPU server may need minutes for one long reply
    monkeypatch.setenv("LATM_TIMEOUT", "42")
    assert OpenAIModel("qwen", base_url="http://127.0.0.1:8765/v1").timeout == 42
    assert OpenAIModel("qwen", base_url="http://127.0.0.1:8765/v1", timeout=5).timeout == 5
    monkeypatch.setenv("LATM_TIMEOUT", "soon")
    with pytest.raises(ModelConfigError, match="LATM_TIMEOUT"):
        OpenAIModel("qwen", base_url="http://127.0.0.1:8765/v1")


def test_response_cache_pays_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    inner = ScriptedModel(["first answer", "second answer"])
    cached = CachedModel(inner, "readwrite", tmp_path)
    a, b = cached.complete(HI), cached.complete(HI)
    assert a.text == b.text == "first answer" and not a.cached and b.cached and inner.calls == 1
    usage = Usage()
    usage.record("maker", "gpt-4o", a.usage)
    usage.record("maker", "gpt-4o", b.usage, cached=b.cached)
    assert usage.calls == 2 and usage.lines["maker|gpt-4o"].cached_calls == 1
    assert usage.cost_usd == PriceTable.load().cost("gpt-4o", a.usage.prompt_tokens, a.usage.completion_tokens)


def test_replay_mode_misses_loudly(tmp_path) -> None:  # type: ignore[no-untyped-def]
    CachedModel(ScriptedModel(["recorded"]), "readwrite", tmp_path).complete(HI)
    replay = CachedModel(ScriptedModel([]), "replay", tmp_path)
    assert replay.complete(HI).text == "recorded"
    with pytest.raises(ResponseCacheMiss, match="readwrite"):
        replay.complete([{"role": "user", "content": "never recorded"}])


def test_unknown_price_is_unknown_not_zero() -> None:
    usage = Usage()
    usage.record("user", "qwen2.5-coder-0.5b", TokenCount(prompt_tokens=100, completion_tokens=10))
    assert usage.cost_usd is None and usage.tokens == 110
    usage.record("maker", "gpt-4o", TokenCount(prompt_tokens=1_000_000, completion_tokens=0))
    assert usage.cost_usd is None and usage.known_cost_usd == pytest.approx(2.5)


def test_prices_per_role_and_dated_models() -> None:
    prices = PriceTable.load({"my-model": (1.0, 2.0)})
    assert prices.cost("gpt-4o-2024-08-06", 1_000_000, 0) == pytest.approx(2.5)
    assert prices.cost("my-model", 1_000_000, 1_000_000) == pytest.approx(3.0)
    u = Usage()
    u.record("maker", "gpt-4o", TokenCount(prompt_tokens=10, completion_tokens=5))
    u.record("user", "gpt-4o-mini", TokenCount(prompt_tokens=7, completion_tokens=3))
    assert u.by_role()["maker"].prompt_tokens == 10 and u.by_role()["user"].completion_tokens == 3
    assert (u + u).calls == 4


def test_scripted_model_from_a_function() -> None:
    model = ScriptedModel(lambda msgs: msgs[-1]["content"].upper())
    assert model.complete(HI).text == "HI" and model.calls == 1


def test_a_new_prompt_version_never_replays_an_old_reply(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import latm.maker.prompts
    from latm import LATM

    def maker_model(model: ScriptedModel) -> Any:  # the facade keys the response cache by the prompt version
        return LATM(maker=model, user=model, response_cache="readwrite").maker_model

    monkeypatch.setenv("LATM_RESPONSE_CACHE_DIR", str(tmp_path))
    maker_model(ScriptedModel(["made with prompts v-old"])).complete(HI)
    monkeypatch.setattr(latm.maker.prompts, "PROMPT_VERSION", "999")
    fresh = ScriptedModel(["made with prompts v-new"])
    assert maker_model(fresh).complete(HI).text == "made with prompts v-new"
    assert fresh.calls == 1


def test_sampled_requests_are_distinct_samples_and_replay_in_order(tmp_path) -> None:  # type: ignore[no-untyped-def]
    recorder = CachedModel(ScriptedModel(["one", "two", "three"]), "readwrite", tmp_path)
    got = [recorder.complete(HI, temperature=0.8).text for _ in range(3)]
    assert got == ["one", "two", "three"]  # each asking at temperature is a new sample, not the first again
    replay = CachedModel(ScriptedModel([]), "replay", tmp_path)
    again = [replay.complete(HI, temperature=0.8) for _ in range(3)]
    assert [c.text for c in again] == got and all(c.cached for c in again)
    greedy = CachedModel(ScriptedModel(["only"]), "readwrite", tmp_path)
    assert [greedy.complete(HI).text for _ in range(2)] == ["only", "only"]  # temperature 0: one answer
