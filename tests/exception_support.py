"""Guest-side helpers for tests of exceptions, exception channels and job policy.

Every function runs inside a machine. Tests import them as
`from exception_support import read_exception, answer, ...`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from guest_tasks import start
from pyzircon import user, zx

PAGE = 4096
INFINITE = zx.ZX_TIME_INFINITE
HANDLED = zx.ZX_EXCEPTION_STATE_HANDLED
TRY_NEXT = zx.ZX_EXCEPTION_STATE_TRY_NEXT
THREAD_EXIT = zx.ZX_EXCEPTION_STATE_THREAD_EXIT


def read_exception(channel: int) -> tuple[zx.ExceptionInfo, int]:
    """Block until `channel` holds an exception; return its info and the exception handle."""
    zx.object_wait_one(channel, zx.ZX_CHANNEL_READABLE, INFINITE)
    data, handles = zx.channel_read(channel, 0, zx.ZX_EXCEPTION_INFO_SIZE, 1)
    assert len(handles) == 1, f"an exception message carries one handle, not {handles}"
    return zx.ExceptionInfo.from_bytes(data), handles[0]


def answer(exception: int, state: int | None = None) -> None:
    """Set the exception's ZX_PROP_EXCEPTION_STATE (unless None) and close it."""
    if state is not None:
        zx.object_set_property(exception, zx.ZX_PROP_EXCEPTION_STATE, state)
    zx.handle_close(exception)


def hole() -> int:
    """Return the address of a page that belongs to a fresh VMAR and has no mapping."""
    options = zx.ZX_VM_CAN_MAP_READ | zx.ZX_VM_CAN_MAP_WRITE | zx.ZX_VM_CAN_MAP_SPECIFIC
    _region, address = zx.vmar_allocate(zx.vmar_root_self(), options, 0, PAGE)
    return int(address)


def region_with_hole(vmar: int | None = None) -> tuple[int, int]:
    """Return (VMAR handle, address) of a one-page VMAR with nothing mapped in it yet.

    The VMAR is a child of `vmar`, by default the caller's root VMAR.
    """
    options = zx.ZX_VM_CAN_MAP_READ | zx.ZX_VM_CAN_MAP_WRITE | zx.ZX_VM_CAN_MAP_SPECIFIC
    parent = zx.vmar_root_self() if vmar is None else vmar
    region, address = zx.vmar_allocate(parent, options, 0, PAGE)
    return region, int(address)


def child_with_hole(job: int | None = None) -> tuple[int, int, int]:
    """Return (process, VMAR, address): a new process and an empty one-page VMAR in it."""
    process, root = zx.process_create(zx.job_default() if job is None else job, "child", 0)
    region, address = region_with_hole(root)
    return int(process), region, address


def map_into(region: int, data: bytes = b"") -> int:
    """Map a fresh read-write page at the start of `region`, holding `data`; return it."""
    vmo = zx.vmo_create(PAGE, 0)
    if data:
        zx.vmo_write(vmo, data, 0)
    rw = zx.ZX_VM_PERM_READ | zx.ZX_VM_PERM_WRITE | zx.ZX_VM_SPECIFIC
    address = zx.vmar_map(region, rw, 0, vmo, 0, PAGE)
    zx.handle_close(vmo)
    return int(address)


def faulting_load(address: int, box: dict[str, Any]) -> Callable[[int, int], int]:
    """Return a thread entry that loads 4 bytes at `address` into box["loaded"]."""

    def entry(arg1: int, arg2: int) -> int:
        box["loaded"] = user.load(address, 4)
        return 0

    return entry


def child_process(job: int | None = None, name: str = "child") -> int:
    process, _vmar = zx.process_create(zx.job_default() if job is None else job, name, 0)
    return int(process)


def run_process(job: int, body: Callable[[], Any], name: str = "child") -> int:
    """Run `body()` as the first thread of a new process in `job`; return its return code.

    Blocks until the process terminates.
    """
    process = child_process(job, name)

    def entry(arg1: int, arg2: int) -> int:
        result = body()
        return result if isinstance(result, int) else 0

    start(process, entry)
    zx.object_wait_one(process, zx.ZX_PROCESS_TERMINATED, INFINITE)
    code = zx.object_get_info(process, zx.ZX_INFO_PROCESS).return_code
    zx.handle_close(process)
    return int(code)


def job_with_policy(
    entries: list[Any],
    mode: int = zx.ZX_JOB_POL_RELATIVE,
    topic: int = zx.ZX_JOB_POL_BASIC_V2,
    parent: int | None = None,
) -> int:
    """Create a child job (of the default job, or `parent`) and set its basic policy."""
    job = zx.job_create(zx.job_default() if parent is None else parent, 0)
    zx.job_set_policy(job, mode, topic, entries)
    return int(job)


def deny(condition: int, action: int = zx.ZX_POL_ACTION_DENY) -> zx.PolicyBasicV2:
    return zx.PolicyBasicV2(condition, action, zx.ZX_POL_OVERRIDE_DENY)
