"""The offline demo models: scripted stand-ins for a strong maker and a cheap user.

``demo_maker()`` answers the tool maker's prompts with the reference tools of the paper's
tasks (``tasks.*.reference``), written as a maker's replies would be. For
``dyck_languages`` its first draft is wrong on purpose (it closes brackets in the order
they were opened), so every demo shows the repair loop at work. ``demo_user()`` writes
use-case calls and classifies questions the way a cheap model would. Both run fully
offline; they are priced like gpt-4o and gpt-4o-mini so the demo's cost table shows the
paper's trade-off (see latm.models.usage.DEFAULT_PRICES).
"""

import re

from latm.models.protocol import Message
from latm.models.scripted import ScriptedModel
from tasks import get_task, identify

MAKER_NAME, USER_NAME = "demo-maker", "demo-user"
REPAIR_DEMO_TASK = "dyck_languages"
QA = re.compile(r"Question: (.*?)\nAnswer: (.*?)(?=\n\n|\Z)", re.S)

BUGGY_DYCK = (
    '''
def complete_dyck(sequence):
    """Returns the closing brackets that balance an open sequence."""
    pairs = {"(": ")", "[": "]", "{": "}", "<": ">"}
    stack = []
    for token in sequence:
        if token in pairs:
            stack.append(token)
        elif stack:
            stack.pop()
    return " ".join(pairs[t] for t in stack)
'''.strip()
    + "\n"
)


def _block(code: str) -> str:
    return f"```python\n{code.strip()}\n```"


def _tests(task_name: str, prompt: str) -> str:
    ref = get_task(task_name).reference
    cases = [f"{ref.call_for(q)}\nassert ans == {a!r}" for q, a in QA.findall(prompt)]
    return _block("\n\n".join(cases))


def _step_prompts(messages: list[Message]) -> dict[str, str]:
    """The latest prompt of each step in the conversation so far."""
    found: dict[str, str] = {}
    for m in messages:
        if m["role"] != "user":
            continue
        text = m["content"]
        if text.startswith("Here are some examples"):
            found["propose"] = text
        elif text.startswith("Here are more examples"):
            found["verify"] = text
        elif text.startswith("Success! The function is correct"):
            found["wrap"] = text
        elif "write a strict function `solve" in text:
            found["direct"] = text
    return found


COT_MARKER = "Think step by step"
NO_COT = "A scripted demo model cannot reason step by step.\nAnswer: unknown"


def maker_reply(messages: list[Message]) -> str:
    if COT_MARKER in messages[-1]["content"]:
        return NO_COT
    steps = _step_prompts(messages)
    first = QA.search(steps.get("propose", ""))
    name = identify(first.group(1)) if first else None
    if name is None:
        return "I cannot tell which task these examples belong to, so I will not guess."
    ref = get_task(name).reference
    last = messages[-1]["content"]
    if last.startswith("Here are some examples"):
        code = BUGGY_DYCK if name == REPAIR_DEMO_TASK else ref.code
        return "Here is a generic function:\n\n" + _block(code)
    if last.startswith("Here are more examples"):
        return _tests(name, last)
    if last.startswith("The tests failed"):  # the repair: the corrected function, then the tests
        return (
            "You are right, the brackets must close in reverse order.\n\n"
            + _block(ref.code)
            + "\n\n"
            + _tests(name, steps["verify"])
        )
    if last.startswith("Success! The function is correct") or "use cases" in last.lower():
        cases = "\n\n".join(
            f"Question: {q}\nSolution:\n{_block(ref.call_for(q))}" for q, _ in QA.findall(steps["verify"])
        )
        return f"Here is a function to solve a class of problems:\n{_block(ref.code)}\n\nUse cases:\n{cases}"
    if "solve" in last:
        return _block(ref.direct)
    return _block(ref.code)


def user_reply(messages: list[Message]) -> str:
    last = messages[-1]["content"]
    if COT_MARKER in last:
        return NO_COT
    if "Task:" in last and "Question:" in last and "```" not in last:  # the dispatcher's classification
        question = last.rsplit("Question:", 1)[1].split("\nTask:")[0].strip()
        name = identify(question)
        listed = re.findall(r"^Task: (\S+)", last, re.M)
        return f"Task: {name if name in listed else 'unknown'}"
    question = last.rsplit("Question:", 1)[1].split("\nSolution:")[0].strip()
    name = identify(question)
    if name is None:
        return "I am not sure how to call the function for this question."
    return _block(get_task(name).reference.call_for(question))


def demo_maker() -> ScriptedModel:
    return ScriptedModel(maker_reply, name=MAKER_NAME)


def demo_user() -> ScriptedModel:
    return ScriptedModel(user_reply, name=USER_NAME)
