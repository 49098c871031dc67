"""Helpers for the bulk paths (file imports): what makes a 100,000-row job fast in CPython."""

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the block.

    A bulk import creates a few hundred thousand small objects (records, plans, rows) that live until
    the end. Each 700 allocations start a collection, and the older generations are walked again and
    again: for a 100,000-payment file that was a third of the Python time. The objects made here form
    no reference cycles, so reference counting frees them as ever; the collector runs again after the
    block. It is paused for the whole process (other threads too) and switched back on only if it was
    on, so overlapping blocks in threads leave it on at the end whatever order they finish in.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
