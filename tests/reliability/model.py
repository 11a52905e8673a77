"""What the state machine believes about the machine: handles, tables, processes, jobs.

The model keeps only numbers (handle values, koids, rights) and weak references to
kernel objects, so it never keeps an object alive. Weak references let the host read
the truth (a table's handles, a process's state) between steps without a syscall.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pyzircon import zx
from pyzircon.abi.status import (
    ZX_ERR_ACCESS_DENIED,
    ZX_ERR_BAD_HANDLE,
    ZX_ERR_WRONG_TYPE,
)
from pyzircon.kernel.objects.job import Job, JobState
from pyzircon.kernel.objects.process import Process, ProcessKind, ProcessState

if TYPE_CHECKING:
    from pyzircon.kernel.objects.handle_table import HandleTable
    from pyzircon.kernel.objects.shareable import ShareableProcessState
    from pyzircon.machine import Kernel

U32_MAX = (1 << 32) - 1

# The key of the controller's table in `ReliabilityMachine.tables`.
CONTROLLER = 0


@dataclass
class Ref:
    """A handle in the model: its value in one table, its object and its rights.

    `bound` is the most a handle derived from its source may hold: the source's rights,
    or the documented rights of a new object's handle.
    """

    value: int
    obj_type: int
    koid: int
    rights: int
    bound: int


@dataclass
class TableModel:
    """One handle table: the controller's, or the one a process group shares."""

    key: int
    truth: weakref.ref[HandleTable]
    refs: list[Ref] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)
    dead: bool = False

    def remove(self, value: int, *, closed: bool = True) -> Ref | None:
        for index, ref in enumerate(self.refs):
            if ref.value == value:
                del self.refs[index]
                if closed:
                    self.closed.append(value)
                return ref
        return None

    def find(self, value: int) -> Ref | None:
        for ref in self.refs:
            if ref.value == value:
                return ref
        return None


@dataclass
class GroupModel:
    """Processes that share one handle table and address space (a regular process alone)."""

    key: int
    shared: bool
    table: TableModel
    state: weakref.ref[ShareableProcessState]
    procs: list[ProcModel] = field(default_factory=list)


@dataclass
class ProcModel:
    """A process and its anchors: controller handles that no step closes.

    `anchor` names the process, `vmar_anchor` its root VMAR (a member's restricted one).
    """

    koid: int
    kind: ProcessKind
    group: GroupModel
    obj: weakref.ref[Process]
    anchor: int = 0
    vmar_anchor: int = 0

    @property
    def process(self) -> Process | None:
        return self.obj()

    @property
    def dead(self) -> bool:
        process = self.obj()
        return process is None or process.state is ProcessState.DEAD


@dataclass
class JobModel:
    koid: int
    obj: weakref.ref[Job]
    anchor: int

    @property
    def ready(self) -> bool:
        job = self.obj()
        return job is not None and job.state is JobState.READY


def default_rights(obj_type: int) -> int:
    """Return the rights a handle to a new object of `obj_type` may have at most."""
    return {
        zx.ZX_OBJ_TYPE_JOB: zx.ZX_DEFAULT_JOB_RIGHTS,
        zx.ZX_OBJ_TYPE_PROCESS: zx.ZX_DEFAULT_PROCESS_RIGHTS,
        zx.ZX_OBJ_TYPE_THREAD: zx.ZX_DEFAULT_THREAD_RIGHTS,
        zx.ZX_OBJ_TYPE_VMO: zx.ZX_DEFAULT_VMO_RIGHTS | zx.ZX_RIGHT_RESIZE,
        zx.ZX_OBJ_TYPE_VMAR: zx.ZX_DEFAULT_VMAR_RIGHTS
        | zx.ZX_RIGHT_READ
        | zx.ZX_RIGHT_WRITE
        | zx.ZX_RIGHT_EXECUTE,
        zx.ZX_OBJ_TYPE_EVENT: zx.ZX_DEFAULT_EVENT_RIGHTS,
        zx.ZX_OBJ_TYPE_EVENTPAIR: zx.ZX_DEFAULT_EVENTPAIR_RIGHTS,
    }[obj_type]


def predict_lookup(
    table: HandleTable,
    value: object,
    obj_types: tuple[int, ...] | None,
    rights: int,
    *,
    rights_first: bool = False,
) -> int | None:
    """Return the status a handle lookup must fail with, or None when it succeeds.

    This restates the kernel's rule: an unknown value is ZX_ERR_BAD_HANDLE, then the
    object type (ZX_ERR_WRONG_TYPE) and the rights (ZX_ERR_ACCESS_DENIED), type first
    unless `rights_first` (as zx_task_kill and zx_object_get_property check).
    """
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= U32_MAX:
        return ZX_ERR_BAD_HANDLE
    handle = table.get(value)
    if handle is None:
        return ZX_ERR_BAD_HANDLE
    wrong_type = obj_types is not None and handle.obj.obj_type not in obj_types
    lacks_rights = bool(rights & ~handle.rights)
    if rights_first:
        if lacks_rights:
            return ZX_ERR_ACCESS_DENIED
        if wrong_type:
            return ZX_ERR_WRONG_TYPE
    else:
        if wrong_type:
            return ZX_ERR_WRONG_TYPE
        if lacks_rights:
            return ZX_ERR_ACCESS_DENIED
    return None


def processes_sharing(kernel: Kernel, state: ShareableProcessState) -> list[Process]:
    """Return every live Process object that uses `state`, found in the kernel's registry.

    The order is that of koids. A process object that was freed was DEAD, so leaving it
    out does not change whether every sharer is dead.
    """
    found = [
        obj
        for obj in list(kernel._objects)
        if isinstance(obj, Process) and obj.shared_state is state
    ]
    return sorted(found, key=lambda process: process.koid)
