"""Three more readings of a question's varying text, for the search's views: an expression as its
tokens, sentences as lists of their words, and counted items. Each raises ValueError on a text it
cannot read, so a view is offered only where it reads every shown question, and the tool's parser
refuses a question it cannot read.

One source (``READINGS_SOURCE``), run here and embedded in a tool that uses one of them.
"""

import re
from typing import Any

from sandbox.expressions import OPERATOR_KINDS

READINGS_SOURCE = r'''
_READ_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
}
# "a dozen onions", "a pair of socks", "a few plums": a count word that does not give the count
_READ_QUANTITY_WORDS = {"dozen", "dozens", "pair", "pairs", "couple", "few", "lot", "lots", "score", "hundred",
                        "hundreds", "thousand", "thousands", "million", "half", "quarter", "third"}
_READ_TOKEN = re.compile(r"\s*(?:(\d+\.\d+|\d+)|([A-Za-z_]\w*)|(\*\*|//|<=|>=|==|!=|[-+*/%^()<>=!&|~,\[\]]))")
_READ_ITEM = re.compile(
    r"(?:^|(?<=[\s,]))(?:and\s+)?(a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|"
    r"fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|\d+)\s+([A-Za-z][\w'-]*(?:\s+[A-Za-z][\w'-]*)*?)"
    r"(?=\s*(?:,|\band\b|[.?!;:]|$))",
    re.I,
)


# Operators of one kind: a task whose questions use one of them may use the others.
_READ_FAMILIES = "OPERATOR_KINDS"


def _expression_of(middle, layout=None):
    """The expression as tokens: numbers (int or float), names and operators (text). With a layout,
    every name and operator must be one the shown questions have, or of a kind they have (arithmetic,
    comparison, boolean): a new name, or an operator of another kind, is another task."""
    tokens, position, text = [], 0, middle.strip()
    while position < len(text):
        m = _READ_TOKEN.match(text, position)
        if m is None or m.end() == position:
            raise ValueError("not an expression: %r" % text[position:position + 20])
        number, name, operator = m.groups()
        if number is not None:
            tokens.append(float(number) if "." in number else int(number))
        else:
            tokens.append(name if name is not None else operator)
        position = m.end()
    if not any(isinstance(t, str) and not t[:1].isalpha() for t in tokens) and len(tokens) < 2:
        raise ValueError("not an expression")
    if layout is not None:
        known = set(layout["tokens"])
        for family in _READ_FAMILIES:  # an operator of a kind the task uses is the task's ("*" beside "+")
            if known & set(family):
                known |= set(family)
        strange = [t for t in tokens if isinstance(t, str) and t not in known]
        if strange:
            raise ValueError("a token the task's questions do not have: %r" % strange[0])
    return {"tokens": tokens}


def _expression_layout(middles):
    """The names and operators the shown questions use (numbers are data)."""
    return {"tokens": sorted({t for m in middles for t in _expression_of(m)["tokens"] if isinstance(t, str)})}


def _statements_of(middle, layout=None):
    """The sentences, each as the list of its words without punctuation, in order. With a layout, each
    sentence's shape (its words, those not of the task's vocabulary as slots) must be one the shown
    questions have: a sentence of another form is another task."""
    sentences = [s for s in re.split(r"(?<=[.?!;])\s+", middle.strip()) if s.strip()]
    if len(sentences) < 2:
        raise ValueError("not several sentences")
    out = []
    for sentence in sentences:
        words = [w.strip(".,;:?!\"'()") for w in sentence.split()]
        out.append([w for w in words if w])
    if layout is not None:
        if not _marks(middle) <= set(layout.get("marks", _marks(middle))):
            raise ValueError("a punctuation mark the task's sentences do not have")
        vocabulary, shapes = set(layout["vocabulary"]), {tuple(s) for s in layout["shapes"]}
        for words in out:
            if tuple(w if w in vocabulary else "_" for w in words) not in shapes:
                raise ValueError("a sentence of another form: %r" % " ".join(words))
    return {"statements": out}


def _statements_layout(middles):
    """The vocabulary of a task's sentences (the words every question has, and the lowercase words at
    least half of them have) and the sentence shapes the questions show."""
    read = [_statements_of(m)["statements"] for m in middles]
    word_sets = [{w for sentence in q for w in sentence} for q in read]
    common = set.intersection(*word_sets)
    counts = {}
    for words in word_sets:
        for w in words:
            counts[w] = counts.get(w, 0) + 1
    vocabulary = common | {w for w, n in counts.items() if w.islower() and 2 * n >= len(read)}
    shapes = sorted({tuple(w if w in vocabulary else "_" for w in sentence) for q in read for sentence in q})
    marks = sorted(set().union(*(_marks(m) for m in middles)))
    return {"vocabulary": sorted(vocabulary), "shapes": [list(s) for s in shapes], "marks": marks}


def _marks(text):
    """The punctuation of a text: the statements reading drops it, so it is held to the task's ("Jamey says,
    Fidel tells the truth?" asks where the task's sentences state); a comma between two digits counts
    apart ("1,200" is not "1, 200")."""
    marks = {ch for ch in text if not (ch.isalnum() or ch.isspace() or ch == "_")}
    return marks | ({"9,9"} if re.search(r"\d,\d", text) else set())


def _items_parts(middle):
    """The counted things as [count, name] pairs, and the texts around them (before the first, between
    each two, after the last; spaces collapsed)."""
    items, pieces, at = [], [], 0
    for m in _READ_ITEM.finditer(middle):
        pieces.append(" ".join(middle[at:m.start()].split()))
        count = m.group(1).lower()
        items.append([int(count) if count.isdigit() else _READ_NUMBER_WORDS[count], m.group(2)])
        at = m.end()
    pieces.append(" ".join(middle[at:].split()))
    if len(items) < 2:
        raise ValueError("not a list of items")
    return items, pieces


def _shape(text, vocabulary):
    return [w if w in vocabulary else "_" for w in text.split()]


def _items_of(middle, layout=None):
    """The counted things, as [count, name] pairs (number words read as numbers). With a layout, the text
    between two items must be a list's (a comma, a semicolon, "and": "a lamp, but I lost two kites" is not
    a list), a name may be as long as the shown questions' longest, and the text before and after the list
    must be the shown questions' (where it is the same in all) or of their shape (where it varies: it is
    then data, and ``text``, the whole varying text, is handed over too)."""
    items, pieces = _items_parts(middle)
    if layout is None:
        return {"items": items, "text": middle.strip()}
    for text in pieces[1:-1]:
        if text not in ("", ",", ";"):
            raise ValueError("not a list of items: %r between two of them" % text)
    if any(len(name.split()) > layout["longest"] for _, name in items):
        raise ValueError("a longer name than the task's")
    for _, name in items:
        words = name.lower().split()
        if words[0] in _READ_QUANTITY_WORDS or words[0] in ("and", "or"):
            raise ValueError("not the name of a counted thing: %r" % name)  # "a dozen eggs", "five and five kites"
        if any(w.isdigit() or (w in _READ_NUMBER_WORDS and w not in ("a", "an")) for w in words):
            raise ValueError("a count inside a name: %r" % name)  # "twenty one lamps": not 20 "one lamps"
    for place, text in (("first", pieces[0]), ("last", pieces[-1])):
        held = layout[place]
        if "texts" in held:
            if text not in held["texts"]:
                raise ValueError("not a question of this task: %r around the list" % text)
        elif _shape(text, held["vocabulary"]) not in held["shapes"]:
            raise ValueError("not a question of this task: %r around the list" % text)
    return {"items": items, "text": middle.strip()} if layout.get("text") else {"items": items}


def _items_layout(middles):
    """What the shown questions fix about their lists: the longest name, and the text before and after the
    list (the very texts where they are the same in every question, else the words they share and the
    shapes they have)."""
    read = [_items_parts(m) for m in middles]
    layout = {"longest": max(len(name.split()) for items, _ in read for _, name in items)}
    for place, i in (("first", 0), ("last", -1)):
        texts = sorted({pieces[i] for _, pieces in read})
        if len(texts) == 1:
            layout[place] = {"texts": texts}
        else:
            vocabulary = set.intersection(*(set(t.split()) for t in texts))
            shapes = sorted({tuple(_shape(t, vocabulary)) for t in texts})
            layout[place] = {"vocabulary": sorted(vocabulary), "shapes": [list(s) for s in shapes]}
            layout["text"] = True
    return layout
'''.replace('"OPERATOR_KINDS"', repr(tuple(sorted(kind) for kind in OPERATOR_KINDS)))
_namespace: dict[str, Any] = {"re": re}
exec(READINGS_SOURCE, _namespace)  # our own source, not a tool's
expression_of = _namespace["_expression_of"]
expression_layout = _namespace["_expression_layout"]
statements_of = _namespace["_statements_of"]
statements_layout = _namespace["_statements_layout"]
items_of = _namespace["_items_of"]
items_layout = _namespace["_items_layout"]

# Functions a candidate may call without defining them, by the argument that calls for them.
PROVIDED_FOR = {
    "tokens": "`evaluate_expression` is already defined for you: `evaluate_expression(tokens)` returns the value of "
    "the arithmetic or boolean expression the tokens spell. Call it; do not define it or import it.",
}

# What the readings' arguments mean, by name, for the candidate prompt.
MEANINGS = {
    "tokens": "`tokens` is the expression as a list: numbers as numbers, names and operators and parentheses "
    "as strings",
    "statements": "`statements` lists the sentences in order, each as a list of its words (punctuation removed); "
    "the last one is what is asked",
    "items": "`items` lists the counted things as [count, name] pairs (number words read as numbers)",
    "text": "`text` is the whole varying text",
    "instruction": "`instruction` is the sentence the question begins or ends with, one of the few the task's "
    "questions use ('' where it has none)",
}
