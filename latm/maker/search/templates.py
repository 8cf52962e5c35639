"""What the shown questions of a task share, and the views of what varies.

``discover`` finds the template by rules that hold for any task:

- **An option block** is the run of lines that ends every question, all in one of the option styles
  (``(A) x``, ``A. x``, ``A) x``, or a bullet ``- x`` / ``* x``), at least two of them, and the header
  line just above it when that line ends with a colon (``Options:``, ``Choices:``); the header is
  fixed text, the options' texts reach the function as ``options``.
- **Fixed text is whole words.** The prefix is the longest text every question starts with that ends
  at a space or line break in each of them, and the suffix likewise; a shared beginning that is only
  part of a word (``((`` of ``((3 + 4) * 2)``) belongs to the varying text. So a question the shown
  ones happen not to cover (one parenthesis) still fits, and one whose fixed words differ does not.
  A word next to the varying part that also occurs inside it is data too (the "a" of "I have a
  lamp, a kite, and two drums").

``views_for`` offers the varying text in the shapes a small model can write a function of (repeated
records read by ``reader``, integers, words, the text), each only where it reads every shown question.
``parser_code`` writes the framework's parser for a template and a view: it strips the template, hands
the view to the function, and raises ValueError on a question that does not fit (the direct solver's
strictness).
"""

import ast
import functools
import inspect
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from latm.judge.frames import common_prefix
from latm.judge.option_blocks import OPTION_BLOCK_SOURCE, OPTION_STYLES, option_block, option_style
from latm.maker.search import reader as records
from latm.maker.search.readings import (
    READINGS_SOURCE,
    expression_layout,
    expression_of,
    items_layout,
    items_of,
    statements_layout,
    statements_of,
)

ViewKind = Literal["records", "expression", "numbers", "items", "statements", "words", "text"]
# Runs a candidate ``f`` (its source) on one question's arguments, in the sandbox.
CANDIDATE_HARNESS = """
def _latm_candidate(_latm_src, _latm_args):
    _latm_ns = {"__name__": "candidate"}
    exec(_latm_src, _latm_ns)
    _latm_value = _latm_ns["f"](**_latm_args)
    if isinstance(_latm_value, tuple):
        _latm_value = list(_latm_value)
    return _latm_value
"""


@dataclass(frozen=True)
class Template:
    """The fixed text around the varying part of a task's questions."""

    prefix: str
    suffix: str
    options: str | None = None  # the style of the option block every question ends with (OPTION_STYLES)
    header: str = ""  # the line above the block ("Options:"), fixed text
    openings: tuple[str, ...] = ()  # fixed sentences some questions begin with ("" where others have none)
    endings: tuple[str, ...] = ()  # ... and some end with

    @property
    def has_form(self) -> bool:
        """Whether the questions share a form beyond how sentences end: fixed words, symbols ("... =") or
        an option block (what a strict reader can hold a new question to; a final "?" holds nothing)."""
        fixed = (self.prefix, self.suffix, self.header, *self.openings, *self.endings)
        return self.options is not None or any(re.search(r"[^\s.?!]", text) for text in fixed)

    def instruction(self, body: str) -> str:
        """The opening and ending sentences a body has, of the few the task's questions vary in ("" where
        none): handed to the function, since they may say what to do ("Sort them in descending order.")."""
        opening = next((o for o in sorted(self.openings, key=len, reverse=True) if body.startswith(o)), "")
        rest = body[len(opening) :]
        ending = next((e for e in sorted(self.endings, key=len, reverse=True) if rest.endswith(e)), "")
        return " ".join(part.strip() for part in (opening, ending) if part.strip())

    def core(self, body: str) -> str | None:
        """The body without its opening and ending sentence (None: it has none the task allows)."""
        if self.openings:
            found = next((o for o in sorted(self.openings, key=len, reverse=True) if body.startswith(o)), None)
            if found is None:
                return None
            body = body[len(found) :]
        if self.endings:
            found = next((e for e in sorted(self.endings, key=len, reverse=True) if body.endswith(e)), None)
            if found is None:
                return None
            body = body[: len(body) - len(found)]
        return body

    def body_and_options(self, question: str) -> tuple[str, list[str]] | None:
        """The question without its option block, and the options' texts (None: it does not fit)."""
        if self.options is None:
            return question, []
        block = option_block(question, self.options)
        if block is None or block[1] != self.header:
            return None
        return block[0], block[2]

    def split(self, question: str) -> tuple[str, list[str]] | None:
        """(the varying text, the option texts), or None when the question does not fit."""
        found = self.body_and_options(question)
        if found is None:
            return None
        body, options = found[0], found[1]
        core = self.core(body)
        if core is None:
            return None
        body = core
        if not (body.startswith(self.prefix) and body.endswith(self.suffix)):
            return None
        middle = body[len(self.prefix) : len(body) - len(self.suffix) if self.suffix else len(body)]
        return (middle, options) if middle.strip() else None


def discover(questions: Sequence[str]) -> Template | None:
    """The template every question fits, or None when they share too little to be one task."""
    style = option_style(questions)
    template = Template(prefix="", suffix="", options=style[0] if style else None, header=style[1] if style else "")
    bodies = [found[0] for q in questions if (found := template.body_and_options(q)) is not None]
    if len(bodies) != len(questions) or len(questions) < 2:
        return None
    plain = _around(bodies, template, (), ())
    openings, endings = _recurring(bodies, first=True), _recurring(bodies, first=False)
    varied = _around(bodies, template, openings, endings) if openings or endings else None
    best = varied if varied is not None and _fixed_words(varied) >= _fixed_words(plain) else plain
    if best is None or any(best.split(q) is None for q in questions):
        return None
    return best


SENTENCE_END = re.compile(r"[.?!:](?:[ \t]+|(?=\n))|\n")


def _recurring(bodies: Sequence[str], *, first: bool) -> tuple[str, ...]:
    """The first (last) sentences that begin (end) at least two questions but not every one, with ""
    for the questions that have none of them: instructions in a few fixed phrasings; not a sentence the
    questions also have inside, nor one with a number (data that repeated by chance)."""

    def sentence(body: str) -> str:
        ends = list(SENTENCE_END.finditer(body))
        if not ends:
            return ""
        if first:
            return body[: ends[0].end()] if ends[0].end() < len(body) else ""
        last = [m for m in ends if m.end() < len(body)]
        return body[last[-1].end() :] if last else ""

    found = [sentence(b) for b in bodies]
    inside = [b[1:] if first else b[:-1] for b in bodies]  # ("Take 1 step.", "Turn around." in navigate)

    def data(s: str) -> bool:  # a sentence the questions also have inside, or with a number in it, is data
        return bool(re.search(r"\d", s)) or any(s.strip() in b for b in inside)

    counts = {s: found.count(s) for s in found if s.strip() and not data(s)}
    kept = tuple(sorted(s for s, n in counts.items() if n >= 2 and n < len(bodies)))
    if not kept:
        return ()
    return (*kept, "") if any(f not in kept for f in found) else kept


def _around(
    bodies: Sequence[str], base: Template, openings: tuple[str, ...], endings: tuple[str, ...]
) -> Template | None:
    """The template with these openings and endings, and the prefix and suffix the rest shares."""
    probe = Template(prefix="", suffix="", options=base.options, header=base.header, openings=openings, endings=endings)
    cores = [probe.core(b) for b in bodies]
    if any(c is None for c in cores):
        return None
    texts = [c for c in cores if c is not None]
    prefix = common_prefix(texts)
    suffix = common_prefix([t[len(prefix) :][::-1] for t in texts])[::-1]
    prefix, suffix = _edge_words_as_data(prefix, suffix, texts)
    lead, trail = _delimiters([t[len(prefix) : len(t) - len(suffix)] for t in texts])
    return Template(prefix + lead, trail + suffix, base.options, base.header, openings, endings)


def _edge_words_as_data(prefix: str, suffix: str, texts: Sequence[str]) -> tuple[str, str]:
    """A fixed word next to the varying part that is also a word inside it belongs to the varying part:
    the "a" of "I have a" in "I have a lamp, a kite, and two drums" counts the first item, and a
    question whose list begins "two lamps" is the task too."""

    def words(prefix: str, suffix: str) -> set[str]:
        return {w for t in texts for w in t[len(prefix) : len(t) - len(suffix)].split()}

    while (last := prefix.rstrip().rsplit(None, 1)[-1:]) and last[0] in words(prefix, suffix):
        prefix = prefix[: len(prefix.rstrip()) - len(last[0])]
    while (first := suffix.lstrip().split(None, 1)[:1]) and first[0] in words(prefix, suffix):
        suffix = suffix[len(suffix) - len(suffix.lstrip()) + len(first[0]) :]
    return prefix, suffix


def _delimiters(middles: Sequence[str]) -> tuple[str, str]:
    """Punctuation every varying part begins and ends with that marks it off ('banana'? : the quotes and
    the question mark) rather than belonging to it: fixed text only where none of those characters occurs
    inside any varying part (the parentheses of "((3 + 4) * 2)" do, so they stay data)."""

    def run(texts: Sequence[str]) -> str:
        n = 0
        while all(len(t) > n and not t[n].isalnum() and not t[n].isspace() for t in texts) and (
            len({t[n] for t in texts}) == 1
        ):
            n += 1
        return texts[0][:n] if texts else ""

    lead = run(middles)
    trail = run([m[len(lead) :][::-1] for m in middles])[::-1]
    inner = [m[len(lead) : len(m) - len(trail)] for m in middles]
    if not (lead or trail) or any(not i.strip() for i in inner) or any(c in i for c in lead + trail for i in inner):
        return "", ""
    return lead, trail


def _fixed_words(template: Template | None) -> int:
    return -1 if template is None else len((template.prefix + " " + template.suffix).split())


@dataclass(frozen=True)
class View:
    """How the varying part reaches the model's function: as named arguments.

    ``records`` reads the repeated forms of the whole question body (``latm/maker/records.py``) under a
    layout found on the shown questions; the others hand over the varying middle as its integers,
    its words or its text (``x``). With options, ``options`` (their texts) is added."""

    kind: ViewKind
    layout: Any = None  # the records layout (a JSON-able dict)

    def args(self, template: Template, question: str) -> dict[str, Any]:
        """The named arguments for a question; raises ValueError when it does not fit."""
        split = template.split(question)
        if split is None:
            raise ValueError("not a question of this task")
        middle, options = split
        if self.kind == "records":
            body = (template.body_and_options(question) or (question, []))[0]
            args = records.read(body, options, self.layout)
        elif self.kind == "numbers":
            args = numbers_of(middle, (self.layout or {}).get("fixed", {}))
        elif self.kind in READERS:
            args = READERS[self.kind](middle, self.layout)
        elif self.kind == "words":
            args = words_of(middle, (self.layout or {}).get("count"), (self.layout or {}).get("marks"))
        else:
            args = {"x": middle.strip()}
        if template.openings or template.endings:
            args["instruction"] = template.instruction((template.body_and_options(question) or (question, []))[0])
        return {**args, "options": options} if template.options else args


def _named_elsewhere(runs: list[Any], loose: list[list[str]], g: int) -> set[str]:
    out = {t for clause in loose for t in clause}
    for h, run in enumerate(runs):
        if h != g:
            out.update(v for record in run for v in record)
    return out


def _slot_values(run: Any, options: list[str], forms: list[list[Any]]) -> list[list[str]]:
    slots = records.slots_of(run, set(options), forms)
    return [[record[p] for p in slots] for record in run[0]]


def _loose_place(phrasings: list[list[str]], values: list[int]) -> dict[str, Any]:
    """What a place outside the forms holds: its one phrasing, where every shown question has the same there;
    else how many values and numbers a clause there has (instructions in other words: a name or a number
    brought into one is another question), and for the last place its vocabulary too (set by the caller)."""
    if all(p == phrasings[0] for p in phrasings):
        return {"phrasing": phrasings[0]}
    return {"values": sorted(set(values)), "vocabulary": None}


def _form_words(runs: list[Any], forms: list[list[Any]]) -> dict[str, dict[str, list[str]]]:
    """For each record length of a form, the word every shown record has at a place that is not a slot:
    a reader holds a new question's records to it ("Ben buys 4 pears" is not "Ben sells 4 pears",
    though both have the form's slots), and to the lengths they have ("Ann is 30 years younger than me"
    is not a record of "Ann is 30 years old"). Where the shown records differ at such a place (scenarios:
    "swap balls", "trade books") the place is not held: unseen scenarios are still the task's."""
    out: dict[str, dict[str, set[str]]] = {}
    for records_, _ in runs:
        length = len(records_[0])
        places = out.setdefault(str(length), {})  # a length the shown records have, though every place be a slot
        slots: list[int] = next((positions for known, positions in forms if known == length), [])
        for record in records_:
            for p in range(length):
                if p not in slots:
                    places.setdefault(str(p), set()).add(record[p])
    return {length: {p: sorted(ws) for p, ws in places.items() if len(ws) == 1} for length, places in out.items()}


def layout_of(template: Template, questions: Sequence[str], hold_form_words: bool = True) -> dict[str, Any] | None:
    """The records layout the shown questions share, or None when they share none.

    Each question's repeated forms are found alone; the layout keeps the forms every question has
    (same count, same number of varying parts), and of each the slots whose values differ between
    questions or are named elsewhere in the question (dropped: "First"/"Then"/"Finally", the same in
    every question). A form's slots are the positions that differ between its records or hold a
    value, over every shown question with records of that length (``forms``): so one whose records
    happen to agree on a part still has it. Two slots with unique, non-numeric first values become
    a dict; one slot a list; more a list of rows. The names mentioned in the last loose clause
    become ``asked``, the numbers outside the forms ``number(s)``. The loose clauses' other words are
    held, place by place (a clause inserted before the question, "Ten years pass.", would otherwise be
    dropped): word for word where every shown question has the same clause there; where they vary
    (scenarios told in other words), the number of values a clause there has, and the asking clause's
    words are ones the shown questions ask in."""
    bodies = [template.body_and_options(q) or (q, []) for q in questions]
    raw = [records.runs_of(body, options) for body, options in bodies]
    if len({len(runs) for runs, _ in raw}) != 1 or not raw[0][0]:
        return None
    forms: list[list[list[Any]]] = []  # per form: [[record length, slot positions], ...]
    for g in range(len(raw[0][0])):
        merged: dict[int, set[int]] = {}
        for (runs, _), (_, options) in zip(raw, bodies, strict=True):
            merged.setdefault(len(runs[g][0][0]), set()).update(records.slots_of(runs[g], set(options), []))
        forms.append([[length, sorted(slots)] for length, slots in sorted(merged.items())])
    words = [  # per form: the word every shown record has at a place that is not a slot
        _form_words([runs[g] for runs, _ in raw], forms[g]) if hold_form_words else None for g in range(len(raw[0][0]))
    ]
    found = [  # each question's forms as records of their slots' values
        ([_slot_values(run, options, forms[g]) for g, run in enumerate(runs)], loose)
        for (runs, loose), (_, options) in zip(raw, bodies, strict=True)
    ]
    groups: list[dict[str, Any]] = []
    used: set[str] = set()
    for g in range(len(found[0][0])):
        runs_g = [runs[g] for runs, _ in found]
        widths = {len(run[0]) for run in runs_g}
        if len(widths) != 1:
            return None
        width = widths.pop()
        keep, varying = [], []
        for p in range(width):
            varies = len({tuple(r[p] for r in run) for run in runs_g}) > 1
            named = all(any(r[p] in _named_elsewhere(runs, loose, g) for r in runs[g]) for runs, loose in found)
            if varies or named:
                keep.append(p)
                varying.append(varies)
        ints = [all(re.fullmatch(r"-?\d+", r[p]) for run in runs_g for r in run) for p in keep]
        group: dict[str, Any] = {"width": width, "forms": forms[g], "keep": keep, "ints": ints}
        if words[g] is not None:
            group["words"] = words[g]
        group.update(kind="rows", name=None)
        if any(varying):
            if len(keep) == 1:
                kind, name = "values", "values"
            elif (
                len(keep) == 2
                and not any(re.search(r"\d", r[keep[0]]) for run in runs_g for r in run)
                and all(len({r[keep[0]] for r in run}) == len(run) for run in runs_g)
            ):
                kind, name = "dict", "table"
            else:
                kind, name = "rows", "pairs" if len(keep) == 2 else "rows"
            base, n = name, 2
            while name in used:
                name, n = f"{base}{n}", n + 1
            used.add(name)
            group.update(kind=kind, name=name)
        groups.append(group)
    if not used:
        return None
    marks = set().union(*(records.marks_of(body, options) for body, options in bodies))
    layout: dict[str, Any] = {"groups": groups, "asked": None, "numbers": None, "marks": sorted(marks)}
    mentioned = []
    for runs, loose in found:
        names = {r[p] for run, grp in zip(runs, groups, strict=True) if grp["name"] for r in run for p in grp["keep"]}
        mentioned.append([t for t in (loose[-1] if loose else []) if t in names])
    if all(len(m) == 1 for m in mentioned):
        layout["asked"] = "one"
    elif all(mentioned):
        layout["asked"] = "many"
    numbers = [[t for c in loose for t in c if re.fullmatch(records.NUMBER, t)] for _, loose in found]
    if all(len(n) == 1 for n in numbers):
        layout["numbers"] = "one"
    elif all(numbers):
        layout["numbers"] = "many"
    values = [{v for run in runs for r in run for v in r} for runs, _ in found]
    asking = [  # the words of the last clause outside the forms, less the values
        [t for t in (loose[-1] if loose else []) if t not in vals and t not in options]
        for (_, loose), vals, (_, options) in zip(found, values, bodies, strict=True)
    ]
    if asking[0] and all(a == asking[0] for a in asking):  # the same words in every shown question: held
        layout["asking"] = asking[0]
    clauses = [  # every clause outside the forms, less the values and numbers
        records.loose_words(loose, vals | set(options))
        for (_, loose), vals, (_, options) in zip(found, values, bodies, strict=True)
    ]
    if len({len(c) for c in clauses}) == 1:
        counts = [
            [len(raw) - len(kept) for raw, kept in zip(loose, c, strict=True)]
            for (_, loose), c in zip(found, clauses, strict=True)
        ]
        layout["loose"] = [
            _loose_place([c[i] for c in clauses], [n[i] for n in counts]) for i in range(len(clauses[0]))
        ]
        if "vocabulary" in layout["loose"][-1]:  # the clause that asks, in words the shown ones ask in
            layout["loose"][-1]["vocabulary"] = sorted({w for c in clauses for w in c[-1]})
    for q in questions:  # the layout must read every shown question back
        try:
            records.read(*(template.body_and_options(q) or (q, [])), layout)
        except ValueError:
            return None
    return layout


# A minus sign right after a letter or digit is a hyphen or an operator, not a sign: "2020-07-22" is 2020, 7
# and 22 (its hyphens are text between numbers, held like any other), "from -5" is -5.
# "3.05" is one number, not 3 and 5; in a dotted run ("1.10.0", "15.10.2020", an address) each part is one
NUMBER_RE = r"(?:(?<!\w)-)?(?:(?<!\d)(?<!\d\.)\d+\.\d+(?!\d|\.\d)|\d+)"


def fixed_between_numbers(middles: Sequence[str]) -> dict[str, Any]:
    """What the numbers view holds of the text between numbers (it hands the function the numbers only,
    so the words it drops must be the task's: "What is 6 times 7?" is not a question of "What is A plus
    B?"): where every shown question has as many numbers, each place's text is one the shown questions
    have there, and the count is fixed, and places whose texts vary are held together (as one shown
    question has them: "3 hours and 20 minutes" and "3 minutes and 20 seconds" do not make "3 hours and
    20 seconds" a question of the task); otherwise the text before the first number, the text after the
    last, and every text between two numbers are each one the shown questions have in that place (an end's
    text is not a separator: "9-4-2" does not make "9 -4 -2" a question of the task). A comma touching a
    number on both sides is apart from a spaced one: where the shown lists have "3, 5", "1,200" is one
    number (a thousands separator), not two."""
    pieces = [_gaps(m) for m in middles]
    if not pieces:
        return {}
    if len({len(p) for p in pieces}) == 1:
        at = {str(i): sorted({p[i] for p in pieces}) for i in range(len(pieces[0]))}
        varying = [i for i in range(len(pieces[0])) if len(at[str(i)]) > 1]
        if len(varying) < 2:
            return {"count": len(pieces[0]), "at": at}
        seen = sorted({tuple(p[i] for i in varying) for p in pieces})
        return {"count": len(pieces[0]), "at": at, "together": [varying, [list(s) for s in seen]]}
    return {
        "first": sorted({p[0] for p in pieces}),
        "last": sorted({p[-1] for p in pieces}),
        "any": sorted({t for p in pieces for t in p[1:-1]}),
    }


# The numbers view's reading, as the tool carries it (one source: run here, and embedded in the tool).
NUMBERS_OF_SOURCE = f'''
def _gaps(middle):
    """The texts around the numbers of the middle, spaces collapsed; a lone comma between two of them
    is "9,9" ("1,200" is not the list "1, 200")."""
    pieces = re.split({NUMBER_RE!r}, middle)
    return [
        "9,9" if text == "," and 0 < i < len(pieces) - 1 else " ".join(text.split()) for i, text in enumerate(pieces)
    ]

def _numbers_of(middle, fixed):
    """The numbers of the middle (integers, and decimals as floats); ValueError where the text between them
    is not one the task has."""
    pieces = _gaps(middle)
    if fixed.get("count") is not None and len(pieces) != fixed["count"]:
        raise ValueError("not a question of this task")
    for i, text in enumerate(pieces):
        if "at" in fixed:
            allowed = fixed["at"].get(str(i))
        elif i == 0 or i == len(pieces) - 1:
            allowed = fixed.get("first" if i == 0 else "last")
        else:
            allowed = fixed.get("any")
        if allowed is not None and text not in allowed:
            raise ValueError("not a question of this task")
    if "together" in fixed and [pieces[i] for i in fixed["together"][0]] not in fixed["together"][1]:
        raise ValueError("words the task's questions do not have together")
    return {{"x": [float(n) if "." in n else int(n) for n in re.findall({NUMBER_RE!r}, middle)]}}
'''
# The words view's reading: where every shown question is about one word, so is the task ("the word
# 'banana'": a question about 'ice cream' is another task); lists keep any length.
WORDS_OF_SOURCE = '''
def _words_of(middle, count, marks=None):
    """The words of the middle; ValueError where the task fixes how many there are and this differs, or
    where a word begins or ends in a punctuation mark the shown questions' words do not ("pear fig kiwi.
    Then reverse them."); a mark inside a word is the word's ("o'clock")."""
    words = middle.split()
    if count is not None and len(words) != count:
        raise ValueError("not a question of this task")
    if marks is not None and any(not (ch.isalnum() or ch == "_" or ch in marks) for w in words for ch in {w[0], w[-1]}):
        raise ValueError("a punctuation mark the task's questions do not have")
    return {"x": words}
'''
_numbers_namespace: dict[str, Any] = {"re": re}
exec(NUMBERS_OF_SOURCE + WORDS_OF_SOURCE, _numbers_namespace)  # our own source, not a tool's
numbers_of = _numbers_namespace["_numbers_of"]
_gaps = _numbers_namespace["_gaps"]
words_of = _numbers_namespace["_words_of"]


READERS = {"expression": expression_of, "items": items_of, "statements": statements_of}


def _reads_all(kind: str, parts: Sequence[str]) -> list[dict[str, Any]] | None:
    try:
        return [READERS[kind](p) for p in parts]
    except ValueError:
        return None


def _is_operator(token: object) -> bool:
    """An expression's token that is neither a number, a name, nor a list's comma."""
    return isinstance(token, str) and not token[:1].isalnum() and token != ","


def _numbers_are_all_that_varies(between: dict[str, Any]) -> bool:
    """Whether each place's text between the numbers is one text in every shown question."""
    places = list(between["at"].values()) if "at" in between else [between.get(k, []) for k in ("first", "last", "any")]
    return all(len(texts) <= 1 for texts in places)


def _reads_back(view: View, template: Template, questions: Sequence[str]) -> bool:
    try:
        for question in questions:
            view.args(template, question)
    except ValueError:
        return False
    return True


def views_for(template: Template, questions: Sequence[str], hold_form_words: bool = True) -> list[View]:
    """The views worth offering, most structured first, each where it reads every shown question: the
    records the questions repeat; the numbers where the text around them is the same in every shown
    question (they are then all that varies: "89 days after 2020-07-22"); an expression (where some token
    is an operator or a parenthesis, not only a comma: "two books, a lamp" is a list); the numbers where
    the text between them varies too (unless a varying count of them has more than one kind of text
    between); counted items; the sentences (three or more in each question); the words; the text."""
    parts = [template.split(q)[0] for q in questions]  # type: ignore[index]
    views: list[View] = []
    layout = layout_of(template, questions, hold_form_words)
    if layout is not None:
        views.append(View("records", layout))
    between = fixed_between_numbers(parts)
    numbers: View | None = None
    if all(re.search(r"\d", p) for p in parts) and len(between.get("any", ())) <= 1:
        # as many numbers as you like with two kinds of text between them ("10 plus 3 minus 2"): which
        # stands where is the question, and a function handed the numbers alone cannot see it
        numbers = View("numbers", {"fixed": between})
    if numbers is not None and _numbers_are_all_that_varies(between):
        views.append(numbers)
    expressions = _reads_all("expression", parts)
    if expressions and any(_is_operator(t) for e in expressions for t in e["tokens"]):
        views.append(View("expression", expression_layout(parts)))
    if numbers is not None and numbers not in views:
        views.append(numbers)
    if _reads_all("items", parts):
        items = View("items", items_layout(parts))
        if _reads_back(items, template, questions):  # text between two items that is not a list's: no list
            views.append(items)
    statements = _reads_all("statements", parts)
    if statements and all(len(s["statements"]) >= 3 for s in statements):
        views.append(View("statements", statements_layout(parts)))
    if all(len(p.split()) >= 1 for p in parts):
        one_word = all(len(p.split()) == 1 for p in parts)  # a task about one word, not a list
        edges = {ch for p in parts for w in p.split() for ch in (w[0], w[-1])}
        marks = "".join(sorted(ch for ch in edges if not (ch.isalnum() or ch == "_")))
        views.append(View("words", {"count": 1 if one_word else None, "marks": marks}))
    views.append(View("text"))
    return views


_RECORDS_TEXT = inspect.getsource(records)  # read at import: a tool is built from the code this process runs


@functools.cache
def records_source() -> str:
    """latm/maker/search/reader.py as tool code: its top-level names prefixed, so they cannot meet the
    model's own helpers, and its docstring dropped. Built on first use (it takes a tenth of a
    second, which every ``latm`` command would otherwise pay at import)."""
    tree = ast.parse(_RECORDS_TEXT)
    tree.body = [n for n in tree.body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
    code = ast.unparse(tree)
    for node in tree.body:
        targets = (
            [node.name]
            if isinstance(node, ast.FunctionDef)
            else [t.id for t in node.targets if isinstance(t, ast.Name)]
            if isinstance(node, ast.Assign)
            else []
        )
        for name in targets:
            code = renamed(code, name, RECORDS_PREFIX + name.lstrip("_"))
    defined = re.findall(r"^def (\w+)", code, re.M)
    if len(set(defined)) != len(defined):  # "read" and "_read" would both be _records_read
        raise RuntimeError(f"two of the reader's names meet once prefixed: {sorted(defined)}")
    return code


RECORDS_PREFIX = "_records_"


def parser_code(template: Template, view: View) -> str:
    """The framework's parser: ``parse_question(question)`` -> the named arguments of ``f``."""
    middle_expr = {
        "numbers": f"_numbers_of(middle, {(view.layout or {}).get('fixed', {})!r})",
        "words": f"_words_of(middle, {(view.layout or {}).get('count')!r}, {(view.layout or {}).get('marks')!r})",
        "expression": f"_expression_of(middle, {view.layout!r})",
        "items": f"_items_of(middle, {view.layout!r})",
        "statements": f"_statements_of(middle, {view.layout!r})",
        "text": "{'x': middle.strip()}",
        "records": f"{RECORDS_PREFIX}read(body, options, {view.layout!r})",
    }[view.kind]
    options = (
        f"    found = _option_block(question, {template.options!r}, {OPTION_STYLES[template.options]!r})\n"
        f"    if found is None or found[1] != {template.header!r}:\n"
        "        raise ValueError('not a question of this task')\n"
        "    body, options = found[0], found[2]\n"
        if template.options
        else "    body, options = question, []\n"
    )
    if template.openings or template.endings:
        options += (
            "    opening = ending = ''\n"
            f"    for opening in {sorted(template.openings, key=len, reverse=True)!r}:\n"
            "        if body.startswith(opening):\n            body = body[len(opening):]\n            break\n"
            "    else:\n"
            f"        if {bool(template.openings)!r}:\n            raise ValueError('not a question of this task')\n"
            f"    for ending in {sorted(template.endings, key=len, reverse=True)!r}:\n"
            "        if body.endswith(ending):\n            body = body[:len(body) - len(ending)]\n            break\n"
            "    else:\n"
            f"        if {bool(template.endings)!r}:\n            raise ValueError('not a question of this task')\n"
        )
    if template.openings or template.endings:
        middle_expr = f"dict({middle_expr}, instruction=' '.join(p.strip() for p in (opening, ending) if p.strip()))"
    back = "dict(args, options=options)" if template.options else "args"
    suffix_check = f"body.endswith({template.suffix!r})" if template.suffix else "True"
    helpers = records_source() + "\n\n\n" if view.kind == "records" else "import re\n\n\n"
    if view.kind == "numbers":
        helpers += NUMBERS_OF_SOURCE.strip() + "\n\n\n"
    if view.kind == "words":
        helpers += WORDS_OF_SOURCE.strip() + "\n\n\n"
    if view.kind in READERS:
        helpers += READINGS_SOURCE.strip() + "\n\n\n"
    if template.options:
        helpers += ("import re\n\n\n" if view.kind == "records" else "") + OPTION_BLOCK_SOURCE.strip() + "\n\n\n"
    return (
        helpers + "def parse_question(question):\n"
        '    """The named arguments of f for a question of this task (the framework found its form)."""\n'
        + options
        + f"    if not (body.startswith({template.prefix!r}) and {suffix_check}):\n"
        "        raise ValueError('not a question of this task')\n"
        f"    middle = body[{len(template.prefix)}:len(body) - {len(template.suffix)}]\n"
        "    if not middle.strip():\n        raise ValueError('not a question of this task')\n"
        f"    args = {middle_expr}\n"
        f"    return {back}\n"
    )


def within_form(solver: str, questions: Sequence[str]) -> str:
    """A model's ``solve(question)`` behind the framework's reading of the task's form: a question the
    template the shown ``questions`` share does not read (a fixed word changed, a clause added, another
    option header) raises ValueError before the model's parser can guess at it. The solver as it is
    where the questions share no form (fixed words or an option block)."""
    template = discover(questions)
    if template is None or not template.has_form:
        return solver
    form = renamed(parser_code(template, View("text")), "parse_question", "_latm_form_of")
    inner = renamed(solver, "solve", "_latm_model_solve")
    return (
        f"{form}\n\n{inner}\n\ndef solve(question):\n"
        "    _latm_form_of(question)  # ValueError: not of the task's form\n"
        "    return _latm_model_solve(question)\n"
    )


def renamed(code: str, old: str, new: str) -> str:
    """``code`` with the top-level function ``old``, and every reference to it, renamed ``new``; inside a
    function or lambda with a parameter of that name (``key=lambda f: f.lower()``) the name is the
    parameter's and stays, and a method of that name is not the function."""
    tree = ast.parse(code)

    class Renamer(ast.NodeTransformer):
        def _scope(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> ast.AST:
            if not _binds(node.args, old):
                return self.generic_visit(node)
            # the parameter hides the function inside; its defaults and decorators are read outside
            outside: list[ast.AST] = [*node.args.defaults, *(d for d in node.args.kw_defaults if d is not None)]
            if not isinstance(node, ast.Lambda):
                outside += node.decorator_list
            for part in outside:
                self.visit(part)
            return node

        visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _scope  # type: ignore[assignment]

        def visit_Name(self, node: ast.Name) -> ast.AST:
            if node.id == old:
                node.id = new
            return node

    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == old:
            node.name = new
    return ast.unparse(Renamer().visit(tree)) + "\n"


def _binds(arguments: ast.arguments, name: str) -> bool:
    """Whether a function's parameters include ``name``."""
    every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs, arguments.vararg, arguments.kwarg]
    return any(a is not None and a.arg == name for a in every)
