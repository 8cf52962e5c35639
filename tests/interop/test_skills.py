"""Agent Skills export (`latm cache export --format skills`) and OpenAI function schemas.

Every exported SKILL.md is held to the Agent Skills specification (agentskills.io): YAML front
matter with `name` (1-64 chars, lowercase letters, digits and single inner hyphens, equal to the
folder name) and `description` (1-1024 chars), optional `license`, `compatibility` (<= 500 chars),
`metadata` (a string map) and `allowed-tools`. Every exported script runs on its own, stdlib only
(`python -I -S`: no site-packages, so no LATM), and answers its tool's use cases.
"""

import ast
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import latm
from latm.cli import main
from latm.interop.skills import RENDER_SOURCE, arguments_of, export_skills, skill_name
from latm.judge.rendering import RenderingError, render
from latm.use.exposure import expose
from toolcache import HeldOut, Rendering, Tool, ToolCache

SPEC_FIELDS = {"name", "description", "license", "compatibility", "metadata", "allowed-tools"}
SPEC_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
UNRELATED = "What is the capital of France? Answer in one word."


# -- helpers -------------------------------------------------------------------------------------


def front_matter(skill_md: str) -> tuple[dict[str, Any], str]:
    """(the YAML front matter, the Markdown body) of a SKILL.md."""
    match = re.match(r"---\n(.*?\n)---\n(.*)", skill_md, re.S)
    assert match, "SKILL.md must start with YAML front matter between --- lines"
    data = yaml.safe_load(match.group(1))
    assert isinstance(data, dict)
    return data, match.group(2)


def spec_problems(front: dict[str, Any], folder: str) -> list[str]:
    """What in the front matter breaks the Agent Skills specification (empty: nothing)."""
    problems = [f"unknown field {k}" for k in front if k not in SPEC_FIELDS]
    name, desc = front.get("name"), front.get("description")
    if not isinstance(name, str) or not 1 <= len(name) <= 64 or not SPEC_NAME.fullmatch(name):
        problems.append(f"bad name {name!r}")
    if name != folder:
        problems.append(f"name {name!r} differs from its folder {folder!r}")
    if not isinstance(desc, str) or not desc.strip() or len(desc) > 1024:
        problems.append(f"bad description ({len(desc) if isinstance(desc, str) else desc!r})")
    if "compatibility" in front:
        comp = front["compatibility"]
        if not isinstance(comp, str) or not 1 <= len(comp) <= 500:
            problems.append("bad compatibility")
    if "metadata" in front:
        meta = front["metadata"]
        if not isinstance(meta, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items()):
            problems.append(f"metadata must map strings to strings: {meta!r}")
    for field in ("license", "allowed-tools"):
        if field in front and not isinstance(front[field], str):
            problems.append(f"bad {field}")
    return problems


def run(script: Path, *args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """The script run on its own: isolated mode and no site-packages, so nothing of LATM is importable."""
    return subprocess.run(
        [sys.executable, "-I", "-S", str(script), *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "PYTHONIOENCODING": "utf-8"},
    )


def without_direct(tool: Tool) -> Tool:
    """A copy of ``tool`` with no direct solver, still verified on held-out questions (so routable)."""
    data = tool.model_dump(exclude={"id", "version", "usage"})
    data["direct"] = None
    copy = Tool(**data)
    copy.verification.held_out = HeldOut(passed=10, total=10, source="generated", judged_by="user model test-user")
    return copy


@pytest.fixture
def skills(demo_cache: ToolCache, tmp_path: Path) -> list[Path]:
    return export_skills(demo_cache, tmp_path / "skills")


# -- the front matter and the files ----------------------------------------------------------------


def test_every_skill_meets_the_spec(demo_cache: ToolCache, skills: list[Path]) -> None:
    exposed = {e.tool.id: e for e in expose(demo_cache)}
    assert len(skills) == len(exposed) == 8
    names = set()
    for folder in skills:
        front, body = front_matter((folder / "SKILL.md").read_text(encoding="utf-8"))
        assert spec_problems(front, folder.name) == [], folder.name
        names.add(front["name"])
        e = exposed[front["metadata"]["latm-tool-id"]]
        assert front["name"] == e.name.lower().replace("_", "-")  # the exposed name, under the spec's rules
        assert front["metadata"]["latm-task"] == e.tool.task
        assert front["metadata"]["maker-model"] == e.tool.provenance.maker_model
        assert front["metadata"]["held-out"].startswith("300/300 ")
        assert "Use when" in front["description"] and e.tool.task in front["description"]
        for part in ("scripts/solve.py", "references/use_cases.md", "references/verification.json"):
            assert (folder / part).is_file(), part
        assert "python scripts/solve.py" in body and "## When to use it" in body
        assert "MCP server" in body and "sandbox" in body  # who runs the code (DECISIONS 9)
        assert e.tool.use_cases[0].answer in body
        ver = json.loads((folder / "references" / "verification.json").read_text())
        assert ver["tool_id"] == e.tool.id and ver["verification"]["held_out"]["passed"] == 300
        assert ver["maker_model"] == e.tool.provenance.maker_model and "rendering" in ver
        uses = (folder / "references" / "use_cases.md").read_text()
        assert all(u.question.splitlines()[0] in uses and u.call.splitlines()[0] in uses for u in e.tool.use_cases)
    assert len(names) == 8
    assert "track-swaps-tracking-shuffled-objects-five-objects" in names  # a shared function name, made unique


def test_a_tool_that_is_not_routable_is_not_exported(demo_cache: ToolCache, tmp_path: Path) -> None:
    tool = demo_cache.current("word_sorting")
    assert tool is not None
    shown_only = tool.model_copy(deep=True)
    shown_only.verification.held_out = None  # verified on shown examples only: not routable (DECISIONS 3)
    with ToolCache(tmp_path / "shown-only") as cache:
        cache.put(shown_only)
        assert export_skills(cache, tmp_path / "none") == []
        assert latm.openai_tools(cache) == []


def test_skill_names_follow_the_spec() -> None:
    assert skill_name("track_swaps_tracking_shuffled_objects_five_objects") == (
        "track-swaps-tracking-shuffled-objects-five-objects"
    )
    assert skill_name("_Sort__Words-") == "sort-words"
    assert skill_name("sort_words", {"sort-words"}) == "sort-words-2"
    assert skill_name("___") == "tool"
    long = skill_name("a_" * 40)
    assert len(long) <= 64 and SPEC_NAME.fullmatch(long)
    assert skill_name("a_" * 40, {long}) != long


# -- the scripts -----------------------------------------------------------------------------------


def test_scripts_import_nothing_of_latm(skills: list[Path]) -> None:
    for folder in skills:
        tree = ast.parse((folder / "scripts" / "solve.py").read_text(encoding="utf-8"))
        imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        assert imported <= set(sys.stdlib_module_names), imported
        assert not imported & {"latm", "toolcache", "sandbox", "tasks"}


def test_every_script_answers_its_use_cases_and_refuses_other_questions(
    demo_cache: ToolCache, skills: list[Path], tmp_path: Path
) -> None:
    tools = {e.tool.id: e.tool for e in expose(demo_cache)}
    for folder in skills:
        front, _ = front_matter((folder / "SKILL.md").read_text(encoding="utf-8"))
        tool = tools[front["metadata"]["latm-tool-id"]]
        script = folder / "scripts" / "solve.py"
        assert tool.use_cases
        for use in tool.use_cases:
            r = run(script, use.question, cwd=tmp_path)
            assert (r.returncode, r.stdout, r.stderr) == (0, use.answer + "\n", ""), (folder.name, use.question)
            args = arguments_of(tool, use)
            assert args, use.call
            r = run(script, "--args", json.dumps(args), cwd=tmp_path)  # the function's own arguments
            assert (r.returncode, r.stdout) == (0, use.answer + "\n"), (folder.name, r.stderr)
        r = run(script, "-", cwd=tmp_path, stdin=tool.use_cases[0].question)  # the question on stdin
        assert (r.returncode, r.stdout) == (0, tool.use_cases[0].answer + "\n")
        r = run(script, UNRELATED, cwd=tmp_path)
        assert r.returncode == 2 and r.stdout == "", folder.name
        assert r.stderr.startswith("error: not a question this tool recognises") and r.stderr.count("\n") == 1


def test_script_usage_errors_exit_2(skills: list[Path], tmp_path: Path) -> None:
    script = next(f for f in skills if f.name == "sort-words") / "scripts" / "solve.py"
    for args in [(), ("a", "b"), ("",), ("--args", "{not json"), ("--args", "[1]"), ("--args", '{"wordz": []}')]:
        r = run(script, *args, cwd=tmp_path)
        assert r.returncode == 2 and r.stdout == "" and r.stderr.startswith("error: "), args
        assert r.stderr.count("\n") == 1, r.stderr
    assert "unknown argument(s) wordz; missing words" in run(script, "--args", '{"wordz": []}', cwd=tmp_path).stderr


def test_a_tool_without_a_direct_solver_takes_its_arguments_as_json(demo_cache: ToolCache, tmp_path: Path) -> None:
    originals = [t for t in (demo_cache.current(task) for task in demo_cache.tasks()) if t is not None]
    with ToolCache(tmp_path / "no-direct") as cache:
        for tool in originals:
            cache.put(without_direct(tool))
        exposed = {e.tool.id: e for e in expose(cache)}
        assert len(exposed) == len(originals) == 8 and not any(e.takes_question for e in exposed.values())
        folders = export_skills(cache, tmp_path / "skills")
    assert len(folders) == 8
    for folder in folders:
        text = (folder / "SKILL.md").read_text(encoding="utf-8")
        front, body = front_matter(text)
        assert spec_problems(front, folder.name) == []
        tool = exposed[front["metadata"]["latm-tool-id"]].tool
        assert front["metadata"]["direct-solver"] == "no" and "as JSON" in front["description"]
        assert '"QUESTION"' not in body and "no direct solver" in body
        for name in exposed[tool.id].parameters["properties"]:
            assert f"`{name}`" in body  # the arguments are documented from the exposed schema
        script = folder / "scripts" / "solve.py"
        for use in tool.use_cases:
            args = arguments_of(tool, use)
            assert args
            r = run(script, json.dumps(args), cwd=tmp_path)
            assert (r.returncode, r.stdout, r.stderr) == (0, use.answer + "\n", ""), (folder.name, r.stderr)
        r = run(script, UNRELATED, cwd=tmp_path)  # a question is not JSON arguments
        assert r.returncode == 2 and r.stderr.startswith("error: the arguments are not valid JSON")
        r = run(script, "{}", cwd=tmp_path)
        assert r.returncode == 2 and "missing" in r.stderr


def test_a_tool_that_raises_on_its_arguments_exits_2(demo_cache: ToolCache, skills: list[Path], tmp_path: Path) -> None:
    script = next(f for f in skills if f.name == "solve-remainders") / "scripts" / "solve.py"
    r = run(script, "--args", '{"moduli": [3, 5], "remainders": [4, 1], "upper_bound": 100}', cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.startswith("error: the tool raised ValueError")


def test_the_script_holds_any_code_and_keeps_stdout_for_the_answer(demo_cache: ToolCache, tmp_path: Path) -> None:
    tool = demo_cache.current("word_sorting")
    assert tool is not None
    data = tool.model_dump(exclude={"id", "version", "usage"})
    data["code"] += "\nNOTE = '''a triple-quoted \\\\ string'''\nprint('loading')  # noise, not the answer\n"
    data["direct"] += "\n\nmain = None  # a name the script itself does not depend on\n"
    noisy = Tool(**data)
    with ToolCache(tmp_path / "noisy") as cache:
        cache.put(noisy)
        (folder,) = export_skills(cache, tmp_path / "skills")
    script = folder / "scripts" / "solve.py"
    assert "NOTE = '''a triple-quoted" in noisy.code
    use = noisy.use_cases[0]
    r = run(script, use.question, cwd=tmp_path)
    assert (r.returncode, r.stdout, r.stderr) == (0, use.answer + "\n", "loading\n")


# -- the script's rendering is latm.judge.rendering.render -------------------------------------------------


def _script_render() -> Any:
    namespace: dict[str, Any] = {"re": re}
    exec(RENDER_SOURCE, namespace)
    return namespace


def _both(value: Any, question: str | None, sep: str | None, base: int | None) -> tuple[Any, Any]:
    ns = _script_render()
    try:
        ours: Any = render(value, question, Rendering(sep=sep, base=base))
    except RenderingError:
        ours = RenderingError
    try:
        theirs: Any = ns["render"](ns["jsonable"](value), question, sep, base)
    except ns["RenderingError"]:
        theirs = RenderingError
    return ours, theirs


MC = "Which is it?\nOptions:\n(A) The quail is the rightmost\n(B) The owl is the rightmost\n(C) Red apple\n"
CASES: list[tuple[Any, str | None, str | None, int | None]] = [
    ("apple fig pear", None, None, None),
    (["12:00", "13:00"], None, " - ", None),
    (("a", ("b", "c")), None, ", ", None),
    (["x", "y"], None, None, None),
    ("b", MC, None, None),
    ("(c).", None, None, None),
    ("quail", MC, None, None),
    ("red apple.", MC, None, None),
    ("rightmost", MC, None, None),
    (2, MC, None, 1),
    (0, MC, None, 0),
    (5, MC, None, 1),
    (2, MC, None, None),
    (2, None, None, None),
    (True, MC, None, 1),
    (1.5, None, None, None),
    (None, MC, None, None),
    ("  padded  ", None, None, None),
    ([], None, "-", None),
]


@pytest.mark.parametrize(("value", "question", "sep", "base"), CASES)
def test_the_script_renders_as_latm_does(value: Any, question: str | None, sep: str | None, base: int | None) -> None:
    ours, theirs = _both(value, question, sep, base)
    assert ours == theirs


values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 9) | st.text("ABCabc() .,-quail", max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.tuples(inner, inner),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None)
@given(
    value=values,
    question=st.sampled_from([None, "", MC, "Sort these: List: b a"]),
    sep=st.sampled_from([None, " ", ", ", " - ", ""]),
    base=st.sampled_from([None, 0, 1]),
)
def test_the_script_renders_as_latm_does_on_any_value(value: Any, question: str | None, sep: Any, base: Any) -> None:
    ours, theirs = _both(value, question, sep, base)
    assert ours == theirs


# -- the CLI ---------------------------------------------------------------------------------------


def test_cli_exports_openai_tools_and_skills(
    demo_cache: ToolCache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LATM_CACHE_DIR", str(demo_cache.directory))
    out = tmp_path / "tools.json"
    r = CliRunner().invoke(main, ["cache", "export", "--format", "openai-tools", str(out), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["exported"] == 8
    tools = json.loads(out.read_text())
    assert tools == latm.openai_tools(demo_cache)
    exposed = {e.name: e for e in expose(demo_cache)}
    assert [t["function"]["name"] for t in tools] == list(exposed)
    for t in tools:
        assert set(t) == {"type", "function"} and t["type"] == "function"
        fn = t["function"]
        assert set(fn) == {"name", "description", "parameters"}
        assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", fn["name"])
        assert fn["description"] == exposed[fn["name"]].description
        assert fn["parameters"]["type"] == "object" and "question" in fn["parameters"]["properties"]

    target = tmp_path / "new" / "skills"  # created, with its parents
    r = CliRunner().invoke(main, ["cache", "export", "--format", "skills", str(target), "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["exported"] == 8 and sorted(data["skills"]) == sorted(p.name for p in target.iterdir())
    r = CliRunner().invoke(main, ["cache", "export", "--format", "skills", str(out)])
    assert r.exit_code == 2 and "not a folder" in r.output
    r = CliRunner().invoke(main, ["cache", "export", "--format", "openai-tools", str(target)])
    assert r.exit_code == 2 and "is a folder" in r.output
    r = CliRunner().invoke(main, ["cache", "export", str(tmp_path / "all.json")])  # the default: json
    assert r.exit_code == 0 and json.loads((tmp_path / "all.json").read_text())
