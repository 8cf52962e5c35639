"""--backend on the cache commands that run tools (DECISIONS: on every command that runs tools)."""

from click.testing import CliRunner

from latm.cli import main
from toolcache import ToolCache


def test_cache_verify_takes_the_backend_and_says_an_explicit_process_backend(demo_cache: ToolCache) -> None:
    env = {"LATM_CACHE_DIR": str(demo_cache.directory), "LATM_SANDBOX_BACKEND": "docker"}
    r = CliRunner().invoke(main, ["cache", "verify", "word_sorting", "--backend", "process"], env=env)
    assert r.exit_code == 0, r.output
    assert "warning: --backend process" in r.stderr
    assert "held-out questions" in r.stdout and "error:" not in r.output
