"""The collector pause of bulk jobs: automatic passes off, cycles still freed, state restored."""

from __future__ import annotations

import gc
import weakref

import pytest

from ledger.collector import BATCHES_PER_PASS, collector_paused


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


def test_automatic_collection_is_off_inside_and_back_on_after() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_collection_comes_back_after_an_error() -> None:
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("an import line was refused")
    assert gc.isenabled()


def test_a_collector_disabled_before_stays_disabled() -> None:
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_cycles_made_during_the_pause_are_freed_every_few_batches() -> None:
    with collector_paused() as batch_done:
        node = Node()
        freed = weakref.finalize(node, lambda: None)
        del node
        for _ in range(BATCHES_PER_PASS - 1):
            batch_done()
        assert freed.alive, "freed before its pass: the pause did not pause"
        batch_done()
        assert not freed.alive, "a cycle made during the pause was never freed"
