"""`latm eval`: the offline run says so first, measures every method, saves and re-renders."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from latm.cli import main
from latm.eval.evaluation import EvalReport, EvalSuite
from tasks import TASKS

pytestmark = pytest.mark.usefixtures("process_backend")  # tests/conftest.py


def test_offline_eval_with_baselines_saves_the_full_record(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    r = CliRunner().invoke(
        main,
        ["eval", "--task", "schedule_meeting", "--n", "8", "--baseline", "cot", "--baseline-n", "5", "--out", str(out)],
        catch_exceptions=False,
    )
    assert r.exit_code == 0
    assert r.output.splitlines()[0].startswith("offline")
    report = EvalReport.model_validate_json(out.read_text())
    by = {m.method: m for m in report.methods}
    assert set(by) == {"latm", "cot-maker", "cot-user"}
    assert by["latm"].accuracy == 1.0 and by["latm"].direct_share == 1.0 and by["latm"].llm_calls == 0
    assert by["latm"].making_usd and by["latm"].usd_total == pytest.approx(by["latm"].making_usd)
    assert len(by["latm"].instances) == 8 and by["cot-maker"].llm_calls == by["cot-maker"].n == 5
    assert "first 5 of the 8" in report.note
    assert all(i.route == "direct" for i in by["latm"].instances)
    assert report.break_even["cot-maker"]["usd"] is not None
    again = CliRunner().invoke(main, ["eval", "report", str(out)])
    assert again.exit_code == 0 and "cot-maker" in again.output and "break-even" in again.output


def test_eval_on_a_bbh_file_json(tmp_path: Path) -> None:
    from tasks import get_task

    data = tmp_path / "bbh.json"
    exs = get_task("word_sorting").generate(12, seed=3)
    data.write_text(json.dumps({"examples": [{"input": e.question, "target": e.answer} for e in exs]}))
    r = CliRunner().invoke(main, ["eval", "--task", "word_sorting", "--data", str(data), "--json"])
    report = json.loads(r.output)
    assert r.exit_code == 0 and report["methods"][0]["n"] == 6 and report["methods"][0]["accuracy"] == 1.0


def test_eval_errors_are_clear() -> None:
    r = CliRunner().invoke(main, ["eval", "--task", "nope"])
    assert r.exit_code == 2 and "known tasks" in r.output
    r = CliRunner().invoke(main, ["eval", "--data", __file__])
    assert r.exit_code == 2 and "--task" in r.output
    r = CliRunner().invoke(main, ["eval", "report", __file__])
    assert r.exit_code == 2 and "not a saved" in r.output


def test_eval_without_a_task_measures_every_task_and_saves_them_all(tmp_path: Path) -> None:
    out = tmp_path / "all.json"
    r = CliRunner().invoke(main, ["eval", "--n", "3", "--out", str(out)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    suite = EvalSuite.load(out.read_text())
    assert [rep.task for rep in suite.reports] == list(TASKS)
    assert all(rep.methods[0].accuracy == 1.0 and rep.methods[0].n == 3 for rep in suite.reports)
    assert "all tasks" in r.output and "chinese_remainder_theorem" in r.output.split("all tasks")[1]
    again = CliRunner().invoke(main, ["eval", "report", str(out)])
    assert again.exit_code == 0 and again.output.count("latm acc") == 1
    two = CliRunner().invoke(main, ["eval", "--task", "word_sorting", "--task", "dyck_languages", "--n", "2", "--json"])
    assert [rep["task"] for rep in json.loads(two.output)["reports"]] == ["word_sorting", "dyck_languages"]


def test_a_failed_making_is_reported_with_its_cost_and_the_baselines_still_run(tmp_path: Path) -> None:
    from latm import LATM
    from latm.eval.evaluation import run_eval
    from latm.testing import ScriptedModel
    from tasks import get_task

    maker = ScriptedModel(lambda messages: "I cannot write code for this.", name="tiny")
    examples = get_task("word_sorting").generate(9, seed=1)
    with LATM(
        maker=maker, user=ScriptedModel(lambda m: "So the answer is x.", name="tinier"), cache=str(tmp_path)
    ) as latm:
        report = run_eval(latm, "word_sorting", examples, k=3, baseline="cot")
    assert report.tool_id is None and report.making_tokens > 0 and "no tool was made" in report.note
    assert [m.method for m in report.methods] == ["cot-maker", "cot-user"]


def test_eval_runs_inside_a_running_event_loop_as_in_a_notebook() -> None:
    import asyncio

    from latm.eval.evaluation import run_eval
    from latm.facade import LATM
    from latm.models.demo import demo_maker, demo_user
    from tasks import get_task

    async def notebook_cell() -> EvalReport:
        with LATM(maker=demo_maker(), user=demo_user()) as latm:
            return run_eval(latm, "word_sorting", get_task("word_sorting").generate(8, seed=5), baseline="none")

    report = asyncio.run(notebook_cell())
    assert report.methods[0].accuracy == 1.0
