"""Restricted mode: the bind, unbind, enter and kick syscalls with real x86-64 code.

The cases restate Zircon's restricted-mode core tests (bind and unbind rules, the
syscall bounce register round trip, bad register state, in-thread exceptions, kicks)
on pyzircon's unicorn engine.
"""

from __future__ import annotations

import pytest
from restricted_guest import (
    BLOB,
    PAGE,
    PATTERN,
    RW,
    load_u64,
    map_guest,
    patterned_state,
    read_state,
    store_u64,
    write_state,
)

from pyzircon import user, zx
from support import expect_status, run_guest

VECTOR = 0x200000
MAX_U64 = (1 << 64) - 1


def increment(value: int) -> int:
    return (value + 1) & MAX_U64


# zx_restricted_enter argument checks.


def test_enter_rejects_options() -> None:
    def body() -> None:
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.restricted_enter, 0xFFFFFFFF, 0, 0)

    run_guest(body)


def test_enter_rejects_kernel_vector() -> None:
    def body() -> None:
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.restricted_enter, 0, MAX_U64, 0)

    run_guest(body)


def test_enter_options_before_vector() -> None:
    def body() -> None:
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.restricted_enter, 1, MAX_U64, 0)

    run_guest(body)


def test_enter_vector_before_binding() -> None:
    def body() -> None:
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.restricted_enter, 0, 1 << 47, 0)

    run_guest(body)


def test_enter_accepts_vector_zero() -> None:
    # On x86-64 every address below 2**47 is user-accessible to the kernel's check.
    def body() -> None:
        expect_status(zx.ZX_ERR_BAD_STATE, zx.restricted_enter, 0, 0, 0)

    run_guest(body)


def test_enter_ip_zero_faults_in_guest() -> None:
    def body() -> tuple[int, zx.ExceptionReport]:
        vmo = zx.restricted_bind_state(0)
        write_state(vmo, zx.RestrictedState(ip=0))
        reason = zx.restricted_enter(0, VECTOR, 0)
        return reason, zx.read_exception_report(zx.vmo_read(vmo, zx.RESTRICTED_EXCEPTION_SIZE, 0))

    reason, report = run_guest(body)
    assert reason == zx.ZX_RESTRICTED_REASON_EXCEPTION
    assert report.type == zx.ZX_EXCP_FATAL_PAGE_FAULT


def test_kick_pending_wins_over_ip_zero() -> None:
    def body() -> int:
        vmo = zx.restricted_bind_state(0)
        write_state(vmo, zx.RestrictedState(ip=0))
        zx.restricted_kick(zx.thread_self(), 0)
        return zx.restricted_enter(0, VECTOR, 0)

    assert run_guest(body) == zx.ZX_RESTRICTED_REASON_KICK


def test_enter_without_binding() -> None:
    def body() -> None:
        expect_status(zx.ZX_ERR_BAD_STATE, zx.restricted_enter, 0, VECTOR, 0)

    run_guest(body)


def test_enter_after_unbind() -> None:
    def body() -> None:
        zx.restricted_bind_state(0)
        zx.restricted_unbind_state(0)
        expect_status(zx.ZX_ERR_BAD_STATE, zx.restricted_enter, 0, VECTOR, 0)

    run_guest(body)


def test_enter_bad_types() -> None:
    def body() -> None:
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.restricted_enter, "0", VECTOR, 0)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.restricted_enter, 0, None, 0)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.restricted_enter, 0, -1, 0)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.restricted_enter, 0, VECTOR, 1 << 64)

    run_guest(body)


# Bind and unbind.


@pytest.mark.parametrize("options", [1, 2, 0xFFFFFFFF, -1, None])
def test_bind_rejects_options(options: object) -> None:
    def body() -> None:
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.restricted_bind_state, options)

    run_guest(body)


def test_bind_vmo_rights_and_size() -> None:
    def body() -> tuple[int, int]:
        vmo = zx.restricted_bind_state(0)
        rights = zx.object_get_info(vmo, zx.ZX_INFO_HANDLE_BASIC).rights
        return rights, zx.vmo_get_size(vmo)

    rights, size = run_guest(body)
    assert rights == zx.ZX_DEFAULT_VMO_RIGHTS
    assert size == PAGE


def test_bind_vmo_cannot_resize() -> None:
    def body() -> None:
        vmo = zx.restricted_bind_state(0)
        expect_status(zx.ZX_ERR_UNAVAILABLE, zx.vmo_set_size, vmo, 2 * PAGE)

    run_guest(body)


def test_bind_twice_replaces() -> None:
    def body() -> None:
        first = zx.restricted_bind_state(0)
        second = zx.restricted_bind_state(0)
        assert first != second
        space = map_guest(zx.vmar_root_self())
        write_state(first, patterned_state(space, "syscall_bounce"))
        write_state(second, patterned_state(space, "bare_syscall"))
        assert zx.restricted_enter(0, VECTOR, 0) == zx.ZX_RESTRICTED_REASON_SYSCALL
        assert read_state(second).ip == space.entry("bare_syscall") + 2
        assert read_state(first).ip == space.entry("syscall_bounce")

    run_guest(body)


def test_bind_vmo_coherent_with_mapping() -> None:
    def body() -> None:
        vmo = zx.restricted_bind_state(0)
        address = zx.vmar_map(zx.vmar_root_self(), RW, 0, vmo, 0, PAGE)
        size = zx.X86_64_STATE_SIZE
        assert zx.vmo_read(vmo, size, 0) == user.load(address, size)
        user.store(address, b"\x99" * size)
        assert zx.vmo_read(vmo, size, 0) == b"\x99" * size
        zx.vmo_write(vmo, b"\x55" * size, 0)
        assert user.load(address, size) == b"\x55" * size
        zx.vmar_unmap(zx.vmar_root_self(), address, PAGE)
        zx.restricted_unbind_state(0)

    run_guest(body)


def test_binding_outlives_handle() -> None:
    def body() -> None:
        vmo = zx.restricted_bind_state(0)
        address = zx.vmar_map(zx.vmar_root_self(), RW, 0, vmo, 0, PAGE)
        zx.handle_close(vmo)
        space = map_guest(zx.vmar_root_self())
        user.store(address, patterned_state(space, "bare_syscall").to_bytes())
        assert zx.restricted_enter(0, VECTOR, 0) == zx.ZX_RESTRICTED_REASON_SYSCALL
        saved = zx.RestrictedState.from_bytes(user.load(address, zx.X86_64_STATE_SIZE))
        assert saved.ip == space.entry("bare_syscall") + 2

    run_guest(body)


def test_unbind_repeats() -> None:
    def body() -> None:
        for _ in range(3):
            zx.restricted_unbind_state(0)

    run_guest(body)


@pytest.mark.parametrize("options", [1, 0xFFFFFFFF])
def test_unbind_rejects_options(options: int) -> None:
    def body() -> None:
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.restricted_unbind_state, options)

    run_guest(body)


@pytest.mark.parametrize("arch", ["arm64", "riscv64"])
def test_other_arches_not_supported(arch: str) -> None:
    def body() -> None:
        expect_status(zx.ZX_ERR_NOT_SUPPORTED, zx.restricted_bind_state, 0)
        expect_status(zx.ZX_ERR_NOT_SUPPORTED, zx.restricted_unbind_state, 0)
        expect_status(zx.ZX_ERR_NOT_SUPPORTED, zx.restricted_enter, 0, VECTOR, 0)

    run_guest(body, arch=arch)


# The syscall bounce.


def test_syscall_bounce_registers() -> None:
    def body() -> tuple[zx.RestrictedState, int, int, int]:
        vmo = zx.restricted_bind_state(0)
        space = map_guest(zx.vmar_root_self())
        write_state(vmo, patterned_state(space, "syscall_bounce"))
        reason = zx.restricted_enter(0, VECTOR, 0)
        return read_state(vmo), reason, load_u64(space.data), load_u64(space.data + 8)

    state, reason, fs_slot, gs_slot = run_guest(body)
    assert reason == zx.ZX_RESTRICTED_REASON_SYSCALL
    for name, initial in PATTERN.items():
        if name in ("rcx", "r11"):
            continue
        assert getattr(state, name) == increment(initial), name
    assert state.rcx == 0
    assert state.r11 == 0
    assert fs_slot == 0x0303030303030304
    assert gs_slot == 0x0C0C0C0C0C0C0C0D


def test_syscall_bounce_ip_after_syscall() -> None:
    def body() -> tuple[int, int]:
        vmo = zx.restricted_bind_state(0)
        space = map_guest(zx.vmar_root_self())
        write_state(vmo, patterned_state(space, "syscall_bounce"))
        zx.restricted_enter(0, VECTOR, 0)
        return read_state(vmo).ip, space.entry("syscall_bounce_post_syscall")

    ip, expected = run_guest(body)
    assert ip == expected


def test_syscall_bounce_reserved_flags_clear() -> None:
    def body() -> int:
        vmo = zx.restricted_bind_state(0)
        space = map_guest(zx.vmar_root_self())
        write_state(vmo, patterned_state(space, "syscall_bounce"))
        zx.restricted_enter(0, VECTOR, 0)
        return read_state(vmo).flags

    flags = run_guest(body)
    assert flags & ~zx.X86_FLAGS_USER == 0


def test_register_round_trip_all_fields() -> None:
    def body() -> tuple[zx.RestrictedState, zx.RestrictedState]:
        vmo = zx.restricted_bind_state(0)
        space = map_guest(zx.vmar_root_self())
        state = zx.RestrictedState(
            **{name: value + index for index, (name, value) in enumerate(PATTERN.items())}
        )
        state.ip = space.entry("bare_syscall")
        state.flags = zx.X86_FLAGS_CF | zx.X86_FLAGS_ZF | zx.X86_FLAGS_OF
        state.fs_base = 0x7FFF_1234_5000
        state.gs_base = 0xFFFF_8000_0000_0000
        write_state(vmo, state)
        zx.restricted_enter(0, VECTOR, 0)
        return state, read_state(vmo)

    before, after = run_guest(body)
    for name in zx.RestrictedState.__dataclass_fields__:
        if name in ("rcx", "r11", "ip"):
            continue
        assert getattr(after, name) == getattr(before, name), name
    assert after.ip == before.ip + 2
    assert after.rcx == 0
    assert after.r11 == 0


def test_reenter_resumes_from_saved_state() -> None:
    def body() -> list[tuple[int, int, int]]:
        vmo = zx.restricted_bind_state(0)
        space = map_guest(zx.vmar_root_self())
        write_state(vmo, patterned_state(space, "syscall_bounce"))
        results = []
        for _ in range(3):
            reason = zx.restricted_enter(0, VECTOR, 0)
            state = read_state(vmo)
            results.append((reason, state.ip - space.code, state.rax))
        return results

    results = run_guest(body)
    post = BLOB.symbols["syscall_bounce_post_syscall"]
    assert results == [
        (zx.ZX_RESTRICTED_REASON_SYSCALL, post, PATTERN["rax"] + 1),
        (zx.ZX_RESTRICTED_REASON_SYSCALL, post, PATTERN["rax"] + 2),
        (zx.ZX_RESTRICTED_REASON_SYSCALL, post, PATTERN["rax"] + 3),
    ]


# Bad register state.


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("ip", MAX_U64),
        ("ip", 1 << 47),
        ("flags", 1 << 31),
        ("flags", 1 << 9),
        ("fs_base", 1 << 63),
        ("gs_base", 1 << 63),
        ("fs_base", 1 << 47),
    ],
)
def test_enter_rejects_bad_state(field: str, value: int) -> None:
    def body() -> None:
        vmo = zx.restricted_bind_state(0)
        space = map_guest(zx.vmar_root_self())
        state = patterned_state(space, "syscall_bounce")
        setattr(state, field, value)
        write_state(vmo, state)
        expect_status(zx.ZX_ERR_BAD_STATE, zx.restricted_enter, 0, VECTOR, 0)
        assert read_state(vmo) == state

    run_guest(body)


# Exceptions.


def test_exception_bounce_report() -> None:
    def body() -> tuple[int, zx.RestrictedState, zx.ExceptionReport, int]:
        vmo = zx.restricted_bind_state(0)
        space = map_guest(zx.vmar_root_self())
        write_state(vmo, patterned_state(space, "exception_bounce"))
        reason = zx.restricted_enter(0, VECTOR, 0)
        data = zx.vmo_read(vmo, zx.RESTRICTED_EXCEPTION_SIZE, 0)
        report = zx.read_exception_report(data)
        return reason, read_state(vmo), report, space.entry("exception_bounce_exception_address")

    reason, state, report, fault_ip = run_guest(body)
    assert reason == zx.ZX_RESTRICTED_REASON_EXCEPTION
    assert report.size == 40
    assert report.type == zx.ZX_EXCP_UNDEFINED_INSTRUCTION
    assert report.vector == 6
    assert report.err_code == 0
    assert report.cr2 == 0
    assert report.synth_code == 0
    assert report.synth_data == 0
    assert state.ip == fault_ip
    for name, initial in PATTERN.items():
        assert getattr(state, name) == increment(initial), name


def test_jump_to_kernel_address_is_exception() -> None:
    def body() -> tuple[int, zx.ExceptionReport]:
        vmo = zx.restricted_bind_state(0)
        space = map_guest(zx.vmar_root_self())
        state = patterned_state(space, "jump_to_rdi")
        state.rdi = 0x0FFFFFFFFFFFFFFE
        write_state(vmo, state)
        reason = zx.restricted_enter(0, VECTOR, 0)
        return reason, zx.read_exception_report(zx.vmo_read(vmo, zx.RESTRICTED_EXCEPTION_SIZE, 0))

    reason, report = run_guest(body)
    assert reason == zx.ZX_RESTRICTED_REASON_EXCEPTION
    assert report.type == zx.ZX_EXCP_FATAL_PAGE_FAULT


def test_breakpoint_is_exception() -> None:
    def body() -> tuple[int, zx.ExceptionReport]:
        vmo = zx.restricted_bind_state(0)
        space = map_guest(zx.vmar_root_self())
        write_state(vmo, patterned_state(space, "breakpoint"))
        reason = zx.restricted_enter(0, VECTOR, 0)
        return reason, zx.read_exception_report(zx.vmo_read(vmo, zx.RESTRICTED_EXCEPTION_SIZE, 0))

    reason, report = run_guest(body)
    assert reason == zx.ZX_RESTRICTED_REASON_EXCEPTION
    assert report.type == zx.ZX_EXCP_SW_BREAKPOINT


def test_unmapped_load_reports_page_fault() -> None:
    def body() -> tuple[int, zx.ExceptionReport, int]:
        vmo = zx.restricted_bind_state(0)
        space = map_guest(zx.vmar_root_self())
        state = patterned_state(space, "load_then_syscall")
        state.rdi = space.data + 16 * PAGE
        write_state(vmo, state)
        reason = zx.restricted_enter(0, VECTOR, 0)
        data = zx.vmo_read(vmo, zx.RESTRICTED_EXCEPTION_SIZE, 0)
        return reason, zx.read_exception_report(data), state.rdi

    reason, report, address = run_guest(body)
    assert reason == zx.ZX_RESTRICTED_REASON_EXCEPTION
    assert report.type == zx.ZX_EXCP_FATAL_PAGE_FAULT
    assert report.vector == 14
    assert report.cr2 == address
    assert report.synth_code == zx.ZX_ERR_NOT_FOUND & 0xFFFFFFFF


def test_store_to_read_only_reports_access_denied() -> None:
    def body() -> tuple[int, zx.ExceptionReport]:
        vmo = zx.restricted_bind_state(0)
        space = map_guest(zx.vmar_root_self())
        zx.vmar_protect(zx.vmar_root_self(), zx.ZX_VM_PERM_READ, space.data, PAGE)
        state = patterned_state(space, "store_then_syscall")
        state.rdi = space.data
        write_state(vmo, state)
        reason = zx.restricted_enter(0, VECTOR, 0)
        return reason, zx.read_exception_report(zx.vmo_read(vmo, zx.RESTRICTED_EXCEPTION_SIZE, 0))

    reason, report = run_guest(body)
    assert reason == zx.ZX_RESTRICTED_REASON_EXCEPTION
    assert report.cr2 != 0
    assert report.err_code & 0x2
    assert report.synth_code == zx.ZX_ERR_ACCESS_DENIED & 0xFFFFFFFF


# Kicks.


def test_kick_before_enter_latched_once() -> None:
    def body() -> tuple[int, zx.RestrictedState, int, zx.RestrictedState]:
        vmo = zx.restricted_bind_state(0)
        space = map_guest(zx.vmar_root_self())
        write_state(vmo, patterned_state(space, "syscall_bounce"))
        zx.restricted_kick(zx.thread_self(), 0)
        first = zx.restricted_enter(0, VECTOR, 0)
        untouched = read_state(vmo)
        second = zx.restricted_enter(0, VECTOR, 0)
        return first, untouched, second, read_state(vmo)

    first, untouched, second, after = run_guest(body)
    assert first == zx.ZX_RESTRICTED_REASON_KICK
    assert untouched.rax == PATTERN["rax"]
    assert second == zx.ZX_RESTRICTED_REASON_SYSCALL
    assert after.rax == PATTERN["rax"] + 1


def test_kicks_coalesce() -> None:
    def body() -> list[int]:
        vmo = zx.restricted_bind_state(0)
        space = map_guest(zx.vmar_root_self())
        write_state(vmo, patterned_state(space, "syscall_bounce"))
        for _ in range(3):
            zx.restricted_kick(zx.thread_self(), 0)
        return [zx.restricted_enter(0, VECTOR, 0) for _ in range(2)]

    assert run_guest(body) == [zx.ZX_RESTRICTED_REASON_KICK, zx.ZX_RESTRICTED_REASON_SYSCALL]


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_kick_while_running(seed: int) -> None:
    def body() -> tuple[int, int, int]:
        vmo = zx.restricted_bind_state(0)
        space = map_guest(zx.vmar_root_self())
        me = zx.thread_self()

        def kicker(arg1: int, arg2: int) -> int:
            while load_u64(space.data) == 0:
                zx.nanosleep(zx.deadline_after(1000))
            zx.restricted_kick(me, 0)
            return 0

        helper = zx.thread_create(zx.process_self(), "kicker", 0)
        zx.thread_start(helper, kicker, 0, 0, 0)
        state = patterned_state(space, "store_one")
        state.rdi = space.data
        state.rsi = 42
        write_state(vmo, state)
        reason = zx.restricted_enter(0, VECTOR, 0)
        return reason, load_u64(space.data), read_state(vmo).rsi

    reason, flag, rsi = run_guest(body, seed=seed)
    assert reason == zx.ZX_RESTRICTED_REASON_KICK
    assert flag == 1
    assert rsi == 43


def test_kick_rejects_options_first() -> None:
    def body() -> None:
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.restricted_kick, 12345, 1)

    run_guest(body)


def test_kick_bad_handle() -> None:
    def body() -> None:
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.restricted_kick, 12345, 0)

    run_guest(body)


def test_kick_wrong_type() -> None:
    def body() -> None:
        expect_status(zx.ZX_ERR_WRONG_TYPE, zx.restricted_kick, zx.process_self(), 0)

    run_guest(body)


def test_kick_needs_manage_thread() -> None:
    def body() -> None:
        reduced = zx.handle_duplicate(
            zx.thread_self(), zx.ZX_DEFAULT_THREAD_RIGHTS & ~zx.ZX_RIGHT_MANAGE_THREAD
        )
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.restricted_kick, reduced, 0)

    run_guest(body)


def test_kick_dead_thread() -> None:
    def body() -> None:
        thread = zx.thread_create(zx.process_self(), "short", 0)
        zx.thread_start(thread, lambda arg1, arg2: 0, 0, 0, 0)
        while zx.object_get_info(thread, zx.ZX_INFO_THREAD).state != zx.ZX_THREAD_STATE_DEAD:
            zx.nanosleep(zx.deadline_after(1000))
        expect_status(zx.ZX_ERR_BAD_STATE, zx.restricted_kick, thread, 0)

    run_guest(body)


def test_kick_unstarted_thread_latches() -> None:
    def body() -> None:
        thread = zx.thread_create(zx.process_self(), "later", 0)
        zx.restricted_kick(thread, 0)

    run_guest(body)


# Killing.


def test_kill_ends_spinning_guest() -> None:
    def body() -> tuple[int, int]:
        process, vmar = zx.process_create(zx.job_default(), "spinner", 0)
        space = map_guest(vmar)

        def spin(arg1: int, arg2: int) -> int:
            vmo = zx.restricted_bind_state(0)
            state = patterned_state(space, "store_one")
            state.rdi = space.data
            write_state(vmo, state)
            zx.restricted_enter(0, VECTOR, 0)
            return 0

        thread = zx.thread_create(process, "spin", 0)
        zx.process_start(process, thread, spin, 0, zx.ZX_HANDLE_INVALID, 0)
        while zx.vmo_read(space.data_vmo, 1, 0) == b"\0":
            zx.nanosleep(zx.deadline_after(1000))
        zx.task_kill(process)
        # The killed thread unwinds out of restricted mode when it next runs.
        while zx.object_get_info(process, zx.ZX_INFO_PROCESS_THREADS):
            zx.nanosleep(zx.deadline_after(1000))
        info = zx.object_get_info(process, zx.ZX_INFO_PROCESS)
        return info.return_code, info.flags & zx.ZX_INFO_PROCESS_FLAG_EXITED

    return_code, exited = run_guest(body)
    assert return_code == zx.ZX_TASK_RETCODE_SYSCALL_KILL
    assert exited


def test_guest_store_commits_page() -> None:
    def body() -> tuple[int, int]:
        vmo = zx.restricted_bind_state(0)
        space = map_guest(zx.vmar_root_self())
        before = zx.object_get_info(space.data_vmo, zx.ZX_INFO_VMO).committed_bytes
        state = patterned_state(space, "store_then_syscall")
        state.rdi = space.data + 64
        write_state(vmo, state)
        zx.restricted_enter(0, VECTOR, 0)
        after = zx.object_get_info(space.data_vmo, zx.ZX_INFO_VMO).committed_bytes
        return before, after

    before, after = run_guest(body)
    assert before == 0
    assert after == PAGE


def test_store_u64_helper_round_trip() -> None:
    def body() -> int:
        space = map_guest(zx.vmar_root_self())
        store_u64(space.data, 0x1122334455667788)
        return load_u64(space.data)

    assert run_guest(body) == 0x1122334455667788


# Vector registers per thread.


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_vector_registers_are_per_thread(seed: int) -> None:
    def body() -> dict[str, int]:
        space = map_guest(zx.vmar_root_self())
        results: dict[str, int] = {}
        # Steps, in order: A loads xmm0, B loads xmm0, A reads xmm0 back, B reads it back.
        turn = {"next": "A1"}

        def worker(name: str, value: int) -> None:
            vmo = zx.restricted_bind_state(0)
            state = patterned_state(space, "vector_round_trip")
            state.rax = value
            write_state(vmo, state)
            for step in (f"{name}1", f"{name}2"):
                while turn["next"] != step:
                    zx.nanosleep(zx.deadline_after(1000))
                zx.restricted_enter(0, VECTOR, 0)
                turn["next"] = {"A1": "B1", "B1": "A2", "A2": "B2", "B2": "done"}[step]
            results[name] = read_state(vmo).rax

        for name, value in (("A", 0xAAAA), ("B", 0xBBBB)):
            thread = zx.thread_create(zx.process_self(), name, 0)
            zx.thread_start(
                thread, lambda arg1, arg2, name=name, value=value: worker(name, value), 0, 0, 0
            )
        while turn["next"] != "done" or len(results) < 2:
            zx.nanosleep(zx.deadline_after(1000))
        return results

    assert run_guest(body, seed=seed) == {"A": 0xAAAA, "B": 0xBBBB}


def test_kick_before_start_is_latched() -> None:
    def body() -> int:
        reasons: list[int] = []

        def child(arg1: int, arg2: int) -> int:
            vmo = zx.restricted_bind_state(0)
            write_state(vmo, zx.RestrictedState(ip=0))
            reasons.append(zx.restricted_enter(0, VECTOR, 0))
            return 0

        thread = zx.thread_create(zx.process_self(), "child", 0)
        zx.restricted_kick(thread, 0)
        zx.thread_start(thread, child, 0, 0, 0)
        while not reasons:
            zx.nanosleep(zx.deadline_after(1000))
        return reasons[0]

    assert run_guest(body) == zx.ZX_RESTRICTED_REASON_KICK


def test_kick_dying_thread() -> None:
    def body() -> tuple[int, int]:
        thread = zx.thread_create(zx.process_self(), "sleeper", 0)
        zx.thread_start(thread, lambda arg1, arg2: zx.nanosleep(zx.ZX_TIME_INFINITE), 0, 0, 0)
        zx.nanosleep(zx.deadline_after(1000))
        zx.task_kill(thread)
        # The killed thread is DYING until it next runs and unwinds.
        state = zx.object_get_info(thread, zx.ZX_INFO_THREAD).state
        try:
            zx.restricted_kick(thread, 0)
        except zx.ZxError as error:
            return state, error.status
        return state, zx.ZX_OK

    state, status = run_guest(body)
    assert state in (zx.ZX_THREAD_STATE_DYING, zx.ZX_THREAD_STATE_DEAD)
    assert status == zx.ZX_ERR_BAD_STATE


# CPU exceptions.


def run_routine(
    routine: str, flags: int = 0
) -> tuple[int, zx.RestrictedState, zx.ExceptionReport, int]:
    """Enter `routine`; return the reason, saved state, report and the routine's address."""

    def body() -> tuple[int, zx.RestrictedState, zx.ExceptionReport, int]:
        vmo = zx.restricted_bind_state(0)
        space = map_guest(zx.vmar_root_self())
        state = patterned_state(space, routine)
        state.flags = flags
        write_state(vmo, state)
        reason = zx.restricted_enter(0, VECTOR, 0)
        data = zx.vmo_read(vmo, zx.RESTRICTED_EXCEPTION_SIZE, 0)
        return reason, read_state(vmo), zx.read_exception_report(data), space.code

    return run_guest(body)


@pytest.mark.parametrize("routine", ["port_input", "port_output", "system_enter"])
def test_privileged_instruction_is_general_fault(routine: str) -> None:
    reason, state, report, code = run_routine(routine)
    assert reason == zx.ZX_RESTRICTED_REASON_EXCEPTION
    assert report.type == zx.ZX_EXCP_GENERAL
    assert report.vector == 13
    assert state.ip == code + BLOB.symbols[routine]


def test_int_0x80_is_general_fault_at_instruction() -> None:
    reason, state, report, code = run_routine("interrupt_0x80")
    assert reason == zx.ZX_RESTRICTED_REASON_EXCEPTION
    assert report.type == zx.ZX_EXCP_GENERAL
    assert report.vector == 13
    assert report.err_code == (0x80 << 3) | 2
    assert state.ip == code + BLOB.symbols["interrupt_0x80"]


def test_divide_by_zero_is_general() -> None:
    reason, state, report, code = run_routine("divide_by_zero")
    assert reason == zx.ZX_RESTRICTED_REASON_EXCEPTION
    assert report.type == zx.ZX_EXCP_GENERAL
    assert report.vector == 0
    assert state.ip == code + BLOB.symbols["divide_by_zero_instruction"]


def test_single_step_is_hardware_breakpoint() -> None:
    reason, state, report, code = run_routine("two_nops", flags=zx.X86_FLAGS_TF)
    assert reason == zx.ZX_RESTRICTED_REASON_EXCEPTION
    assert report.type == zx.ZX_EXCP_HW_BREAKPOINT
    assert report.vector == 1
    assert state.ip == code + BLOB.symbols["two_nops"] + 1
