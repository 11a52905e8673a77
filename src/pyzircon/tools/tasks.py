"""The machine's tasks as the inspection tools see them: jobs, processes, threads, groups.

A `TaskTree` is taken once per dump by walking the job tree from the root job, as
Fuchsia's task walker does. It adds what the job tree no longer contains but a handle still
names: dead processes (to show their return codes) and threads that were created but
never started. The walk reads kernel objects directly and makes no syscall, so it is no
scheduling point and can run from guest code or from outside a run.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from pyzircon.abi.status import ZX_ERR_NOT_FOUND
from pyzircon.errors import ZxError
from pyzircon.kernel.objects.job import Job
from pyzircon.kernel.objects.process import Process, ProcessKind, ProcessState
from pyzircon.kernel.objects.shareable import ShareableProcessState
from pyzircon.kernel.objects.thread import Thread, ThreadState
from pyzircon.kernel.vm.aspace import VmAspace

if TYPE_CHECKING:
    from pyzircon.kernel.objects.handle_table import HandleTable
    from pyzircon.machine import Kernel


class TaskTree:
    """Jobs in depth-first order, with their processes and threads, in koid order."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self.jobs: list[tuple[int, Job]] = list(_walk_jobs(kernel.root_job, 0))
        self._processes: dict[Job, list[Process]] = {}
        self._threads: dict[Process, list[Thread]] = {}
        self._groups: dict[ShareableProcessState, list[Process]] = {}

        for _depth, job in self.jobs:
            self._processes[job] = list(job.processes)
        self._add_referenced_tasks()
        for processes in self._processes.values():
            processes.sort(key=_koid)
            for process in processes:
                self._groups.setdefault(process.shared_state, []).append(process)
        for threads in self._threads.values():
            threads.sort(key=_koid)

    def _add_referenced_tasks(self) -> None:
        """Add dead processes and unstarted threads that a handle still names."""
        for process in [p for processes in self._processes.values() for p in processes]:
            self._threads[process] = list(process.threads)
        for table in self._tables_of(self.all_processes()):
            for handle in table:
                obj = handle.obj
                if isinstance(obj, Process) and obj.state is ProcessState.DEAD:
                    known = self._processes.get(obj.job)
                    if known is not None and obj not in known:
                        known.append(obj)
                        self._threads[obj] = []
                elif isinstance(obj, Thread) and obj.state is ThreadState.INITIAL:
                    threads = self._threads.get(obj.process)
                    if threads is not None and obj not in threads:
                        threads.append(obj)

    # Queries.

    def processes_of(self, job: Job) -> list[Process]:
        return self._processes.get(job, [])

    def threads_of(self, process: Process) -> list[Thread]:
        """Return the started threads that are not dead, then unstarted ones a handle names."""
        return self._threads.get(process, [])

    def all_processes(self) -> list[Process]:
        """Return every process in job-tree order, dead ones that a handle names included."""
        return [process for _depth, job in self.jobs for process in self.processes_of(job)]

    def live_processes(self) -> list[Process]:
        return [p for p in self.all_processes() if p.state is not ProcessState.DEAD]

    def group_of(self, process: Process) -> list[Process]:
        """Return the processes sharing `process`'s handle table and address space, itself too."""
        return self._groups.get(process.shared_state, [process])

    def groups(self) -> list[list[Process]]:
        """Return each set of processes sharing one shareable state, ordered by first koid."""
        groups = sorted(self._groups.values(), key=lambda members: members[0].koid)
        return [list(members) for members in groups]

    def find_process(self, selector: int | str | Process) -> Process:
        """Return the process named by a koid, a decimal koid string, a name or itself.

        Raises ZX_ERR_NOT_FOUND when no process matches, and ZX_ERR_NOT_FOUND too when a
        name matches several processes, with their koids in the message.
        """
        if isinstance(selector, Process):
            return selector
        if isinstance(selector, int) or selector.isdigit():
            koid = int(selector)
            for process in self.all_processes():
                if process.koid == koid:
                    return process
            raise ZxError(ZX_ERR_NOT_FOUND, f"no process has koid {koid}")
        matches = [p for p in self.all_processes() if p.name == selector]
        if not matches:
            raise ZxError(ZX_ERR_NOT_FOUND, f"no process is named {selector!r}")
        if len(matches) > 1:
            koids = ", ".join(str(p.koid) for p in matches)
            raise ZxError(
                ZX_ERR_NOT_FOUND,
                f"{len(matches)} processes are named {selector!r} (koids {koids}): "
                "name one by its koid",
            )
        return matches[0]

    @staticmethod
    def _tables_of(processes: list[Process]) -> Iterator[HandleTable]:
        seen: set[int] = set()
        for process in processes:
            table = process.handle_table
            if table.koid not in seen:
                seen.add(table.koid)
                yield table


def process_aspaces(process: Process) -> list[VmAspace]:
    """Return the address spaces a process sees, in address order: restricted part first."""
    spaces = []
    if process.restricted_aspace is not None:
        spaces.append(process.restricted_aspace)
    spaces.append(process.shared_aspace)
    return spaces


def group_label(process: Process) -> str:
    """Return the id of `process`'s shared group: its shared handle table's koid, or ""."""
    if process.kind is ProcessKind.REGULAR:
        return ""
    return str(process.handle_table.koid)


def _walk_jobs(job: Job, depth: int) -> Iterator[tuple[int, Job]]:
    yield depth, job
    for child in sorted(job.jobs, key=_koid):
        yield from _walk_jobs(child, depth + 1)


def _koid(obj: Job | Process | Thread) -> int:
    return obj.koid
