import gc
import threading

import pytest

from ledger.bulk import gc_paused


def test_the_collector_is_paused_in_the_block_and_back_on_after():
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_the_collector_is_back_on_after_an_error():
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_overlapping_blocks_leave_it_on_whatever_order_they_finish_in():
    first_in, second_done = threading.Event(), threading.Event()

    def second():
        first_in.wait()
        with gc_paused():
            pass
        second_done.set()

    thread = threading.Thread(target=second)
    thread.start()
    with gc_paused():
        first_in.set()
        second_done.wait()
        assert not gc.isenabled()  # the second block ended first: still paused for this one
    thread.join()
    assert gc.isenabled()


def test_a_block_inside_a_paused_one_does_not_switch_it_on():
    with gc_paused():
        with gc_paused():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()
