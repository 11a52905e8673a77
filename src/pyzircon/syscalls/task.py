"""Task syscalls shared by jobs, processes and threads."""

from __future__ import annotations

from pyzircon.abi.rights import ZX_RIGHT_DESTROY, ZX_RIGHT_WRITE
from pyzircon.abi.status import ZX_ERR_NOT_SUPPORTED, ZX_ERR_WRONG_TYPE
from pyzircon.abi.task import ZX_TASK_RETCODE_SYSCALL_KILL
from pyzircon.errors import ZxError
from pyzircon.kernel.objects.job import Job
from pyzircon.kernel.objects.process import Process
from pyzircon.kernel.objects.suspend_token import SuspendToken
from pyzircon.kernel.objects.thread import Thread
from pyzircon.syscalls.common import add_handle, check_rights, get_handle, syscall


@syscall
def task_kill(thread: Thread, handle: object) -> None:
    """zx_task_kill: kill a job (its whole subtree), a process or a thread.

    Jobs and processes record ZX_TASK_RETCODE_SYSCALL_KILL. Killing the caller's own
    process or thread does not return.

    Checks, in order:
    1. `handle` is valid -> ZX_ERR_BAD_HANDLE
    2. it has ZX_RIGHT_DESTROY -> ZX_ERR_ACCESS_DENIED (rights come before the type here)
    3. it is a job, process or thread -> ZX_ERR_WRONG_TYPE
    """
    target = get_handle(thread, handle)
    check_rights(target, ZX_RIGHT_DESTROY)

    task = target.obj
    if isinstance(task, Job):
        task.kill(ZX_TASK_RETCODE_SYSCALL_KILL)
    elif isinstance(task, Process):
        task.kill(ZX_TASK_RETCODE_SYSCALL_KILL)
    elif isinstance(task, Thread):
        # DIVERGENCE(zircon): the newest kernel returns ZX_ERR_WRONG_TYPE for threads;
        # earlier kernels killed the thread, which pyzircon keeps so a supervisor can
        # stop one thread of a process.
        task.kill()
    else:
        raise ZxError(ZX_ERR_WRONG_TYPE, f"handle {handle:#x} is a {task.type_name}, not a task")


@syscall
def task_suspend(thread: Thread, handle: object) -> int:
    """zx_task_suspend: suspend a thread or a process; return a suspend token.

    The task stays suspended until every token for it is closed. A thread stops at its
    next syscall, or at once when it is blocked, and then asserts ZX_THREAD_SUSPENDED; a
    thread not yet started starts suspended. Suspending a process suspends its threads,
    and threads it starts later.

    Checks, in order:
    1. `handle` is valid -> ZX_ERR_BAD_HANDLE
    2. it has ZX_RIGHT_WRITE -> ZX_ERR_ACCESS_DENIED (rights come before the type here)
    3. it is a thread or a process -> ZX_ERR_WRONG_TYPE
    4. it is not the calling thread or the caller's own process -> ZX_ERR_NOT_SUPPORTED
    5. it is not dying or dead -> ZX_ERR_BAD_STATE
    """
    return _suspend(thread, handle)


@syscall
def task_suspend_token(thread: Thread, handle: object) -> int:
    """zx_task_suspend_token: the older name of zx_task_suspend, with the same checks."""
    return _suspend(thread, handle)


def _suspend(thread: Thread, handle: object) -> int:
    target = get_handle(thread, handle)
    check_rights(target, ZX_RIGHT_WRITE)
    task = target.obj
    if not isinstance(task, (Thread, Process)):
        raise ZxError(
            ZX_ERR_WRONG_TYPE, f"handle {handle:#x} is a {task.type_name}, not a thread or process"
        )
    if task is thread or task is thread.process:
        raise ZxError(ZX_ERR_NOT_SUPPORTED, f"{task!r} is the caller's own thread or process")
    token = SuspendToken(thread.kernel, task)
    return add_handle(thread, token, SuspendToken.default_rights)
