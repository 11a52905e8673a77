"""Threads: a greenlet each, run by the deterministic scheduler.

A thread is created INITIAL and joins its process's thread list only when started. Its
entry point is a Python callable called as `entry(arg1, arg2)`. Returning from the entry
ends the thread; for the first thread of a process it ends the process too, with the
returned value as the return code, as returning from `main` does in a C program.

A thread is suspended while its `suspend_count` (suspend tokens on it and on its process)
is above zero. It stops at its next kernel entry, or at once when it is blocked, and
then is SUSPENDED with ZX_THREAD_SUSPENDED asserted; a blocked syscall resumes its wait
afterwards with the same deadline, as the vDSO retries it on Zircon.

Before a started thread runs guest code it reports ZX_EXCP_THREAD_STARTING to its
process's debugger channel (and the first thread of a process ZX_EXCP_PROCESS_STARTING
to its jobs' debugger channels); on its way out it is DYING and reports
ZX_EXCP_THREAD_EXITING. A Python exception that escapes guest code is a ZX_EXCP_GENERAL
exception. kernel/objects/exception.py delivers these and every other exception.
"""

from __future__ import annotations

import enum
import logging
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from greenlet import greenlet

from pyzircon.abi.exceptions import (
    ZX_EXCEPTION_CHANNEL_TYPE_NONE,
    ZX_EXCEPTION_CHANNEL_TYPE_THREAD,
    ZX_EXCP_GENERAL,
)
from pyzircon.abi.objtypes import ZX_OBJ_TYPE_THREAD
from pyzircon.abi.rights import ZX_DEFAULT_THREAD_RIGHTS
from pyzircon.abi.signals import ZX_THREAD_RUNNING, ZX_THREAD_SUSPENDED, ZX_THREAD_TERMINATED
from pyzircon.abi.status import ZX_ERR_BAD_STATE
from pyzircon.abi.task import ZX_TASK_RETCODE_EXCEPTION_KILL, ZX_THREAD_STATE_BLOCKED_SLEEPING
from pyzircon.errors import ZxError
from pyzircon.kernel.objects.base import KernelObject
from pyzircon.kernel.objects.exceptionate import Exceptionate
from pyzircon.kernel.objects.restricted import RestrictedThreadState
from pyzircon.kernel.sched.scheduler import TaskRuntime, ThreadExit

if TYPE_CHECKING:
    from pyzircon.kernel.objects.exception import ExceptionObject
    from pyzircon.kernel.objects.process import Process

log = logging.getLogger("pyzircon.kernel")

ThreadEntry = Callable[[int, int], Any]


class ThreadState(enum.Enum):
    INITIAL = "initial"
    RUNNING = "running"
    BLOCKED = "blocked"
    SUSPENDED = "suspended"
    DYING = "dying"
    DEAD = "dead"


_ALLOWED: dict[ThreadState, frozenset[ThreadState]] = {
    ThreadState.INITIAL: frozenset({ThreadState.RUNNING, ThreadState.DYING, ThreadState.DEAD}),
    ThreadState.RUNNING: frozenset(
        {ThreadState.BLOCKED, ThreadState.SUSPENDED, ThreadState.DYING, ThreadState.DEAD}
    ),
    ThreadState.BLOCKED: frozenset({ThreadState.RUNNING, ThreadState.DYING, ThreadState.DEAD}),
    ThreadState.SUSPENDED: frozenset({ThreadState.RUNNING, ThreadState.DYING, ThreadState.DEAD}),
    ThreadState.DYING: frozenset({ThreadState.DEAD}),
    ThreadState.DEAD: frozenset(),
}


class Thread(KernelObject):
    """A thread of a process; in normal mode it runs Python code in a greenlet."""

    obj_type = ZX_OBJ_TYPE_THREAD
    default_rights = ZX_DEFAULT_THREAD_RIGHTS

    def __init__(self, process: Process, name: str) -> None:
        super().__init__(process.kernel)
        self.process = process
        self.name = name
        self.state = ThreadState.INITIAL
        self.greenlet: greenlet | None = None
        self.entry: ThreadEntry | None = None
        self.args: tuple[int, int] = (0, 0)
        self.initial = False
        self.kill_pending = False
        # What a BLOCKED thread waits on, for deadlock reports: a description, or a
        # function that builds one, so that blocking does not pay for the text.
        self.wait_reason: str | Callable[[], str] = ""
        # What ZX_INFO_THREAD reports while BLOCKED: one of ZX_THREAD_STATE_BLOCKED_*,
        # set by the syscall that blocks.
        self.blocked_info_state = ZX_THREAD_STATE_BLOCKED_SLEEPING
        # The handle value zx.thread_self() returns, created on first use.
        self.self_handle_value = 0
        self.restricted = RestrictedThreadState()
        self.runtime = TaskRuntime()
        # Suspend tokens on this thread plus one while its process is suspended.
        self.suspend_count = 0
        self.exceptionate = Exceptionate(ZX_EXCEPTION_CHANNEL_TYPE_THREAD)
        # The exception being offered to a handler now, for ZX_INFO_THREAD_EXCEPTION_REPORT.
        self.exception: ExceptionObject | None = None
        # The channel type of the last exception offer, as ZX_INFO_THREAD reports it.
        self.exception_channel_type = ZX_EXCEPTION_CHANNEL_TYPE_NONE
        # (synth_code, synth_data) of a policy exception raised when the current syscall
        # returns, or None.
        self.policy_exception: tuple[int, int] | None = None

    def related_koid(self) -> int:
        return self.process.koid

    def describe(self) -> str:
        return f"{self.name!r} {self.state.value}"

    def set_state(self, state: ThreadState) -> None:
        """Move to `state`; the one place a thread's state changes."""
        if state is self.state:
            return
        assert state in _ALLOWED[self.state], f"{self!r}: {self.state} -> {state} is not allowed"
        self.state = state

    # Start and run.

    def start(self, entry: ThreadEntry, arg1: int, arg2: int, *, initial: bool) -> None:
        """Make the thread runnable; the process has already accepted it."""
        self.entry = entry
        self.args = (arg1, arg2)
        self.initial = initial
        self.set_state(ThreadState.RUNNING)
        self.update_signals(set_=ZX_THREAD_RUNNING)
        self.kernel.scheduler.make_runnable(self)
        self.kernel.on_thread_started(self)

    def resume(self) -> None:
        """Switch into this thread until it yields, blocks or ends (called by the run loop)."""
        loop = self.kernel.scheduler.loop
        assert loop is not None, "resume() runs only inside the scheduler's run loop"
        thread_greenlet = self.greenlet
        if thread_greenlet is None:
            thread_greenlet = self.greenlet = greenlet(self._main, parent=loop)
        elif thread_greenlet.parent is not loop:
            # A later Kernel.run may loop in another greenlet; a thread ends into it.
            thread_greenlet.parent = loop
        self.kernel.enter_thread(self)
        thread_greenlet.switch()

    def _main(self) -> None:
        assert self.entry is not None
        try:
            if self.kill_pending:
                raise ThreadExit
            exceptions().notify_thread_starting(self)
            # A thread started while suspended stops before running any guest code.
            self.check_suspend()
            arg1, arg2 = self.args
            result = self.entry(arg1, arg2)
            if self.initial:
                self.process.exit(_return_code(result, "returned"))
        except ThreadExit:
            pass
        except SystemExit as exit_request:
            # sys.exit() in guest code ends the process, as exit() in a Fuchsia program
            # does through zx_process_exit. A message instead of a code means failure.
            code = exit_request.code
            try:
                return_code = _return_code(code, "passed to sys.exit")
            except (TypeError, ValueError):
                log.error("%s", code)
                return_code = 1
            self.process.exit(return_code)
        except BaseException as error:  # noqa: BLE001 - guest code may raise anything
            self._report_crash(error)
        finally:
            self.finish_exit()

    def _report_crash(self, error: BaseException) -> None:
        """Offer an uncaught guest exception to the exception handlers as ZX_EXCP_GENERAL.

        Unless a handler takes it (ZX_EXCEPTION_STATE_HANDLED, or THREAD_EXIT while the
        process lives on), the crash is recorded and the process is killed with
        ZX_TASK_RETCODE_EXCEPTION_KILL. The thread ends either way.
        """
        text = "".join(traceback.format_exception(error))
        if self._offer_crash():
            log.warning(
                "exception in thread %r (koid %d) of process %r (koid %d) was taken by an "
                "exception handler; the thread ends:\n%s",
                self.name,
                self.koid,
                self.process.name,
                self.process.koid,
                text,
            )
            return
        log.error(
            "unhandled exception in thread %r (koid %d) of process %r (koid %d); "
            "killing the process:\n%s",
            self.name,
            self.koid,
            self.process.name,
            self.process.koid,
            text,
        )
        self.kernel.record_guest_crash(self, error)
        self.process.kill(ZX_TASK_RETCODE_EXCEPTION_KILL)

    def _offer_crash(self) -> bool:
        """Deliver ZX_EXCP_GENERAL for a crash; return whether a handler took it."""
        if self.kill_pending:
            return False
        exception = exceptions()
        report = exception.synthetic_report(ZX_EXCP_GENERAL)
        try:
            outcome = exception.deliver(self, ZX_EXCP_GENERAL, report)
        except ThreadExit:
            # A handler chose THREAD_EXIT, or the process was killed meanwhile.
            return self.process.is_alive()
        # DIVERGENCE(zircon): Zircon resumes a thread whose exception was marked
        # ZX_EXCEPTION_STATE_HANDLED. A Python exception has already unwound the guest
        # code, so there is nothing to resume and the thread ends instead.
        return bool(outcome is exception.Outcome.RESUMED)

    def describe_wait(self) -> str:
        who = (
            f"thread {self.name!r} (koid {self.koid}) of process {self.process.name!r} "
            f"(koid {self.process.koid})"
        )
        if self.state is ThreadState.SUSPENDED:
            return f"{who} is suspended ({self.suspend_count} suspensions outstanding)"
        reason = self.wait_reason
        if callable(reason):
            reason = reason()
        return f"{who} waits on {reason or 'an unknown object'}"

    def wake(self) -> None:
        """Make a BLOCKED thread runnable, so that it checks again why it blocked."""
        if self.state is ThreadState.BLOCKED:
            self.kernel.scheduler.make_runnable(self)

    # Suspension.

    def suspend(self) -> None:
        """Add one suspension; a running or blocked thread stops at its next chance.

        Raises ZX_ERR_BAD_STATE for a dying or dead thread. The count grows even then,
        as Zircon's does, which cannot matter to a thread that never runs again.
        """
        self.suspend_count += 1
        if self.state in (ThreadState.DYING, ThreadState.DEAD):
            raise ZxError(
                ZX_ERR_BAD_STATE,
                f"thread {self.name!r} (koid {self.koid}) is {self.state.value}: "
                "it cannot be suspended",
            )
        if self.suspend_count == 1:
            # A blocked thread wakes up to become SUSPENDED; its wait resumes later.
            self.wake()

    def resume_from_suspend(self) -> None:
        """Drop one suspension; the last one lets a SUSPENDED thread run again."""
        assert self.suspend_count > 0, f"{self!r} resumed more often than suspended"
        self.suspend_count -= 1
        if self.suspend_count == 0 and self.state is ThreadState.SUSPENDED:
            self.kernel.scheduler.make_runnable(self)

    def check_suspend(self) -> None:
        """Stay SUSPENDED here while suspensions remain (called on the thread itself).

        Raises ThreadExit when the thread is killed while suspended.
        """
        # DIVERGENCE(zircon): Zircon interrupts a running thread at once (with an IPI on
        # another CPU); pyzircon stops it at its next kernel entry, because guest Python
        # code gives up the CPU only there.
        if self.suspend_count > 0 and self.state is ThreadState.RUNNING:
            self.park_while_suspended()
            self.check_kill()

    def park_while_suspended(self) -> None:
        """Be SUSPENDED until the last suspension ends or a kill arrives."""
        scheduler = self.kernel.scheduler
        self.set_state(ThreadState.SUSPENDED)
        self.update_signals(clear=ZX_THREAD_RUNNING, set_=ZX_THREAD_SUSPENDED)
        while self.suspend_count > 0 and not self.kill_pending:
            scheduler.block(None)
        if self.state is ThreadState.SUSPENDED:
            self.set_state(ThreadState.RUNNING)
            self.update_signals(clear=ZX_THREAD_SUSPENDED, set_=ZX_THREAD_RUNNING)

    # Ending.

    def kill(self) -> None:
        """Ask the thread to die; it unwinds at its next kernel entry."""
        if self.state in (ThreadState.DEAD, ThreadState.DYING):
            return
        if self.state is ThreadState.INITIAL:
            self.set_state(ThreadState.DEAD)
            self.exceptionate.shutdown()
            self.update_signals(clear=ZX_THREAD_RUNNING, set_=ZX_THREAD_TERMINATED)
            return
        self.kill_pending = True
        self.set_state(ThreadState.DYING)
        if self.kernel.scheduler.current is not self:
            self.kernel.scheduler.make_runnable(self)

    def finish_exit(self) -> None:
        """Leave the scheduler and the process: the thread is DYING, then DEAD."""
        if self.state is ThreadState.DEAD:
            return
        self.set_state(ThreadState.DYING)
        exceptions().notify_thread_exiting(self)
        self.kernel.scheduler.forget(self)
        self.set_state(ThreadState.DEAD)
        # The reader of the thread's exception channel gets ZX_CHANNEL_PEER_CLOSED.
        self.exceptionate.shutdown()
        # A dead thread's restricted-mode state VMO is no longer bound.
        self.restricted.unbind()
        # An exiting thread owns no futex any more.
        self.process.shared_state.futex_context.release_owner(self)
        self.update_signals(
            clear=ZX_THREAD_RUNNING | ZX_THREAD_SUSPENDED, set_=ZX_THREAD_TERMINATED
        )
        self.kernel.on_thread_dead(self)
        self.process.remove_thread(self)

    def signal_policy_exception(self, code: int, data: int = 0) -> None:
        """Raise ZX_EXCP_POLICY_ERROR with `code` when the current syscall returns."""
        self.policy_exception = (code, data)

    def check_kill(self) -> None:
        """Unwind now if the thread was killed (called at the end of each kernel entry)."""
        if self.kill_pending:
            raise ThreadExit

    def on_zero_handles(self) -> None:
        # An unstarted thread with no handles can never run.
        if self.state is ThreadState.INITIAL:
            self.kill()


def exceptions() -> Any:
    """Return the exception module, which builds on this one (so it is imported late)."""
    from pyzircon.kernel.objects import exception

    return exception


_I64_MIN = -(1 << 63)
_I64_MAX = (1 << 63) - 1


def _return_code(result: object, how: str) -> int:
    """Convert what a first thread's entry produced into a process return code.

    None means 0, as a Python function without `return` does. Anything else must be an
    int that fits the int64 return code of ZX_INFO_PROCESS; other values raise TypeError
    or ValueError, which end the process as an uncaught guest exception.
    """
    if result is None:
        return 0
    if not isinstance(result, int):
        raise TypeError(
            f"the first thread's entry {how} {type(result).__name__} {result!r}; "
            "a process return code must be an int"
        )
    if not _I64_MIN <= result <= _I64_MAX:
        raise ValueError(
            f"the first thread's entry {how} {result}, which does not fit the int64 "
            "process return code"
        )
    return int(result)
