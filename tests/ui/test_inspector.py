"""`latm ui` in a real browser (headless Chromium from the system's packages, driven by Selenium):
the pages load, a tool's code and the break-even chart are visible, a removed tool disappears, and
nothing the cached data contains is interpreted as HTML."""

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from latm.cli import main
from toolcache import Tool, ToolCache

from ..conftest import docker_required

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
INJECTED = '<script>document.title="pwned"</script><b id="injected">bold?</b>'


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def inspector(demo_tools_dir: Path, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    import uvicorn

    from latm.ui.app import make_app

    directory = tmp_path / "tools"
    shutil.copytree(demo_tools_dir, directory)
    with ToolCache(directory) as cache:  # a tool whose texts hold markup, and a failure to show
        honest = cache.current("word_sorting")
        assert honest is not None
        record = honest.model_dump()
        record.update(id="", task="markup_task", description=INJECTED)
        record["provenance"]["exporter_usage"] = {"uses": 7, "direct_uses": 7}  # as an import keeps it
        cache.put(Tool.model_validate(record))
        cache.record_failures(honest.id, [(f"Sort these {INJECTED}", "refused: not a question of this task")])
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(make_app(directory), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", directory
    server.should_exit = True
    thread.join(timeout=5)


@pytest.fixture
def browser() -> Iterator[object]:
    if not (CHROMIUM and DRIVER):
        if docker_required():  # CI installs the browser: there, a missing one is a failure
            pytest.fail("no chromium/chromedriver: apt-get install chromium chromium-driver")
        pytest.skip("no chromium/chromedriver on this machine")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()


def test_the_inspector_shows_tools_code_and_break_even_and_never_renders_cached_markup(
    inspector: tuple[str, Path], browser: object
) -> None:
    from selenium.webdriver.common.by import By

    url, directory = inspector
    driver = browser
    driver.get(url + "/")  # type: ignore[attr-defined]
    table = driver.find_element(By.ID, "tools")  # type: ignore[attr-defined]
    assert "sort_words" in table.text and "word_sorting" in table.text and "routable" in table.text
    assert driver.find_elements(By.ID, "injected") == []  # type: ignore[attr-defined]
    assert "markup_task" in table.text and driver.title == "LATM tool cache"  # type: ignore[attr-defined]
    assert driver.find_elements(By.CSS_SELECTOR, "svg.chart line.break-even")  # type: ignore[attr-defined]
    with ToolCache(directory) as cache:
        marked = cache.current("markup_task")
    assert marked is not None
    driver.get(f"{url}/tool/{marked.id}")  # type: ignore[attr-defined]
    assert INJECTED in driver.find_element(By.TAG_NAME, "body").text  # type: ignore[attr-defined]
    exported = driver.find_element(By.ID, "exported").text  # type: ignore[attr-defined]
    assert "In the cache that exported it: 7 uses (7 direct" in exported and "Not counted here" in exported
    assert driver.find_elements(By.ID, "injected") == [] and driver.title != "pwned"  # type: ignore[attr-defined]
    driver.get(url + "/")  # type: ignore[attr-defined]

    honest = next(
        a
        for a in driver.find_elements(By.LINK_TEXT, "sort_words")
        if "word_sorting" in a.find_element(By.XPATH, "../..").text
    )  # type: ignore[attr-defined]
    honest.click()
    code = driver.find_element(By.ID, "code")  # type: ignore[attr-defined]
    assert code.is_displayed() and "def sort_words" in code.text
    chart = driver.find_element(By.CSS_SELECTOR, "svg.chart")  # type: ignore[attr-defined]
    assert chart.is_displayed() and driver.find_elements(By.CSS_SELECTOR, "line.break-even")  # type: ignore[attr-defined]
    assert "break-even" in chart.text
    failures = driver.find_element(By.ID, "failures")  # type: ignore[attr-defined]
    assert INJECTED in failures.text and driver.find_elements(By.ID, "injected") == []  # type: ignore[attr-defined]

    with ToolCache(directory) as cache:
        removed = cache.remove("dyck_languages")
    driver.get(url + "/")  # type: ignore[attr-defined]
    assert removed.name not in driver.find_element(By.ID, "tools").text  # type: ignore[attr-defined]
    driver.get(f"{url}/tool/{removed.id}")  # type: ignore[attr-defined]
    assert "No tool" in driver.find_element(By.TAG_NAME, "h1").text  # type: ignore[attr-defined]


def test_latm_ui_refuses_a_non_loopback_address_without_allow_remote() -> None:
    r = CliRunner().invoke(main, ["ui", "--host", "0.0.0.0"])
    assert r.exit_code == 2 and "not loopback" in r.output
    r = CliRunner().invoke(main, ["ui", "--port", "0"])  # it would print a URL no browser can open
    assert r.exit_code == 2 and "--port" in r.output
