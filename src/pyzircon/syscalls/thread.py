"""Thread syscalls."""

from __future__ import annotations

from pyzircon.abi.rights import ZX_DEFAULT_THREAD_RIGHTS, ZX_RIGHT_MANAGE_THREAD
from pyzircon.abi.status import ZX_ERR_INVALID_ARGS
from pyzircon.errors import ZxError
from pyzircon.kernel.objects.process import Process
from pyzircon.kernel.objects.thread import Thread
from pyzircon.kernel.sched.scheduler import ThreadExit
from pyzircon.syscalls.common import add_handle, get_object, syscall, to_name, to_u32, to_word
from pyzircon.syscalls.entry import validate_entry


@syscall
def thread_create(thread: Thread, process: object, name: object, options: object) -> int:
    """zx_thread_create: create a thread in `process`; it runs once started.

    Checks, in order:
    1. options == 0 -> ZX_ERR_INVALID_ARGS
    2. `name` is str or bytes -> ZX_ERR_INVALID_ARGS; longer names are cut to 31 bytes
    3. `process` is a process handle with ZX_RIGHT_MANAGE_THREAD -> ZX_ERR_BAD_HANDLE,
       ZX_ERR_WRONG_TYPE, ZX_ERR_ACCESS_DENIED
    """
    if to_u32(options, "options") != 0:
        raise ZxError(ZX_ERR_INVALID_ARGS, f"options must be 0, not {options:#x}")
    thread_name = to_name(name)
    owner = get_object(thread, process, Process, ZX_RIGHT_MANAGE_THREAD)

    new_thread = Thread(owner, thread_name)
    return add_handle(thread, new_thread, ZX_DEFAULT_THREAD_RIGHTS)


@syscall
def thread_start(
    thread: Thread, handle: object, entry: object, stack: object, arg1: object, arg2: object
) -> None:
    """zx_thread_start: run `entry(arg1, arg2)` on a created thread.

    Checks, in order:
    1. `handle` is a thread handle with ZX_RIGHT_MANAGE_THREAD -> ZX_ERR_BAD_HANDLE,
       ZX_ERR_WRONG_TYPE, ZX_ERR_ACCESS_DENIED
    2. its process is unstarted or running -> ZX_ERR_BAD_STATE
    3. `entry` is a callable, or an integer user address -> ZX_ERR_INVALID_ARGS; an
       integer address gives ZX_ERR_NOT_SUPPORTED (no machine code in normal mode)
    4. the thread has not started -> ZX_ERR_BAD_STATE
    """
    target = get_object(thread, handle, Thread, ZX_RIGHT_MANAGE_THREAD)
    process = target.process

    process.check_can_add_thread(initial=False)
    callable_entry = validate_entry(thread, entry)
    to_word(stack, "stack")
    first = to_word(arg1, "arg1")
    second = to_word(arg2, "arg2")
    process.add_thread(target, callable_entry, first, second, initial=False)


@syscall
def thread_exit(thread: Thread) -> None:
    """zx_thread_exit: end the calling thread; does not return."""
    raise ThreadExit
