"""ZX_INFO_* topics of handles, jobs, processes and threads."""

from __future__ import annotations

from typing import Any

from pyzircon.abi import info
from pyzircon.abi.objtypes import ZX_OBJ_PROP_NONE, ZX_OBJ_PROP_WAITABLE, ZX_OBJ_TYPE_UPPER_BOUND
from pyzircon.abi.restricted import ExceptionReport
from pyzircon.abi.rights import (
    ZX_RIGHT_ENUMERATE,
    ZX_RIGHT_INSPECT,
    ZX_RIGHT_MANAGE_PROCESS,
    ZX_RIGHT_MANAGE_THREAD,
    ZX_RIGHT_NONE,
)
from pyzircon.abi.status import ZX_ERR_BAD_STATE, ZX_ERR_WRONG_TYPE
from pyzircon.abi.task import (
    ZX_THREAD_STATE_BLOCKED,
    ZX_THREAD_STATE_DEAD,
    ZX_THREAD_STATE_DYING,
    ZX_THREAD_STATE_NEW,
    ZX_THREAD_STATE_RUNNING,
    ZX_THREAD_STATE_SUSPENDED,
)
from pyzircon.errors import ZxError
from pyzircon.kernel.objects.base import KernelObject
from pyzircon.kernel.objects.handle_table import Handle
from pyzircon.kernel.objects.job import Job, JobState
from pyzircon.kernel.objects.process import Process, ProcessState
from pyzircon.kernel.objects.thread import Thread, ThreadState
from pyzircon.syscalls.info_common import InfoTopic

_THREAD_STATES = {
    ThreadState.INITIAL: ZX_THREAD_STATE_NEW,
    ThreadState.RUNNING: ZX_THREAD_STATE_RUNNING,
    ThreadState.BLOCKED: ZX_THREAD_STATE_BLOCKED,
    ThreadState.SUSPENDED: ZX_THREAD_STATE_SUSPENDED,
    ThreadState.DYING: ZX_THREAD_STATE_DYING,
    ThreadState.DEAD: ZX_THREAD_STATE_DEAD,
}


def _handle_valid(thread: Thread, handle: Handle, obj: KernelObject) -> None:
    return None


def _handle_basic(thread: Thread, handle: Handle, obj: KernelObject) -> info.InfoHandleBasic:
    # DIVERGENCE(zircon): the newest kernel writes 0 in this field (now `reserved`); older
    # kernels, and the handle-info core test, report ZX_OBJ_PROP_WAITABLE, as pyzircon does.
    props = ZX_OBJ_PROP_WAITABLE if obj.waitable else ZX_OBJ_PROP_NONE
    return info.InfoHandleBasic(
        koid=obj.koid,
        rights=handle.rights,
        type=obj.obj_type,
        related_koid=obj.related_koid(),
        props=props,
    )


def _handle_count(thread: Thread, handle: Handle, obj: KernelObject) -> info.InfoHandleCount:
    return info.InfoHandleCount(handle_count=obj.handle_count)


def _process(thread: Thread, handle: Handle, process: Process) -> info.InfoProcess:
    flags = 0
    if process.state is not ProcessState.INITIAL:
        flags |= info.ZX_INFO_PROCESS_FLAG_STARTED
    if process.state in (ProcessState.DYING, ProcessState.DEAD):
        flags |= info.ZX_INFO_PROCESS_FLAG_EXITED
    if process.debug_exceptionate.has_valid_channel():
        flags |= info.ZX_INFO_PROCESS_FLAG_DEBUGGER_ATTACHED
    return info.InfoProcess(
        return_code=process.return_code, start_time=process.start_time, flags=flags
    )


def _process_threads(thread: Thread, handle: Handle, process: Process) -> list[int]:
    return [member.koid for member in process.threads]


def _thread(thread: Thread, handle: Handle, target: Thread) -> info.InfoThread:
    return info.InfoThread(
        state=(
            target.blocked_info_state
            if target.state is ThreadState.BLOCKED
            else _THREAD_STATES[target.state]
        ),
        wait_exception_channel_type=target.exception_channel_type,
        cpu_affinity_mask=(0,) * 8,
    )


def _thread_exception_report(thread: Thread, handle: Handle, target: Thread) -> ExceptionReport:
    # The report exists only while a handler has the exception's handle.
    exception = target.exception
    if exception is None or exception.report is None:
        raise ZxError(
            ZX_ERR_BAD_STATE,
            f"thread {target.name!r} (koid {target.koid}) is not in an exception",
        )
    return exception.report


def _task_runtime(thread: Thread, handle: Handle, task: KernelObject) -> info.InfoTaskRuntime:
    # Zircon checks ZX_RIGHT_INSPECT on any object first, then the type.
    if isinstance(task, Thread):
        runtime = task.kernel.scheduler.runtime_of(task)
    elif isinstance(task, (Process, Job)):
        runtime = task.runtime()
    else:
        raise ZxError(
            ZX_ERR_WRONG_TYPE,
            f"ZX_INFO_TASK_RUNTIME needs a job, process or thread handle, not a {task.type_name}",
        )
    # pyzircon has no page faults that take time and no lock contention.
    return info.InfoTaskRuntime(
        cpu_time=runtime.cpu_time,
        queue_time=runtime.queue_time,
        page_fault_time=0,
        lock_contention_time=0,
    )


def _job(thread: Thread, handle: Handle, job: Job) -> info.InfoJob:
    # Zircon reports a job as exited from the moment it is killed, while its children
    # are still dying.
    return info.InfoJob(
        return_code=job.return_code,
        exited=job.state is not JobState.READY,
        kill_on_oom=job.kill_on_oom,
        debugger_attached=job.has_debugger(),
    )


def _job_children(thread: Thread, handle: Handle, job: Job) -> list[int]:
    return [child.koid for child in job.jobs]


def _job_processes(thread: Thread, handle: Handle, job: Job) -> list[int]:
    return [process.koid for process in job.processes]


def _handle_table(
    thread: Thread, handle: Handle, process: Process
) -> list[info.InfoHandleExtended]:
    table = process.handle_table
    return [
        info.InfoHandleExtended(
            type=entry.obj.obj_type,
            handle_value=table.value_of(entry),
            rights=entry.rights,
            koid=entry.obj.koid,
            related_koid=entry.obj.related_koid(),
            peer_owner_koid=0,
        )
        for entry in table
    ]


def _process_handle_stats(
    thread: Thread, handle: Handle, process: Process
) -> info.InfoProcessHandleStats:
    counts = [0] * ZX_OBJ_TYPE_UPPER_BOUND
    for entry in process.handle_table:
        counts[entry.obj.obj_type] += 1
    return info.InfoProcessHandleStats(handle_count=tuple(counts))


def _topic(name: str, kind: type[Any], rights: int, single: bool, read: Any) -> InfoTopic:
    return InfoTopic(name=name, kind=kind, rights=rights, single=single, read=read)


TOPICS: dict[int, InfoTopic] = {
    info.ZX_INFO_HANDLE_VALID: _topic(
        "ZX_INFO_HANDLE_VALID", KernelObject, ZX_RIGHT_NONE, True, _handle_valid
    ),
    info.ZX_INFO_HANDLE_BASIC: _topic(
        "ZX_INFO_HANDLE_BASIC", KernelObject, ZX_RIGHT_NONE, True, _handle_basic
    ),
    info.ZX_INFO_HANDLE_COUNT: _topic(
        "ZX_INFO_HANDLE_COUNT", KernelObject, ZX_RIGHT_INSPECT, True, _handle_count
    ),
    info.ZX_INFO_PROCESS: _topic("ZX_INFO_PROCESS", Process, ZX_RIGHT_INSPECT, True, _process),
    info.ZX_INFO_PROCESS_THREADS: _topic(
        "ZX_INFO_PROCESS_THREADS", Process, ZX_RIGHT_ENUMERATE, False, _process_threads
    ),
    info.ZX_INFO_THREAD: _topic("ZX_INFO_THREAD", Thread, ZX_RIGHT_INSPECT, True, _thread),
    info.ZX_INFO_THREAD_EXCEPTION_REPORT: _topic(
        "ZX_INFO_THREAD_EXCEPTION_REPORT", Thread, ZX_RIGHT_INSPECT, True, _thread_exception_report
    ),
    info.ZX_INFO_TASK_RUNTIME: _topic(
        "ZX_INFO_TASK_RUNTIME", KernelObject, ZX_RIGHT_INSPECT, True, _task_runtime
    ),
    info.ZX_INFO_JOB: _topic("ZX_INFO_JOB", Job, ZX_RIGHT_INSPECT, True, _job),
    info.ZX_INFO_JOB_CHILDREN: _topic(
        "ZX_INFO_JOB_CHILDREN", Job, ZX_RIGHT_ENUMERATE, False, _job_children
    ),
    info.ZX_INFO_JOB_PROCESSES: _topic(
        "ZX_INFO_JOB_PROCESSES", Job, ZX_RIGHT_ENUMERATE, False, _job_processes
    ),
    info.ZX_INFO_HANDLE_TABLE: _topic(
        "ZX_INFO_HANDLE_TABLE",
        Process,
        ZX_RIGHT_INSPECT | ZX_RIGHT_MANAGE_PROCESS | ZX_RIGHT_MANAGE_THREAD,
        False,
        _handle_table,
    ),
    info.ZX_INFO_PROCESS_HANDLE_STATS: _topic(
        "ZX_INFO_PROCESS_HANDLE_STATS", Process, ZX_RIGHT_INSPECT, True, _process_handle_stats
    ),
}
