"""A checker for Chrome trace-event documents, and a program that uses restricted mode.

`check_trace_events` asserts what Perfetto's JSON importer needs from a trace: the keys
each event phase requires, numeric timestamps, and on every thread begin ("B") and end
("E") events that pair up by name, nest, and never go back in time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pyzircon import zx
from pyzircon.tools.assemble import load_blob

REQUIRED_KEYS = {
    "B": {"name", "ph", "ts", "pid", "tid"},
    "E": {"ph", "ts", "pid", "tid"},
    "i": {"name", "ph", "ts", "pid", "tid", "s"},
    "M": {"name", "ph", "pid", "tid", "args"},
}
INSTANT_SCOPES = {"g", "p", "t"}
METADATA_NAMES = {"process_name", "thread_name"}

GUEST = load_blob(Path(__file__).parents[2] / "examples" / "guests" / "mini_starnix.S")
PAGE = 4096
VECTOR = 0x200000
# Virtual time the supervisor lets the spinning guest run before it acts.
SPIN_NS = 1_000_000


def check_trace_events(document: dict[str, Any]) -> None:
    """Assert that `document` is a well-formed trace-event document."""
    assert isinstance(document, dict)
    assert document.get("displayTimeUnit") in ("ms", "ns")
    events = document["traceEvents"]
    assert isinstance(events, list) and events

    open_slices: dict[tuple[int, int], list[str]] = {}
    last_time: dict[tuple[int, int], float] = {}
    for index, event in enumerate(events):
        phase = event.get("ph")
        assert phase in REQUIRED_KEYS, f"event {index} has an unknown phase: {event}"
        missing = REQUIRED_KEYS[phase] - event.keys()
        assert not missing, f"event {index} lacks {sorted(missing)}: {event}"
        assert isinstance(event["pid"], int) and isinstance(event["tid"], int)
        if phase == "M":
            assert event["name"] in METADATA_NAMES
            assert isinstance(event["args"]["name"], str)
            continue
        assert isinstance(event["ts"], (int, float)) and event["ts"] >= 0
        if phase == "i":
            assert event["s"] in INSTANT_SCOPES
            continue

        track = (event["pid"], event["tid"])
        assert event["ts"] >= last_time.get(track, 0), f"event {index} goes back in time"
        last_time[track] = event["ts"]
        stack = open_slices.setdefault(track, [])
        if phase == "B":
            stack.append(event["name"])
        else:
            assert stack, f"event {index} ends a slice that was never begun: {event}"
            begun = stack.pop()
            assert event.get("name", begun) == begun, f"event {index} ends {begun!r}"

    unbalanced = {track: names for track, names in open_slices.items() if names}
    assert not unbalanced, f"slices never ended: {unbalanced}"


def restricted_program() -> int:
    """Run a member's guest three times: to a syscall, until kicked, until killed."""
    proto, _ = zx.process_create(zx.job_default(), "proto", zx.ZX_PROCESS_SHARED)
    member, restricted_vmar = zx.process_create_shared(proto, 0, "guest")
    code_vmo = zx.vmo_create(PAGE, 0)
    zx.vmo_write(code_vmo, GUEST.code, 0)
    code_vmo = zx.vmo_replace_as_executable(code_vmo, zx.ZX_HANDLE_INVALID)
    read_execute = zx.ZX_VM_PERM_READ | zx.ZX_VM_PERM_EXECUTE
    code = zx.vmar_map(restricted_vmar, read_execute, 0, code_vmo, 0, PAGE)
    read_write = zx.ZX_VM_PERM_READ | zx.ZX_VM_PERM_WRITE
    stack = zx.vmar_map(restricted_vmar, read_write, 0, zx.vmo_create(PAGE, 0), 0, PAGE)

    def runner(arg1: int, arg2: int) -> int:
        state_vmo = zx.restricted_bind_state(0)
        for routine in ("hello", "spin", "spin"):
            state = zx.RestrictedState(ip=code + GUEST.symbols[routine], rsp=stack + PAGE)
            zx.vmo_write(state_vmo, state.to_bytes(), 0)
            zx.restricted_enter(0, VECTOR, 0)
        return 0

    thread = zx.thread_create(member, "runner", 0)
    zx.process_start(member, thread, runner, 0, zx.ZX_HANDLE_INVALID, 0)
    zx.nanosleep(zx.deadline_after(SPIN_NS))
    zx.restricted_kick(thread, 0)
    zx.nanosleep(zx.deadline_after(SPIN_NS))
    zx.task_kill(member)
    while not zx.object_get_info(member, zx.ZX_INFO_PROCESS).flags & (
        zx.ZX_INFO_PROCESS_FLAG_EXITED
    ):
        zx.nanosleep(zx.deadline_after(1000))
    return 0
