"""Generic object syscalls: object_get_info, object_get_property/set_property, get_child."""

from __future__ import annotations

from typing import Any

from pyzircon.abi import props as prop_ids
from pyzircon.abi.rights import (
    ZX_RIGHT_ENUMERATE,
    ZX_RIGHT_GET_PROPERTY,
    ZX_RIGHT_SAME_RIGHTS,
    ZX_RIGHT_SET_PROPERTY,
)
from pyzircon.abi.status import (
    ZX_ERR_ACCESS_DENIED,
    ZX_ERR_BUFFER_TOO_SMALL,
    ZX_ERR_INVALID_ARGS,
    ZX_ERR_NOT_FOUND,
    ZX_ERR_NOT_SUPPORTED,
    ZX_ERR_WRONG_TYPE,
)
from pyzircon.errors import ZxError
from pyzircon.kernel.objects.job import Job
from pyzircon.kernel.objects.process import Process
from pyzircon.kernel.objects.thread import Thread
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

INFO_TOPICS: dict[int, InfoTopic] = {**info_task.TOPICS, **info_vm.TOPICS}

# Objects whose ZX_PROP_NAME is kept; others report an empty name and ignore a new one.
_NAMED = (Process, Thread, Job)


@syscall
def object_get_info(thread: Thread, handle: object, topic: object, capacity: object = None) -> Any:
    """zx_object_get_info: read a ZX_INFO_* topic of an object.

    Without `capacity` it returns the record (single-record topics) or the list of
    records; with `capacity` it returns (records, actual, avail) as the C call reports
    them, keeping at most `capacity` records. ZX_INFO_HANDLE_VALID returns None.

    Checks, in order:
    1. `topic` is known -> ZX_ERR_NOT_SUPPORTED
    2. `handle` is valid -> ZX_ERR_BAD_HANDLE
    3. the object has the topic's type -> ZX_ERR_WRONG_TYPE
    4. the handle has the topic's rights (usually ZX_RIGHT_INSPECT) -> ZX_ERR_ACCESS_DENIED
    5. `capacity` is None or a count -> ZX_ERR_INVALID_ARGS
    6. a single-record topic has room for its record -> ZX_ERR_BUFFER_TOO_SMALL
    7. the topic's own state checks (for example ZX_ERR_BAD_STATE)
    """
    topic_id = to_u32(topic, "topic", ZX_ERR_NOT_SUPPORTED)
    entry = INFO_TOPICS.get(topic_id)
    if entry is None:
        raise ZxError(ZX_ERR_NOT_SUPPORTED, f"topic {topic_id:#x} is not supported")

    target = get_handle(thread, handle)
    obj = target.obj
    if not isinstance(obj, entry.kind):
        raise ZxError(
            ZX_ERR_WRONG_TYPE,
            f"{entry.name} needs a {entry.kind.__name__.lower()} handle, not a {obj.type_name}",
        )
    check_rights(target, entry.rights)

    room = None if capacity is None else to_u64(capacity, "capacity")
    if entry.single and room is not None and room < 1:
        raise ZxError(ZX_ERR_BUFFER_TOO_SMALL, f"{entry.name} needs room for one record")

    records = entry.read(thread, target, obj)
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
    3. `property` exists -> ZX_ERR_INVALID_ARGS
    4. the object has the property -> ZX_ERR_WRONG_TYPE
    """
    target = get_handle(thread, handle)
    check_rights(target, ZX_RIGHT_GET_PROPERTY)
    prop = to_u32(property, "property")
    obj = target.obj

    if prop == prop_ids.ZX_PROP_NAME:
        return getattr(obj, "name", "") if isinstance(obj, _NAMED) else _vm_name(obj)
    if prop == prop_ids.ZX_PROP_PROCESS_DEBUG_ADDR:
        return _as_process(obj, prop).debug_addr
    if prop == prop_ids.ZX_PROP_PROCESS_BREAK_ON_LOAD:
        return _as_process(obj, prop).break_on_load
    if prop == prop_ids.ZX_PROP_PROCESS_VDSO_BASE_ADDRESS:
        return _as_process(obj, prop).shared_state.vdso_base_address
    if prop == prop_ids.ZX_PROP_JOB_KILL_ON_OOM:
        return int(_as_job(obj, prop).kill_on_oom)
    raise ZxError(ZX_ERR_INVALID_ARGS, f"property {prop} is not supported")


@syscall
def object_set_property(thread: Thread, handle: object, property: object, value: object) -> None:
    """zx_object_set_property: write a ZX_PROP_* value.

    Checks, in order:
    1. `handle` is valid -> ZX_ERR_BAD_HANDLE
    2. it has ZX_RIGHT_SET_PROPERTY -> ZX_ERR_ACCESS_DENIED
    3. `property` exists and is writable -> ZX_ERR_INVALID_ARGS
    4. the object has the property -> ZX_ERR_WRONG_TYPE
    5. `value` fits the property -> ZX_ERR_INVALID_ARGS
    """
    target = get_handle(thread, handle)
    check_rights(target, ZX_RIGHT_SET_PROPERTY)
    prop = to_u32(property, "property")
    obj = target.obj

    if prop == prop_ids.ZX_PROP_NAME:
        name = to_name(value, "name")
        if isinstance(obj, _NAMED):
            obj.name = name
        elif hasattr(obj, "vmo"):
            obj.vmo.name = name
        return
    if prop == prop_ids.ZX_PROP_PROCESS_DEBUG_ADDR:
        _as_process(obj, prop).debug_addr = to_u64(value, "debug address")
        return
    if prop == prop_ids.ZX_PROP_PROCESS_BREAK_ON_LOAD:
        _as_process(obj, prop).break_on_load = to_u64(value, "break-on-load address")
        return
    if prop == prop_ids.ZX_PROP_JOB_KILL_ON_OOM:
        job = _as_job(obj, prop)
        flag = to_int(value, "kill-on-OOM flag", 0, 1, ZX_ERR_INVALID_ARGS)
        job.kill_on_oom = bool(flag)
        return
    raise ZxError(ZX_ERR_INVALID_ARGS, f"property {prop} is not supported or not writable")


def _vm_name(obj: object) -> str:
    vmo = getattr(obj, "vmo", None)
    return str(getattr(vmo, "name", ""))


def _as_process(obj: object, prop: int) -> Process:
    if not isinstance(obj, Process):
        raise ZxError(ZX_ERR_WRONG_TYPE, f"property {prop} belongs to processes")
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
