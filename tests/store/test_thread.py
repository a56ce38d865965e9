"""store/thread.OneThread: calls run in order on one thread, results and errors come back to
the caller's loop, and a call after shutdown is refused."""

from __future__ import annotations

import asyncio
import threading

import pytest

from masthead.store.thread import OneThread


async def test_calls_run_in_order_on_one_thread_and_return_their_results() -> None:
    worker = OneThread("test-writer")
    seen: list[tuple[int, str]] = []

    def call(n: int) -> int:
        seen.append((n, threading.current_thread().name))
        return n * 2

    results = await asyncio.gather(*(worker.run(lambda n=n: call(n)) for n in range(50)))
    worker.shutdown()

    assert results == [n * 2 for n in range(50)]
    assert [n for n, _ in seen] == list(range(50))
    assert {name for _, name in seen} == {"test-writer"}


async def test_an_error_reaches_the_caller_and_the_thread_goes_on() -> None:
    worker = OneThread("test-writer")

    def boom() -> None:
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        await worker.run(boom)
    assert await worker.run(lambda: 7) == 7
    worker.shutdown()


async def test_a_cancelled_caller_does_not_break_the_thread() -> None:
    worker = OneThread("test-writer")
    gate = threading.Event()
    waiting = worker.run(lambda: gate.wait(5))
    waiting.cancel()
    gate.set()
    assert await worker.run(lambda: "after") == "after"
    worker.shutdown()


async def test_shutdown_runs_what_is_queued_then_refuses_more() -> None:
    worker = OneThread("test-writer")
    done: list[int] = []
    queued = [worker.run(lambda n=n: done.append(n)) for n in range(5)]
    await asyncio.sleep(0)
    await asyncio.gather(*queued)
    worker.shutdown()
    assert done == list(range(5))
    with pytest.raises(RuntimeError, match="shut down"):
        worker.run(lambda: None)
