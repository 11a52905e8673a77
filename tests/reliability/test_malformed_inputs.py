"""Every public zx function, fed malformed arguments, fails with ZxError and nothing else.

The functions are found at run time, so syscalls added later are swept too. For each one,
each argument in turn is replaced by a value of the wrong type, a negative number, 2**64
or more, or None, while the other arguments keep plausible values. Every call runs in a
fresh machine and must end in ZxError.

A call may also succeed, but only where the parameter takes the value. Negative numbers
are valid for signed parameters (a deadline, a return code, a register), and None where
None is the documented default. A name takes str or bytes, a buffer takes bytes, and a
list of handles takes a list. Two parameters take more, as listed in ANY_INT and UNREAD
below. Calling with one argument too many must raise TypeError from Python's own call
binding.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest

from pyzircon import Kernel, ZxError, zx
from pyzircon.kernel.sched.scheduler import Deadlock

PAGE = zx.PAGE_SIZE


def public_functions() -> dict[str, Callable[..., Any]]:
    """Return every public function of pyzircon.zx, by name."""
    found = {}
    for name in sorted(set(zx.__all__) | {n for n in dir(zx) if not n.startswith("_")}):
        value = getattr(zx, name, None)
        if inspect.isclass(value) or not callable(value):
            continue
        if not getattr(value, "__module__", "").startswith("pyzircon"):
            continue
        found[name] = value
    return found


FUNCTIONS = public_functions()


def parameters(function: Callable[..., Any]) -> list[inspect.Parameter]:
    """Return the parameters a guest passes: a syscall's first one is the calling thread."""
    listed = list(inspect.signature(function).parameters.values())
    if hasattr(function, "__wrapped__") and listed and listed[0].name == "thread":
        listed = listed[1:]
    return [p for p in listed if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


# Values no parameter of that name may take.
MALFORMED: list[tuple[str, Any]] = [
    ("str", "7"),
    ("float", 1.5),
    ("bytes", b"\x07"),
    ("list", [7]),
    ("dict", {}),
    ("object", object()),
    ("bool", True),
    ("negative", -1),
    ("below int64", -(1 << 63) - 1),
    ("2**64", 1 << 64),
    ("2**64 + 1", (1 << 64) + 1),
    ("2**100", 1 << 100),
    ("None", None),
]

# Parameters that are signed 64-bit values in C, so negative numbers are valid.
SIGNED = {"deadline", "retcode", "arg1", "arg2", "stack", "nanoseconds"}
NAMES = {"name", "value"}
BUFFERS = {"data", "bytes", "wr_bytes", "buffer"}
LISTS = {"handles", "wr_handles", "items"}
# Parameters that take any int: zx_process_start drops an arg1 that names no handle and
# starts the process anyway.
ANY_INT = {("process_start", "arg1")}
# Parameters the baseline call never reads: the buffer of a ZX_VMO_OP_COMMIT.
UNREAD = {("vmo_op_range", "buffer")}


def accepts(function: str, parameter: inspect.Parameter, kind: str, value: Any) -> bool:
    """Whether a call may succeed with `value` for `parameter` (see the module docstring)."""
    name = parameter.name
    if (function, name) in UNREAD:
        return True
    if (function, name) in ANY_INT and isinstance(value, int) and not isinstance(value, bool):
        return True
    if value is None:
        return parameter.default is None
    if kind in ("negative", "below int64"):
        return name in SIGNED and value >= -(1 << 63)
    if name in NAMES and isinstance(value, (str, bytes)):
        return True
    if name in BUFFERS and isinstance(value, bytes):
        return True
    return name in LISTS and isinstance(value, list)


def _entry(arg1: int, arg2: int) -> int:
    return 0


def _mapped_address() -> int:
    vmo = zx.vmo_create(PAGE, 0)
    rw = zx.ZX_VM_PERM_READ | zx.ZX_VM_PERM_WRITE
    return int(zx.vmar_map(zx.vmar_root_self(), rw, 0, vmo, 0, PAGE))


def _optional(name: str) -> Callable[..., Any] | None:
    return getattr(zx, name, None)


def _handle_for(function: str, made: dict[str, Any]) -> int:
    """Return a handle of the kind `function`'s `handle` parameter names."""
    if function.startswith("vmo_"):
        return int(zx.vmo_create(PAGE, zx.ZX_VMO_RESIZABLE))
    if function.startswith("vmar_"):
        options = zx.ZX_VM_CAN_MAP_READ | zx.ZX_VM_CAN_MAP_WRITE | zx.ZX_VM_CAN_MAP_SPECIFIC
        region = int(zx.vmar_allocate(zx.vmar_root_self(), options, 0, 16 * PAGE)[0])
        vmo = zx.vmo_create(PAGE, 0)
        rw = zx.ZX_VM_PERM_READ | zx.ZX_VM_PERM_WRITE
        made["address"] = zx.vmar_map(region, rw, 0, vmo, 0, PAGE)
        return region
    if function in ("process_read_memory", "process_write_memory"):
        return int(zx.process_self())
    if function.startswith(("process_", "task_", "object_get", "object_set")):
        return int(zx.process_create(zx.job_default(), "target", 0)[0])
    if function.startswith("thread_") or function == "restricted_kick":
        return int(zx.thread_create(zx.process_self(), "target", 0))
    if function.startswith("channel_") and _optional("channel_create"):
        return int(zx.channel_create(0)[0])
    if function.startswith("port_") and _optional("port_create"):
        return int(zx.port_create(0))
    if function == "object_signal_peer":
        return int(zx.eventpair_create(0)[0])
    if function.startswith("job_"):
        return int(zx.job_create(zx.job_default(), 0))
    return int(zx.event_create(0))


def baseline(function: str, parameter: str, made: dict[str, Any]) -> Any:
    """Return a plausible value for one parameter, made inside the guest."""
    if parameter == "handle":
        return _handle_for(function, made)
    if parameter == "process":
        return made.setdefault("process", zx.process_create(zx.job_default(), "p", 0)[0])
    if parameter == "thread_handle":
        owner = made.setdefault("process", zx.process_create(zx.job_default(), "p", 0)[0])
        return zx.thread_create(owner, "t", 0)
    if parameter in ("job", "parent_job"):
        return zx.job_create(zx.job_default(), 0)
    if parameter == "shared_proc":
        return zx.process_create(zx.job_default(), "proto", zx.ZX_PROCESS_SHARED)[0]
    if parameter == "parent_vmar":
        return zx.vmar_root_self()
    if parameter == "vmo":
        return zx.vmo_create(PAGE, 0)
    if parameter == "port":
        return zx.port_create(0) if _optional("port_create") else zx.event_create(0)
    if parameter == "source":
        return zx.event_create(0)
    if parameter in ("addr", "vaddr", "address", "value_ptr", "vector_table_ptr"):
        return made.setdefault("address", _mapped_address())
    if parameter == "requeue_ptr":
        return made.setdefault("address", _mapped_address()) + 4
    if parameter == "op":
        return zx.ZX_VMAR_OP_COMMIT if function.startswith("vmar_") else zx.ZX_VMO_OP_COMMIT
    if parameter == "packet" and hasattr(zx, "PortPacket"):
        return zx.PortPacket(key=1, type=zx.ZX_PKT_TYPE_USER, status=0)
    if parameter == "options" and function == "vmo_create_child":
        return zx.ZX_VMO_CHILD_SNAPSHOT
    if parameter == "data" and function == "read_exception_report":
        return bytes(PAGE)
    fixed: dict[str, Any] = {
        "name": "n",
        "value": "n",
        "size": PAGE,
        "len": PAGE,
        "length": PAGE,
        "num_bytes": 64,
        "rd_num_bytes": 64,
        "num_handles": 4,
        "rd_num_handles": 4,
        "data": b"x",
        "bytes": b"x",
        "wr_bytes": b"txid",
        "handles": [],
        "wr_handles": [],
        "items": [],
        "rights": zx.ZX_RIGHT_SAME_RIGHTS,
        "topic": zx.ZX_INFO_HANDLE_BASIC,
        "property": zx.ZX_PROP_NAME,
        "entry": _entry,
        "wake_count": 1,
        "vmex": zx.ZX_HANDLE_INVALID,
    }
    return fixed.get(parameter, 0)


def call_once(function_name: str, index: int | None, value: Any, extra: bool = False) -> str:
    """Call a zx function in a fresh machine; return how the call ended.

    With `index` the argument at that position is `value`. The result is "zx" (ZxError),
    "returned", "no return" (the call ended its thread or process), "binding"
    (TypeError from Python's call binding), or the name of any other exception.
    """
    function = FUNCTIONS[function_name]
    listed = parameters(function)
    outcome: dict[str, str] = {}

    def main() -> int:
        made: dict[str, Any] = {}
        args = [
            p.default if p.default is not p.empty else baseline(function_name, p.name, made)
            for p in listed
        ]
        if index is not None:
            args[index] = value
        if extra:
            args.append(0)
        outcome["result"] = "no return"
        try:
            function(*args)
            outcome["result"] = "returned"
        except ZxError as error:
            outcome["result"] = "zx"
            outcome["status"] = str(error)
        except TypeError as error:
            outcome["result"] = "binding" if _is_binding_error(function, args) else repr(error)
        except Exception as error:  # noqa: BLE001 - the sweep reports any other exception
            outcome["result"] = f"{type(error).__name__}: {error}"
        return 0

    try:
        Kernel(seed=0).run(main)
    except Deadlock:
        outcome["result"] = "deadlock"
    STATUSES[function_name] = outcome.get("status", "")
    return outcome["result"]


STATUSES: dict[str, str] = {}


def _is_binding_error(function: Callable[..., Any], args: list[Any]) -> bool:
    try:
        inspect.signature(function).bind(*_guest_args(function, args))
    except TypeError:
        return True
    return False


def _guest_args(function: Callable[..., Any], args: list[Any]) -> list[Any]:
    if hasattr(function, "__wrapped__"):
        return [None, *args]
    return args


def test_sweep_finds_syscalls():
    # The sweep must see the syscalls themselves, not only the runtime helpers.
    assert {"process_create_shared", "vmar_map", "handle_close", "task_kill"} <= set(FUNCTIONS)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_malformed_arguments_end_in_zx_error(name):
    problems = []
    for index, parameter in enumerate(parameters(FUNCTIONS[name])):
        for kind, value in MALFORMED:
            result = call_once(name, index, value)
            if result == "zx":
                continue
            if result in ("returned", "no return") and accepts(name, parameter, kind, value):
                continue
            problems.append(f"{name}({parameter.name}={kind}): {result}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_extra_argument_is_binding_type_error(name):
    assert call_once(name, None, None, extra=True) == "binding"
