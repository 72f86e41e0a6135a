"""Shared fixtures: every test gets its own shared-memory directory, so tests never
touch /dev/shm files of a running system and leave nothing behind."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

_names = itertools.count()


@pytest.fixture(autouse=True)
def shm_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    directory = tmp_path / "shm"
    directory.mkdir()
    monkeypatch.setenv("OMS_SHM_DIR", str(directory))
    yield directory


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The project's shared data (``../shared`` beside the checkout, or $OMS_SHARED_DIR)."""
    root = Path(os.environ.get("OMS_SHARED_DIR") or Path(__file__).resolve().parents[2] / "shared")
    if not (root / "reference").is_dir():
        pytest.fail(f"shared data not found at {root}: clone next to shared/ or set OMS_SHARED_DIR")
    return root


@pytest.fixture
def name() -> str:
    """A fresh shared-memory object name."""
    return f"t{os.getpid()}-{next(_names)}"
