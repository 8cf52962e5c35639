"""Fixtures of the CLI tests."""

import pytest


@pytest.fixture(autouse=True)
def _process_backend(process_backend: None) -> None:
    """Every CLI test runs its sandboxes on the process backend (tests/conftest.py's process_backend)."""
