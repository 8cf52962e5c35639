"""End to end: the offline pipeline on the real BIG-Bench-Hard dev examples, in Docker.

Reference tools play the maker's replies; direct solvers answer. The bar of the tasks
issue: at least 98% correct on the 50 real examples of every task, with zero user-model
calls.
"""

import pytest

from latm import LATM
from latm.models.demo import demo_maker
from latm.testing import ScriptedModel
from sandbox import Sandbox
from tasks import TASKS, get_task, load_bbh
from toolcache import ToolCache

from ..conftest import BBH_DEV


@pytest.mark.skipif(not BBH_DEV.exists(), reason="../shared/bbh-dev is not present (a user's clone)")
def test_real_dev_examples_through_docker(docker_sandbox: Sandbox, tmp_path) -> None:  # type: ignore[no-untyped-def]
    user = ScriptedModel([], name="gpt-4o-mini")  # any call to it would fail the test
    with LATM(maker=demo_maker(), user=user, cache=ToolCache(tmp_path), sandbox=docker_sandbox) as latm:
        questions, answers = [], []
        for name in TASKS:
            real = load_bbh(BBH_DEV / f"{name}.json")
            made = latm.make_tool(name, get_task(name).generate(6, seed=0), k=3)
            assert made.tool is not None, made.reason
            questions += [e.question for e in real]
            answers += [(name, e.answer) for e in real]
        sols = latm.solve_many(questions)
    assert user.calls == 0
    for name in TASKS:
        mine = [(s, a) for s, (n, a) in zip(sols, answers, strict=True) if n == name]
        correct = sum(get_task(name).check(s.answer, a) for s, a in mine)
        assert correct / len(mine) >= 0.98, (name, correct)
    assert sum(s.mode == "direct" for s in sols) == len(sols)
