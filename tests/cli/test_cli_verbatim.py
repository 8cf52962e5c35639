"""Every answer, piece of code and message prints verbatim, and no input makes the CLI print a
traceback (a property test drives it with random arguments and files)."""

import json
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from latm.cli import main
from tasks import get_task

MARKUP = "Sort the following words alphabetically: List: zebra [bold] apple [x] [/] :smile:"


def run(*args: str) -> "CliRunner.invoke":
    return CliRunner().invoke(main, list(args))


def test_answers_code_and_messages_print_verbatim(tmp_path: Path) -> None:
    assert run("demo", "--n", "1", "--task", "word_sorting", "--json").exit_code == 0
    r = run("solve", MARKUP)
    assert r.exit_code == 0 and r.stdout.strip() == " ".join(sorted(MARKUP.split("List: ")[1].split()))
    shown = run("cache", "show", "word_sorting", "--code", "--trace")
    tool_code = json.loads(run("cache", "show", "word_sorting", "--json").stdout)["code"]
    assert all(line.strip() in shown.stdout for line in tool_code.splitlines() if line.strip())
    assert "[t]" in shown.stdout or "[t]" not in tool_code  # code with subscripts keeps them
    missing = tmp_path / "results[plot].json"
    r = run("eval", "report", str(missing))
    assert r.exit_code != 0 and "results[plot].json" in r.stderr


def test_an_empty_or_blank_question_is_refused_as_a_usage_error() -> None:
    for blank in ("   ", "\n\t"):
        r = run("solve", blank)
        assert r.exit_code == 2 and "non-empty" in r.stderr


def test_references_too_short_or_ambiguous_say_so() -> None:
    assert run("demo", "--n", "1", "--task", "tracking_shuffled_objects_five_objects", "--json").exit_code == 0
    assert run("demo", "--n", "1", "--task", "tracking_shuffled_objects_seven_objects", "--json").exit_code == 0
    r = run("cache", "show", "tra")
    assert r.exit_code != 0 and "at least 4" in r.stderr
    r = run("cache", "show", "track_swaps")  # the function name of two current tools
    assert r.exit_code != 0 and "tracking_shuffled_objects_five_objects" in r.stderr
    assert "tracking_shuffled_objects_seven_objects" in r.stderr


COMMANDS = [
    ["solve"],
    ["solve", "--file"],
    ["solve", "--json"],
    ["make", "--task"],
    ["make", "--examples"],
    ["cache", "ls", "--task"],
    ["cache", "show"],
    ["cache", "history"],
    ["cache", "rm"],
    ["cache", "export"],
    ["cache", "import"],
    ["cache", "import", "--verify"],
    ["cache", "verify"],
    ["cache", "stats"],
    ["eval", "report"],
    ["demo", "--task"],
    ["demo", "--n"],
    ["sandbox", "status"],
]
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
FILE_BODIES = st.one_of(
    st.binary(max_size=200),
    TEXT.map(str.encode),
    st.lists(st.dictionaries(st.sampled_from(["question", "answer", "id", "input", "target"]), TEXT), max_size=4).map(
        lambda rows: "\n".join(json.dumps(r) for r in rows).encode()
    ),
    st.just(b'{"format": "latm-toolcache", "schema_version": 1, "tools": [], "count": 3}'),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(command=st.sampled_from(COMMANDS), words=st.lists(TEXT, max_size=3), body=FILE_BODIES, use_file=st.booleans())
def test_no_input_makes_the_cli_print_a_traceback(
    tmp_path: Path, command: list[str], words: list[str], body: bytes, use_file: bool
) -> None:
    args = list(command)
    if use_file:
        path = tmp_path / "input.jsonl"
        path.write_bytes(body)
        args.append(str(path))
    args += [w for w in words if w and not w.startswith("-")]  # an option-looking word is click's to refuse
    runner = CliRunner()
    with runner.isolated_filesystem(temp_dir=tmp_path):  # a random word may name a file to write (cache export)
        result = runner.invoke(main, args)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), (args, repr(result.exception))


def test_examples_of_another_task_are_refused_for_a_built_in_task(tmp_path: Path) -> None:
    sorting = get_task("word_sorting").generate(6, seed=3)
    file = tmp_path / "ex.jsonl"
    file.write_text("".join(json.dumps(e.model_dump()) + "\n" for e in sorting))
    r = run("make", "--task", "dyck_languages", "--examples", str(file), "--maker", "gpt-4o")
    assert r.exit_code == 2 and "dyck_languages" in r.stderr and "not questions of" in r.stderr


def test_bad_input_gets_a_clear_usage_error(tmp_path: Path) -> None:
    r = run("demo", "--task", "nope")
    assert r.exit_code == 2 and "unknown task 'nope'" in r.stderr
    r = run("cache", "export", "/nonexistent/x.json")
    assert r.exit_code == 2 and "does not exist" in r.stderr
    r = run("eval", "--task", "word_sorting", "--plot", str(tmp_path / "p.png"), "--n", "1")
    assert r.exit_code == 2 and "matplotlib" in r.stderr and "word_sorting" not in r.stdout  # before the run
    from sandbox.cli import main as sandbox_run

    bad = tmp_path / "latin1.py"
    bad.write_bytes(b"x = '\xff'\n")
    r = CliRunner().invoke(sandbox_run, [str(bad), "--backend", "process"])
    assert r.exit_code == 2 and "not UTF-8" in r.output


def test_the_process_backend_warning_is_a_cli_message_naming_what_it_does_not_isolate() -> None:
    r = run("solve", "Sort the following words alphabetically: List: b a", "--backend", "process")
    warning = [line for line in r.stderr.splitlines() if line.startswith("warning:")]
    assert len(warning) == 1 and "network" in warning[0] and "/tmp" in warning[0]
    assert ".py:" not in r.stderr  # no Python source line


def test_make_shows_the_whole_feedback_and_the_trace_keeps_it(tmp_path: Path) -> None:
    file = tmp_path / "ex.jsonl"
    file.write_text("".join(json.dumps(e.model_dump()) + "\n" for e in get_task("dyck_languages").generate(6)))
    from latm.models.demo import maker_reply
    from latm.testing import FakeOpenAIServer

    with FakeOpenAIServer(maker_reply) as server:
        r = run("make", "--task", "dyck_languages", "--examples", str(file), "--maker", "m", "--base-url", server.url)
    assert r.exit_code == 0
    # The demo maker's first dyck draft is wrong: every failing test is shown, not only the first line.
    assert "The tests failed on these questions:" in r.stderr and "- test 1:" in r.stderr
    trace = run("cache", "show", "dyck_languages", "--trace").stdout
    assert "feedback sent to the model:" in trace and "- test 1:" in trace
