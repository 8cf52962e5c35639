"""The paper's protocol (Cai et al., 2023): one conversation, propose -> verify -> wrap, then
(ours, optional) a direct solver. Every step retries within ``max_attempts``, sending the model the
exact problem."""

from latm import replies
from latm.errors import StepFailed
from latm.maker import prompts, reply_cases
from latm.maker.loop import MakerBase
from latm.maker.making_record import Attempt, Session, functions_of
from latm.maker.search.templates import within_form
from tasks import TASKS
from toolcache import (
    Tool,
    UseCase,
)


class PaperProtocol(MakerBase):
    """The paper's tool-making steps."""

    def _make_once(self, s: Session) -> Tool:
        self._propose(s)
        self._verify(s)
        self._wrap(s)
        if self.want_direct:
            self._direct(s)
        if s.direct is None:
            self._judge_held_out(s)
        try:
            self._before_admission(s)
        except replies.ReplyProblem as problem:
            raise StepFailed("synthetic", str(problem)[:300]) from problem
        return self._admit(s)

    def _propose(self, s: Session) -> None:
        def handle(a: Attempt) -> None:
            blocks = replies.require_code(a.reply)
            with_defs = [replies.library_part(b) for b in blocks if "def " in b]
            if not with_defs:
                raise replies.ReplyProblem("no_function", prompts.repair("The code defines no function."))
            code = "\n\n".join(with_defs)
            a.code = code
            self._checked_code(code, "The function", s)
            functions = replies.top_level_functions(code)
            if not functions:
                raise replies.ReplyProblem("no_function", prompts.repair("The code defines no top-level function."))
            main = (
                functions[-1]
                if not any(not f.name.startswith("_") for f in functions)
                else next(f for f in reversed(functions) if not f.name.startswith("_"))
            )
            if replies.is_stub(main):
                raise replies.ReplyProblem(
                    "stub", prompts.repair(f"`{main.name}` is only a stub; write its full implementation.")
                )
            run = self.sandbox.run(code)
            a.observations.append({"ok": run.ok, "error": str(run.error) if run.error else None})
            if not run.ok:
                what = "timed out" if run.timed_out else f"raised {run.error}"
                raise replies.ReplyProblem(
                    "timeout" if run.timed_out else "runtime_error",
                    prompts.repair(f"Running the code {what}:\n{run.error.traceback if run.error else ''}"),
                )
            s.code, s.entry, s.signature = code, main.name, replies.signature(main)

        self._loop(s, "propose", prompts.propose(s.train), handle)

    def _split_reply(self, s: Session, blocks: list[str]) -> str:
        """Takes a redefinition of the tool out of a reply (a fix) and returns the rest (tests)."""
        tests = []
        for block in blocks:
            block = _test_code(block)
            defs, rest = replies.split_definitions(block)
            redefines = any(f.name == s.entry for f in replies.top_level_functions(defs)) if defs else False
            if redefines:
                new_code = replies.merge_definitions(s.code, defs)
                self._checked_code(new_code, "The function", s)
                s.code = new_code
                if rest.strip():
                    tests.append(rest)
            else:
                tests.append(block)
        return "\n".join(tests)

    def _verify(self, s: Session) -> None:
        expected = [ex.answer for ex in s.valid]
        questions = [ex.question for ex in s.valid]

        def handle(a: Attempt) -> None:
            s.verify_attempts += 1
            tests = self._split_reply(s, replies.require_code(a.reply))
            a.code = tests
            if not tests.strip():
                raise replies.ReplyProblem("no_tests", prompts.case_count(len(s.valid), 0))
            self._checked_code(tests, "The test code")
            cases = reply_cases.split_cases(tests, len(s.valid))
            if len(cases) > len(s.valid):  # tests of the train questions too: keep the ones asked for
                cases = reply_cases.pick_cases(cases, questions) or cases
            if len(cases) != len(s.valid):
                raise replies.ReplyProblem("test_count", prompts.case_count(len(s.valid), len(cases)))
            cases = reply_cases.with_preamble(cases)
            s.test_outcomes, s.tests = self._judge(s, a, cases, expected, questions, "test")

        self._loop(s, "verify", prompts.verify(s.valid), handle)

    def _wrap(self, s: Session) -> None:
        expected = [ex.answer for ex in s.valid]

        def handle(a: Attempt) -> None:
            blocks = replies.require_code(a.reply)
            pairs = reply_cases.use_cases(a.reply)
            function_blocks = [b for b in blocks if any(f.name == s.entry for f in functions_of(b))]
            if function_blocks:
                candidate = replies.merge_definitions(s.code, replies.split_definitions(function_blocks[0])[0])
                self._checked_code(candidate, "The function", s)
            else:
                candidate = s.code  # the verified function stands when the wrap does not repeat it
            if len(pairs) != len(s.valid):
                raise replies.ReplyProblem(
                    "use_case_count",
                    f"Expected {len(s.valid)} use cases in the format 'Question: ...' then 'Solution:' and a "
                    f"```python block, but found {len(pairs)}. Reply again in exactly that format.",
                )
            calls = [_test_code(c) for _, c in pairs]
            for c in calls:
                self._checked_code(c, "A use case")
            a.code = candidate + "\n\n# use cases\n" + "\n\n".join(calls)
            previous, s.code = s.code, candidate
            try:
                _, calls = self._judge(s, a, calls, expected, [ex.question for ex in s.valid], "use case")
            except replies.ReplyProblem:
                s.code = previous
                raise
            s.use_cases = [
                UseCase(question=ex.question, call=c, answer=ex.answer) for ex, c in zip(s.valid, calls, strict=True)
            ]

        self._loop(s, "wrap", prompts.wrap(s.valid), handle)

    def _direct(self, s: Session) -> None:
        def handle(a: Attempt) -> None:
            if reply_cases.says_none(a.reply):
                a.outcome = "declined"
                return
            blocks = replies.require_code(a.reply)
            code = "\n\n".join(b for b in blocks if "def solve" in b) or blocks[0]
            cut = replies.library_part(code)  # an example-usage tail is not part of the solver
            code = cut if cut.strip() != code.strip() else code
            if s.task not in TASKS:  # a user's task: the framework holds the question to its form first
                code = within_form(code, [ex.question for ex in s.shown])
            a.code = code
            self._check_solver(s, a, code)

        try:
            self._loop(s, "direct", prompts.direct(s.entry), handle)
        except StepFailed:
            s.direct = None  # optional: the tool is still good without a direct solver


def _test_code(code: str) -> str:
    """A reply's test or use-case code made runnable: unparsable asserts dropped (they are never
    run), a syntax error elsewhere raised as a repair message, test wrappers opened up."""
    code = reply_cases.drop_broken_asserts(code)
    problem = replies.syntax_problem(code)
    if problem:
        raise problem
    return reply_cases.unwrap_tests(code)
