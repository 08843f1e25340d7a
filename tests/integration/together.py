"""Commands released together from several runtimes, as several processes would send them."""
from __future__ import annotations

import threading
from typing import Any, Callable

from engine.runtime import Runtime


def at_once(settings, clock, count: int, action: Callable[[Runtime], Any],
            timeout: float = 120) -> tuple[list[Any], list[BaseException]]:
    """Run `action` on `count` runtimes of their own (their own connections) in threads that start it at
    the same moment. Returns each runtime's result (None where it raised) and what was raised."""
    runtimes = [Runtime(settings, clock=clock) for _ in range(count)]
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def attempt(index: int) -> None:
        try:
            barrier.wait()
            results[index] = action(runtimes[index])
        except BaseException as err:  # noqa: BLE001 - returned to the test
            errors.append(err)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(count)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=timeout)
    finally:
        for runtime in runtimes:
            runtime.dispose()
    return results, errors
