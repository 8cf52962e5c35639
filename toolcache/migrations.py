"""Upgrades of exported Tool records from older schema versions to the current one.

``MIGRATIONS[n]`` turns a version-n record into a version-(n+1) record. Schema 1 is the
first released schema, so the table is empty today; the mechanism is tested with a
registered migration so the first real one lands on a path that already works.
"""

from collections.abc import Callable
from typing import Any

from toolcache.models import SCHEMA_VERSION

Record = dict[str, Any]
MIGRATIONS: dict[int, Callable[[Record], Record]] = {}


def migrate(record: Record, version: int) -> Record:
    while version < SCHEMA_VERSION:
        step = MIGRATIONS.get(version)
        if step is None:
            raise ValueError(f"no migration from tool schema {version} to {version + 1}")
        record = step(dict(record))
        version += 1
    return {**record, "schema_version": SCHEMA_VERSION}
