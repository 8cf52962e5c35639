"""``scripts/solve.py`` of an exported skill: a standalone, stdlib-only script holding the tool's code, its
direct solver and its answer rendering (``RENDER_SOURCE``: the rules of ``latm.judge.rendering.render``
written out stdlib-only; the tests hold the two to the same answers)."""

import ast
import re

from latm.use.exposure import Exposed

# -- the answer rendering, as the script carries it ----------------------------------------------

RENDER_SOURCE = r'''
# How the tool's value becomes the answer text: LATM's one rendering rule for this tool
# (the same as latm.judge.rendering.render). Text stays text; a lone option letter becomes "(A)"; in a
# multiple-choice question, text that names exactly one option becomes that option's letter;
# a list or tuple is joined by SEP; an integer answering a multiple-choice question is the
# option at that position, counted from BASE.
LONE_OPTION = re.compile(r"\([A-Ga-g]\)\.?|[A-G]\)?\.?")
OPTION_LINE = re.compile(r"^\(([A-Z])\)\s*(.+?)\s*$", re.M)


class RenderingError(ValueError):
    """A value the tool's rendering cannot turn into an answer."""


def _plain(text):
    return " ".join(text.lower().rstrip(".").split())


def resolve_option(text, question):
    options = OPTION_LINE.findall(question)
    if not options or LONE_OPTION.fullmatch(text):
        return text
    wanted = _plain(text)
    if not wanted:
        return text
    exact = [letter for letter, option in options if _plain(option) == wanted]
    if len(exact) == 1:
        return "(" + exact[0] + ")"
    pattern = re.compile(r"(?<!\w)" + re.escape(wanted) + r"(?!\w)")
    named = [letter for letter, option in options if pattern.search(_plain(option))]
    return "(" + named[0] + ")" if len(named) == 1 else text


def _text(value, question):
    text = str(value).strip()
    if question:
        text = resolve_option(text, question)
    lettered = not question or bool(OPTION_LINE.findall(question))  # a lone letter is "(B)" where options are
    return "(" + text.strip("().").upper() + ")" if lettered and LONE_OPTION.fullmatch(text) else text


def _item(value):
    return str(value).strip() if not isinstance(value, (list, tuple)) else " ".join(_item(v) for v in value)


def render(value, question=None, sep=None, base=None):
    """The answer text for the tool's value; None stays None (no answer)."""
    if value is None:
        return None
    options = OPTION_LINE.findall(question) if question else []
    if isinstance(value, int) and not isinstance(value, bool) and options:
        if base is None:
            raise RenderingError(
                "the tool returned the number %d for a multiple-choice question, and its shown examples never "
                "settled whether numbers are option positions counted from 1 or from 0 (ambiguous rendering)" % value
            )
        position = value - base
        if not 0 <= position < len(options):
            raise RenderingError(
                "option position %d (counted from %d) is out of range: the question has %d options"
                % (value, base, len(options))
            )
        return "(" + options[position][0] + ")"
    if isinstance(value, (list, tuple)):
        return _text((" " if sep is None else sep).join(_item(v) for v in value), question)
    return _text(value, question)


def jsonable(value):
    """The value as it leaves LATM's sandbox: tuples become lists, anything JSON lacks its str."""
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
'''

# -- the script ----------------------------------------------------------------------------------

SCRIPT_TEMPLATE = r'''#!/usr/bin/env python3
r"""__LATM_TITLE__

Usage (from the skill's folder):
__LATM_USAGE__
Prints the answer alone on stdout and exits 0. Exit 2: the input is not one this tool accepts
(a question its direct solver does not recognise, bad JSON, wrong arguments, or the tool raised
on them); exit 1: the tool ran but gave no answer. Errors are one line on stderr.

Made by LATM (tool __LATM_SHORT_ID__). Standard library only. This script runs the tool's code in
this very process, with no sandbox around it: read it before you run it where that matters.
"""

import contextlib
import json
import re
import sys
import types

TOOL_ID = __LATM_TOOL_ID__
TASK = __LATM_TASK__
ENTRY = __LATM_ENTRY__  # the tool's function
HAS_DIRECT = __LATM_HAS_DIRECT__  # a direct solver: solve(question) parses a whole question, or raises
TAKES_ARGUMENTS = __LATM_TAKES_ARGUMENTS__  # the function's own value was judged as an answer
PARAMETERS = __LATM_PARAMETERS__  # the function's arguments (JSON schema)
SEP = __LATM_SEP__  # joins a list answer
BASE = __LATM_BASE__  # an integer answering a multiple-choice question counts options from BASE

# The tool's code, exactly as LATM verified it.
TOOL_CODE = __LATM_TOOL_CODE__

# Its direct solver (runs after the tool's code, in the same namespace).
DIRECT_SOLVER = __LATM_DIRECT__
__LATM_RENDER__

def fail(message, status):
    print("error: " + " ".join(str(message).split())[:500], file=sys.stderr)
    return status


def load_tool():
    """The tool's code (and direct solver) as a module of its own; prints go to stderr."""
    module = types.ModuleType("latm_tool")
    sys.modules["latm_tool"] = module
    source = TOOL_CODE + ("\n\n" + DIRECT_SOLVER if DIRECT_SOLVER else "")
    with contextlib.redirect_stdout(sys.stderr):
        exec(compile(source, "<latm tool " + ENTRY + ">", "exec"), module.__dict__)
    return module.__dict__


def read(text):
    return sys.stdin.read() if text == "-" else text


def answer(value, question):
    try:
        text = render(jsonable(value), question, SEP, BASE)
    except RenderingError as exc:
        return fail(exc, 1)
    if text is None:
        return fail("the tool returned None: no answer", 1)
    print(text)
    return 0


def by_question(tool, question):
    if not question.strip():
        return fail("the question is empty", 2)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            value = tool["solve"](question)
    except Exception as exc:  # the direct solver refuses what it does not recognise
        return fail(
            "not a question this tool recognises (task %s): %s: %s" % (TASK, type(exc).__name__, exc), 2
        )
    return answer(value, question)


def by_arguments(tool, text):
    try:
        arguments = json.loads(text)
    except ValueError as exc:
        return fail("the arguments are not valid JSON (%s)" % exc, 2)
    if not isinstance(arguments, dict):
        return fail("the arguments must be a JSON object of the function's arguments", 2)
    expected = PARAMETERS.get("properties", {})
    unknown = sorted(set(arguments) - set(expected))
    missing = [p for p in PARAMETERS.get("required", []) if p not in arguments]
    if unknown or missing:
        said = ["unknown argument(s) " + ", ".join(unknown)] if unknown else []
        said += ["missing " + ", ".join(missing)] if missing else []
        return fail("; ".join(said) + "; it takes " + (", ".join(expected) or "no arguments"), 2)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            value = tool[ENTRY](**arguments)
    except Exception as exc:
        return fail("the tool raised %s: %s" % (type(exc).__name__, exc), 2)
    return answer(value, None)


def main(argv):
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    if len(argv) == 2 and argv[0] == "--args":
        if not TAKES_ARGUMENTS:
            return fail("this tool takes whole questions only: its function's own value was judged only as part "
                        "of an answer its solver completes", 2)
        mode, text = "arguments", argv[1]
    elif len(argv) == 1 and not argv[0].startswith("--"):
        mode, text = ("question" if HAS_DIRECT else "arguments"), argv[0]
    else:
        return fail("usage: python scripts/solve.py " + ('"QUESTION" | --args ' if HAS_DIRECT else "") + "'JSON'"
                    + " (one argument, quoted; '-' reads it from stdin)", 2)
    try:
        tool = load_tool()
    except Exception as exc:
        return fail("the tool's code failed to load: %s: %s" % (type(exc).__name__, exc), 1)
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(encoding="utf-8")
    text = read(text)
    return by_question(tool, text) if mode == "question" else by_arguments(tool, text)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
'''


def _literal(text: str) -> str:
    """``text`` as a Python literal: a raw triple-quoted string where that reads back exactly."""
    candidate = "r'''" + text + "'''"
    if "\r" not in text:
        try:
            if ast.literal_eval(candidate) == text:
                return candidate
        except (SyntaxError, ValueError):
            pass
    return repr(text)


def script(exposed: Exposed, purpose: str) -> str:
    """The source of ``scripts/solve.py`` for one exposed tool (``purpose``: what it does, in words)."""
    tool = exposed.tool
    if tool.direct:
        usage = "  python scripts/solve.py \"QUESTION\"          the whole question ('-': read it from stdin)\n" + (
            "  python scripts/solve.py --args 'JSON'       the function's own arguments, as a JSON object\n"
            if exposed.takes_arguments
            else ""
        )
    else:
        usage = "  python scripts/solve.py 'JSON'              the function's own arguments, as a JSON object\n"
    title = f"{tool.name}: {purpose} (an LATM tool for the task {tool.task})."
    parts = {
        "__LATM_TITLE__": title.replace('"""', "'''"),
        "__LATM_USAGE__": usage.rstrip("\n"),
        "__LATM_SHORT_ID__": tool.short_id,
        "__LATM_TOOL_ID__": repr(tool.id),
        "__LATM_TASK__": repr(tool.task),
        "__LATM_ENTRY__": repr(tool.entry.name),
        "__LATM_HAS_DIRECT__": repr(tool.direct is not None),
        "__LATM_TAKES_ARGUMENTS__": repr(exposed.takes_arguments),
        "__LATM_PARAMETERS__": repr(exposed.parameters),
        "__LATM_SEP__": repr(tool.rendering.sep),
        "__LATM_BASE__": repr(tool.rendering.base),
        "__LATM_TOOL_CODE__": _literal(tool.code),
        "__LATM_DIRECT__": _literal(tool.direct) if tool.direct else "None",
        "__LATM_RENDER__": RENDER_SOURCE,
    }
    pattern = re.compile("|".join(re.escape(k) for k in parts))
    return pattern.sub(lambda m: parts[m.group(0)], SCRIPT_TEMPLATE)  # one pass: the code is never rescanned
