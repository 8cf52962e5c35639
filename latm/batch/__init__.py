"""Batch solving: one row contract, two engines.

- ``local``: the pooled sandbox on this machine (``LATM.solve_many``, direct questions through
  ``call_many``); ``latm solve --file``.
- ``ray``: Ray Data ``map_batches`` with a callable class on an actor pool
  (``LATM.solve_dataset``; ``latm solve --file --engine ray``). Imported only when asked for:
  ``pip install 'latm[ray]'``.

``solve_file`` takes a file of questions to an answer file with either engine (the answer-file
rules of ``answer_file``, Parquet's in ``parquet_file``). Every row keeps the input's fields and
adds ``answer, ok, mode, tool, tool_id, error, tokens, cost_usd`` (an input field of those names is
kept as ``input_<name>``). A question whose tool raises or times out, or that nothing answers, is a
row with ``ok=False`` and the reason.
"""

from latm.batch.rows import ADDED_COLUMNS, RAY_MISSING, require_ray

__all__ = ["ADDED_COLUMNS", "RAY_MISSING", "require_ray"]
