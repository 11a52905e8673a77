"""Restricted mode in shared processes, and coherence between engines and the kernel.

A member's restricted mode sees only its restricted part; its normal mode sees both
parts. Every CPU engine maps VMO pages from the VMO's own buffer, so a store is seen at
once everywhere, and an unmap or protect reaches every engine before guest code runs
again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from restricted_guest import (
    PAGE,
    RW,
    GuestSpace,
    load_u64,
    map_guest,
    patterned_state,
    read_state,
    write_state,
)

from pyzircon import user, zx
from support import run_guest

VECTOR = 0x200000


def run_in(process: int, entry: Callable[[], Any]) -> Any:
    """Run `entry()` on a new first thread of `process`; wait for it; return its result."""
    outcome: dict[str, Any] = {}

    def thread_main(arg1: int, arg2: int) -> int:
        outcome["value"] = entry()
        return 0

    thread = zx.thread_create(process, "worker", 0)
    zx.process_start(process, thread, thread_main, 0, zx.ZX_HANDLE_INVALID, 0)
    while "value" not in outcome:
        info = zx.object_get_info(process, zx.ZX_INFO_PROCESS)
        if info.flags & zx.ZX_INFO_PROCESS_FLAG_EXITED:
            raise AssertionError(f"the worker died with return code {info.return_code}")
        zx.nanosleep(zx.deadline_after(1000))
    return outcome["value"]


def enter(vmo: int, state: zx.RestrictedState) -> tuple[int, zx.RestrictedState]:
    write_state(vmo, state)
    reason = zx.restricted_enter(0, VECTOR, 0)
    return reason, read_state(vmo)


def report_of(vmo: int) -> zx.ExceptionReport:
    return zx.read_exception_report(zx.vmo_read(vmo, zx.RESTRICTED_EXCEPTION_SIZE, 0))


def test_member_pushes_onto_restricted_stack() -> None:
    def body() -> tuple[int, bytes, bytes]:
        proto, _ = zx.process_create(zx.job_default(), "proto", zx.ZX_PROCESS_SHARED)
        member, restricted_vmar = zx.process_create_shared(proto, 0, "member")
        space = map_guest(restricted_vmar)
        stack_vmo = zx.vmo_create(PAGE, 0)
        stack = zx.vmar_map(restricted_vmar, RW, 0, stack_vmo, 0, PAGE)

        def worker() -> tuple[int, bytes]:
            vmo = zx.restricted_bind_state(0)
            state = patterned_state(space, "push_then_syscall")
            state.rsp = stack + PAGE
            reason, _ = enter(vmo, state)
            return reason, user.load(stack + PAGE - 8, 8)

        reason, normal_view = run_in(member, worker)
        return reason, zx.vmo_read(stack_vmo, 8, PAGE - 8), normal_view

    reason, stack_bytes, normal_view = run_guest(body)
    assert reason == zx.ZX_RESTRICTED_REASON_SYSCALL
    assert stack_bytes == bytes.fromhex("dddd ccccbbbbaaaa")
    assert normal_view == stack_bytes


def test_restricted_mode_cannot_see_shared_part() -> None:
    def body() -> tuple[int, zx.ExceptionReport, int, int]:
        proto, shared_vmar = zx.process_create(zx.job_default(), "proto", zx.ZX_PROCESS_SHARED)
        member, restricted_vmar = zx.process_create_shared(proto, 0, "member")
        space = map_guest(restricted_vmar)
        shared_vmo = zx.vmo_create(PAGE, 0)
        zx.vmo_write(shared_vmo, (77).to_bytes(8, "little"), 0)
        shared = zx.vmar_map(shared_vmar, RW, 0, shared_vmo, 0, PAGE)

        def worker() -> tuple[int, zx.ExceptionReport, int]:
            vmo = zx.restricted_bind_state(0)
            state = patterned_state(space, "load_then_syscall")
            state.rdi = shared
            reason, _ = enter(vmo, state)
            return reason, report_of(vmo), load_u64(shared)

        reason, report, normal_value = run_in(member, worker)
        return reason, report, normal_value, shared

    reason, report, normal_value, shared = run_guest(body)
    assert reason == zx.ZX_RESTRICTED_REASON_EXCEPTION
    assert report.type == zx.ZX_EXCP_FATAL_PAGE_FAULT
    assert report.cr2 == shared
    assert normal_value == 77


def test_members_cannot_read_each_other() -> None:
    def body() -> tuple[int, int, int]:
        proto, _ = zx.process_create(zx.job_default(), "proto", zx.ZX_PROCESS_SHARED)
        first, first_vmar = zx.process_create_shared(proto, 0, "first")
        second, second_vmar = zx.process_create_shared(proto, 0, "second")
        first_space = map_guest(first_vmar)
        second_space = map_guest(second_vmar)
        zx.vmo_write(first_space.data_vmo, (11).to_bytes(8, "little"), 0)
        zx.vmo_write(second_space.data_vmo, (22).to_bytes(8, "little"), 0)

        def reader(space: GuestSpace) -> Callable[[], int]:
            def worker() -> int:
                vmo = zx.restricted_bind_state(0)
                state = patterned_state(space, "load_then_syscall")
                state.rdi = space.data
                _, saved = enter(vmo, state)
                return saved.rax

            return worker

        # Both restricted parts place their first mappings at the same addresses.
        assert first_space.data == second_space.data
        return run_in(first, reader(first_space)), run_in(second, reader(second_space)), 0

    first_value, second_value, _ = run_guest(body)
    assert first_value == 11
    assert second_value == 22


def test_regular_process_runs_in_its_only_space() -> None:
    def body() -> int:
        vmo = zx.restricted_bind_state(0)
        space = map_guest(zx.vmar_root_self())
        zx.vmo_write(space.data_vmo, (5).to_bytes(8, "little"), 0)
        state = patterned_state(space, "load_then_syscall")
        state.rdi = space.data
        _, saved = enter(vmo, state)
        return saved.rax

    assert run_guest(body) == 5


def test_guest_store_visible_at_once() -> None:
    def body() -> tuple[bytes, bytes]:
        vmo = zx.restricted_bind_state(0)
        space = map_guest(zx.vmar_root_self())
        state = patterned_state(space, "store_then_syscall")
        state.rdi = space.data
        state.rsi = 0x4142434445464748
        enter(vmo, state)
        return zx.vmo_read(space.data_vmo, 8, 0), user.load(space.data, 8)

    through_vmo, through_load = run_guest(body)
    assert through_vmo == (0x4142434445464748).to_bytes(8, "little")
    assert through_load == through_vmo


def test_kernel_write_visible_to_guest() -> None:
    def body() -> list[int]:
        vmo = zx.restricted_bind_state(0)
        space = map_guest(zx.vmar_root_self())
        values = []
        for value in (1, 2, 3):
            zx.vmo_write(space.data_vmo, value.to_bytes(8, "little"), 0)
            state = patterned_state(space, "load_then_syscall")
            state.rdi = space.data
            values.append(enter(vmo, state)[1].rax)
        return values

    assert run_guest(body) == [1, 2, 3]


def test_unmap_reaches_engine() -> None:
    def body() -> tuple[int, int]:
        vmo = zx.restricted_bind_state(0)
        space = map_guest(zx.vmar_root_self())
        state = patterned_state(space, "load_then_syscall")
        state.rdi = space.data
        first, _ = enter(vmo, state)
        zx.vmar_unmap(zx.vmar_root_self(), space.data, PAGE)
        second, _ = enter(vmo, state)
        return first, second

    first, second = run_guest(body)
    assert first == zx.ZX_RESTRICTED_REASON_SYSCALL
    assert second == zx.ZX_RESTRICTED_REASON_EXCEPTION


def test_remap_reads_new_vmo() -> None:
    def body() -> tuple[int, int]:
        vmo = zx.restricted_bind_state(0)
        space = map_guest(zx.vmar_root_self())
        zx.vmo_write(space.data_vmo, (1).to_bytes(8, "little"), 0)
        state = patterned_state(space, "load_then_syscall")
        state.rdi = space.data
        before = enter(vmo, state)[1].rax
        zx.vmar_unmap(zx.vmar_root_self(), space.data, PAGE)
        other = zx.vmo_create(PAGE, 0)
        zx.vmo_write(other, (2).to_bytes(8, "little"), 0)
        root = zx.vmar_root_self()
        offset = space.data - zx.object_get_info(root, zx.ZX_INFO_VMAR).base
        zx.vmar_map(root, RW | zx.ZX_VM_SPECIFIC, offset, other, 0, PAGE)
        after = enter(vmo, state)[1].rax
        return before, after

    assert run_guest(body) == (1, 2)


def test_protect_reaches_engine() -> None:
    def body() -> tuple[int, int]:
        vmo = zx.restricted_bind_state(0)
        space = map_guest(zx.vmar_root_self())
        state = patterned_state(space, "store_then_syscall")
        state.rdi = space.data
        first, _ = enter(vmo, state)
        zx.vmar_protect(zx.vmar_root_self(), zx.ZX_VM_PERM_READ, space.data, PAGE)
        second, _ = enter(vmo, state)
        return first, second

    first, second = run_guest(body)
    assert first == zx.ZX_RESTRICTED_REASON_SYSCALL
    assert second == zx.ZX_RESTRICTED_REASON_EXCEPTION


def test_rewritten_code_runs_as_rewritten() -> None:
    def body() -> tuple[int, int]:
        vmo = zx.restricted_bind_state(0)
        code_vmo = zx.vmo_create(PAGE, 0)
        # mov eax, 1; syscall
        zx.vmo_write(code_vmo, bytes.fromhex("b801000000 0f05"), 0)
        writable = zx.handle_duplicate(code_vmo, zx.ZX_RIGHT_SAME_RIGHTS)
        code_vmo = zx.vmo_replace_as_executable(code_vmo, zx.ZX_HANDLE_INVALID)
        code = zx.vmar_map(
            zx.vmar_root_self(), zx.ZX_VM_PERM_READ | zx.ZX_VM_PERM_EXECUTE, 0, code_vmo, 0, PAGE
        )
        state = zx.RestrictedState(ip=code)
        first = enter(vmo, state)[1].rax
        # mov eax, 2; syscall
        zx.vmo_write(writable, bytes.fromhex("b802000000 0f05"), 0)
        second = enter(vmo, state)[1].rax
        return first, second

    assert run_guest(body) == (1, 2)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_two_engines_share_vmo(seed: int) -> None:
    def body() -> tuple[int, int]:
        proto, _ = zx.process_create(zx.job_default(), "proto", zx.ZX_PROCESS_SHARED)
        writer, writer_vmar = zx.process_create_shared(proto, 0, "writer")
        reader, reader_vmar = zx.process_create_shared(proto, 0, "reader")
        writer_space = map_guest(writer_vmar)
        reader_space = map_guest(reader_vmar)
        common = zx.vmo_create(PAGE, 0)
        writer_view = zx.vmar_map(writer_vmar, RW, 0, common, 0, PAGE)
        reader_view = zx.vmar_map(reader_vmar, RW, 0, common, 0, PAGE)

        def write() -> int:
            vmo = zx.restricted_bind_state(0)
            state = patterned_state(writer_space, "store_then_syscall")
            state.rdi = writer_view + 8
            state.rsi = 0xFEED
            return enter(vmo, state)[0]

        def read() -> int:
            vmo = zx.restricted_bind_state(0)
            state = patterned_state(reader_space, "load_then_syscall")
            state.rdi = reader_view + 8
            return enter(vmo, state)[1].rax

        run_in(writer, write)
        return run_in(reader, read), 0

    value, _ = run_guest(body, seed=seed)
    assert value == 0xFEED


def test_unmap_by_supervisor_reaches_member_engine() -> None:
    def body() -> list[int]:
        proto, _ = zx.process_create(zx.job_default(), "proto", zx.ZX_PROCESS_SHARED)
        member, restricted_vmar = zx.process_create_shared(proto, 0, "member")
        space = map_guest(restricted_vmar)
        # The test's steps: the worker enters once, the supervisor unmaps, the worker
        # enters again. Plain Python flags order them, polled with sleeps.
        steps = {"entered": False, "unmapped": False}

        def worker() -> list[int]:
            vmo = zx.restricted_bind_state(0)
            state = patterned_state(space, "load_then_syscall")
            state.rdi = space.data
            reasons = [enter(vmo, state)[0]]
            steps["entered"] = True
            while not steps["unmapped"]:
                zx.nanosleep(zx.deadline_after(1000))
            reasons.append(enter(vmo, state)[0])
            return reasons

        outcome: dict[str, list[int]] = {}

        def thread_main(arg1: int, arg2: int) -> int:
            outcome["reasons"] = worker()
            return 0

        thread = zx.thread_create(member, "worker", 0)
        zx.process_start(member, thread, thread_main, 0, zx.ZX_HANDLE_INVALID, 0)
        while not steps["entered"]:
            zx.nanosleep(zx.deadline_after(1000))
        zx.vmar_unmap(restricted_vmar, space.data, PAGE)
        steps["unmapped"] = True
        while "reasons" not in outcome:
            zx.nanosleep(zx.deadline_after(1000))
        return outcome["reasons"]

    assert run_guest(body) == [
        zx.ZX_RESTRICTED_REASON_SYSCALL,
        zx.ZX_RESTRICTED_REASON_EXCEPTION,
    ]


def test_vmo_shrink_reaches_engine() -> None:
    def body() -> tuple[int, int, int]:
        vmo = zx.restricted_bind_state(0)
        space = map_guest(zx.vmar_root_self())
        data_vmo = zx.vmo_create(2 * PAGE, zx.ZX_VMO_RESIZABLE)
        data = zx.vmar_map(zx.vmar_root_self(), RW, 0, data_vmo, 0, 2 * PAGE)
        state = patterned_state(space, "load_then_syscall")
        state.rdi = data + PAGE
        first, _ = enter(vmo, state)
        zx.vmo_set_size(data_vmo, PAGE)
        second, _ = enter(vmo, state)
        return first, second, report_of(vmo).synth_code

    first, second, synth_code = run_guest(body)
    assert first == zx.ZX_RESTRICTED_REASON_SYSCALL
    assert second == zx.ZX_RESTRICTED_REASON_EXCEPTION
    assert synth_code == zx.ZX_ERR_OUT_OF_RANGE & 0xFFFFFFFF


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_unmap_seen_by_every_thread(seed: int) -> None:
    def body() -> dict[int, list[int]]:
        space = map_guest(zx.vmar_root_self())
        reasons: dict[int, list[int]] = {}
        phase = {"unmapped": False}
        readers = 4

        def reader(index: int) -> None:
            vmo = zx.restricted_bind_state(0)
            state = patterned_state(space, "load_then_syscall")
            state.rdi = space.data
            reasons[index] = [enter(vmo, state)[0]]
            while not phase["unmapped"]:
                zx.nanosleep(zx.deadline_after(1000))
            reasons[index].append(enter(vmo, state)[0])

        for index in range(readers):
            thread = zx.thread_create(zx.process_self(), f"reader-{index}", 0)
            zx.thread_start(thread, lambda arg1, arg2, index=index: reader(index), 0, 0, 0)
        while len(reasons) < readers:
            zx.nanosleep(zx.deadline_after(1000))
        zx.vmar_unmap(zx.vmar_root_self(), space.data, PAGE)
        phase["unmapped"] = True
        while any(len(found) < 2 for found in reasons.values()):
            zx.nanosleep(zx.deadline_after(1000))
        return reasons

    expected = [zx.ZX_RESTRICTED_REASON_SYSCALL, zx.ZX_RESTRICTED_REASON_EXCEPTION]
    assert run_guest(body, seed=seed) == {index: expected for index in range(4)}
