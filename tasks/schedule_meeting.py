"""schedule_meeting: the earliest common slot of two calendars (BIG-Bench Hard format)."""

import random

from tasks.base import Example, ReferenceTool, Task, compile_parser

NO_SLOT = "No time slot works."
DAY_START, DAY_END = 8 * 60, 18 * 60

PARSER = r"""
import re

def parse(question):
    dur = re.search(r"schedule a ([\d.]+)-hour meeting", question)
    a = re.search(r"A's availability: ([^\n]*)", question)
    b = re.search(r"B's availability: ([^\n]*)", question)
    if not (dur and a and b and "What time slot works best?" in question):
        raise ValueError("not a meeting-scheduling question")
    def slots(text):
        found = re.findall(r"(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})", text)
        if not found and text.strip():
            raise ValueError("unreadable availability")
        return [list(s) for s in found]
    return {"a_slots": slots(a.group(1)), "b_slots": slots(b.group(1)), "hours": float(dur.group(1))}
"""

TOOL = '''
def earliest_meeting(a_slots, b_slots, hours):
    """Earliest slot of the given length inside both people's availability.

    Slots are [start, end] pairs of "HH:MM" strings. Returns "HH:MM - HH:MM", or
    "No time slot works." when no common slot is long enough.
    """
    def minutes(t):
        h, m = t.split(":")
        return int(h) * 60 + int(m)

    def clock(m):
        return f"{m // 60:02d}:{m % 60:02d}"

    need = round(hours * 60)
    common = []
    for a0, a1 in a_slots:
        for b0, b1 in b_slots:
            start, end = max(minutes(a0), minutes(b0)), min(minutes(a1), minutes(b1))
            if end - start >= need:
                common.append(start)
    if not common:
        return "No time slot works."
    start = min(common)
    return f"{clock(start)} - {clock(start + need)}"
'''

SOLVE = """
def solve(question):
    return earliest_meeting(**parse(question))
"""


def _clock(m: int) -> str:
    return f"{m // 60:02d}:{m % 60:02d}"


def _calendar(rng: random.Random) -> list[tuple[int, int]]:
    """Disjoint, non-touching half-hour-aligned slots between 08:00 and 18:00."""
    slots: list[tuple[int, int]] = []
    t = DAY_START + 30 * rng.choice([0, 0, 1, 2, 3])
    while t < DAY_END:
        length = 30 * rng.choice([1, 1, 1, 2, 2, 3, 4, 6])
        end = min(t + length, DAY_END)
        slots.append((t, end))
        t = end + 30 * rng.choice([1, 1, 1, 2, 3])
        if len(slots) >= 8:
            break
    return slots


def _answer(a: list[tuple[int, int]], b: list[tuple[int, int]], need: int) -> str:
    starts = [max(a0, b0) for a0, a1 in a for b0, b1 in b if min(a1, b1) - max(a0, b0) >= need]
    return f"{_clock(min(starts))} - {_clock(min(starts) + need)}" if starts else NO_SLOT


def generate_one(rng: random.Random) -> Example:
    hours = rng.choice(["0.5", "1", "1", "1.5", "1.5"])
    need = round(float(hours) * 60)
    a, b = _calendar(rng), _calendar(rng)
    fmt = ", ".join
    question = (
        f"A and B want to schedule a {hours}-hour meeting together.\n"
        f"A's availability: {fmt(f'{_clock(s)} - {_clock(e)}' for s, e in a)}\n"
        f"B's availability: {fmt(f'{_clock(s)} - {_clock(e)}' for s, e in b)}\n"
        "What time slot works best? (if multiple, choose the earliest one"
    )
    return Example(question=question, answer=_answer(a, b, need))


def _normalize(text: str) -> str:
    text = " ".join(str(text).split()).strip().rstrip(".")
    if text.lower() in ("no time slot works", "none", "no slot"):
        return "no time slot works"
    return text.replace(" - ", "-").replace("- ", "-").replace(" -", "-")


TASK = Task(
    name="schedule_meeting",
    description="Find the earliest time slot in which two people can hold a meeting of a given length.",
    generate_one=generate_one,
    reference=ReferenceTool(
        entry="earliest_meeting",
        description=("Earliest common slot of a given length in two availability lists, or 'No time slot works.'"),
        code=TOOL.strip() + "\n",
        direct=(PARSER + SOLVE).strip() + "\n",
        parse=compile_parser(PARSER),
    ),
    normalize=_normalize,
)
