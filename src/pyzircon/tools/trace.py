"""Syscall traces: one text line per syscall, and Chrome trace-event JSON for Perfetto.

Both listen to the kernel's hooks (`Kernel.syscall_hooks` and `Kernel.task_hooks`) and
use only virtual time, so a program run twice with the same seed gives byte-identical
traces. Arguments and results are printed without object addresses: a callable shows as
its qualified name, and an object of no known kind as its type name.

The JSON trace uses the trace-event format that Perfetto's UI and chrome://tracing open:
one track per thread (pid = process koid, tid = thread koid), a slice per syscall ("B"
and "E" events, arguments on the begin and status and result on the end), a nested
"restricted mode" slice for each stay in restricted mode with the exit reason, and
instant events for process and thread start and death. Timestamps are virtual
microseconds. A syscall's slice ends when the scheduler has charged its fixed cost
(SYSCALL_COST_NS), so back-to-back syscalls of one thread touch without overlapping. A
call that never returns ends where it was made.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any

from pyzircon.abi.status import ZX_OK, status_name
from pyzircon.abi.task import (
    ZX_RESTRICTED_REASON_EXCEPTION,
    ZX_RESTRICTED_REASON_EXCEPTION_LOST,
    ZX_RESTRICTED_REASON_KICK,
    ZX_RESTRICTED_REASON_SYSCALL,
)
from pyzircon.kernel.sched.scheduler import SYSCALL_COST_NS
from pyzircon.machine import SyscallEvent, TaskEvent, TaskEventKind

if TYPE_CHECKING:
    from pyzircon.machine import Kernel

_REASON_NAMES = {
    ZX_RESTRICTED_REASON_SYSCALL: "ZX_RESTRICTED_REASON_SYSCALL",
    ZX_RESTRICTED_REASON_EXCEPTION: "ZX_RESTRICTED_REASON_EXCEPTION",
    ZX_RESTRICTED_REASON_KICK: "ZX_RESTRICTED_REASON_KICK",
    ZX_RESTRICTED_REASON_EXCEPTION_LOST: "ZX_RESTRICTED_REASON_EXCEPTION_LOST",
}

# Integers with a smaller magnitude print in decimal, larger ones (addresses, handle
# values, rights) in hexadecimal.
_DECIMAL_LIMIT = 1024
# Byte strings up to this length print in full, longer ones as their length.
_MAX_SHOWN_BYTES = 16
# Sequences with more items print as their length.
_MAX_SHOWN_ITEMS = 4
# A formatted value is cut to this many characters.
_MAX_VALUE_CHARS = 160

RESTRICTED_SLICE = "restricted mode"


# Formatting values.


def format_value(value: object) -> str:
    """Format a syscall argument or result for a trace: deterministic, short, no addresses."""
    text = _format(value)
    if len(text) > _MAX_VALUE_CHARS:
        text = text[: _MAX_VALUE_CHARS - 3] + "..."
    return text


def _format(value: object) -> str:
    if value is None or isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        if -_DECIMAL_LIMIT < value < _DECIMAL_LIMIT:
            return str(value)
        return f"-{-value:#x}" if value < 0 else f"{value:#x}"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        try:
            data = bytes(value)
        except ValueError:
            # A memoryview released after the call can no longer be read.
            return f"<released {type(value).__name__}>"
        if len(data) <= _MAX_SHOWN_BYTES:
            return repr(data)
        return f"<{len(data)} bytes>"
    if isinstance(value, (tuple, list)):
        if len(value) > _MAX_SHOWN_ITEMS:
            return f"<{len(value)} items>"
        items = ", ".join(_format(item) for item in value)
        return f"({items})" if isinstance(value, tuple) else f"[{items}]"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = ", ".join(
            f"{field.name}={_format(getattr(value, field.name))}"
            for field in dataclasses.fields(value)
        )
        return f"{type(value).__name__}({fields})"
    if callable(value):
        return f"<{getattr(value, '__qualname__', type(value).__name__)}>"
    return f"<{type(value).__name__}>"


def format_arguments(event: SyscallEvent) -> str:
    """Return "name=value, ..." for the event's arguments, in the C order."""
    parts = []
    for index, value in enumerate(event.args):
        name = event.arg_names[index] if index < len(event.arg_names) else f"arg{index}"
        parts.append(f"{name}={format_value(value)}")
    parts.extend(f"{name}={format_value(value)}" for name, value in event.kwargs)
    return ", ".join(parts)


def format_outcome(event: SyscallEvent) -> str:
    """Return the status and results of the event: "ZX_OK 0x1f3", "ZX_ERR_...", or no return."""
    if not event.returned:
        return "does not return"
    text = status_name(event.status)
    if event.status == ZX_OK and event.result is not None:
        text += f" {format_value(event.result)}"
    return text


def format_syscall(event: SyscallEvent) -> str:
    """Return the one-line text trace of a syscall, without a newline."""
    line = (
        f"[{event.start_ns:>12} ns] {event.process_koid}:{event.process_name} "
        f"{event.thread_koid}:{event.thread_name} zx_{event.name}({format_arguments(event)}) "
        f"-> {format_outcome(event)}"
    )
    if event.time_ns != event.start_ns:
        line += f" [until {event.time_ns} ns]"
    return line


# The text trace.


class TextTrace:
    """Write one line per syscall to `stream` as each syscall ends."""

    def __init__(self, kernel: Kernel, stream: IO[str]) -> None:
        self.kernel = kernel
        self.stream = stream
        kernel.syscall_hooks.append(self.on_syscall)

    def on_syscall(self, event: SyscallEvent) -> None:
        self.stream.write(format_syscall(event) + "\n")

    def close(self) -> None:
        """Stop listening to the kernel."""
        if self.on_syscall in self.kernel.syscall_hooks:
            self.kernel.syscall_hooks.remove(self.on_syscall)


# The trace-event (Perfetto) trace.


def _microseconds(nanoseconds: int) -> float:
    return nanoseconds / 1000


class PerfettoTrace:
    """Record a run's syscalls and task events as Chrome trace-event JSON.

    Events of one thread are recorded in an order that nests properly: a syscall's
    begin, then the restricted-mode span that happened inside it, then its end.

    NOTE: a syscall is recorded when it ends, so one still blocked when the run stops
    has no slice, and neither has a restricted-mode span inside it.
    """

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self.events: list[dict[str, Any]] = []
        # Restricted-mode events of a thread whose syscall has not ended yet.
        self._inside_syscall: dict[int, list[dict[str, Any]]] = {}
        self._process_names: dict[int, str] = {}
        self._thread_names: dict[int, tuple[int, str]] = {}
        self._handlers: dict[TaskEventKind, Callable[[TaskEvent], None]] = {
            TaskEventKind.PROCESS_START: self._on_process_start,
            TaskEventKind.PROCESS_DEAD: self._on_process_dead,
            TaskEventKind.THREAD_START: self._on_thread_event,
            TaskEventKind.THREAD_DEAD: self._on_thread_event,
            TaskEventKind.RESTRICTED_ENTER: self._on_restricted_enter,
            TaskEventKind.RESTRICTED_EXIT: self._on_restricted_exit,
        }
        kernel.syscall_hooks.append(self.on_syscall)
        kernel.task_hooks.append(self.on_task_event)

    def close(self) -> None:
        """Stop listening to the kernel."""
        if self.on_syscall in self.kernel.syscall_hooks:
            self.kernel.syscall_hooks.remove(self.on_syscall)
        if self.on_task_event in self.kernel.task_hooks:
            self.kernel.task_hooks.remove(self.on_task_event)

    # Hooks.

    def on_syscall(self, event: SyscallEvent) -> None:
        self._name_thread(
            event.process_koid, event.process_name, event.thread_koid, event.thread_name
        )
        name = f"zx_{event.name}"
        arguments = {
            (event.arg_names[i] if i < len(event.arg_names) else f"arg{i}"): format_value(value)
            for i, value in enumerate(event.args)
        }
        arguments.update((key, format_value(value)) for key, value in event.kwargs)
        end_ns = event.time_ns + SYSCALL_COST_NS if event.returned else event.time_ns
        outcome: dict[str, str] = {"status": status_name(event.status)}
        if not event.returned:
            outcome = {"status": "does not return"}
        elif event.status == ZX_OK and event.result is not None:
            outcome["result"] = format_value(event.result)

        track = {"pid": event.process_koid, "tid": event.thread_koid}
        self.events.append(
            {
                "name": name,
                "cat": "syscall",
                "ph": "B",
                "ts": _microseconds(event.start_ns),
                **track,
                "args": arguments,
            }
        )
        self.events.extend(self._inside_syscall.pop(event.thread_koid, []))
        self.events.append(
            {
                "name": name,
                "cat": "syscall",
                "ph": "E",
                "ts": _microseconds(end_ns),
                **track,
                "args": outcome,
            }
        )

    def on_task_event(self, event: TaskEvent) -> None:
        self._process_names[event.process_koid] = event.process_name
        self._handlers[event.kind](event)

    def _on_process_start(self, event: TaskEvent) -> None:
        self._instant("process start", event, scope="p")

    def _on_process_dead(self, event: TaskEvent) -> None:
        self._instant("process dead", event, scope="p", args={"return_code": event.return_code})

    def _on_thread_event(self, event: TaskEvent) -> None:
        self._name_thread(
            event.process_koid, event.process_name, event.thread_koid, event.thread_name
        )
        name = "thread start" if event.kind is TaskEventKind.THREAD_START else "thread dead"
        self._instant(name, event, scope="t")

    def _on_restricted_enter(self, event: TaskEvent) -> None:
        self._inside_syscall.setdefault(event.thread_koid, []).append(
            {
                "name": RESTRICTED_SLICE,
                "cat": "restricted",
                "ph": "B",
                "ts": _microseconds(event.time_ns),
                "pid": event.process_koid,
                "tid": event.thread_koid,
                "args": {},
            }
        )

    def _on_restricted_exit(self, event: TaskEvent) -> None:
        if event.reason is None:
            reason = "killed"
        else:
            reason = _REASON_NAMES.get(event.reason, str(event.reason))
        self._inside_syscall.setdefault(event.thread_koid, []).append(
            {
                "name": RESTRICTED_SLICE,
                "cat": "restricted",
                "ph": "E",
                "ts": _microseconds(event.time_ns),
                "pid": event.process_koid,
                "tid": event.thread_koid,
                "args": {"reason": reason},
            }
        )

    def _instant(
        self, name: str, event: TaskEvent, *, scope: str, args: dict[str, Any] | None = None
    ) -> None:
        self.events.append(
            {
                "name": name,
                "cat": "task",
                "ph": "i",
                "s": scope,
                "ts": _microseconds(event.time_ns),
                "pid": event.process_koid,
                "tid": event.thread_koid or event.process_koid,
                "args": args or {},
            }
        )

    def _name_thread(self, pid: int, process_name: str, tid: int, thread_name: str) -> None:
        self._process_names[pid] = process_name
        self._thread_names[tid] = (pid, thread_name)

    # Output.

    def document(self) -> dict[str, Any]:
        """Return the trace as a JSON-ready trace-event document."""
        metadata: list[dict[str, Any]] = []
        for pid, name in sorted(self._process_names.items()):
            metadata.append(
                {
                    "name": "process_name",
                    "ph": "M",
                    "pid": pid,
                    "tid": pid,
                    "args": {"name": f"{name} (koid {pid})"},
                }
            )
        for tid, (pid, name) in sorted(self._thread_names.items()):
            metadata.append(
                {
                    "name": "thread_name",
                    "ph": "M",
                    "pid": pid,
                    "tid": tid,
                    "args": {"name": f"{name} (koid {tid})"},
                }
            )
        return {
            "traceEvents": metadata + self.events,
            "displayTimeUnit": "ns",
            "otherData": {
                "producer": "pyzircon",
                "clock": "virtual",
                "seed": self.kernel.seed,
                "arch": self.kernel.arch,
            },
        }

    def to_json(self) -> str:
        """Return the trace as JSON text, one event per line."""
        document = self.document()
        events = ",\n".join(json.dumps(event, sort_keys=True) for event in document["traceEvents"])
        return (
            '{"displayTimeUnit": "ns",\n'
            f'"otherData": {json.dumps(document["otherData"], sort_keys=True)},\n'
            f'"traceEvents": [\n{events}\n]}}\n'
        )
