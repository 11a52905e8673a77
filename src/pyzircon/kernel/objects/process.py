"""Processes, including shared processes (`zx_process_create_shared`).

A process is one of three kinds:
- REGULAR: its own handle table and one address space over the whole user range;
- PROTOTYPE (created with ZX_PROCESS_SHARED): a shareable state whose address space
  covers only the shared (upper) range;
- MEMBER (created by zx_process_create_shared): the shareable state of its `shared_proc`
  plus a private restricted address space over the lower range.

In normal mode a member sees both parts: an address in its restricted range resolves in
the restricted address space, any other in the shared one. The prototype sees the shared
part only.

A process keeps a copy of its job's policy, taken when it is created; the syscalls it
makes are checked against that copy (`enforce_basic_policy`). It has an exception channel
slot and a debugger one, shut down when it dies. A process made critical to a job kills
that job when it dies (with ZX_JOB_CRITICAL_PROCESS_RETCODE_NONZERO, only when its return
code is not 0).
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from pyzircon.abi.exceptions import (
    POLICY_CONDITION_EXCEPTION_CODES,
    ZX_EXCEPTION_CHANNEL_TYPE_DEBUGGER,
    ZX_EXCEPTION_CHANNEL_TYPE_PROCESS,
)
from pyzircon.abi.objtypes import ZX_OBJ_TYPE_PROCESS
from pyzircon.abi.policy import (
    ZX_POL_ACTION_ALLOW,
    ZX_POL_ACTION_ALLOW_EXCEPTION,
    ZX_POL_ACTION_DENY,
    ZX_POL_ACTION_DENY_EXCEPTION,
    ZX_POL_ACTION_KILL,
)
from pyzircon.abi.rights import ZX_DEFAULT_PROCESS_RIGHTS
from pyzircon.abi.signals import ZX_PROCESS_TERMINATED
from pyzircon.abi.status import (
    ZX_ERR_ACCESS_DENIED,
    ZX_ERR_ALREADY_BOUND,
    ZX_ERR_BAD_STATE,
    ZX_ERR_INVALID_ARGS,
    ZX_OK,
)
from pyzircon.abi.task import (
    ZX_TASK_RETCODE_CRITICAL_PROCESS_KILL,
    ZX_TASK_RETCODE_POLICY_KILL,
)
from pyzircon.errors import ZxError
from pyzircon.kernel.objects.base import KernelObject
from pyzircon.kernel.objects.exceptionate import Exceptionate
from pyzircon.kernel.objects.handle_table import HandleTable
from pyzircon.kernel.objects.policy import condition_name
from pyzircon.kernel.objects.shareable import ShareableProcessState
from pyzircon.kernel.objects.thread import Thread, ThreadEntry, ThreadState
from pyzircon.kernel.objects.vmar import VmarDispatcher
from pyzircon.kernel.sched.scheduler import TaskRuntime
from pyzircon.kernel.vm.aspace import AspaceKind, VmAspace

if TYPE_CHECKING:
    from pyzircon.kernel.objects.job import Job
    from pyzircon.machine import Kernel


class ProcessState(enum.Enum):
    INITIAL = "initial"
    RUNNING = "running"
    DYING = "dying"
    DEAD = "dead"


class ProcessKind(enum.Enum):
    REGULAR = "regular"
    PROTOTYPE = "prototype"
    MEMBER = "member"


_ALLOWED: dict[ProcessState, frozenset[ProcessState]] = {
    ProcessState.INITIAL: frozenset({ProcessState.RUNNING, ProcessState.DYING, ProcessState.DEAD}),
    ProcessState.RUNNING: frozenset({ProcessState.DYING, ProcessState.DEAD}),
    ProcessState.DYING: frozenset({ProcessState.DEAD}),
    ProcessState.DEAD: frozenset(),
}


class Process(KernelObject):
    """A process: threads, a return code, and the (possibly shared) state it runs in."""

    obj_type = ZX_OBJ_TYPE_PROCESS
    default_rights = ZX_DEFAULT_PROCESS_RIGHTS

    def __init__(
        self,
        kernel: Kernel,
        job: Job,
        name: str,
        kind: ProcessKind,
        shared_state: ShareableProcessState,
    ) -> None:
        super().__init__(kernel)
        self.job = job
        self.name = name
        self.kind = kind
        self.shared_state = shared_state
        self.restricted_aspace: VmAspace | None = None
        self.restricted_vmar: VmarDispatcher | None = None
        self.state = ProcessState.INITIAL
        self.threads: list[Thread] = []
        self.return_code = 0
        self.start_time = 0
        self.debug_addr = 0
        self.break_on_load = 0
        self.critical_to_job: Job | None = None
        # With ZX_JOB_CRITICAL_PROCESS_RETCODE_NONZERO, a return code of 0 spares the job.
        self.critical_retcode_nonzero = False
        self.policy = job.policy.copy()
        self.exceptionate = Exceptionate(ZX_EXCEPTION_CHANNEL_TYPE_PROCESS)
        self.debug_exceptionate = Exceptionate(ZX_EXCEPTION_CHANNEL_TYPE_DEBUGGER)
        # Handle values the runtime helpers (zx.process_self() and friends) return,
        # created on first use as a launcher would have passed them.
        self.runtime_handles: dict[str, int] = {}
        # Suspend tokens on the process; while above zero every thread is suspended.
        self.suspend_count = 0
        # Run and queue time of the threads that have died.
        self.dead_threads_runtime = TaskRuntime()

    # Construction.

    @classmethod
    def create(cls, kernel: Kernel, job: Job, name: str, shared: bool) -> Process:
        """Build a regular process, or a prototype when `shared`; not yet in `job`."""
        layout = kernel.layout
        table = HandleTable(kernel.handle_arena, kernel.allocate_koid(), kernel.random_u32())
        if shared:
            aspace = VmAspace(layout.shared_base, layout.shared_size, "proc", AspaceKind.SHARED)
            kind = ProcessKind.PROTOTYPE
        else:
            aspace = VmAspace(layout.user_base, layout.user_size, "proc", AspaceKind.USER)
            kind = ProcessKind.REGULAR
        state = ShareableProcessState(
            table, aspace, VmarDispatcher(kernel, aspace.root_vmar), shared
        )
        process = cls(kernel, job, name, kind, state)
        # Zircon names an address space after the koid of the process that creates it.
        aspace.name = f"proc:{process.koid}"
        return process

    @classmethod
    def create_shared(cls, kernel: Kernel, shared_proc: Process, name: str) -> Process:
        """Build a member of `shared_proc`'s group with its own restricted address space.

        Raises ZX_ERR_INVALID_ARGS when `shared_proc` has no shared address space and
        ZX_ERR_BAD_STATE when every process of its group is dead.
        """
        layout = kernel.layout
        state = shared_proc.shared_state

        # DIVERGENCE(zircon): the newest kernel compares shared_proc's normal address space
        # with the shared range, which rejects a member (its normal space is the unified
        # one). The published reference page accepts a member, and so does pyzircon.
        if state.aspace.kind is not AspaceKind.SHARED:
            raise ZxError(
                ZX_ERR_INVALID_ARGS,
                f"process {shared_proc.name!r} (koid {shared_proc.koid}) was not created with "
                "ZX_PROCESS_SHARED or zx_process_create_shared",
            )

        if not state.increment_share_count():
            raise ZxError(
                ZX_ERR_BAD_STATE,
                f"the shared state of process {shared_proc.name!r} (koid {shared_proc.koid}) "
                "is gone: every process sharing it has died",
            )

        process = cls(kernel, shared_proc.job, name, ProcessKind.MEMBER, state)
        process.restricted_aspace = VmAspace(
            layout.restricted_base,
            layout.restricted_size,
            f"proc(restricted):{process.koid}",
            AspaceKind.RESTRICTED,
        )
        process.restricted_vmar = VmarDispatcher(kernel, process.restricted_aspace.root_vmar)
        process.break_on_load = shared_proc.break_on_load
        process.debug_addr = shared_proc.debug_addr
        return process

    # Views.

    @property
    def handle_table(self) -> HandleTable:
        return self.shared_state.handle_table

    @property
    def shared_aspace(self) -> VmAspace:
        """The address space of the shareable state: the only one of a regular process."""
        return self.shared_state.aspace

    def aspace_at(self, address: int) -> VmAspace:
        """Return the address space that resolves `address` in normal mode."""
        restricted = self.restricted_aspace
        if (
            restricted is not None
            and restricted.base <= address < restricted.base + restricted.size
        ):
            return restricted
        return self.shared_state.aspace

    def related_koid(self) -> int:
        return self.job.koid

    def is_alive(self) -> bool:
        """Return whether the process is neither dying nor dead."""
        return self.state in (ProcessState.INITIAL, ProcessState.RUNNING)

    def describe(self) -> str:
        return f"{self.name!r} {self.kind.value} {self.state.value}"

    def set_state(self, state: ProcessState) -> None:
        """Move to `state`; the one place a process's state changes."""
        if state is self.state:
            return
        assert state in _ALLOWED[self.state], f"{self!r}: {self.state} -> {state} is not allowed"
        self.state = state

    # Threads.

    def check_can_add_thread(self, *, initial: bool) -> None:
        """Raise ZX_ERR_BAD_STATE unless a thread may start now.

        The initial thread (zx_process_start) needs an unstarted process; any other thread
        (zx_thread_start) needs an unstarted or running one.
        """
        if initial and self.state is not ProcessState.INITIAL:
            raise ZxError(
                ZX_ERR_BAD_STATE,
                f"process {self.name!r} (koid {self.koid}) was already started "
                f"(state {self.state.value})",
            )
        if self.state not in (ProcessState.INITIAL, ProcessState.RUNNING):
            raise ZxError(
                ZX_ERR_BAD_STATE,
                f"process {self.name!r} (koid {self.koid}) is {self.state.value}: "
                "it cannot start threads",
            )

    def add_thread(
        self, thread: Thread, entry: ThreadEntry, arg1: int, arg2: int, *, initial: bool
    ) -> None:
        """Start `thread` in this process; raise ZX_ERR_BAD_STATE if either cannot."""
        self.check_can_add_thread(initial=initial)
        if thread.state is not ThreadState.INITIAL or thread.entry is not None:
            raise ZxError(
                ZX_ERR_BAD_STATE,
                f"thread {thread.name!r} (koid {thread.koid}) is {thread.state.value}: "
                "it was already started or has died",
            )

        self.threads.append(thread)
        if self.state is ProcessState.INITIAL:
            self.start_time = self.kernel.scheduler.now_ns
            self.set_state(ProcessState.RUNNING)
            self.kernel.on_process_started(self)
        if self.suspend_count:
            # The thread carries the process's suspension and stops before running.
            thread.suspend_count += 1
        thread.start(entry, arg1, arg2, initial=initial)

    def remove_thread(self, thread: Thread) -> None:
        if thread in self.threads:
            self.threads.remove(thread)
            self.dead_threads_runtime.add(thread.runtime)
        if not self.threads and self.state in (ProcessState.RUNNING, ProcessState.DYING):
            self._finish_dead()

    def runtime(self) -> TaskRuntime:
        """Return the run and queue time of every thread, dead or alive."""
        total = TaskRuntime()
        total.add(self.dead_threads_runtime)
        scheduler = self.kernel.scheduler
        for thread in self.threads:
            total.add(scheduler.runtime_of(thread))
        return total

    # Policy.

    def enforce_basic_policy(self, condition: int, thread: Thread) -> int:
        """Apply this process's action for ZX_POL_* `condition` to a syscall by `thread`.

        Returns ZX_OK (ALLOW, ALLOW_EXCEPTION) or ZX_ERR_ACCESS_DENIED (DENY,
        DENY_EXCEPTION, KILL). The exception actions make `thread` raise
        ZX_EXCP_POLICY_ERROR when its syscall returns; KILL kills the process with
        ZX_TASK_RETCODE_POLICY_KILL, so the syscall never returns.
        """
        action = self.policy.action(condition)
        if action == ZX_POL_ACTION_ALLOW:
            return ZX_OK
        if action == ZX_POL_ACTION_DENY:
            return ZX_ERR_ACCESS_DENIED
        if action in (ZX_POL_ACTION_ALLOW_EXCEPTION, ZX_POL_ACTION_DENY_EXCEPTION):
            thread.signal_policy_exception(POLICY_CONDITION_EXCEPTION_CODES[condition])
            return ZX_OK if action == ZX_POL_ACTION_ALLOW_EXCEPTION else ZX_ERR_ACCESS_DENIED
        assert action == ZX_POL_ACTION_KILL, f"{condition_name(condition)}: action {action}"
        self.kill(ZX_TASK_RETCODE_POLICY_KILL)
        return ZX_ERR_ACCESS_DENIED

    def set_critical_to_job(self, job: Job, retcode_nonzero: bool) -> None:
        """Kill `job` when this process dies.

        Raises ZX_ERR_ALREADY_BOUND when the process is already critical to a job, then
        ZX_ERR_INVALID_ARGS when `job` is neither its job nor an ancestor of it.
        """
        if self.critical_to_job is not None:
            raise ZxError(
                ZX_ERR_ALREADY_BOUND,
                f"process {self.name!r} (koid {self.koid}) is already critical to job "
                f"koid {self.critical_to_job.koid}",
            )
        ancestor: Job | None = self.job
        while ancestor is not None and ancestor is not job:
            ancestor = ancestor.parent
        if ancestor is None:
            raise ZxError(
                ZX_ERR_INVALID_ARGS,
                f"job koid {job.koid} is not the job of process {self.name!r} "
                f"(koid {self.koid}) or an ancestor of it",
            )
        self.critical_to_job = job
        self.critical_retcode_nonzero = retcode_nonzero

    # Suspension.

    def suspend(self) -> None:
        """Add one suspension; the first one suspends every thread, started or not.

        Raises ZX_ERR_BAD_STATE for a dying or dead process.
        """
        if self.state in (ProcessState.DYING, ProcessState.DEAD):
            raise ZxError(
                ZX_ERR_BAD_STATE,
                f"process {self.name!r} (koid {self.koid}) is {self.state.value}: "
                "it cannot be suspended",
            )
        self.suspend_count += 1
        if self.suspend_count == 1:
            for thread in list(self.threads):
                try:
                    thread.suspend()
                except ZxError:
                    # A dying thread leaves the process soon; the others are suspended.
                    pass

    def resume_from_suspend(self) -> None:
        """Drop one suspension; the last one resumes every thread."""
        if self.state in (ProcessState.DYING, ProcessState.DEAD):
            # A dying process only cleans up.
            return
        assert self.suspend_count > 0, f"{self!r} resumed more often than suspended"
        self.suspend_count -= 1
        if self.suspend_count == 0:
            for thread in list(self.threads):
                thread.resume_from_suspend()

    # Ending.

    def exit(self, return_code: int) -> None:
        """zx_process_exit: record the code unless already dying, then kill every thread."""
        if self.state is ProcessState.DEAD:
            return
        if self.state is not ProcessState.DYING:
            self.return_code = return_code
        self._kill_threads()

    def kill(self, return_code: int) -> None:
        """Kill the process; with no started thread it is DEAD at once."""
        if self.state is ProcessState.DEAD:
            return
        if self.state is not ProcessState.DYING:
            self.return_code = return_code
        if not self.threads:
            self._finish_dead()
            return
        self._kill_threads()

    def _kill_threads(self) -> None:
        self.set_state(ProcessState.DYING)
        for thread in list(self.threads):
            thread.kill()

    def _finish_dead(self) -> None:
        """The DEAD transition, in Zircon's order."""
        self.set_state(ProcessState.DEAD)

        self.exceptionate.shutdown()
        self.debug_exceptionate.shutdown()
        if self.restricted_aspace is not None:
            self.restricted_aspace.destroy()

        self.shared_state.decrement_share_count()
        self.update_signals(set_=ZX_PROCESS_TERMINATED)
        self.job.remove_process(self)
        self.kernel.on_process_dead(self)

        job = self.critical_to_job
        if job is not None and (not self.critical_retcode_nonzero or self.return_code != 0):
            job.kill(ZX_TASK_RETCODE_CRITICAL_PROCESS_KILL)

    def on_zero_handles(self) -> None:
        # A started process lives on through its threads; an unstarted one can never run.
        if self.state is ProcessState.INITIAL:
            self.kill(self.return_code)
