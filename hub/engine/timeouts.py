"""Step timeouts: a step attempt (rendering its fields and its call) is stopped when its time
is up, whatever the worker pool (docs/engine.md, "Timeouts, caps, cancel, replay")."""

from __future__ import annotations

import contextlib
import signal
import threading
import time

from hub.engine.messages import Message, gettext_noop


class StepTimeout(Exception):
    pass


class _Watchdog:
    """One daemon thread per process that interrupts steps running on other threads (a
    thread pool): when a step's time is up it raises StepTimeout in that thread with
    PyThreadState_SetAsyncExc. The exception lands at the thread's next Python bytecode, so
    a thread blocked inside one C call (a socket read) is interrupted when that call
    returns; every app's HTTP client has its own request timeout for that case."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._armed: dict[int, tuple[float, int, float]] = {}  # token -> (due, thread, secs)
        self._fired: set[int] = set()
        self._tokens = 0
        self._thread: threading.Thread | None = None

    def arm(self, seconds: float) -> int:
        with self._cond:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, name="engine-step-watchdog", daemon=True
                )
                self._thread.start()
            self._tokens += 1
            token = self._tokens
            self._armed[token] = (time.monotonic() + seconds, threading.get_ident(), seconds)
            self._cond.notify()
            return token

    def disarm(self, token: int) -> bool:
        """Returns True when the step's time ran out (StepTimeout was or is being raised)."""
        with self._cond:
            self._armed.pop(token, None)
            fired = token in self._fired
            self._fired.discard(token)
        if fired:
            # The StepTimeout may still be pending: it must not surface after the step (the
            # caller raises StepTimeout itself). Clearing it with SetAsyncExc(NULL) would
            # leave CPython's "async exception pending" flag raised for every thread, so
            # every bytecode would check for it from then on; replacing it with an
            # exception of our own and catching that lowers the flag.
            _absorb_pending()
        return fired

    def _loop(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                due = [(t, v) for t, v in self._armed.items() if v[0] <= now]
                for token, (_due, thread_id, _seconds) in due:
                    del self._armed[token]
                    self._fired.add(token)
                    _async_raise(thread_id, StepTimeout)
                nearest = min((v[0] for v in self._armed.values()), default=now + 60)
                self._cond.wait(max(0.005, nearest - now))


def _async_raise(thread_id: int, exception: type[BaseException] | None) -> None:
    import ctypes

    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(exception) if exception else None
    )


class _Absorbed(BaseException):
    pass


def _absorb_pending() -> None:
    try:
        _async_raise(threading.get_ident(), _Absorbed)
        # Delivered at the next check (the call's return or the loop's first backward
        # jump); the bound is only a safety net.
        for _ in range(1_000_000):
            pass
    except _Absorbed:
        return


_WATCHDOG = _Watchdog()


@contextlib.contextmanager
def step_timeout(seconds: float, *, limit: float | None = None):
    """Interrupt a step that runs too long, whatever the worker pool. On the main thread
    (prefork and solo pools) an interval timer interrupts even a blocked system call; on
    other threads (the thread pool) the watchdog raises StepTimeout in the step's thread.
    ``limit``: the step's whole time limit, for the message, when ``seconds`` is what is
    left of it."""
    if seconds <= 0:
        yield
        return
    message = Message(
        gettext_noop("The step took longer than %(seconds)s s."), seconds=f"{limit or seconds:g}"
    )
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "setitimer"
    ):
        token = _WATCHDOG.arm(seconds)
        try:
            yield
        except StepTimeout:
            _WATCHDOG.disarm(token)
            raise StepTimeout(message) from None
        except BaseException:
            if _WATCHDOG.disarm(token):
                raise StepTimeout(message) from None
            raise
        if _WATCHDOG.disarm(token):
            raise StepTimeout(message)
        return

    def expired(signum, frame):
        raise StepTimeout(message)

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
