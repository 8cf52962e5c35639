"""Agent Skills export: one skill folder per exposed tool (https://agentskills.io/specification).

``export_skills(cache, directory)`` writes, for every tool ``latm.use.exposure`` exposes (routable
tools only), a folder named after the tool's exposed name,
lowered to the spec's rules::

    sort-words/
      SKILL.md                    front matter (name, description, compatibility, metadata) + instructions
      scripts/solve.py            the tool's code, its direct solver and its answer rendering (stdlib only)
      references/use_cases.md     every verified use case: question, call code, answer
      references/verification.json  maker model, date, held-out verdict, rendering

A skill hands the tool's code to the other agent, which runs it where it runs its own code;
SKILL.md says so. LATM's MCP server, by contrast, keeps every call in LATM's
sandbox. ``scripts/solve.py`` renders answers with ``RENDER_SOURCE``: the rules of
``latm.judge.rendering.render`` written out stdlib-only (``latm.interop.skill_script``).
"""

import ast
import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

from latm.errors import raises_ours
from latm.interop.skill_script import RENDER_SOURCE, script
from latm.use.exposure import Exposed, expose
from latm.use.schemas import parameter_names, use_case_arguments
from toolcache import Tool, ToolCache, UseCase
from toolcache.bound import percent

NAME_LIMIT = 64
DESCRIPTION_LIMIT = 1024
COMPATIBILITY_LIMIT = 500

# -- names and descriptions ------------------------------------------------------------------------


def skill_name(exposed_name: str, taken: set[str] | frozenset[str] = frozenset()) -> str:
    """The exposed name under the spec's rules (lowercase, digits, single hyphens, <= 64), unique in ``taken``."""
    base = re.sub(r"-+", "-", re.sub(r"[^a-z0-9]", "-", exposed_name.lower())).strip("-") or "tool"
    if len(base) > NAME_LIMIT:
        base = base[: NAME_LIMIT - 9].rstrip("-") + "-" + hashlib.sha256(exposed_name.encode()).hexdigest()[:8]
    name, n = base, 1
    while name in taken:
        n += 1
        suffix = f"-{n}"
        name = base[: NAME_LIMIT - len(suffix)].rstrip("-") + suffix
    return name


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def _purpose(tool: Tool) -> str:
    """What the tool does: its function's docstring (first paragraph), else its description."""
    doc = None
    try:
        fn = next(n for n in ast.parse(tool.code).body if isinstance(n, ast.FunctionDef) and n.name == tool.entry.name)
        doc = ast.get_docstring(fn)
    except (StopIteration, SyntaxError):
        pass
    text = _one_line((doc or "").split("\n\n")[0].replace("``", "`")) or _one_line(tool.description)
    return _cut(text, 300).rstrip(".") or f"answers questions of the task {tool.task}"


def _task_words(task: str) -> str:
    return task.replace("_", " ")


def _held_out_text(tool: Tool) -> str:
    held = tool.verification.held_out
    if held is None:
        return "none: verified on shown examples only"
    return (
        f"{held.passed}/{held.total} right on {held.source} questions its maker never saw, judged by {held.judged_by}"
    )


def description(exposed: Exposed) -> str:
    """The front matter's description: what it does, what its questions look like, when to use it."""
    tool = exposed.tool
    how = (
        "run scripts/solve.py with the whole question; it prints the exact answer in the task's format"
        if tool.direct
        else "read the function's arguments off the question and run scripts/solve.py with them as JSON"
    )
    head = f"{_purpose(tool)}. A verified LATM tool for the task {tool.task} ({_task_words(tool.task)})."
    tail = (
        f" Use when asked a {_task_words(tool.task)} question like that one, to answer it exactly without "
        f"working it out yourself: {how}."
    )
    example = _one_line(tool.use_cases[0].question) if tool.use_cases else ""
    room = DESCRIPTION_LIMIT - len(head) - len(tail) - len(' Its questions look like: "".')
    looks = f' Its questions look like: "{_cut(example, min(room, 360))}".' if example and room > 40 else ""
    return _cut(head + looks + tail, DESCRIPTION_LIMIT)


def _imports(tool: Tool) -> list[str]:
    """Top-level modules the tool's code and direct solver import that the standard library lacks."""
    found: set[str] = set()
    for source in (tool.code, tool.direct or ""):
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
    return sorted(m for m in found if m not in sys.stdlib_module_names)


def compatibility(tool: Tool) -> str:
    extra = _imports(tool)
    needs = f" and the Python packages {', '.join(extra)}" if extra else " (standard library only)"
    return _cut(
        f"Needs Python 3.10 or later{needs}. scripts/solve.py runs the tool's code in the agent's own "
        "process, where the agent runs its own code (no LATM sandbox).",
        COMPATIBILITY_LIMIT,
    )


def metadata(exposed: Exposed) -> dict[str, str]:
    tool = exposed.tool
    return {
        "latm-tool-id": tool.id,
        "latm-task": tool.task,
        "latm-exposed-name": exposed.name,
        "latm-function": tool.entry.name,
        "maker-model": tool.provenance.maker_model,
        "made-at": tool.provenance.created_at.isoformat(timespec="seconds"),
        "held-out": _held_out_text(tool),
        "error-bound": f"{percent(tool.error_bound)} at 95% confidence, from {tool.labelled[0]} labelled questions",
        "direct-solver": "yes" if tool.direct else "no",
    }


# -- the files -------------------------------------------------------------------------------------


def _yaml(value: str) -> str:
    """A YAML double-quoted scalar (JSON's string escapes are a subset of YAML's)."""
    return json.dumps(value, ensure_ascii=False)


def front_matter(name: str, exposed: Exposed) -> str:
    lines = [
        "---",
        f"name: {name}",
        f"description: {_yaml(description(exposed))}",
        f"compatibility: {_yaml(compatibility(exposed.tool))}",
        "metadata:",
        *(f"  {key}: {_yaml(value)}" for key, value in metadata(exposed).items()),
        "---",
    ]
    return "\n".join(lines) + "\n"


def _fence(text: str, lang: str = "") -> str:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{lang}\n{text.rstrip()}\n{ticks}"


def _shell_quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


def arguments_of(tool: Tool, use: UseCase) -> dict[str, Any] | None:
    """The literal arguments one use case passed to the tool's function (its first call), if readable."""
    seen = use_case_arguments(tool.model_copy(update={"use_cases": [use]}), parameter_names(tool))
    arguments = {p: values[0] for p, values in seen.items() if values}
    return arguments or None


def _json_arguments(arguments: dict[str, Any]) -> str | None:
    try:
        return json.dumps(arguments, ensure_ascii=False)
    except (TypeError, ValueError):
        return None


def _arguments_table(exposed: Exposed) -> str:
    props = exposed.parameters.get("properties", {})
    required = set(exposed.parameters.get("required", []))
    if not props:
        return "The function takes no arguments."
    rows = ["| argument | JSON type | required |", "| --- | --- | --- |"]
    for name, schema in props.items():
        rows.append(
            f"| `{name}` | `{json.dumps(schema) if schema else 'any'}` | {'yes' if name in required else 'no'} |"
        )
    source = {
        "annotations": "typed from the function's annotations",
        "judged arguments": "types those of the arguments it was judged on (unseen questions)",
        "use cases": "types inferred from the arguments its verified use cases passed",
        "unknown": "some types unknown",
    }[exposed.parameters_from]
    return "\n".join(rows) + f"\n\n(The schema LATM exposes for this tool: {source}.)"


def skill_md(name: str, exposed: Exposed) -> str:
    tool = exposed.tool
    use = tool.use_cases[0] if tool.use_cases else None
    args = arguments_of(tool, use) if use else None
    args_json = _json_arguments(args) if args else None
    out = [front_matter(name, exposed), f"# {name}", ""]
    out += [
        f"{_purpose(tool)}. This skill carries **{tool.name}**, a Python tool that LATM (LLMs as tool makers) "
        f"made for the task `{tool.task}` and verified: {_held_out_text(tool)}.",
        "",
        "## When to use it",
        "",
        f"- When you are asked a question of this task ({_task_words(tool.task)}), worded like the example "
        "below. The tool answers it exactly, in the task's answer format, with no model call.",
    ]
    if tool.direct:
        out += [
            "- Pass the whole question, unchanged. The tool's direct solver reads only questions of this task "
            "and refuses any other (exit status 2): then answer that question another way.",
        ]
    else:
        out += [
            "- This tool has no direct solver: you read the function's arguments off the question and pass "
            "them as JSON (see below). It computes the answer from them.",
        ]
    if use:
        out += ["", "## Example", "", "Question:", "", _fence(use.question, "text"), "", "Answer:", ""]
        out += [_fence(use.answer, "text")]
        if not tool.direct and args_json:
            out += ["", "Arguments read off that question:", "", _fence(args_json, "json")]
    out += ["", "## How to run it", "", "From this skill's folder:", ""]
    if tool.direct:
        out += [
            _fence('python scripts/solve.py "QUESTION"', "bash"),
            "",
            "QUESTION is the whole question text as one argument. A question over several lines: "
            "pass `-` and give it on stdin (`python scripts/solve.py - < question.txt`).",
        ]
        if exposed.takes_arguments:
            out += [
                "",
                "You may also call the function with its own arguments, as a JSON object:",
                "",
                _fence(f"python scripts/solve.py --args {_shell_quote(args_json or '{}')}", "bash"),
            ]
        else:
            out += [
                "",
                f"Pass whole questions only: `{tool.entry.name}`'s own value was judged only as part of an "
                "answer the solver completes, so the script does not take its arguments.",
            ]
    else:
        out += [
            _fence(f"python scripts/solve.py {_shell_quote(args_json or '{}')}", "bash"),
            "",
            "The one argument is a JSON object of the function's arguments (`-` reads it from stdin).",
        ]
    out += ["", f"The arguments of `{tool.entry.name}`:", "", _arguments_table(exposed)]
    out += [
        "",
        "## What it prints",
        "",
        "- Exit status 0: the answer, alone on stdout (one line for most tasks), already in the task's format"
        f" ({tool.rendering.describe()}). Give it as your answer.",
        "- Exit status 2: the input is not one this tool accepts (a question it does not recognise, JSON that "
        "does not parse, unknown or missing arguments, or the tool raised on them). One line on stderr, "
        "starting `error:`, says which. Nothing is printed on stdout.",
        "- Exit status 1: the tool ran but gave no answer (it returned None, or a value its rendering cannot "
        "turn into an answer). One `error:` line on stderr.",
        "",
        "## Where the code runs",
        "",
        "This skill hands you the tool's code: `scripts/solve.py` holds it, and running the script runs that "
        "code where you run your own code, in your own process, with your permissions. Nothing of LATM is "
        "needed or imported (standard library only). That is unlike LATM's MCP server, which keeps every call "
        "in LATM's sandbox. The code was written by a model and verified by LATM, not by a person: read it "
        "before you run it where that matters.",
        "",
        "## More",
        "",
        f"- [references/use_cases.md](references/use_cases.md): every verified use case ({len(tool.use_cases)}), "
        "with the call code and the answer.",
        "- [references/verification.json](references/verification.json): the maker model, when it was made, "
        "the held-out verdict and the answer rendering.",
        f"- LATM tool id `{tool.id}`.",
        "",
    ]
    return "\n".join(out)


def use_cases_md(exposed: Exposed) -> str:
    tool = exposed.tool
    out = [f"# Use cases of {tool.name} (task {tool.task})", ""]
    out += [
        "Every use case LATM verified this tool on. The call code runs after the tool's code and sets `ans`; "
        "the answer is `ans` under the tool's rendering.",
        "",
    ]
    for i, use in enumerate(tool.use_cases, 1):
        out += [f"## Use case {i}", "", "Question:", "", _fence(use.question, "text"), "", "Call code:", ""]
        out += [_fence(use.call, "python"), "", "Answer:", "", _fence(use.answer, "text"), ""]
        args = arguments_of(tool, use)
        args_json = _json_arguments(args) if args else None
        if args_json:
            out += ["As the script's JSON arguments:", "", _fence(args_json, "json"), ""]
    return "\n".join(out)


def verification_json(exposed: Exposed) -> str:
    tool = exposed.tool
    ver = tool.verification
    data = {
        "tool_id": tool.id,
        "name": tool.name,
        "exposed_name": exposed.name,
        "task": tool.task,
        "version": tool.version,
        "maker_model": tool.provenance.maker_model,
        "created_at": tool.provenance.created_at.isoformat(),
        "latm_version": tool.provenance.package_version,
        "verification": {
            "trust": ver.trust,
            "shown_examples": {"passed": ver.passed, "total": ver.total},
            "attempts": ver.attempts,
            "checked_at": ver.checked_at.isoformat(),
            "held_out": ver.held_out.model_dump(mode="json") if ver.held_out else None,
            "held_out_summary": _held_out_text(tool),
            "error_bound": tool.error_bound,
        },
        "rendering": {**tool.rendering.model_dump(mode="json"), "describe": tool.rendering.describe()},
        "direct_solver": tool.direct is not None,
        "parameters": exposed.parameters,
        "parameters_from": exposed.parameters_from,
        "input_schema": exposed.input_schema(),
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


@raises_ours
def export_skills(cache: ToolCache, directory: Path | str) -> list[Path]:
    """Writes one skill folder per exposed (routable) tool into ``directory``; returns the folders."""
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    taken: set[str] = set()
    folders = []
    for exposed in expose(cache):
        name = skill_name(exposed.name, taken)
        taken.add(name)
        folder = root / name
        (folder / "scripts").mkdir(parents=True, exist_ok=True)
        (folder / "references").mkdir(exist_ok=True)
        (folder / "SKILL.md").write_text(skill_md(name, exposed), encoding="utf-8")
        solve = folder / "scripts" / "solve.py"
        solve.write_text(script(exposed, _purpose(exposed.tool)), encoding="utf-8")
        solve.chmod(0o755)
        (folder / "references" / "use_cases.md").write_text(use_cases_md(exposed), encoding="utf-8")
        (folder / "references" / "verification.json").write_text(verification_json(exposed), encoding="utf-8")
        folders.append(folder)
    return folders


__all__ = ["RENDER_SOURCE", "arguments_of", "export_skills", "script", "skill_name"]
