"""Measuring LATM: ``evaluation`` runs tasks end to end (making, then answering) against the
chain-of-thought baselines the paper compares with; ``demo`` is ``latm demo``'s run; ``example_files``
reads solved examples (JSONL or BIG-Bench-Hard JSON).
"""
