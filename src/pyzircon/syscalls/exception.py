"""Exception syscalls: create exception channels, get the tasks of an exception.

A handler reads an exception channel with zx.channel_read: each message is a 24-byte
`zx_exception_info_t` (decode it with zx.ExceptionInfo.from_bytes) and one exception
handle. It sets ZX_PROP_EXCEPTION_STATE on the exception with zx.object_set_property and
closes the handle to end the offer. kernel/objects/exception.py describes what happens
then.
"""

from __future__ import annotations

from typing import Final

from pyzircon.abi.exceptions import ZX_EXCEPTION_CHANNEL_DEBUGGER
from pyzircon.abi.policy import ZX_POL_NEW_CHANNEL
from pyzircon.abi.rights import (
    ZX_RIGHT_DUPLICATE,
    ZX_RIGHT_ENUMERATE,
    ZX_RIGHT_INSPECT,
    ZX_RIGHT_MANAGE_THREAD,
    ZX_RIGHT_NONE,
    ZX_RIGHT_READ,
    ZX_RIGHT_TRANSFER,
    ZX_RIGHT_WAIT,
)
from pyzircon.abi.status import ZX_ERR_ACCESS_DENIED, ZX_ERR_INVALID_ARGS, ZX_ERR_WRONG_TYPE
from pyzircon.errors import ZxError
from pyzircon.kernel.objects.channel import Channel
from pyzircon.kernel.objects.exception import ExceptionObject
from pyzircon.kernel.objects.exceptionate import Exceptionate
from pyzircon.kernel.objects.job import Job
from pyzircon.kernel.objects.process import Process
from pyzircon.kernel.objects.thread import Thread
from pyzircon.syscalls.common import (
    add_handle,
    check_rights,
    enforce_policy,
    get_handle,
    get_object,
    syscall,
    to_u32,
)

# Rights the task handle needs: INSPECT to learn about the task, DUPLICATE and TRANSFER
# because exceptions hand out task handles, MANAGE_THREAD to keep the thread stopped.
_TASK_RIGHTS: Final = (
    ZX_RIGHT_INSPECT | ZX_RIGHT_DUPLICATE | ZX_RIGHT_TRANSFER | ZX_RIGHT_MANAGE_THREAD
)
# The caller's endpoint is read-only.
_ENDPOINT_RIGHTS: Final = ZX_RIGHT_TRANSFER | ZX_RIGHT_WAIT | ZX_RIGHT_READ


@syscall
def task_create_exception_channel(thread: Thread, handle: object, options: object) -> int:
    """zx_task_create_exception_channel: a channel that receives a task's exceptions.

    Returns the reading endpoint, with ZX_RIGHT_TRANSFER | ZX_RIGHT_WAIT | ZX_RIGHT_READ.
    With ZX_EXCEPTION_CHANNEL_DEBUGGER the channel is a process's or a job's debugger
    channel. Exceptions hand out task handles with the rights `handle` has; a thread
    channel hands out no process handle.

    Checks, in order:
    1. `options` is 0 or ZX_EXCEPTION_CHANNEL_DEBUGGER -> ZX_ERR_INVALID_ARGS
    2. the caller's ZX_POL_NEW_CHANNEL policy -> ZX_ERR_ACCESS_DENIED
    3. `handle` is valid -> ZX_ERR_BAD_HANDLE
    4. it has ZX_RIGHT_INSPECT, ZX_RIGHT_DUPLICATE, ZX_RIGHT_TRANSFER and
       ZX_RIGHT_MANAGE_THREAD -> ZX_ERR_ACCESS_DENIED (rights come before the type here)
    5. it is a job, a process or a thread -> ZX_ERR_WRONG_TYPE
    6. a thread takes no ZX_EXCEPTION_CHANNEL_DEBUGGER -> ZX_ERR_INVALID_ARGS
    7. a job or process handle has ZX_RIGHT_ENUMERATE -> ZX_ERR_ACCESS_DENIED
    8. the task is not dead -> ZX_ERR_BAD_STATE
    9. no channel of that type with an open reader is bound -> ZX_ERR_ALREADY_BOUND (a
       job takes up to ZX_EXCEPTION_CHANNEL_JOB_DEBUGGER_MAX_COUNT debugger channels)
    """
    flags = to_u32(options, "options")
    if flags & ~ZX_EXCEPTION_CHANNEL_DEBUGGER:
        raise ZxError(
            ZX_ERR_INVALID_ARGS,
            f"options must be 0 or ZX_EXCEPTION_CHANNEL_DEBUGGER, not {flags:#x}",
        )
    debugger = bool(flags)
    enforce_policy(thread, ZX_POL_NEW_CHANNEL)

    task_handle = get_handle(thread, handle)
    check_rights(task_handle, _TASK_RIGHTS)
    task = task_handle.obj
    task_rights = task_handle.rights
    thread_rights = task_rights
    process_rights = task_rights
    exceptionate: Exceptionate | None = None
    if isinstance(task, Job):
        exceptionate = None if debugger else task.exceptionate
    elif isinstance(task, Process):
        exceptionate = task.debug_exceptionate if debugger else task.exceptionate
    elif isinstance(task, Thread):
        if debugger:
            raise ZxError(ZX_ERR_INVALID_ARGS, "a thread has no debugger exception channel")
        # A thread channel gives no access up the task tree.
        process_rights = ZX_RIGHT_NONE
        exceptionate = task.exceptionate
    else:
        raise ZxError(
            ZX_ERR_WRONG_TYPE,
            f"handle {handle!r} is a {task.type_name}, not a job, process or thread",
        )
    if not isinstance(task, Thread) and not task_rights & ZX_RIGHT_ENUMERATE:
        raise ZxError(
            ZX_ERR_ACCESS_DENIED,
            f"an exception channel on a {task.type_name} needs ZX_RIGHT_ENUMERATE on its handle",
        )

    kernel_end, user_end = Channel.create_pair(thread.kernel)
    try:
        if exceptionate is None:
            assert isinstance(task, Job)
            task.add_debug_channel(kernel_end, thread_rights, process_rights)
        else:
            exceptionate.set_channel(kernel_end, thread_rights, process_rights)
    except ZxError:
        kernel_end.on_zero_handles()
        user_end.on_zero_handles()
        raise
    return add_handle(thread, user_end, _ENDPOINT_RIGHTS)


@syscall
def exception_get_thread(thread: Thread, handle: object) -> int:
    """zx_exception_get_thread: a handle to the thread that raised an exception.

    The handle has the rights of the task handle the exception channel was created with.

    Checks, in order:
    1. `handle` is an exception handle -> ZX_ERR_BAD_HANDLE, ZX_ERR_WRONG_TYPE (no right
       is needed)
    2. the exception came through a channel -> ZX_ERR_ACCESS_DENIED
    """
    exception = get_object(thread, handle, ExceptionObject, ZX_RIGHT_NONE)
    target, rights = exception.thread_for_handle()
    return add_handle(thread, target, rights)


@syscall
def exception_get_process(thread: Thread, handle: object) -> int:
    """zx_exception_get_process: a handle to the process of the thread that raised it.

    The handle has the rights of the task handle the exception channel was created with.

    Checks, in order:
    1. `handle` is an exception handle -> ZX_ERR_BAD_HANDLE, ZX_ERR_WRONG_TYPE (no right
       is needed)
    2. the exception came through a process, debugger or job channel, not a thread one
       -> ZX_ERR_ACCESS_DENIED
    """
    exception = get_object(thread, handle, ExceptionObject, ZX_RIGHT_NONE)
    target, rights = exception.process_for_handle()
    return add_handle(thread, target, rights)
