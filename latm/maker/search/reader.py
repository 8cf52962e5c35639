"""Records: the repeated sub-templates inside the varying part of a question.

A question of a task often lists things in one repeated form: "Alice is dancing with Patrick,
Bob is dancing with Sam, ...", "First, Dave and Eve switch partners. Then, ...", "if we divide
them equally among 5 penguins, we have 2 left; if ...". A weak model cannot parse such text
reliably, but it can work on the values once they reach it as a dict or a list of pairs (as
trials with a 1.5B maker showed). This module finds those forms in any text, with
no knowledge of the task:

- the text is cut into clauses at punctuation and line ends; the answer choices (option texts) and numbers
  are kept whole as single tokens, so "Hound of the Baskervilles" is one value;
- a *run* is a stretch of clauses repeating with a period of 1 to 3 clauses (a record may span
  clauses: "among 5 penguins" + "we have 2 left"), at least two records long, each record
  with the clause lengths of the one before and agreeing with it on at least half its tokens;
- within a run the positions whose token varies between records are its *slots*; a record is
  the tuple of its slot values.

This module imports only ``re`` and defines plain functions: its source is embedded in the
tools the search strategy makes, so a tool reads a new question with exactly the code that
found the structure in the shown ones (``latm/maker/search.py``).
"""

import re

CLAUSE_ENDS = (",", ".", ";", ":", "!", "?", "\n")  # a line's end ends a clause too
MOST_PERIOD = 3
NUMBER = r"-?\d+(?:\.\d+)?"


def clauses_of(text, entities):
    """The text as clauses of tokens; each entity (e.g. an option text) is one token."""
    whole = sorted({e for e in entities if e and e.strip()}, key=len, reverse=True)
    alternatives = "".join(r"(?<!\w)" + re.escape(e) + r"(?!\w)|" for e in whole)
    tokens = re.findall(alternatives + r"-?\d+(?:[:.]\d+)*|[\w'-]+|[^\w\s]|\n", text)
    clauses, current = [], []
    for token in tokens:
        if token in CLAUSE_ENDS:
            if current:
                clauses.append(current)
            current = []
        else:
            current.append(token)
    if current:
        clauses.append(current)
    # the last item of a list: "..., and Eve is dancing with Melissa"
    return [c[1:] if len(c) > 1 and c[0] in ("and", "or") else c for c in clauses]


def _is_value(token, entities):
    return token in entities or re.fullmatch(r"-?\d+(?:[:.]\d+)*", token) is not None


def _alike(a, b, entities):
    """Two records of one form: clauses of equal lengths, each agreeing with its counterpart on
    at least one word and on at least half the positions that hold no value (an entity or a
    number) in either; a one-word clause ("First", "Then") may differ."""
    if [len(c) for c in a] != [len(c) for c in b]:
        return False
    for x, y in zip(a, b, strict=True):
        if len(x) == 1:
            continue
        pairs = [(s, t) for s, t in zip(x, y, strict=True) if not (_is_value(s, entities) or _is_value(t, entities))]
        agree = sum(s == t for s, t in pairs)
        if pairs and (agree == 0 or 2 * agree < len(pairs)):
            return False
    return True


def _run_at(clauses, i, entities, lengths=None):
    """(period, records) of the run starting at clause i that covers most clauses, or None; with
    ``lengths``, only runs whose records are that many tokens long."""
    best = None
    for period in range(1, MOST_PERIOD + 1):
        if lengths is not None and sum(len(c) for c in clauses[i : i + period]) not in lengths:
            continue
        count = 1
        while i + (count + 1) * period <= len(clauses) and _alike(
            clauses[i + (count - 1) * period : i + count * period],
            clauses[i + count * period : i + (count + 1) * period],
            entities,
        ):
            count += 1
        if count >= 2 and (best is None or count * period > best[0] * best[1]):
            best = (period, count)
    return best


def runs_of(text, entities, lengths=None):
    """(runs, loose clauses): each run is a pair (records, varying): its records as lists of
    tokens, all of one length (one of ``lengths`` where given), and the positions whose tokens
    differ between them; the loose clauses are those in no run."""
    clauses = clauses_of(text, entities)
    entities = set(entities)
    runs, loose, i = [], [], 0
    while i < len(clauses):
        found = _run_at(clauses, i, entities, lengths)
        if found is None:
            loose.append(clauses[i])
            i += 1
            continue
        period, count = found
        records = [[t for c in clauses[i + k * period : i + (k + 1) * period] for t in c] for k in range(count)]
        varying = [p for p in range(len(records[0])) if len({r[p] for r in records}) > 1]
        runs.append((records, varying))
        i += period * count
    return runs, loose


def slots_of(run, entities, forms):
    """A run's slot positions: the task's for records of a length it has seen (so a question whose
    records happen to agree on a part, the same remainder twice, still has that part); else the
    positions that differ between the records or hold a value in every one (an entity, or a value
    of a form read before: every swap naming Alice still has Alice as a part)."""
    records, varying = run
    length = len(records[0])
    for known, positions in forms:
        if known == length:
            return positions
    held = [p for p in range(length) if all(_is_value(r[p], entities) for r in records)]
    return sorted(set(varying) | set(held))


def _value(token, as_int):
    if not as_int:
        return token
    try:
        return int(token)
    except ValueError:
        raise ValueError(f"not a number where the task has one: {token!r}") from None


def marks_of(text, entities):
    """The punctuation of a text outside its entities (option texts): what the reader cuts clauses at
    and drops, so it is held to the task's (a question whose "." became "%" is another task's). A comma
    between two digits counts apart, as "9,9": "1,200" is one number to a reader, not the clauses
    "1" and "200" of a list written "1, 200"."""
    for e in sorted(entities, key=len, reverse=True):
        if e:
            text = text.replace(e, " ")
    marks = {ch for ch in text if not (ch.isalnum() or ch.isspace() or ch == "_")}
    return marks | ({"9,9"} if re.search(r"\d,\d", text) else set())


def loose_words(loose, values):
    """The clauses outside the forms, less their values and numbers: the words a task fixes there."""
    return [[t for t in c if t not in values and not re.fullmatch(NUMBER, t)] for c in loose]


def read(text, entities, layout):
    """The named arguments of a question's varying part under a discovered ``layout``; raises
    ValueError when the text does not have the layout's form. Where the repeated forms found do not
    fit it, they are looked for again among records of the lengths the task has (a list of two
    entries after a two-word label repeats with the next label's: "A's availability: x, y" and
    "B's availability: z, w" as two records of three clauses)."""
    if "marks" in layout and not marks_of(text, entities) <= set(layout["marks"]):
        raise ValueError("a punctuation mark the task's questions do not have")
    try:
        return _read_runs(runs_of(text, entities), entities, layout)
    except ValueError:
        lengths = {length for group in layout["groups"] for length, _ in group["forms"]}
        return _read_runs(runs_of(text, entities, lengths), entities, layout)


def _read_runs(found_runs, entities, layout):
    runs, loose = found_runs
    groups = layout["groups"]
    if len(runs) != len(groups):
        raise ValueError(f"{len(runs)} repeated forms where the task has {len(groups)}")
    args = {}
    names = set()
    entities = set(entities)
    seen = set()  # the values of the forms read so far: a later form's part holding one is a value too
    form_words = set()  # the words of the forms' records that are not values ("is playing")
    for found, group in zip(runs, groups, strict=True):
        slots = slots_of(found, entities | seen, group["forms"])
        if len(slots) != group["width"]:
            raise ValueError("a repeated form with another number of varying parts than the task's")
        if "words" in group:  # a user's task: its records' lengths and fixed words are the shown ones'
            held = group["words"].get(str(len(found[0][0])))
            if held is None:
                raise ValueError("a repeated form of another length than the task's")
            if any(record[int(p)] not in words for record in found[0] for p, words in held.items()):
                raise ValueError("a word in a repeated form that the task's questions do not have there")
        seen.update(record[p] for record in found[0] for p in slots)
        form_words.update(record[p] for record in found[0] for p in range(len(record)) if p not in slots)
        if group["name"] is None:
            continue
        run = [[record[p] for p in slots] for record in found[0]]
        kept = list(zip(group["keep"], group["ints"], strict=True))
        rows = [[_value(record[p], as_int) for p, as_int in kept] for record in run]
        for record in run:
            names.update(record[p] for p in group["keep"])
        if group["kind"] == "dict":
            if len({row[0] for row in rows}) != len(rows):
                raise ValueError("a repeated key where the task's keys are unique")
            args[group["name"]] = {row[0]: row[1] for row in rows}
        elif group["kind"] == "values":
            args[group["name"]] = [row[0] for row in rows]
        else:
            args[group["name"]] = rows
    if "loose" in layout:
        words = loose_words(loose, seen | entities)
        if len(words) != len(layout["loose"]):
            raise ValueError("a clause outside the repeated forms that the task's questions do not have")
        # a word the question tells of elsewhere, in another clause or in its records, is data ("lemons")
        told = {w for other in words[:-1] for w in other} | form_words
        for clause, kept, place in zip(loose, words, layout["loose"], strict=True):
            if "phrasing" in place and kept != place["phrasing"]:
                raise ValueError("a clause outside the repeated forms that the task's questions do not have")
            if "values" in place and len(clause) - len(kept) not in place["values"]:
                raise ValueError("a clause outside the repeated forms with values where the task's have none")
            if place.get("vocabulary") is not None and not set(kept) <= set(place["vocabulary"]) | told:
                raise ValueError("the question asks in words the task's questions do not use")
    if layout.get("asking"):  # the clause that asks, fixed words and all ("How old is X"): nothing added
        last = loose[-1] if loose else []
        if [t for t in last if t not in seen and t not in entities] != layout["asking"]:
            raise ValueError("the question asks in other words than the task's")
    if layout.get("asked"):
        last = loose[-1] if loose else []
        asked = [t for t in last if t in names]
        if not asked or (layout["asked"] == "one" and len(asked) != 1):
            raise ValueError("the question does not name what it asks about")
        args["asked"] = asked[0] if layout["asked"] == "one" else asked
    if layout.get("numbers"):
        numbers = [float(t) if "." in t else int(t) for c in loose for t in c if re.fullmatch(NUMBER, t)]
        if not numbers or (layout["numbers"] == "one" and len(numbers) != 1):
            raise ValueError("the question lacks the number the task has")
        if layout["numbers"] == "one":
            args["number"] = numbers[0]
        else:
            args["numbers"] = numbers
    return args
