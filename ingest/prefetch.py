"""Produce batches ahead of the writer: on a thread, or for big files in a child process.

Parsing, validation, encryption and COPY encoding are Python and hold the GIL. On a thread they
overlap only the database's waits; in a process of their own they run on another core while
this one drives PostgreSQL, which is what makes a big import fast. The child is forked, so it
shares this process's configuration and keys; it reads the file and touches no connection.
"""

from __future__ import annotations

import multiprocessing
import pickle
import queue
import threading
from collections.abc import Callable, Generator, Iterator
from typing import Any

from ingest.batches import Batch

DEPTH = 2  # batches made ahead of the writer: enough to keep both sides busy, memory flat
STOP_WAIT_S = 5.0


def process_available() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def in_thread(
    make: Callable[[], Iterator[Batch]], depth: int = DEPTH
) -> Generator[Batch, None, None]:
    """Produce the batches of `make()` on a worker thread, at most `depth` ahead of the consumer.

    An exception in the worker (say ImportFileError) is raised in the consumer; if the
    consumer stops early, the worker is told to stop and is joined.
    """
    slots: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()
    worker = threading.Thread(
        target=_produce, args=(make, slots, stop, False), name="ingest-reader", daemon=True
    )
    worker.start()
    try:
        yield from _consume(slots, worker.is_alive)
    finally:
        stop.set()
        worker.join()


def in_process(
    make: Callable[[], Iterator[Batch]], depth: int = DEPTH
) -> Generator[Batch, None, None]:
    """Produce the batches of `make()` in a forked child process, at most `depth` ahead.

    Errors in the child reach the consumer as the same exception; a child that dies is an
    error too. If the consumer stops early, the child is stopped (and killed if it hangs).
    """
    ctx = multiprocessing.get_context("fork")
    slots: Any = ctx.Queue(maxsize=depth)
    stop = ctx.Event()
    child = ctx.Process(
        target=_produce, args=(make, slots, stop, True), name="ingest-reader", daemon=True
    )
    child.start()
    try:
        yield from _consume(slots, child.is_alive)
    finally:
        stop.set()
        child.join(STOP_WAIT_S)
        if child.is_alive():
            child.kill()
            child.join()
        slots.close()


def _consume(slots: Any, alive: Callable[[], bool]) -> Iterator[Batch]:
    while True:
        try:
            tag, item = slots.get(timeout=1.0)
        except queue.Empty:
            if not alive():
                raise RuntimeError("the file reader stopped without finishing") from None
            continue
        if tag == "done":
            return
        if tag == "error":
            raise item
        yield item


def _produce(make: Callable[[], Iterator[Batch]], slots: Any, stop: Any, crossing: bool) -> None:
    """Put the batches, then "done", or the error that stopped them (in a form that survives
    the trip to another process when `crossing`)."""

    def put(item: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                slots.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    batches = make()
    try:
        for batch in batches:
            if not put(("batch", batch)):
                break
        else:
            put(("done", None))
    except BaseException as exc:  # handed over to the consumer, raised there
        put(("error", _portable(exc) if crossing else exc))
    finally:
        close = getattr(batches, "close", None)
        if close is not None:
            close()
        if stop.is_set() and hasattr(slots, "cancel_join_thread"):
            slots.cancel_join_thread()  # the consumer is gone: exit without flushing to it


def _portable(exc: BaseException) -> BaseException:
    """The exception itself if it survives pickling (to cross from a child), else its text."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:  # noqa: BLE001 - any pickling failure means: send the text instead
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc
