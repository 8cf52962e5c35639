"""Behaviour of Sandbox.run / call / call_many that a user relies on, on both backends."""

import pytest

from sandbox import ExecutionResult, Limits, Sandbox, SandboxError

DOUBLE = "def double(x):\n    return x * 2\n"


def test_call_returns_json_value(sandbox: Sandbox) -> None:
    r = sandbox.call(DOUBLE, "double", args=[21])
    assert r.ok and r.value == 42 and r.error is None
    assert r.backend in ("docker", "process")


def test_call_with_kwargs_and_structures(sandbox: Sandbox) -> None:
    code = "def f(a, *, b):\n    return {'sum': a + b, 'pair': (a, b)}\n"
    r = sandbox.call(code, "f", args=[1], kwargs={"b": 2})
    assert r.value == {"sum": 3, "pair": [1, 2]}


def test_run_captures_stdout_and_stderr(sandbox: Sandbox) -> None:
    r = sandbox.run("import sys\nprint('out')\nprint('err', file=sys.stderr)\n")
    assert r.ok and r.stdout == "out\n" and r.stderr == "err\n"


def test_run_sees_main_but_call_does_not(sandbox: Sandbox) -> None:
    code = "def f():\n    return 1\nif __name__ == '__main__':\n    print('as script')\n"
    assert sandbox.run(code).stdout == "as script\n"
    assert sandbox.call(code, "f").stdout == ""


def test_exception_traceback_is_limited_to_user_code(sandbox: Sandbox) -> None:
    r = sandbox.call("def f(x):\n    return helper(x)\ndef helper(x):\n    raise ValueError(f'bad {x}')\n", "f", [7])
    assert not r.ok
    assert r.error is not None
    assert r.error.type == "ValueError" and r.error.message == "bad 7" and r.error.lineno == 4
    assert 'File "<tool>", line 4, in helper' in r.error.traceback
    assert "worker" not in r.error.traceback and "sandbox" not in r.error.traceback


def test_syntax_error_names_the_line(sandbox: Sandbox) -> None:
    r = sandbox.run("x = 1\ndef f(:\n    pass\n")
    assert r.error is not None and r.error.type == "SyntaxError" and r.error.lineno == 2


def test_missing_entry_lists_what_exists(sandbox: Sandbox) -> None:
    r = sandbox.call("def solve(q):\n    return q\n", "sort_words", ["x"])
    assert r.error is not None and r.error.type == "EntryNotFound"
    assert "sort_words" in r.error.message and "solve" in r.error.message


def test_non_json_return_value_is_a_clear_error(sandbox: Sandbox) -> None:
    r = sandbox.call("def f():\n    return {1, 2}\n", "f")
    assert not r.ok and r.error is not None and r.error.type == "NotSerializable"


def test_arguments_that_are_not_json_are_rejected_before_running(sandbox: Sandbox) -> None:
    r = sandbox.call(DOUBLE, "double", args=[object()])
    assert not r.ok and r.error is not None and r.error.type == "BadArguments"


def test_timeout_is_flagged(sandbox: Sandbox) -> None:
    r = sandbox.call("def f():\n    while True:\n        pass\n", "f")
    assert r.timed_out and not r.ok and r.error is not None
    assert "longer than" in r.error.message
    assert sandbox.call(DOUBLE, "double", [1]).value == 2


def test_memory_bomb_is_flagged(sandbox: Sandbox) -> None:
    r = sandbox.run("x = bytearray(1024 ** 3)\n")
    assert r.memory_exceeded and not r.ok
    assert sandbox.call(DOUBLE, "double", [2]).value == 4


def test_output_is_capped_and_flagged(sandbox: Sandbox) -> None:
    r = sandbox.run("print('x' * 5_000_000)\n")
    assert r.ok and r.truncated
    assert len(r.stdout) == sandbox.limits.max_output_bytes


def test_invalid_utf8_output_is_replaced_not_fatal(sandbox: Sandbox) -> None:
    r = sandbox.run("import sys\nsys.stdout.buffer.write(b'ok\\xff\\xfe!')\n")
    assert r.ok and r.stdout == "ok\ufffd\ufffd!"


def test_call_many_is_ordered_with_per_call_output(sandbox: Sandbox) -> None:
    code = "def f(x):\n    print('call', x)\n    return x * x\n"
    rs = sandbox.call_many(code, "f", [([i], {}) for i in range(20)])
    assert [r.value for r in rs] == [i * i for i in range(20)]
    assert [r.stdout for r in rs] == [f"call {i}\n" for i in range(20)]


def test_call_many_cuts_off_a_hanging_call_and_goes_on(sandbox: Sandbox) -> None:
    code = "def f(x):\n    if x == 1:\n        while True:\n            pass\n    return x\n"
    rs = sandbox.call_many(code, "f", [([0], {}), ([1], {}), ([2], {}), ([3], {})])
    assert [r.ok for r in rs] == [True, False, True, True]
    assert rs[1].timed_out and [rs[0].value, rs[2].value, rs[3].value] == [0, 2, 3]


def test_call_many_isolates_a_crash(sandbox: Sandbox) -> None:
    code = "import os\ndef f(x):\n    if x == 0:\n        os._exit(3)\n    return x\n"
    rs = sandbox.call_many(code, "f", [([0], {}), ([1], {})])
    assert not rs[0].ok and rs[0].error is not None and rs[0].error.type == "ChildDied"
    assert rs[1].value == 1


def test_call_many_setup_error_reaches_every_call(sandbox: Sandbox) -> None:
    rs = sandbox.call_many("raise RuntimeError('broken module')\n", "f", [([1], {}), ([2], {})])
    assert all(r.error is not None and r.error.message == "broken module" for r in rs)


def test_call_many_of_nothing(sandbox: Sandbox) -> None:
    assert sandbox.call_many(DOUBLE, "double", []) == []


def test_state_does_not_leak_between_calls(sandbox: Sandbox) -> None:
    sandbox.run("import math\nmath.pi = 3\nimport json\njson.dumps = None\n")
    r = sandbox.run("import math, json\nprint(math.pi, json.dumps([1]))\n")
    assert r.stdout == "3.141592653589793 [1]\n"


def test_files_do_not_leak_between_calls(sandbox: Sandbox) -> None:
    sandbox.run("open('left.txt', 'w').write('secret')\n")
    r = sandbox.run("import os\nprint(os.path.exists('left.txt'))\n")
    assert r.stdout == "False\n"


def test_closed_sandbox_refuses_work() -> None:
    sb = Sandbox.open("process")
    sb.close()
    with pytest.raises(SandboxError, match="closed"):
        sb.run("pass")


def test_code_must_be_text(process_sandbox: Sandbox) -> None:
    with pytest.raises(SandboxError, match="must be a str"):
        process_sandbox.run(b"print(1)")  # type: ignore[arg-type]


def test_unknown_backend_is_a_clear_error() -> None:
    with pytest.raises(SandboxError, match="unknown sandbox backend"):
        Sandbox.open("vm")  # type: ignore[arg-type]


def test_auto_falls_back_with_a_warning_naming_the_weakness(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LATM_SANDBOX_IMAGE", "latm-sandbox:does-not-exist")
    with pytest.warns(UserWarning, match="weaker"), Sandbox.open("auto") as sb:
        assert sb.backend == "process"
        assert sb.call(DOUBLE, "double", [5]).value == 10


def test_limits_validate_input() -> None:
    with pytest.raises(ValueError):
        Limits(timeout_s=0)


def test_result_is_a_pydantic_model_that_round_trips(sandbox: Sandbox) -> None:
    r = sandbox.call(DOUBLE, "double", [3])
    again = ExecutionResult.model_validate_json(r.model_dump_json())
    assert again.value == 6 and again.backend == r.backend


def test_concurrent_callers_share_the_pool(sandbox: Sandbox) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        values = list(pool.map(lambda i: sandbox.call(DOUBLE, "double", [i]).value, range(40)))
    assert values == [i * 2 for i in range(40)]


def test_string_hashing_and_so_set_order_are_the_same_in_every_worker(sandbox: Sandbox) -> None:
    # A tool that iterates a set of words answers alike in the judge's worker and in every later one.
    code = "def f():\n    return [str(hash('latm')), ' '.join(set('pear apple fig kiwi mango plum'.split()))]"
    first = sandbox.call(code, "f").value
    with Sandbox.open(sandbox.backend, pool_size=1) as other:
        assert other.call(code, "f").value == first
