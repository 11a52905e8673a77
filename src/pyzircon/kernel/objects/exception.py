"""Exceptions: how a faulting thread waits for handlers on its exception channels.

When a thread raises an exception, the kernel makes an exception object and offers it to
the exception channels of the thread's tasks, one at a time, in Zircon's order:

1. the process debugger channel;
2. the thread channel;
3. the process channel;
4. the process debugger channel again, if the debugger set the exception's strategy to
   ZX_EXCEPTION_STRATEGY_SECOND_CHANCE during step 1;
5. the job channels, from the process's job up to the root job.

Each offer writes a message to the channel: a `zx_exception_info_t` and the only handle to
the exception object. The thread blocks (ZX_THREAD_STATE_BLOCKED_EXCEPTION) until that
handle closes, and then acts on the exception's ZX_PROP_EXCEPTION_STATE: HANDLED resumes
the thread, THREAD_EXIT ends the thread, TRY_NEXT (the default, which a reset sets again
before each offer) goes on to the next channel. A channel with no reader is skipped, and
so is a message its reader never read: closing the reader drops the message and its
exception handle. When no channel is left the process is killed with
ZX_TASK_RETCODE_EXCEPTION_KILL. A kill ends the wait at once and stops the offers;
closing the exception afterwards does nothing.

Debugger-only exceptions are single offers that resume the thread whatever the handler
decides: ZX_EXCP_THREAD_STARTING and ZX_EXCP_THREAD_EXITING go to the process debugger
channel, ZX_EXCP_PROCESS_STARTING to every job debugger channel from the process's job
up, lower jobs first, older channels first. A thread that is exiting because it was
killed sends ZX_EXCP_THREAD_EXITING but does not wait for it.

Policy exceptions (ZX_EXCP_POLICY_ERROR) are raised when a syscall that violated a job
policy returns, before the caller sees its result.

DIVERGENCE(zircon): exceptions of a thread in restricted mode never come here; they end
restricted mode with ZX_RESTRICTED_REASON_EXCEPTION. Zircon first offers them to the
process debugger channel.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from typing import TYPE_CHECKING, Final

from pyzircon.abi.exceptions import (
    ZX_EXCEPTION_CHANNEL_TYPE_DEBUGGER,
    ZX_EXCEPTION_CHANNEL_TYPE_JOB,
    ZX_EXCEPTION_CHANNEL_TYPE_JOB_DEBUGGER,
    ZX_EXCEPTION_CHANNEL_TYPE_PROCESS,
    ZX_EXCEPTION_CHANNEL_TYPE_THREAD,
    ZX_EXCEPTION_REPORT_SIZE,
    ZX_EXCP_FATAL_PAGE_FAULT,
    ZX_EXCP_GENERAL,
    ZX_EXCP_POLICY_ERROR,
    ZX_EXCP_PROCESS_STARTING,
    ZX_EXCP_THREAD_EXITING,
    ZX_EXCP_THREAD_STARTING,
    ExceptionInfo,
)
from pyzircon.abi.objtypes import ZX_OBJ_TYPE_EXCEPTION
from pyzircon.abi.props import (
    ZX_EXCEPTION_STATE_HANDLED,
    ZX_EXCEPTION_STATE_THREAD_EXIT,
    ZX_EXCEPTION_STATE_TRY_NEXT,
)
from pyzircon.abi.restricted import ExceptionReport
from pyzircon.abi.rights import ZX_DEFAULT_EXCEPTION_RIGHTS
from pyzircon.abi.status import ZX_ERR_ACCESS_DENIED, ZX_OK
from pyzircon.abi.task import ZX_TASK_RETCODE_EXCEPTION_KILL, ZX_THREAD_STATE_BLOCKED_EXCEPTION
from pyzircon.errors import ZxError
from pyzircon.kernel.objects.base import KernelObject
from pyzircon.kernel.objects.channel import Message
from pyzircon.kernel.objects.thread import ThreadState
from pyzircon.kernel.objects.wait import Wakeup, block
from pyzircon.kernel.sched.scheduler import ThreadExit

if TYPE_CHECKING:
    from pyzircon.kernel.objects.exceptionate import Exceptionate
    from pyzircon.kernel.objects.job import Job
    from pyzircon.kernel.objects.process import Process
    from pyzircon.kernel.objects.thread import Thread

EXCEPTION_TYPE_NAMES: Final[dict[int, str]] = {
    ZX_EXCP_GENERAL: "ZX_EXCP_GENERAL",
    ZX_EXCP_FATAL_PAGE_FAULT: "ZX_EXCP_FATAL_PAGE_FAULT",
    ZX_EXCP_POLICY_ERROR: "ZX_EXCP_POLICY_ERROR",
    ZX_EXCP_THREAD_STARTING: "ZX_EXCP_THREAD_STARTING",
    ZX_EXCP_THREAD_EXITING: "ZX_EXCP_THREAD_EXITING",
    ZX_EXCP_PROCESS_STARTING: "ZX_EXCP_PROCESS_STARTING",
}


CHANNEL_TYPE_NAMES: Final[dict[int, str]] = {
    ZX_EXCEPTION_CHANNEL_TYPE_DEBUGGER: "process debugger",
    ZX_EXCEPTION_CHANNEL_TYPE_THREAD: "thread",
    ZX_EXCEPTION_CHANNEL_TYPE_PROCESS: "process",
    ZX_EXCEPTION_CHANNEL_TYPE_JOB: "job",
    ZX_EXCEPTION_CHANNEL_TYPE_JOB_DEBUGGER: "job debugger",
}


def exception_type_name(exception_type: int) -> str:
    return EXCEPTION_TYPE_NAMES.get(exception_type, f"exception type {exception_type:#x}")


def synthetic_report(
    exception_type: int, synth_code: int = 0, synth_data: int = 0
) -> ExceptionReport:
    """Return the report of an exception with no CPU context (its arch fields are 0)."""
    return ExceptionReport(
        size=ZX_EXCEPTION_REPORT_SIZE,
        type=exception_type,
        vector=0,
        err_code=0,
        cr2=0,
        synth_code=synth_code & 0xFFFF_FFFF,
        synth_data=synth_data & 0xFFFF_FFFF,
    )


class ExceptionObject(KernelObject):
    """One exception of one thread (Zircon's ExceptionDispatcher).

    Its handle travels in an exception channel message, and closing the last handle ends
    the offer. `disposition` is the ZX_PROP_EXCEPTION_STATE value and `second_chance`
    the ZX_PROP_EXCEPTION_STRATEGY choice.
    """

    obj_type = ZX_OBJ_TYPE_EXCEPTION
    default_rights = ZX_DEFAULT_EXCEPTION_RIGHTS
    waitable = False

    def __init__(self, thread: Thread, exception_type: int, report: ExceptionReport) -> None:
        super().__init__(thread.kernel)
        self.thread = thread
        self.exception_type = exception_type
        # Cleared once handling is over: ZX_INFO_THREAD_EXCEPTION_REPORT then fails.
        self.report: ExceptionReport | None = report
        self.disposition = ZX_EXCEPTION_STATE_TRY_NEXT
        self.second_chance = False
        # Rights of the task handles the current offer's channel hands out; 0 for none.
        self.thread_rights = 0
        self.process_rights = 0
        # Signalled when the last handle closes; a new one for each offer.
        self.response = Wakeup(thread)
        # Set while the thread waits for this exception on its way out (it is DYING,
        # not BLOCKED, so the wakeup alone does not make it runnable).
        self.wakes_dying_thread = False

    def describe(self) -> str:
        return f"{exception_type_name(self.exception_type)} of thread koid {self.thread.koid}"

    def on_zero_handles(self) -> None:
        self.response.signal(ZX_OK)
        if self.wakes_dying_thread:
            self.thread.kernel.scheduler.make_runnable(self.thread)

    def prepare_offer(self, exceptionate: Exceptionate) -> None:
        """Reset the disposition and take the channel's task rights, before a new offer."""
        self.response = Wakeup(self.thread)
        self.disposition = ZX_EXCEPTION_STATE_TRY_NEXT
        self.thread_rights = exceptionate.thread_rights
        self.process_rights = exceptionate.process_rights

    def discard_offer(self) -> None:
        """Forget an offer whose message was never delivered (its handle closed at once)."""
        self.response = Wakeup(self.thread)
        self.disposition = ZX_EXCEPTION_STATE_TRY_NEXT

    def thread_for_handle(self) -> tuple[Thread, int]:
        """Return the thread and the rights for zx_exception_get_thread.

        Raises ZX_ERR_ACCESS_DENIED when the channel gave no thread rights.
        """
        if self.thread_rights == 0:
            raise ZxError(ZX_ERR_ACCESS_DENIED, f"{self!r} carries no thread rights")
        return self.thread, self.thread_rights

    def process_for_handle(self) -> tuple[Process, int]:
        """Return the process and the rights for zx_exception_get_process.

        Raises ZX_ERR_ACCESS_DENIED for an exception from a thread channel, which gives
        no access up the task tree.
        """
        if self.process_rights == 0:
            raise ZxError(
                ZX_ERR_ACCESS_DENIED,
                f"{self!r} came through a thread exception channel: it gives no process handle",
            )
        return self.thread.process, self.process_rights


class Outcome(enum.Enum):
    """The end of an exception's offers: a handler resumed the thread, or none did."""

    RESUMED = "resumed"
    UNHANDLED = "unhandled"


# Sending and waiting.


def _send(thread: Thread, exceptionate: Exceptionate, exception: ExceptionObject) -> bool:
    """Write the exception to `exceptionate`'s channel; return False when it has no reader."""
    endpoint = exceptionate.endpoint
    if endpoint is None:
        return False
    info = ExceptionInfo(pid=thread.process.koid, tid=thread.koid, type=exception.exception_type)
    exception.prepare_offer(exceptionate)
    arena = thread.kernel.handle_arena
    handle = arena.allocate(exception, ZX_DEFAULT_EXCEPTION_RIGHTS)
    try:
        endpoint.write(Message(info.to_bytes(), [handle]))
    except ZxError:
        # The reader is gone: the channel is skipped from now on.
        arena.destroy(handle)
        exception.discard_offer()
        exceptionate.release_endpoint()
        return False
    thread.exception = exception
    thread.exception_channel_type = exceptionate.channel_type
    return True


def _wait_reason(thread: Thread, exception: ExceptionObject, channel_type: int) -> str:
    channel = CHANNEL_TYPE_NAMES.get(channel_type, f"type {channel_type}")
    return (
        f"a handler of its {exception_type_name(exception.exception_type)} on its {channel} "
        "exception channel (the handler must close the exception handle)"
    )


def _wait_for_answer(thread: Thread, exception: ExceptionObject) -> int:
    """Block until the exception's handle closes; return the ZX_EXCEPTION_STATE_* chosen.

    Raises ThreadExit when the thread is killed meanwhile.
    """
    channel_type = thread.exception_channel_type
    try:
        block(
            thread,
            exception.response,
            None,
            ZX_THREAD_STATE_BLOCKED_EXCEPTION,
            lambda: _wait_reason(thread, exception, channel_type),
        )
    finally:
        thread.exception = None
    disposition = exception.disposition
    exception.disposition = ZX_EXCEPTION_STATE_TRY_NEXT
    return disposition


def _wait_while_dying(thread: Thread, exception: ExceptionObject) -> None:
    """Wait for the handle to close on a DYING thread, which cannot be BLOCKED or killed again."""
    scheduler = thread.kernel.scheduler
    channel_type = thread.exception_channel_type
    exception.wakes_dying_thread = True
    try:
        while exception.response.status is None:
            thread.wait_reason = _wait_reason(thread, exception, channel_type)
            scheduler.block(None)
    finally:
        exception.wakes_dying_thread = False
        thread.wait_reason = ""
        thread.exception = None


def _offers(thread: Thread, exception: ExceptionObject) -> Iterator[Exceptionate]:
    """Yield the channels a fatal exception is offered to, in order (see module docstring)."""
    process = thread.process
    yield process.debug_exceptionate
    yield thread.exceptionate
    # The strategy is read before the process channel, as a first-chance debugger set it.
    second_chance = exception.second_chance
    yield process.exceptionate
    if second_chance:
        yield process.debug_exceptionate
    job: Job | None = process.job
    while job is not None:
        yield job.exceptionate
        job = job.parent


def deliver(thread: Thread, exception_type: int, report: ExceptionReport) -> Outcome:
    """Offer an exception of the calling `thread` to its handlers until one resumes it.

    Returns RESUMED when a handler chose ZX_EXCEPTION_STATE_HANDLED, UNHANDLED when no
    channel is left (the caller then kills the process). Raises ThreadExit when the
    thread is killed or a handler chose ZX_EXCEPTION_STATE_THREAD_EXIT.
    """
    exception = ExceptionObject(thread, exception_type, report)
    try:
        for exceptionate in _offers(thread, exception):
            if not _send(thread, exceptionate, exception):
                continue
            disposition = _wait_for_answer(thread, exception)
            if disposition == ZX_EXCEPTION_STATE_HANDLED:
                return Outcome.RESUMED
            if disposition == ZX_EXCEPTION_STATE_THREAD_EXIT:
                thread.kill()
                raise ThreadExit
        return Outcome.UNHANDLED
    finally:
        exception.report = None


def raise_fatal(thread: Thread, exception_type: int, report: ExceptionReport) -> None:
    """Deliver a fatal exception; return only if a handler resumed the thread.

    Kills the process with ZX_TASK_RETCODE_EXCEPTION_KILL when no handler resumes the
    thread, and then raises ThreadExit, as it does whenever the thread does not resume.
    """
    if deliver(thread, exception_type, report) is Outcome.RESUMED:
        return
    thread.process.kill(ZX_TASK_RETCODE_EXCEPTION_KILL)
    thread.check_kill()
    raise ThreadExit


def raise_pending_policy_exception(thread: Thread) -> None:
    """Raise the ZX_EXCP_POLICY_ERROR a policy violation left on `thread` (at syscall exit)."""
    pending = thread.policy_exception
    thread.policy_exception = None
    if pending is None:
        return
    code, data = pending
    raise_fatal(thread, ZX_EXCP_POLICY_ERROR, synthetic_report(ZX_EXCP_POLICY_ERROR, code, data))


# Debugger-only exceptions.


def _single_offer(thread: Thread, exceptionate: Exceptionate, exception_type: int) -> None:
    """Offer a debugger-only exception to one channel and wait for its handle to close.

    The disposition is ignored: the thread goes on whatever the handler chose. Raises
    ThreadExit when the thread is killed during the wait.
    """
    if not exceptionate.has_valid_channel():
        return
    exception = ExceptionObject(thread, exception_type, synthetic_report(exception_type))
    try:
        if not _send(thread, exceptionate, exception):
            return
        if thread.state is ThreadState.DYING:
            if thread.kill_pending:
                # A killed thread sends the exception but does not wait for the handler.
                thread.exception = None
                return
            _wait_while_dying(thread, exception)
        else:
            _wait_for_answer(thread, exception)
    finally:
        exception.report = None


def notify_thread_starting(thread: Thread) -> None:
    """Report ZX_EXCP_THREAD_STARTING of `thread` (the caller) before it runs guest code.

    The first thread of a process first reports ZX_EXCP_PROCESS_STARTING to the job
    debugger channels. Raises ThreadExit when the thread is killed meanwhile.
    """
    process = thread.process
    if thread.initial:
        job: Job | None = process.job
        while job is not None:
            for exceptionate in list(job.debug_exceptionates):
                _single_offer(thread, exceptionate, ZX_EXCP_PROCESS_STARTING)
            job = job.parent
    _single_offer(thread, process.debug_exceptionate, ZX_EXCP_THREAD_STARTING)


def notify_thread_exiting(thread: Thread) -> None:
    """Report ZX_EXCP_THREAD_EXITING of `thread` (the caller, DYING) to the process debugger."""
    assert thread.state is ThreadState.DYING, f"{thread!r} must be DYING to report its exit"
    _single_offer(thread, thread.process.debug_exceptionate, ZX_EXCP_THREAD_EXITING)
