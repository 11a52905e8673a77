"""Generic object syscalls: object_get_info, object_get_property/set_property, get_child."""

from __future__ import annotations

from typing import Any

from pyzircon.abi import props as prop_ids
from pyzircon.abi.exceptions import ZX_EXCEPTION_CHANNEL_TYPE_DEBUGGER
from pyzircon.abi.info import ZX_INFO_HANDLE_VALID
from pyzircon.abi.rights import (
    ZX_RIGHT_ENUMERATE,
    ZX_RIGHT_GET_PROPERTY,
    ZX_RIGHT_SAME_RIGHTS,
    ZX_RIGHT_SET_PROPERTY,
)
from pyzircon.abi.status import (
    ZX_ERR_ACCESS_DENIED,
    ZX_ERR_BAD_STATE,
    ZX_ERR_BUFFER_TOO_SMALL,
    ZX_ERR_INVALID_ARGS,
    ZX_ERR_NOT_FOUND,
    ZX_ERR_NOT_SUPPORTED,
    ZX_ERR_WRONG_TYPE,
)
from pyzircon.errors import ZxError
from pyzircon.kernel.objects.exception import ExceptionObject
from pyzircon.kernel.objects.job import Job
from pyzircon.kernel.objects.process import Process
from pyzircon.kernel.objects.thread import Thread
from pyzircon.kernel.objects.vmo import VmoDispatcher
from pyzircon.syscalls import info_task, info_vm
from pyzircon.syscalls.common import (
    check_rights,
    get_handle,
    syscall,
    to_int,
    to_name,
    to_u32,
    to_u64,
)
from pyzircon.syscalls.info_common import InfoTopic
from pyzircon.syscalls.vmo import get_content_size, set_content_size

INFO_TOPICS: dict[int, InfoTopic] = {**info_task.TOPICS, **info_vm.TOPICS}

# Objects that keep a ZX_PROP_NAME; setting the name of any other object is
# ZX_ERR_NOT_SUPPORTED.
_NAMED = (Process, Thread, Job, VmoDispatcher)

_EXCEPTION_STATES = (
    prop_ids.ZX_EXCEPTION_STATE_TRY_NEXT,
    prop_ids.ZX_EXCEPTION_STATE_HANDLED,
    prop_ids.ZX_EXCEPTION_STATE_THREAD_EXIT,
)
_EXCEPTION_STRATEGIES = (
    prop_ids.ZX_EXCEPTION_STRATEGY_FIRST_CHANCE,
    prop_ids.ZX_EXCEPTION_STRATEGY_SECOND_CHANCE,
)


@syscall
def object_get_info(thread: Thread, handle: object, topic: object, capacity: object = None) -> Any:
    """zx_object_get_info: read a ZX_INFO_* topic of an object.

    Without `capacity` it returns the record (single-record topics) or the list of
    records; with `capacity` it returns (records, actual, avail) as the C call reports
    them, keeping at most `capacity` records. ZX_INFO_HANDLE_VALID returns None, or
    ([], 0, 0) with a capacity: it has no record, so it never fails for lack of room.

    Checks, in order:
    1. `topic` is known -> ZX_ERR_NOT_SUPPORTED
    2. `handle` is valid -> ZX_ERR_BAD_HANDLE (ZX_INFO_HANDLE_VALID alone does not apply
       the caller's ZX_POL_BAD_HANDLE policy)
    3. the object has the topic's type -> ZX_ERR_WRONG_TYPE
    4. the handle has the topic's rights (usually ZX_RIGHT_INSPECT) -> ZX_ERR_ACCESS_DENIED
    5. the topic's own state checks (for example ZX_ERR_BAD_STATE): the kernel computes
       the records before it writes any to the caller's buffer
    6. `capacity` is None or a count -> ZX_ERR_INVALID_ARGS
    7. a single-record topic has room for its record -> ZX_ERR_BUFFER_TOO_SMALL
    """
    topic_id = to_u32(topic, "topic", ZX_ERR_NOT_SUPPORTED)
    entry = INFO_TOPICS.get(topic_id)
    if entry is None:
        raise ZxError(ZX_ERR_NOT_SUPPORTED, f"topic {topic_id:#x} is not supported")

    target = get_handle(thread, handle, policy=topic_id != ZX_INFO_HANDLE_VALID)
    obj = target.obj
    if not isinstance(obj, entry.kind):
        raise ZxError(
            ZX_ERR_WRONG_TYPE,
            f"{entry.name} needs a {entry.kind.__name__.lower()} handle, not a {obj.type_name}",
        )
    check_rights(target, entry.rights)

    records = entry.read(thread, target, obj)

    room = None if capacity is None else to_u64(capacity, "capacity")
    if topic_id == ZX_INFO_HANDLE_VALID:
        # The topic has no record, so no buffer is too small and nothing is counted.
        return None if room is None else ([], 0, 0)
    if entry.single and room is not None and room < 1:
        raise ZxError(ZX_ERR_BUFFER_TOO_SMALL, f"{entry.name} needs room for one record")
    if room is None:
        return records
    if entry.single:
        return ([records], 1, 1)
    kept = records[:room]
    return (kept, len(kept), len(records))


@syscall
def object_get_property(thread: Thread, handle: object, property: object) -> Any:
    """zx_object_get_property: read a ZX_PROP_* value.

    Checks, in order:
    1. `handle` is valid -> ZX_ERR_BAD_HANDLE
    2. it has ZX_RIGHT_GET_PROPERTY -> ZX_ERR_ACCESS_DENIED
    3. `property` is a readable property that pyzircon serves -> ZX_ERR_NOT_SUPPORTED
       (ZX_PROP_JOB_KILL_ON_OOM can only be set)
    4. the object has the property -> ZX_ERR_WRONG_TYPE (ZX_PROP_EXCEPTION_STATE and
       ZX_PROP_EXCEPTION_STRATEGY belong to exceptions)
    """
    target = get_handle(thread, handle)
    check_rights(target, ZX_RIGHT_GET_PROPERTY)
    prop = to_u32(property, "property", ZX_ERR_NOT_SUPPORTED)
    obj = target.obj

    if prop == prop_ids.ZX_PROP_NAME:
        # Objects without a name report an empty one.
        return obj.name if isinstance(obj, _NAMED) else ""
    if prop == prop_ids.ZX_PROP_PROCESS_DEBUG_ADDR:
        return _as_process(obj, prop).debug_addr
    if prop == prop_ids.ZX_PROP_PROCESS_BREAK_ON_LOAD:
        return _as_process(obj, prop).break_on_load
    if prop == prop_ids.ZX_PROP_PROCESS_VDSO_BASE_ADDRESS:
        return _as_process(obj, prop).shared_state.vdso_base_address
    if prop == prop_ids.ZX_PROP_VMO_CONTENT_SIZE:
        return get_content_size(obj)
    if prop == prop_ids.ZX_PROP_EXCEPTION_STATE:
        return _as_exception(obj, prop).disposition
    if prop == prop_ids.ZX_PROP_EXCEPTION_STRATEGY:
        second_chance = _as_exception(obj, prop).second_chance
        return (
            prop_ids.ZX_EXCEPTION_STRATEGY_SECOND_CHANCE
            if second_chance
            else prop_ids.ZX_EXCEPTION_STRATEGY_FIRST_CHANCE
        )
    if prop == prop_ids.ZX_PROP_PROCESS_HW_TRACE_CONTEXT_ID:
        # DIVERGENCE(zircon): with the boot option kernel.enable-debugging-syscalls, Zircon
        # on x86-64 reports the page-table root (CR3) here. pyzircon has no page tables, so
        # it returns what a kernel without that option returns, on every architecture.
        raise ZxError(
            ZX_ERR_NOT_SUPPORTED,
            "ZX_PROP_PROCESS_HW_TRACE_CONTEXT_ID needs hardware page tables, which "
            "pyzircon does not model",
        )
    raise ZxError(
        ZX_ERR_NOT_SUPPORTED,
        f"property {prop} cannot be read: it does not exist or pyzircon does not serve it",
    )


@syscall
def object_set_property(thread: Thread, handle: object, property: object, value: object) -> None:
    """zx_object_set_property: write a ZX_PROP_* value.

    Checks, in order:
    1. `value` is not None (a null pointer) -> ZX_ERR_INVALID_ARGS
    2. `handle` is valid -> ZX_ERR_BAD_HANDLE
    3. it has ZX_RIGHT_SET_PROPERTY -> ZX_ERR_ACCESS_DENIED
    4. `property` is a writable property that pyzircon serves -> ZX_ERR_NOT_SUPPORTED
    5. ZX_PROP_NAME: `value` is str or bytes -> ZX_ERR_INVALID_ARGS, then the object
       keeps a name (process, thread, job, VMO) -> ZX_ERR_NOT_SUPPORTED; any other
       property: the object has it -> ZX_ERR_WRONG_TYPE (ZX_PROP_VMO_CONTENT_SIZE first
       needs ZX_RIGHT_WRITE -> ZX_ERR_ACCESS_DENIED)
    6. ZX_PROP_EXCEPTION_STRATEGY: the exception is being offered to a process debugger
       channel -> ZX_ERR_BAD_STATE
    7. `value` fits the property (an address; 0 or 1 for ZX_PROP_JOB_KILL_ON_OOM; a
       ZX_EXCEPTION_STATE_* or ZX_EXCEPTION_STRATEGY_* value) -> ZX_ERR_INVALID_ARGS
    """
    if value is None:
        raise ZxError(ZX_ERR_INVALID_ARGS, "value must not be None (a null pointer)")
    target = get_handle(thread, handle)
    check_rights(target, ZX_RIGHT_SET_PROPERTY)
    prop = to_u32(property, "property", ZX_ERR_NOT_SUPPORTED)
    obj = target.obj

    if prop == prop_ids.ZX_PROP_NAME:
        name = to_name(value, "name")
        if not isinstance(obj, _NAMED):
            raise ZxError(ZX_ERR_NOT_SUPPORTED, f"a {obj.type_name} has no name to set")
        obj.name = name
        return
    if prop == prop_ids.ZX_PROP_PROCESS_DEBUG_ADDR:
        process = _as_process(obj, prop)
        process.debug_addr = to_u64(value, "debug address")
        return
    if prop == prop_ids.ZX_PROP_PROCESS_BREAK_ON_LOAD:
        process = _as_process(obj, prop)
        process.break_on_load = to_u64(value, "break-on-load address")
        return
    if prop == prop_ids.ZX_PROP_VMO_CONTENT_SIZE:
        set_content_size(target.rights, obj, value)
        return
    if prop == prop_ids.ZX_PROP_JOB_KILL_ON_OOM:
        job = _as_job(obj, prop)
        flag = to_int(value, "kill-on-OOM flag", 0, 1, ZX_ERR_INVALID_ARGS)
        job.kill_on_oom = bool(flag)
        return
    if prop == prop_ids.ZX_PROP_EXCEPTION_STATE:
        exception = _as_exception(obj, prop)
        state = to_u32(value, "exception state")
        if state not in _EXCEPTION_STATES:
            raise ZxError(
                ZX_ERR_INVALID_ARGS,
                f"exception state {state} is not ZX_EXCEPTION_STATE_TRY_NEXT, _HANDLED or "
                "_THREAD_EXIT",
            )
        # After a kill the state is kept but no longer acts: the thread does not wait.
        exception.disposition = state
        return
    if prop == prop_ids.ZX_PROP_EXCEPTION_STRATEGY:
        exception = _as_exception(obj, prop)
        if exception.thread.exception_channel_type != ZX_EXCEPTION_CHANNEL_TYPE_DEBUGGER:
            raise ZxError(
                ZX_ERR_BAD_STATE,
                "only the process debugger's exception handle may set "
                "ZX_PROP_EXCEPTION_STRATEGY",
            )
        strategy = to_u32(value, "exception strategy")
        if strategy not in _EXCEPTION_STRATEGIES:
            raise ZxError(
                ZX_ERR_INVALID_ARGS,
                f"exception strategy {strategy} is not ZX_EXCEPTION_STRATEGY_FIRST_CHANCE "
                "or _SECOND_CHANCE",
            )
        exception.second_chance = strategy == prop_ids.ZX_EXCEPTION_STRATEGY_SECOND_CHANCE
        return
    raise ZxError(
        ZX_ERR_NOT_SUPPORTED,
        f"property {prop} cannot be set: it does not exist, is read-only, or pyzircon "
        "does not serve it",
    )


def _as_process(obj: object, prop: int) -> Process:
    if not isinstance(obj, Process):
        raise ZxError(ZX_ERR_WRONG_TYPE, f"property {prop} belongs to processes")
    return obj


def _as_exception(obj: object, prop: int) -> ExceptionObject:
    if not isinstance(obj, ExceptionObject):
        raise ZxError(ZX_ERR_WRONG_TYPE, f"property {prop} belongs to exceptions")
    return obj


def _as_job(obj: object, prop: int) -> Job:
    if not isinstance(obj, Job):
        raise ZxError(ZX_ERR_WRONG_TYPE, f"property {prop} belongs to jobs")
    return obj


@syscall
def object_get_child(thread: Thread, handle: object, koid: object, rights: object) -> int:
    """zx_object_get_child: a handle to a job's child job or process, or a process's thread.

    The new handle has the parent handle's rights (ZX_RIGHT_SAME_RIGHTS) or `rights`.

    Checks, in order:
    1. `handle` is valid -> ZX_ERR_BAD_HANDLE
    2. it has ZX_RIGHT_ENUMERATE -> ZX_ERR_ACCESS_DENIED
    3. `rights` is ZX_RIGHT_SAME_RIGHTS or a subset of the handle's -> ZX_ERR_ACCESS_DENIED
    4. the object is a job or a process -> ZX_ERR_WRONG_TYPE
    5. a child with `koid` exists -> ZX_ERR_NOT_FOUND
    """
    parent = get_handle(thread, handle)
    check_rights(parent, ZX_RIGHT_ENUMERATE)
    wanted = to_u32(rights, "rights")
    if wanted == ZX_RIGHT_SAME_RIGHTS:
        wanted = parent.rights
    elif wanted & ~parent.rights:
        raise ZxError(
            ZX_ERR_ACCESS_DENIED,
            f"rights {wanted:#x} are not a subset of the handle's {parent.rights:#x}",
        )
    child_koid = to_u64(koid, "koid")

    obj = parent.obj
    children: list[Any]
    if isinstance(obj, Process):
        children = list(obj.threads)
    elif isinstance(obj, Job):
        children = [*obj.jobs, *obj.processes]
    else:
        raise ZxError(ZX_ERR_WRONG_TYPE, f"a {obj.type_name} has no children")

    for child in children:
        if child.koid == child_koid:
            new = thread.kernel.handle_arena.allocate(child, wanted)
            return thread.process.handle_table.add(new)
    raise ZxError(ZX_ERR_NOT_FOUND, f"no child with koid {child_koid} under {obj!r}")
