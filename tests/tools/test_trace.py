"""Trace hooks, the text trace and the Perfetto (trace-event JSON) trace."""

from __future__ import annotations

import io
import json

import pytest

from pyzircon import Kernel, zx
from pyzircon.machine import SyscallEvent, TaskEvent, TaskEventKind
from pyzircon.tools.trace import PerfettoTrace, TextTrace, format_syscall, format_value
from tools import inspect_program
from tools.inspection import record_events
from tools.trace_format import check_trace_events, restricted_program

SEEDS = [0, 1, 2, 3, 7]


def released_view() -> memoryview:
    view = memoryview(b"gone")
    view.release()
    return view


def kinds_of(events: list[TaskEvent], process_name: str) -> list[TaskEventKind]:
    return [event.kind for event in events if event.process_name == process_name]


def run_recorded(program: object, seed: int = 0) -> tuple[list[SyscallEvent], list[TaskEvent], int]:
    kernel = Kernel(seed=seed)
    syscalls: list[SyscallEvent] = []
    tasks: list[TaskEvent] = []
    kernel.syscall_hooks.append(syscalls.append)
    kernel.task_hooks.append(tasks.append)
    return_code = kernel.run(program)  # type: ignore[arg-type]
    return syscalls, tasks, return_code


def text_trace(program: object, seed: int) -> str:
    kernel = Kernel(seed=seed)
    stream = io.StringIO()
    TextTrace(kernel, stream)
    kernel.run(program)  # type: ignore[arg-type]
    return stream.getvalue()


def perfetto_json(program: object, seed: int) -> str:
    kernel = Kernel(seed=seed)
    trace = PerfettoTrace(kernel)
    kernel.run(program)  # type: ignore[arg-type]
    trace.close()
    return trace.to_json()


# Task hooks.


def test_task_hooks_member_lifecycle() -> None:
    _syscalls, tasks = record_events()
    assert kinds_of(tasks, "alpha") == [TaskEventKind.PROCESS_START, TaskEventKind.THREAD_START]
    assert kinds_of(tasks, "gamma") == [
        TaskEventKind.PROCESS_START,
        TaskEventKind.THREAD_START,
        TaskEventKind.THREAD_DEAD,
        TaskEventKind.PROCESS_DEAD,
    ]
    gamma_dead = next(e for e in tasks if e.kind is TaskEventKind.PROCESS_DEAD)
    assert gamma_dead.return_code == inspect_program.GAMMA_RETURN_CODE
    assert gamma_dead.thread_koid == 0


def test_task_hooks_main_process_dies_last() -> None:
    _syscalls, tasks = record_events()
    assert tasks[0].kind is TaskEventKind.PROCESS_START
    assert tasks[0].process_name == "main"
    assert tasks[-1].kind is TaskEventKind.PROCESS_DEAD
    assert tasks[-1].process_name == "main"
    times = [event.time_ns for event in tasks]
    assert times == sorted(times)


def test_unstarted_process_death_reported() -> None:
    def program() -> int:
        process, _ = zx.process_create(zx.job_default(), "never", 0)
        zx.handle_close(process)
        return 0

    _syscalls, tasks, _ = run_recorded(program)
    assert kinds_of(tasks, "never") == [TaskEventKind.PROCESS_DEAD]


def test_restricted_hooks_report_reasons() -> None:
    _syscalls, tasks, return_code = run_recorded(restricted_program)
    assert return_code == 0
    restricted = [e for e in tasks if e.kind.value.startswith("restricted")]
    assert [e.kind for e in restricted] == [
        TaskEventKind.RESTRICTED_ENTER,
        TaskEventKind.RESTRICTED_EXIT,
    ] * 3
    reasons = [e.reason for e in restricted if e.kind is TaskEventKind.RESTRICTED_EXIT]
    assert reasons == [zx.ZX_RESTRICTED_REASON_SYSCALL, zx.ZX_RESTRICTED_REASON_KICK, None]
    assert {e.thread_name for e in restricted} == {"runner"}


def test_hooks_do_not_change_run() -> None:
    plain = Kernel(seed=5)
    plain_result = plain.run(inspect_program.main)
    syscalls, _tasks = record_events(seed=5)
    traced = Kernel(seed=5)
    stream = io.StringIO()
    TextTrace(traced, stream)
    PerfettoTrace(traced)
    assert traced.run(inspect_program.main) == plain_result
    assert traced.scheduler.now_ns == plain.scheduler.now_ns
    assert len(stream.getvalue().splitlines()) == len(syscalls)


# Syscall events.


def test_syscall_event_names_arguments() -> None:
    syscalls, _tasks = record_events()
    mapping = next(event for event in syscalls if event.name == "vmar_map")
    assert mapping.arg_names == ("handle", "options", "vmar_offset", "vmo", "vmo_offset", "len")
    assert len(mapping.args) == 6
    assert mapping.returned


def test_syscall_event_times() -> None:
    syscalls, _tasks = record_events()
    assert all(event.start_ns <= event.time_ns for event in syscalls)
    blocked = [event for event in syscalls if event.name == "nanosleep"]
    assert any(event.time_ns > event.start_ns for event in blocked)


def test_exit_syscalls_reported() -> None:
    def exiter(arg1: int, arg2: int) -> int:
        zx.thread_exit()
        return 0

    def program() -> int:
        thread = zx.thread_create(zx.process_self(), "exiter", 0)
        zx.thread_start(thread, exiter, 0, 0, 0)
        zx.nanosleep(zx.deadline_after(10_000))
        zx.process_exit(9)
        return 0

    syscalls, _tasks, return_code = run_recorded(program)
    assert return_code == 9
    thread_exit = next(event for event in syscalls if event.name == "thread_exit")
    assert not thread_exit.returned
    assert thread_exit.status == zx.ZX_OK
    process_exit = syscalls[-1]
    assert process_exit.name == "process_exit"
    assert not process_exit.returned
    assert process_exit.args == (9,)


def test_killed_in_restricted_mode_does_not_return() -> None:
    syscalls, _tasks, _ = run_recorded(restricted_program)
    enters = [event for event in syscalls if event.name == "restricted_enter"]
    assert [event.returned for event in enters] == [True, True, False]
    assert [event.result for event in enters[:2]] == [
        zx.ZX_RESTRICTED_REASON_SYSCALL,
        zx.ZX_RESTRICTED_REASON_KICK,
    ]


def test_keyword_arguments_reported() -> None:
    def program() -> int:
        zx.object_get_info(zx.process_self(), zx.ZX_INFO_PROCESS_THREADS, capacity=4)
        return 0

    syscalls, _tasks, _ = run_recorded(program)
    event = next(event for event in syscalls if event.name == "object_get_info")
    assert event.kwargs == (("capacity", 4),)
    assert "capacity=4" in format_syscall(event)


# The text trace.


def test_text_trace_line_format() -> None:
    syscalls, _tasks = record_events()
    event = next(event for event in syscalls if event.name == "process_create")
    line = format_syscall(event)
    assert line.startswith(f"[{event.start_ns:>12} ns] {event.process_koid}:main ")
    assert "zx_process_create(job=" in line
    assert "name='logger'" in line
    assert " -> ZX_OK (0x" in line


def test_text_trace_shows_failure_status() -> None:
    def program() -> int:
        try:
            zx.handle_close(0x7)
        except zx.ZxError:
            pass
        return 0

    syscalls, _tasks, _ = run_recorded(program)
    assert format_syscall(syscalls[-1]).endswith("zx_handle_close(handle=7) -> ZX_ERR_BAD_HANDLE")


def test_text_trace_one_line_per_syscall() -> None:
    syscalls, _tasks = record_events()
    text = text_trace(inspect_program.main, 3)
    assert len(text.splitlines()) == len(syscalls)
    assert text.endswith("\n")


@pytest.mark.parametrize("seed", SEEDS)
def test_text_trace_repeats_with_seed(seed: int) -> None:
    assert text_trace(inspect_program.main, seed) == text_trace(inspect_program.main, seed)


def test_text_trace_depends_on_seed() -> None:
    traces = {text_trace(inspect_program.main, seed) for seed in SEEDS}
    assert len(traces) > 1


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (5, "5"),
        (-1, "-1"),
        (4096, "0x1000"),
        (-4096, "-0x1000"),
        (True, "True"),
        ("name", "'name'"),
        (b"short", "b'short'"),
        (bytes(100), "<100 bytes>"),
        ((1, 0x2000), "(1, 0x2000)"),
        ([1, 2, 3, 4, 5], "<5 items>"),
        (None, "None"),
        (format_value, "<format_value>"),
        (object(), "<object>"),
        (released_view(), "<released memoryview>"),
    ],
)
def test_format_value(value: object, text: str) -> None:
    assert format_value(value) == text


# The Perfetto trace.


@pytest.mark.parametrize("seed", SEEDS)
def test_perfetto_trace_is_valid(seed: int) -> None:
    check_trace_events(json.loads(perfetto_json(inspect_program.main, seed)))


@pytest.mark.parametrize("seed", SEEDS)
def test_perfetto_trace_repeats_with_seed(seed: int) -> None:
    assert perfetto_json(inspect_program.main, seed) == perfetto_json(inspect_program.main, seed)


def test_perfetto_restricted_trace_is_valid() -> None:
    check_trace_events(json.loads(perfetto_json(restricted_program, 0)))


def test_perfetto_restricted_spans_nest_in_enter() -> None:
    events = json.loads(perfetto_json(restricted_program, 0))["traceEvents"]
    runner = [e for e in events if e["ph"] in ("B", "E") and e["name"] == "restricted mode"]
    tid = runner[0]["tid"]
    track = [e for e in events if e.get("tid") == tid and e["ph"] in ("B", "E")]
    names = [(e["ph"], e["name"]) for e in track]
    enter = ("B", "zx_restricted_enter")
    first = names.index(enter)
    assert names[first : first + 4] == [
        enter,
        ("B", "restricted mode"),
        ("E", "restricted mode"),
        ("E", "zx_restricted_enter"),
    ]
    reasons = [e["args"]["reason"] for e in runner if e["ph"] == "E"]
    assert reasons == ["ZX_RESTRICTED_REASON_SYSCALL", "ZX_RESTRICTED_REASON_KICK", "killed"]
    last_enter_end = [e for e in track if e["ph"] == "E"][-1]
    assert last_enter_end["args"] == {"status": "does not return"}


def test_perfetto_instants_and_names() -> None:
    document = json.loads(perfetto_json(inspect_program.main, 3))
    events = document["traceEvents"]
    instants = {(e["name"], e["s"]) for e in events if e["ph"] == "i"}
    assert instants == {
        ("process start", "p"),
        ("process dead", "p"),
        ("thread start", "t"),
        ("thread dead", "t"),
    }
    names = {e["args"]["name"] for e in events if e["ph"] == "M"}
    assert any(name.startswith("alpha (koid ") for name in names)
    assert any(name.startswith("writer (koid ") for name in names)
    assert document["otherData"]["clock"] == "virtual"


def test_perfetto_syscall_slice_arguments() -> None:
    events = json.loads(perfetto_json(inspect_program.main, 3))["traceEvents"]
    begin = next(e for e in events if e["ph"] == "B" and e["name"] == "zx_process_create")
    assert begin["args"]["name"] == "'logger'"
    assert begin["cat"] == "syscall"
    end = next(
        e
        for e in events
        if e["ph"] == "E" and e["name"] == "zx_process_create" and e["tid"] == begin["tid"]
    )
    assert end["args"]["status"] == "ZX_OK"
    assert end["ts"] > begin["ts"]
