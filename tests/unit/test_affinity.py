"""CPU pinning: real sched_setaffinity on this machine, clear errors otherwise."""

from __future__ import annotations

import os
import threading

import pytest

from oms.affinity import current_thread_affinity, pin_current_thread, pin_process
from oms.errors import AffinityError


def test_pin_a_thread_without_touching_the_others() -> None:
    allowed = current_thread_affinity()
    seen: list[list[int]] = []

    def pinned() -> None:
        pin_current_thread([allowed[-1]])
        seen.append(current_thread_affinity())

    t = threading.Thread(target=pinned)
    t.start()
    t.join()
    assert seen == [[allowed[-1]]]
    assert current_thread_affinity() == allowed


def test_pin_the_whole_process_and_restore() -> None:
    allowed = sorted(os.sched_getaffinity(0))
    try:
        pin_process([allowed[0]])
        assert current_thread_affinity() == [allowed[0]]
    finally:
        pin_process(allowed)
    assert current_thread_affinity() == allowed


def test_impossible_cores_are_a_clear_error() -> None:
    with pytest.raises(AffinityError) as caught:
        pin_current_thread([4096])
    assert caught.value.code == "AFFINITY_FAILED"
    assert "does not exist" in caught.value.message
    with pytest.raises(AffinityError):
        pin_current_thread([])
