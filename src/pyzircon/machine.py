"""Kernel: boot a machine with a root job and run programs in it.

DIVERGENCE(zircon): the architecture's layout puts `Kernel` in `kernel.py`, but a Python
package cannot hold both `kernel.py` and the `kernel/` package, so it lives here and is
exported as `pyzircon.Kernel`.
"""

from __future__ import annotations

import enum
import gc
import logging
import random
import traceback
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pyzircon.abi.layout import LAYOUTS, AddressLayout
from pyzircon.abi.props import ZX_MAX_NAME_LEN
from pyzircon.abi.status import ZX_ERR_INVALID_ARGS
from pyzircon.abi.task import ZX_KOID_FIRST
from pyzircon.errors import ZxError
from pyzircon.kernel.current import set_current_thread
from pyzircon.kernel.objects.handle_table import HandleArena
from pyzircon.kernel.objects.job import Job
from pyzircon.kernel.objects.process import Process, ProcessState
from pyzircon.kernel.objects.thread import Thread
from pyzircon.kernel.sched.scheduler import Scheduler
from pyzircon.syscalls.runtime import install_bootstrap_handles

if TYPE_CHECKING:
    from pyzircon.kernel.objects.base import KernelObject
    from pyzircon.tools.inspector import Inspector

log = logging.getLogger("pyzircon.kernel")


@dataclass(frozen=True)
class SyscallEvent:
    """One completed syscall, as trace hooks receive it.

    `start_ns` is the virtual time at entry and `time_ns` the time at the end, before the
    scheduler charges the call's fixed cost. `arg_names` names the positional `args` in
    the C order, and `kwargs` contains the arguments passed by keyword. `returned` is False
    for a call that never returned to its caller (zx_process_exit, zx_thread_exit, or a
    call during which the thread was killed); such a call reports ZX_OK and no result.
    """

    time_ns: int
    process_koid: int
    process_name: str
    thread_koid: int
    thread_name: str
    name: str
    args: tuple[Any, ...]
    status: int
    result: Any = None
    start_ns: int = 0
    arg_names: tuple[str, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()
    returned: bool = True


class TaskEventKind(enum.Enum):
    """The kind of change a TaskEvent reports."""

    PROCESS_START = "process_start"
    PROCESS_DEAD = "process_dead"
    THREAD_START = "thread_start"
    THREAD_DEAD = "thread_dead"
    RESTRICTED_ENTER = "restricted_enter"
    RESTRICTED_EXIT = "restricted_exit"


@dataclass(frozen=True)
class TaskEvent:
    """A change in a process or thread, as task hooks receive it.

    `thread_koid` is 0 for process events. `return_code` is set for PROCESS_DEAD.
    `reason` is the ZX_RESTRICTED_REASON_* of a RESTRICTED_EXIT, or None when the thread
    was killed in restricted mode.
    """

    time_ns: int
    kind: TaskEventKind
    process_koid: int
    process_name: str
    thread_koid: int = 0
    thread_name: str = ""
    return_code: int = 0
    reason: int | None = None


@dataclass(frozen=True)
class FaultReport:
    """A fault in guest code that nobody handled: it killed the process."""

    process_koid: int
    process_name: str
    thread_koid: int
    thread_name: str
    address: int
    access: str
    status: int
    message: str


@dataclass
class GuestCrash:
    """An unhandled Python exception in guest code, and the thread it ended."""

    thread_koid: int
    process_koid: int
    error: BaseException
    extra: dict[str, Any] = field(default_factory=dict)


class Kernel:
    """A machine: a root job, a scheduler, a koid counter and a seeded random source."""

    def __init__(self, seed: int = 0, arch: str = "x86_64") -> None:
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise TypeError(f"seed must be an int, not {type(seed).__name__}")
        if arch not in LAYOUTS:
            raise ZxError(
                ZX_ERR_INVALID_ARGS,
                f"unknown architecture {arch!r}: choose one of {', '.join(sorted(LAYOUTS))}",
            )
        self.seed = seed
        self.arch = arch
        self.layout: AddressLayout = LAYOUTS[arch]
        self._next_koid = ZX_KOID_FIRST
        self._cprng = random.Random(f"{seed}:cprng")
        self._objects: weakref.WeakSet[KernelObject] = weakref.WeakSet()
        self.handle_arena = HandleArena()
        self.scheduler = Scheduler(seed)
        self.syscall_hooks: list[Callable[[SyscallEvent], None]] = []
        self.task_hooks: list[Callable[[TaskEvent], None]] = []
        self.fault_reports: list[FaultReport] = []
        self.guest_crashes: list[GuestCrash] = []
        self.internal_errors: list[BaseException] = []
        self.root_job = Job(self, None, "root")

    def __repr__(self) -> str:
        return f"<Kernel seed={self.seed} arch={self.arch}>"

    # Identity and randomness.

    def allocate_koid(self) -> int:
        koid = self._next_koid
        self._next_koid += 1
        return koid

    def peek_koid(self) -> int:
        """Return the koid the next object will get."""
        return self._next_koid

    def random_u32(self) -> int:
        return self._cprng.getrandbits(32)

    # Object accounting.

    def track_object(self, obj: KernelObject) -> None:
        self._objects.add(obj)

    def live_objects(self) -> list[KernelObject]:
        """Return every kernel object still alive, after a garbage collection."""
        gc.collect()
        return sorted(self._objects, key=lambda obj: obj.koid)

    # Hooks from objects.

    def enter_thread(self, thread: Thread) -> None:
        set_current_thread(thread)

    def on_process_started(self, process: Process) -> None:
        """Called when a process's first thread starts (INITIAL -> RUNNING)."""
        if self.task_hooks:
            self._report_task(TaskEventKind.PROCESS_START, process)

    def on_process_dead(self, process: Process) -> None:
        """Called once a process reaches DEAD."""
        if self.task_hooks:
            self._report_task(TaskEventKind.PROCESS_DEAD, process, return_code=process.return_code)

    def on_thread_started(self, thread: Thread) -> None:
        if self.task_hooks:
            self._report_task(TaskEventKind.THREAD_START, thread.process, thread)

    def on_thread_dead(self, thread: Thread) -> None:
        """Called when a started thread reaches DEAD, before its process may die."""
        if self.task_hooks:
            self._report_task(TaskEventKind.THREAD_DEAD, thread.process, thread)

    def on_restricted_enter(self, thread: Thread) -> None:
        if self.task_hooks:
            self._report_task(TaskEventKind.RESTRICTED_ENTER, thread.process, thread)

    def on_restricted_exit(self, thread: Thread, reason: int | None) -> None:
        """Called when restricted mode ends: `reason` is None if the thread was killed."""
        if self.task_hooks:
            self._report_task(TaskEventKind.RESTRICTED_EXIT, thread.process, thread, reason=reason)

    def record_guest_crash(self, thread: Thread, error: BaseException) -> None:
        self.guest_crashes.append(GuestCrash(thread.koid, thread.process.koid, error))

    def record_fault(self, report: FaultReport) -> None:
        log.error("%s", report.message)
        self.fault_reports.append(report)

    # Running programs.

    def run(self, main: Callable[..., Any], *args: Any, name: str = "main") -> int:
        """Run `main(*args)` as the first thread of a new process; return its return code.

        The process (called `name`) is created in the root job and gets the bootstrap
        handles a Fuchsia launcher passes: its process, root VMAR, job and thread. The
        scheduler runs every runnable thread until that process is DEAD; threads of other
        processes may stay parked and run again in a later `run`. An uncaught exception in
        the process's threads is re-raised here. Raises Deadlock when every thread blocks
        with no deadline left.
        """
        if not callable(main):
            raise TypeError(f"main must be a callable, not {type(main).__name__}")
        process = self._launch(main, args, name)
        try:
            self.scheduler.run_until(lambda: process.state is ProcessState.DEAD)
        finally:
            set_current_thread(None)

        for crash in self.guest_crashes:
            _release_frames(crash.error)
        for crash in self.guest_crashes:
            if crash.process_koid == process.koid:
                raise crash.error
        return process.return_code

    def _launch(self, main: Callable[..., Any], args: tuple[Any, ...], name: str) -> Process:
        process = Process.create(self, self.root_job, name[: ZX_MAX_NAME_LEN - 1], shared=False)
        self.root_job.add_process(process)
        thread = Thread(process, "main")
        install_bootstrap_handles(thread)

        def entry(arg1: int, arg2: int) -> Any:
            return main(*args)

        process.add_thread(thread, entry, 0, 0, initial=True)
        return process

    # Tracing.

    def report_syscall(
        self,
        thread: Thread,
        name: str,
        args: tuple[Any, ...],
        status: int,
        result: Any,
        *,
        start_ns: int = 0,
        arg_names: tuple[str, ...] = (),
        kwargs: tuple[tuple[str, Any], ...] = (),
        returned: bool = True,
    ) -> None:
        """Send one completed syscall to every hook."""
        event = SyscallEvent(
            time_ns=self.scheduler.now_ns,
            process_koid=thread.process.koid,
            process_name=thread.process.name,
            thread_koid=thread.koid,
            thread_name=thread.name,
            name=name,
            args=args,
            status=status,
            result=result,
            start_ns=start_ns,
            arg_names=arg_names,
            kwargs=kwargs,
            returned=returned,
        )
        for hook in list(self.syscall_hooks):
            hook(event)

    def _report_task(
        self,
        kind: TaskEventKind,
        process: Process,
        thread: Thread | None = None,
        *,
        return_code: int = 0,
        reason: int | None = None,
    ) -> None:
        event = TaskEvent(
            time_ns=self.scheduler.now_ns,
            kind=kind,
            process_koid=process.koid,
            process_name=process.name,
            thread_koid=thread.koid if thread is not None else 0,
            thread_name=thread.name if thread is not None else "",
            return_code=return_code,
            reason=reason,
        )
        for hook in list(self.task_hooks):
            hook(event)

    # Inspection.

    @property
    def inspect(self) -> Inspector:
        """Dumps and pictures of this machine: ps, vmaps, handles, memory graph, map."""
        # Imported here: the tools build on the whole package, this module included.
        from pyzircon.tools.inspector import Inspector

        return Inspector(self)


def _release_frames(error: BaseException) -> None:
    """Drop the local variables of a crashed thread's finished frames.

    A crash record keeps its exception, and the exception's traceback keeps every frame
    of the crashed thread, whose locals hold the thread, its process and whatever the
    guest code used. Clearing them lets those objects be freed; the traceback still
    shows every file, line and function.
    """
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        traceback.clear_frames(current.__traceback__)
        pending += [current.__cause__, current.__context__]
