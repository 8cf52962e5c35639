"""The static tool policy admits real tool code and names each violation with its line."""

import pytest

from sandbox import PolicyViolation, policy

REAL_TOOL = '''
import re
from collections import Counter

class _Parser:
    def __init__(self, text):
        self._text = text

def _helper(words):
    counts = [0]
    counts[0] += 1
    return sorted(words)

def sort_words(text: str) -> str:
    """A realistic tool: private helpers, dunder methods, augmented item assignment."""
    words = _Parser(text)._text.split()
    return " ".join(_helper(words))

if __name__ == "__main__":
    print(sort_words("b a"))
'''


def test_realistic_tool_code_is_admitted() -> None:
    assert policy.check(REAL_TOOL) == []


@pytest.mark.parametrize(
    ("code", "line", "fragment"),
    [
        ("import os\n", 1, "import of 'os'"),
        ("x = 1\nfrom subprocess import run\n", 2, "import of 'subprocess'"),
        ("import socket, math\n", 1, "import of 'socket'"),
        ("import ctypes.util\n", 1, "import of 'ctypes.util'"),
        ("x = ().__class__.__bases__[0].__subclasses__()\n", 1, "'__subclasses__'"),
        ("def f():\n    return f.__globals__\n", 2, "'__globals__'"),
        ("open('/etc/passwd')\n", 1, "open()"),
        ("exec('print(1)')\n", 1, "exec()"),
        ("y = eval('1+1')\n", 1, "eval()"),
        ("__import__('os')\n", 1, "__import__"),
        ("getattr(object, '__subclasses__')\n", 1, "getattr()"),
        ("b = __builtins__\n", 1, "'__builtins__'"),
        ("def f(:\n", 1, "syntax error"),
        # aliases and spellings that reach the same builtins (found by review): any reference counts
        ("f = open\nf('/etc/passwd')\n", 1, "open()"),
        ("e = eval\n", 1, "eval()"),
        ("[exec][0]('import os')\n", 1, "exec()"),
        ("list(map(eval, ['1']))\n", 1, "eval()"),
        ("import operator\ng = operator.attrgetter('__self__')\n", 2, "'__self__'"),
        ("x = '{0.__class__}'.format(1)\n", 1, "'__class__'"),
    ],
)
def test_each_violation_is_reported_with_its_line(code: str, line: int, fragment: str) -> None:
    found = policy.check(code)
    assert any(v.line == line and fragment in v.message for v in found), found


def test_every_allowed_module_is_admitted() -> None:
    code = "".join(f"import {m}\n" for m in sorted(policy.ALLOWED_MODULES))
    assert policy.check(code) == []


def test_enforce_raises_with_all_violations() -> None:
    with pytest.raises(PolicyViolation) as info:
        policy.enforce("import os\nimport sys\n")
    assert len(info.value.violations) == 2
    assert "line 1" in str(info.value) and "line 2" in str(info.value)
