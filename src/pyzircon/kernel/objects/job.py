"""Jobs: the tree that owns processes.

A job is READY until it is killed; while KILLING it kills its child jobs and processes and
accepts no new children; once empty it is DEAD and asserts ZX_JOB_TERMINATED. A job also
leaves the tree when its last handle closes while it has no children. A job holds its live
processes, so a started process with no handles stays reachable through its job.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from pyzircon.abi.objtypes import ZX_OBJ_TYPE_JOB
from pyzircon.abi.rights import ZX_DEFAULT_JOB_RIGHTS
from pyzircon.abi.signals import (
    ZX_JOB_NO_CHILDREN,
    ZX_JOB_NO_JOBS,
    ZX_JOB_NO_PROCESSES,
    ZX_JOB_TERMINATED,
)
from pyzircon.abi.status import ZX_ERR_BAD_STATE, ZX_ERR_OUT_OF_RANGE
from pyzircon.abi.task import ROOT_JOB_MAX_HEIGHT
from pyzircon.errors import ZxError
from pyzircon.kernel.objects.base import KernelObject
from pyzircon.kernel.sched.scheduler import TaskRuntime

if TYPE_CHECKING:
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
        self.update_signals(set_=ZX_JOB_TERMINATED)
        if self.parent is not None:
            self.parent.remove_job(self)

    def on_zero_handles(self) -> None:
        self._maybe_finish()
