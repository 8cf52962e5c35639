"""``except LATMError`` catches every error LATM raises on purpose, through its public entry points."""

from pathlib import Path

import pytest

from latm import LATM, LATMError, ModelConfigError, ModelHTTPError, NoToolForQuestion, OpenAIModel, Settings, UserError
from latm.testing import FakeOpenAIServer
from sandbox import SandboxUnavailable
from toolcache import ToolCache, ToolCacheError

HI = [{"role": "user", "content": "hi"}]


def test_a_bad_argument_is_a_user_error() -> None:
    with pytest.raises(LATMError) as caught:
        LATM(on_miss="sometimes")  # type: ignore[arg-type]
    assert isinstance(caught.value, UserError) and "on_miss" in str(caught.value)


def test_a_missing_api_key_is_a_model_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "LATM_API_KEY", "OPENAI_BASE_URL", "LATM_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(LATMError) as caught:
        OpenAIModel("gpt-4o", base_url="https://api.example.invalid/v1")
    assert isinstance(caught.value, ModelConfigError) and "API key" in str(caught.value)


def test_an_http_error_of_the_endpoint_is_a_model_error() -> None:
    with FakeOpenAIServer(["never sent"]) as server:
        server.fail_next(500, times=5)
        model = OpenAIModel("fake", base_url=server.url, max_retries=0)
        with pytest.raises(LATMError) as caught:
            model.complete(HI)
    assert isinstance(caught.value, ModelHTTPError) and caught.value.status == 500


def test_no_tool_with_on_miss_raise(tmp_path: Path) -> None:
    with LATM(cache=ToolCache(tmp_path), on_miss="raise") as latm, pytest.raises(LATMError) as caught:
        latm.solve("What is the capital of France?")
    assert isinstance(caught.value, NoToolForQuestion)


def test_the_sandbox_unavailable_is_caught_as_itself_and_as_a_latm_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LATM_SANDBOX_IMAGE", "latm-no-such-image:0")
    latm = LATM(settings=Settings.load(backend="docker"))
    with pytest.raises(LATMError) as caught:
        _ = latm.sandbox
    assert isinstance(caught.value, SandboxUnavailable)
    with pytest.raises(SandboxUnavailable):  # the sandbox's own class still catches it
        _ = latm.sandbox


def test_an_unusable_cache_directory_is_caught_as_a_latm_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    latm = LATM(cache=str(blocker / "tools"))
    with pytest.raises(LATMError) as caught:
        _ = latm.cache
    assert isinstance(caught.value, ToolCacheError) and str(blocker) in str(caught.value)
