"""Jobs: the tree that owns processes.

A job is READY until it is killed; while KILLING it kills its child jobs and processes and
accepts no new children; once empty it is DEAD and asserts ZX_JOB_TERMINATED. A job also
leaves the tree when its last handle closes while it has no children. A job holds its live
processes, so a started process with no handles stays reachable through its job.

A job has a policy (kernel/objects/policy.py): a child job starts with a copy of its
parent's, a process with a copy of its job's, and zx_job_set_policy changes it only while
the job has no children. A job also has an exception channel slot and up to
ZX_EXCEPTION_CHANNEL_JOB_DEBUGGER_MAX_COUNT debugger ones, shut down when it dies.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from pyzircon.abi.exceptions import (
    ZX_EXCEPTION_CHANNEL_JOB_DEBUGGER_MAX_COUNT,
    ZX_EXCEPTION_CHANNEL_TYPE_JOB,
    ZX_EXCEPTION_CHANNEL_TYPE_JOB_DEBUGGER,
)
from pyzircon.abi.objtypes import ZX_OBJ_TYPE_JOB
from pyzircon.abi.rights import ZX_DEFAULT_JOB_RIGHTS
from pyzircon.abi.signals import (
    ZX_JOB_NO_CHILDREN,
    ZX_JOB_NO_JOBS,
    ZX_JOB_NO_PROCESSES,
    ZX_JOB_TERMINATED,
)
from pyzircon.abi.status import ZX_ERR_ALREADY_BOUND, ZX_ERR_BAD_STATE, ZX_ERR_OUT_OF_RANGE
from pyzircon.abi.task import ROOT_JOB_MAX_HEIGHT
from pyzircon.errors import ZxError
from pyzircon.kernel.objects.base import KernelObject
from pyzircon.kernel.objects.exceptionate import Exceptionate
from pyzircon.kernel.objects.policy import BasicPolicyEntry, JobPolicy, TimerSlack
from pyzircon.kernel.sched.scheduler import TaskRuntime

if TYPE_CHECKING:
    from pyzircon.kernel.objects.channel import Channel
    from pyzircon.kernel.objects.process import Process
    from pyzircon.machine import Kernel

_EMPTY_SIGNALS = ZX_JOB_NO_PROCESSES | ZX_JOB_NO_JOBS | ZX_JOB_NO_CHILDREN


class JobState(enum.Enum):
    READY = "ready"
    KILLING = "killing"
    DEAD = "dead"


class Job(KernelObject):
    """A node of the job tree."""

    obj_type = ZX_OBJ_TYPE_JOB
    default_rights = ZX_DEFAULT_JOB_RIGHTS

    def __init__(self, kernel: Kernel, parent: Job | None, name: str = "") -> None:
        super().__init__(kernel, signals=_EMPTY_SIGNALS)
        self.parent = parent
        self.name = name
        self.state = JobState.READY
        self.return_code = 0
        self.kill_on_oom = False
        self.height: int = ROOT_JOB_MAX_HEIGHT if parent is None else parent.height - 1
        self.jobs: list[Job] = []
        self.processes: list[Process] = []
        # Run and queue time of the processes and child jobs that have left the tree.
        self.departed_runtime = TaskRuntime()
        self.policy: JobPolicy = JobPolicy() if parent is None else parent.policy.copy()
        self.exceptionate = Exceptionate(ZX_EXCEPTION_CHANNEL_TYPE_JOB)
        # Debugger channels, oldest first; each gets ZX_EXCP_PROCESS_STARTING in turn.
        self.debug_exceptionates: list[Exceptionate] = []

    def related_koid(self) -> int:
        return self.parent.koid if self.parent is not None else 0

    def describe(self) -> str:
        return f"{self.name!r} {self.state.value}" if self.name else self.state.value

    # Children.

    def create_child_job(self, name: str = "") -> Job:
        """Create and add a child job.

        Raises ZX_ERR_OUT_OF_RANGE at the maximum height, then ZX_ERR_BAD_STATE unless READY.
        """
        if self.height <= 0:
            raise ZxError(
                ZX_ERR_OUT_OF_RANGE,
                f"job koid {self.koid} is at the maximum job tree height {ROOT_JOB_MAX_HEIGHT}",
            )
        if self.state is not JobState.READY:
            raise ZxError(
                ZX_ERR_BAD_STATE,
                f"job koid {self.koid} is {self.state.value}: it takes no new child jobs",
            )
        child = Job(self.kernel, self, name)
        self.jobs.append(child)
        self._update_child_signals()
        return child

    def add_process(self, process: Process) -> None:
        """Add a new process; raises ZX_ERR_BAD_STATE unless the job is READY."""
        if self.state is not JobState.READY:
            raise ZxError(
                ZX_ERR_BAD_STATE,
                f"job koid {self.koid} is {self.state.value}: it takes no new processes",
            )
        self.processes.append(process)
        self._update_child_signals()

    def remove_process(self, process: Process) -> None:
        if process in self.processes:
            self.processes.remove(process)
            self.departed_runtime.add(process.runtime())
            self._update_child_signals()
            self._maybe_finish()

    def remove_job(self, job: Job) -> None:
        if job in self.jobs:
            self.jobs.remove(job)
            self.departed_runtime.add(job.runtime())
            self._update_child_signals()
            self._maybe_finish()

    def _update_child_signals(self) -> None:
        signals = 0
        if not self.processes:
            signals |= ZX_JOB_NO_PROCESSES
        if not self.jobs:
            signals |= ZX_JOB_NO_JOBS
        if not self.processes and not self.jobs:
            signals |= ZX_JOB_NO_CHILDREN
        self.update_signals(clear=_EMPTY_SIGNALS, set_=signals)

    def runtime(self) -> TaskRuntime:
        """Return the run and queue time of every process in the subtree, dead or alive."""
        total = TaskRuntime()
        total.add(self.departed_runtime)
        for process in self.processes:
            total.add(process.runtime())
        for job in self.jobs:
            total.add(job.runtime())
        return total

    # Policy.

    def check_can_set_policy(self) -> None:
        """Raise ZX_ERR_BAD_STATE while the job has child jobs or processes.

        A process's policy is a copy taken when it was created, so changing the job's
        policy under live children would make the two disagree.
        """
        if self.processes or self.jobs:
            raise ZxError(
                ZX_ERR_BAD_STATE,
                f"job koid {self.koid} has child jobs or processes: its policy cannot change",
            )

    def set_basic_policy(self, mode: int, entries: list[BasicPolicyEntry]) -> None:
        """Merge basic policy entries; raises ZX_ERR_BAD_STATE while the job has children.

        The entries' own errors are JobPolicy.add_basic's.
        """
        self.check_can_set_policy()
        self.policy.add_basic(mode, entries)

    def set_timer_slack(self, min_slack_ns: int, mode: int) -> None:
        """Set the timer slack: at least `min_slack_ns` and at least the current amount.

        Raises ZX_ERR_BAD_STATE while the job has children. The caller checks the values.
        """
        self.check_can_set_policy()
        amount = max(self.policy.timer_slack.amount_ns, min_slack_ns)
        self.policy.timer_slack = TimerSlack(amount, mode)

    # Exception channels.

    def add_debug_channel(self, endpoint: Channel, thread_rights: int, process_rights: int) -> None:
        """Bind one more debugger channel.

        Raises ZX_ERR_BAD_STATE once the job is dead, then ZX_ERR_ALREADY_BOUND when
        ZX_EXCEPTION_CHANNEL_JOB_DEBUGGER_MAX_COUNT channels with a reader are bound.
        """
        if self.state is JobState.DEAD:
            raise ZxError(ZX_ERR_BAD_STATE, f"job koid {self.koid} is dead")
        # Channels whose reader closed free their place.
        live = []
        for exceptionate in self.debug_exceptionates:
            if exceptionate.has_valid_channel():
                live.append(exceptionate)
            else:
                exceptionate.release_endpoint()
        self.debug_exceptionates = live
        if len(live) >= ZX_EXCEPTION_CHANNEL_JOB_DEBUGGER_MAX_COUNT:
            # NOTE: the status of this case was not read in a kernel source; RFC-0178
            # describes the limit as a change from returning ZX_ERR_ALREADY_BOUND.
            raise ZxError(
                ZX_ERR_ALREADY_BOUND,
                f"job koid {self.koid} already has {len(live)} debugger exception channels",
            )
        exceptionate = Exceptionate(ZX_EXCEPTION_CHANNEL_TYPE_JOB_DEBUGGER)
        exceptionate.set_channel(endpoint, thread_rights, process_rights)
        self.debug_exceptionates.append(exceptionate)

    def has_debugger(self) -> bool:
        return any(exceptionate.has_valid_channel() for exceptionate in self.debug_exceptionates)

    # Ending.

    def kill(self, return_code: int) -> None:
        """Kill the whole subtree, children before this job is DEAD."""
        if self.state is not JobState.READY:
            return
        self.return_code = return_code
        self.state = JobState.KILLING
        for job in list(self.jobs):
            job.kill(return_code)
        for process in list(self.processes):
            process.kill(return_code)
        self._maybe_finish()

    def _maybe_finish(self) -> None:
        # NOTE: in Zircon a process keeps its job referenced until the process object is
        # destroyed, so a job with no handles stays in its parent's child list while a
        # handle to one of its dead processes remains. Here it leaves the tree as soon as
        # its last process is dead.
        if self.processes or self.jobs:
            return
        if self.state is JobState.KILLING:
            self._finish_dead()
        elif self.state is JobState.READY and self.handle_count == 0 and self.parent is not None:
            self._finish_dead()

    def _finish_dead(self) -> None:
        self.state = JobState.DEAD
        self.exceptionate.shutdown()
        for exceptionate in self.debug_exceptionates:
            exceptionate.shutdown()
        self.update_signals(set_=ZX_JOB_TERMINATED)
        if self.parent is not None:
            self.parent.remove_job(self)

    def on_zero_handles(self) -> None:
        self._maybe_finish()
