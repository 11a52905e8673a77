"""Process syscalls, `zx_process_create_shared` among them."""

from __future__ import annotations

from pyzircon.abi.policy import ZX_POL_NEW_PROCESS
from pyzircon.abi.rights import (
    ZX_DEFAULT_PROCESS_RIGHTS,
    ZX_RIGHT_MANAGE_PROCESS,
    ZX_RIGHT_TRANSFER,
    ZX_RIGHT_WRITE,
)
from pyzircon.abi.status import ZX_ERR_ACCESS_DENIED, ZX_ERR_BAD_HANDLE, ZX_ERR_INVALID_ARGS
from pyzircon.abi.task import ZX_HANDLE_INVALID, ZX_PROCESS_SHARED
from pyzircon.errors import ZxError
from pyzircon.kernel.objects.job import Job
from pyzircon.kernel.objects.process import Process
from pyzircon.kernel.objects.thread import Thread
from pyzircon.kernel.objects.vmar import ROOT_VMAR_RIGHTS, VmarDispatcher
from pyzircon.kernel.sched.scheduler import ThreadExit
from pyzircon.syscalls.common import (
    bad_handle_policy,
    enforce_policy,
    get_object,
    publish,
    syscall,
    to_i64,
    to_name,
    to_u32,
    to_word,
)
from pyzircon.syscalls.entry import validate_entry


def _publish(thread: Thread, process: Process, vmar_root: VmarDispatcher) -> tuple[int, int]:
    """Add the new process and its VMAR to the caller's table, process first.

    If either handle cannot be made, neither is added and the process, which then has no
    handle, dies unstarted.
    """
    process_value, vmar_value = publish(
        thread, (process, ZX_DEFAULT_PROCESS_RIGHTS), (vmar_root, ROOT_VMAR_RIGHTS)
    )
    return process_value, vmar_value


def _add_to_job(job: Job, process: Process) -> None:
    """Put the finished process in its job; on failure the process dies unseen."""
    try:
        job.add_process(process)
    except ZxError:
        process.kill(0)
        raise


@syscall
def process_create(thread: Thread, job: object, name: object, options: object) -> tuple[int, int]:
    """zx_process_create: create a process in `job`; return (process, root VMAR) handles.

    With ZX_PROCESS_SHARED the process is a prototype: its address space covers only the
    shared range, and zx_process_create_shared can add members to its group.

    Checks, in order:
    1. options is 0 or ZX_PROCESS_SHARED -> ZX_ERR_INVALID_ARGS
    2. the caller's ZX_POL_NEW_PROCESS policy (not the job's) -> ZX_ERR_ACCESS_DENIED
    3. `name` is str or bytes (None is a null pointer) -> ZX_ERR_INVALID_ARGS; longer
       names are cut to 31 bytes
    4. `job` is a job handle with ZX_RIGHT_MANAGE_PROCESS -> ZX_ERR_BAD_HANDLE,
       ZX_ERR_WRONG_TYPE, ZX_ERR_ACCESS_DENIED
    5. the job is not dying or dead -> ZX_ERR_BAD_STATE
    """
    flags = to_u32(options, "options")
    if flags not in (0, ZX_PROCESS_SHARED):
        raise ZxError(
            ZX_ERR_INVALID_ARGS, f"options must be 0 or ZX_PROCESS_SHARED, not {flags:#x}"
        )

    enforce_policy(thread, ZX_POL_NEW_PROCESS)
    process_name = to_name(name)
    parent = get_object(thread, job, Job, ZX_RIGHT_MANAGE_PROCESS)

    process = Process.create(thread.kernel, parent, process_name, shared=bool(flags))
    _add_to_job(parent, process)
    return _publish(thread, process, process.shared_state.root_vmar)


@syscall
def process_create_shared(
    thread: Thread, shared_proc: object, options: object, name: object
) -> tuple[int, int]:
    """zx_process_create_shared: create a process sharing `shared_proc`'s group.

    The new process joins `shared_proc`'s job and shares its shared address space, handle
    table and futex context; it gets its own restricted address space. Returns (process,
    restricted root VMAR) handles. `shared_proc` may be a prototype or a member, and a
    dead one still works while another process of its group lives.

    Checks, in order:
    1. options == 0 -> ZX_ERR_INVALID_ARGS
    2. the caller's ZX_POL_NEW_PROCESS policy (not that of `shared_proc`'s job) ->
       ZX_ERR_ACCESS_DENIED
    3. `name` is str or bytes -> ZX_ERR_INVALID_ARGS; longer names are cut to 31 bytes
    4. `shared_proc` is valid -> ZX_ERR_BAD_HANDLE
    5. it is a process -> ZX_ERR_WRONG_TYPE
    6. it has ZX_RIGHT_MANAGE_PROCESS -> ZX_ERR_ACCESS_DENIED
    7. it was created with ZX_PROCESS_SHARED or by this call -> ZX_ERR_INVALID_ARGS
    8. some process of its group is still alive -> ZX_ERR_BAD_STATE
    9. its job is not dying or dead -> ZX_ERR_BAD_STATE
    """
    if to_u32(options, "options") != 0:
        raise ZxError(ZX_ERR_INVALID_ARGS, f"options must be 0, not {options:#x}")

    enforce_policy(thread, ZX_POL_NEW_PROCESS)
    process_name = to_name(name)

    # DIVERGENCE(zircon): the newest kernel also requires ZX_RIGHT_GET_PROPERTY here; the
    # published reference page asks for ZX_RIGHT_MANAGE_PROCESS only, and pyzircon follows it.
    prototype = get_object(thread, shared_proc, Process, ZX_RIGHT_MANAGE_PROCESS)

    process = Process.create_shared(thread.kernel, prototype, process_name)
    assert process.restricted_vmar is not None
    _add_to_job(prototype.job, process)
    return _publish(thread, process, process.restricted_vmar)


@syscall
def process_start(
    thread: Thread,
    process: object,
    thread_handle: object,
    entry: object,
    stack: object,
    arg1: object,
    arg2: object,
) -> None:
    """zx_process_start: start `thread_handle` as the first thread of `process`.

    `arg1` is a handle moved into the process's table; the entry receives its new value.
    The caller loses `arg1` whether or not the call succeeds (once the lookups of
    `process` and `thread_handle` fail, it is closed as well).

    Checks, in order:
    1. `process` is a process handle with ZX_RIGHT_WRITE -> ZX_ERR_BAD_HANDLE,
       ZX_ERR_WRONG_TYPE, ZX_ERR_ACCESS_DENIED
    2. `thread_handle` is a thread handle with ZX_RIGHT_WRITE -> same statuses
    3. `arg1` is an int -> ZX_ERR_BAD_HANDLE; unless it is ZX_HANDLE_INVALID it is taken
       out of the caller's table, and a value that names nothing (any int outside
       [0, 2**32) included) is dropped and the start continues without a handle
    4. the thread belongs to `process` -> ZX_ERR_ACCESS_DENIED
    5. `arg1` has ZX_RIGHT_TRANSFER -> ZX_ERR_ACCESS_DENIED
    6. the process has not started -> ZX_ERR_BAD_STATE
    7. `entry` is a callable, or an integer user address -> ZX_ERR_INVALID_ARGS; an
       integer address gives ZX_ERR_NOT_SUPPORTED (no machine code in normal mode)
    8. the thread has not started -> ZX_ERR_BAD_STATE
    """
    table = thread.process.handle_table
    arg1_value = arg1 if isinstance(arg1, int) and not isinstance(arg1, bool) else None

    try:
        target = get_object(thread, process, Process, ZX_RIGHT_WRITE)
        new_thread = get_object(thread, thread_handle, Thread, ZX_RIGHT_WRITE)
    except ZxError:
        if arg1_value:
            table.close(arg1_value)
        raise

    if arg1_value is None:
        bad_handle_policy(thread)
        raise ZxError(
            ZX_ERR_BAD_HANDLE, f"arg1 must be a handle value (an int), not {type(arg1).__name__}"
        )
    moved = table.detach(arg1_value) if arg1_value else None
    if arg1_value and moved is None:
        # The start goes on without a handle, but the lookup failed like any other.
        bad_handle_policy(thread)
    arena = thread.kernel.handle_arena

    if new_thread.process is not target:
        if moved is not None:
            arena.destroy(moved)
        raise ZxError(
            ZX_ERR_ACCESS_DENIED,
            f"thread {new_thread.name!r} belongs to process koid {new_thread.process.koid}, "
            f"not to {target.name!r} (koid {target.koid})",
        )
    if moved is not None and not moved.rights & ZX_RIGHT_TRANSFER:
        arena.destroy(moved)
        raise ZxError(ZX_ERR_ACCESS_DENIED, "the arg1 handle lacks ZX_RIGHT_TRANSFER")

    value_in_target = target.handle_table.add(moved) if moved is not None else ZX_HANDLE_INVALID
    try:
        target.check_can_add_thread(initial=True)
        callable_entry = validate_entry(thread, entry)
        to_word(stack, "stack")
        target.add_thread(
            new_thread, callable_entry, value_in_target, to_word(arg2, "arg2"), initial=True
        )
    except ZxError:
        if moved is not None:
            target.handle_table.close(value_in_target)
        raise


@syscall
def process_exit(thread: Thread, retcode: object) -> None:
    """zx_process_exit: end the caller's process with `retcode`; does not return.

    Checks, in order:
    1. `retcode` is a 64-bit signed integer -> ZX_ERR_INVALID_ARGS
    """
    code = to_i64(retcode, "retcode")
    thread.process.exit(code)
    raise ThreadExit
