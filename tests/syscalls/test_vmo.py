"""The VMO syscalls (create, read, write, get_size, set_size): one test per check."""

import gc

import pytest

from memory_support import foreign_handle
from pyzircon import zx
from pyzircon.kernel.vm.vmo import live_buffer_count
from support import expect_status, run_guest

P = zx.PAGE_SIZE
U64_MAX = (1 << 64) - 1
# Values C could not pass as a 64-bit count.
BAD_COUNTS = [-1, 1 << 64, None, "16", 1.0, True]


def _closed_vmo() -> int:
    vmo = zx.vmo_create(P, 0)
    zx.handle_close(vmo)
    return vmo


def _event() -> int:
    return zx.event_create(0)


# zx_vmo_create.


def test_create_unknown_option():
    run_guest(lambda: expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmo_create, P, 1 << 7))


def test_create_option_not_an_int():
    run_guest(lambda: expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmo_create, P, None))


@pytest.mark.parametrize("size", BAD_COUNTS)
def test_create_size_not_a_count(size):
    run_guest(lambda: expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmo_create, size, 0))


def test_create_size_rounds_past_2_64():
    run_guest(lambda: expect_status(zx.ZX_ERR_OUT_OF_RANGE, zx.vmo_create, U64_MAX, 0))


def test_create_size_above_max():
    run_guest(lambda: expect_status(zx.ZX_ERR_OUT_OF_RANGE, zx.vmo_create, U64_MAX - 2 * P, 0))


@pytest.mark.parametrize("option", [zx.ZX_VMO_DISCARDABLE, zx.ZX_VMO_UNBOUNDED])
def test_create_unsupported_option(option):
    run_guest(lambda: expect_status(zx.ZX_ERR_NOT_SUPPORTED, zx.vmo_create, P, option))


def test_create_options_before_size():
    run_guest(lambda: expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmo_create, U64_MAX, 1 << 7))


def test_create_rounds_size_up():
    def body():
        vmo = zx.vmo_create(P + 1, 0)
        assert zx.vmo_get_size(vmo) == 2 * P

    run_guest(body)


def test_create_zero_size():
    assert run_guest(lambda: zx.vmo_get_size(zx.vmo_create(0, 0))) == 0


def test_create_rights():
    def body():
        vmo = zx.vmo_create(P, 0)
        assert zx.object_get_info(vmo, zx.ZX_INFO_HANDLE_BASIC).rights == zx.ZX_DEFAULT_VMO_RIGHTS

    run_guest(body)


def test_create_resizable_rights():
    def body():
        vmo = zx.vmo_create(P, zx.ZX_VMO_RESIZABLE)
        rights = zx.object_get_info(vmo, zx.ZX_INFO_HANDLE_BASIC).rights
        assert rights == zx.ZX_DEFAULT_VMO_RIGHTS | zx.ZX_RIGHT_RESIZE

    run_guest(body)


# zx_vmo_read.


def test_read_closed_handle():
    run_guest(lambda: expect_status(zx.ZX_ERR_BAD_HANDLE, zx.vmo_read, _closed_vmo(), 1, 0))


def test_read_invalid_handle():
    run_guest(lambda: expect_status(zx.ZX_ERR_BAD_HANDLE, zx.vmo_read, zx.ZX_HANDLE_INVALID, 1, 0))


@pytest.mark.parametrize("value", [None, -1, 1 << 32, "vmo"])
def test_read_handle_not_a_value(value):
    run_guest(lambda: expect_status(zx.ZX_ERR_BAD_HANDLE, zx.vmo_read, value, 1, 0))


def test_read_foreign_handle():
    def body():
        with foreign_handle() as value:
            expect_status(zx.ZX_ERR_BAD_HANDLE, zx.vmo_read, value, 1, 0)

    run_guest(body)


def test_read_wrong_type():
    run_guest(lambda: expect_status(zx.ZX_ERR_WRONG_TYPE, zx.vmo_read, _event(), 1, 0))


def test_read_without_read_right():
    def body():
        vmo = zx.vmo_create(P, 0)
        no_read = zx.handle_duplicate(vmo, zx.ZX_DEFAULT_VMO_RIGHTS & ~zx.ZX_RIGHT_READ)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmo_read, no_read, 1, 0)

    run_guest(body)


@pytest.mark.parametrize("count", BAD_COUNTS)
def test_read_length_not_a_count(count):
    run_guest(
        lambda: expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmo_read, zx.vmo_create(P, 0), count, 0)
    )


@pytest.mark.parametrize("count", BAD_COUNTS)
def test_read_offset_not_a_count(count):
    run_guest(
        lambda: expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmo_read, zx.vmo_create(P, 0), 1, count)
    )


def test_read_past_end():
    run_guest(
        lambda: expect_status(zx.ZX_ERR_OUT_OF_RANGE, zx.vmo_read, zx.vmo_create(P, 0), 2, P - 1)
    )


def test_read_offset_overflows():
    run_guest(
        lambda: expect_status(zx.ZX_ERR_OUT_OF_RANGE, zx.vmo_read, zx.vmo_create(P, 0), 2, U64_MAX)
    )


def test_read_handle_before_length():
    run_guest(lambda: expect_status(zx.ZX_ERR_BAD_HANDLE, zx.vmo_read, _closed_vmo(), None, 0))


def test_read_right_before_range():
    def body():
        vmo = zx.vmo_create(P, 0)
        no_read = zx.handle_duplicate(vmo, zx.ZX_RIGHT_MAP)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmo_read, no_read, 2 * P, 0)

    run_guest(body)


def test_read_fresh_is_zero():
    assert run_guest(lambda: zx.vmo_read(zx.vmo_create(2 * P, 0), 2 * P, 0)) == bytes(2 * P)


def test_read_zero_length_at_end():
    assert run_guest(lambda: zx.vmo_read(zx.vmo_create(P, 0), 0, P)) == b""


# zx_vmo_write.


def test_write_closed_handle():
    run_guest(lambda: expect_status(zx.ZX_ERR_BAD_HANDLE, zx.vmo_write, _closed_vmo(), b"x", 0))


def test_write_foreign_handle():
    def body():
        with foreign_handle() as value:
            expect_status(zx.ZX_ERR_BAD_HANDLE, zx.vmo_write, value, b"x", 0)

    run_guest(body)


def test_write_wrong_type():
    run_guest(lambda: expect_status(zx.ZX_ERR_WRONG_TYPE, zx.vmo_write, _event(), b"x", 0))


def test_write_without_write_right():
    def body():
        vmo = zx.vmo_create(P, 0)
        no_write = zx.handle_duplicate(vmo, zx.ZX_DEFAULT_VMO_RIGHTS & ~zx.ZX_RIGHT_WRITE)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmo_write, no_write, b"x", 0)

    run_guest(body)


@pytest.mark.parametrize("data", [None, "text", 5, [1, 2]])
def test_write_data_not_bytes(data):
    run_guest(
        lambda: expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmo_write, zx.vmo_create(P, 0), data, 0)
    )


@pytest.mark.parametrize("count", BAD_COUNTS)
def test_write_offset_not_a_count(count):
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_INVALID_ARGS, zx.vmo_write, zx.vmo_create(P, 0), b"x", count
        )
    )


def test_write_past_end():
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_OUT_OF_RANGE, zx.vmo_write, zx.vmo_create(P, 0), b"xy", P - 1
        )
    )


def test_write_offset_overflows():
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_OUT_OF_RANGE, zx.vmo_write, zx.vmo_create(P, 0), b"xy", U64_MAX
        )
    )


def test_write_handle_before_data():
    run_guest(lambda: expect_status(zx.ZX_ERR_BAD_HANDLE, zx.vmo_write, _closed_vmo(), None, 0))


def test_write_right_before_range():
    def body():
        vmo = zx.vmo_create(P, 0)
        no_write = zx.handle_duplicate(vmo, zx.ZX_RIGHT_READ)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmo_write, no_write, b"xy", P)

    run_guest(body)


def test_write_then_read():
    def body():
        vmo = zx.vmo_create(2 * P, 0)
        zx.vmo_write(vmo, bytearray(b"across"), P - 3)
        assert zx.vmo_read(vmo, 6, P - 3) == b"across"

    run_guest(body)


def test_write_accepts_memoryview():
    def body():
        vmo = zx.vmo_create(P, 0)
        zx.vmo_write(vmo, memoryview(b"view"), 0)
        assert zx.vmo_read(vmo, 4, 0) == b"view"

    run_guest(body)


# zx_vmo_get_size.


def test_get_size_closed_handle():
    run_guest(lambda: expect_status(zx.ZX_ERR_BAD_HANDLE, zx.vmo_get_size, _closed_vmo()))


def test_get_size_wrong_type():
    run_guest(lambda: expect_status(zx.ZX_ERR_WRONG_TYPE, zx.vmo_get_size, _event()))


def test_get_size_needs_no_rights():
    def body():
        vmo = zx.vmo_create(3 * P, 0)
        bare = zx.handle_duplicate(vmo, zx.ZX_RIGHT_NONE)
        assert zx.vmo_get_size(bare) == 3 * P

    run_guest(body)


# zx_vmo_set_size.


def test_set_size_closed_handle():
    run_guest(lambda: expect_status(zx.ZX_ERR_BAD_HANDLE, zx.vmo_set_size, _closed_vmo(), P))


def test_set_size_wrong_type():
    run_guest(lambda: expect_status(zx.ZX_ERR_WRONG_TYPE, zx.vmo_set_size, _event(), P))


def test_set_size_without_write_right():
    def body():
        vmo = zx.vmo_create(P, zx.ZX_VMO_RESIZABLE)
        rights = zx.ZX_DEFAULT_VMO_RIGHTS | zx.ZX_RIGHT_RESIZE
        no_write = zx.handle_duplicate(vmo, rights & ~zx.ZX_RIGHT_WRITE)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmo_set_size, no_write, 2 * P)

    run_guest(body)


def test_set_size_without_resize_right():
    def body():
        vmo = zx.vmo_create(P, zx.ZX_VMO_RESIZABLE)
        no_resize = zx.handle_duplicate(vmo, zx.ZX_DEFAULT_VMO_RIGHTS)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmo_set_size, no_resize, 2 * P)
        assert zx.vmo_get_size(vmo) == P

    run_guest(body)


@pytest.mark.parametrize("size", BAD_COUNTS)
def test_set_size_not_a_count(size):
    def body():
        vmo = zx.vmo_create(P, zx.ZX_VMO_RESIZABLE)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmo_set_size, vmo, size)

    run_guest(body)


def test_set_size_rounds_past_2_64():
    def body():
        vmo = zx.vmo_create(P, zx.ZX_VMO_RESIZABLE)
        expect_status(zx.ZX_ERR_OUT_OF_RANGE, zx.vmo_set_size, vmo, U64_MAX)

    run_guest(body)


def test_set_size_not_resizable():
    def body():
        vmo = zx.vmo_create(P, 0)
        expect_status(zx.ZX_ERR_UNAVAILABLE, zx.vmo_set_size, vmo, 2 * P)
        expect_status(zx.ZX_ERR_UNAVAILABLE, zx.vmo_set_size, vmo, 0)
        assert zx.vmo_get_size(vmo) == P

    run_guest(body)


def test_set_size_above_max():
    def body():
        vmo = zx.vmo_create(P, zx.ZX_VMO_RESIZABLE)
        expect_status(zx.ZX_ERR_OUT_OF_RANGE, zx.vmo_set_size, vmo, U64_MAX - 2 * P)

    run_guest(body)


def test_set_size_overflow_before_resizable():
    """Regression: the kernel rounds the size before it checks whether the VMO can resize."""

    def body():
        vmo = zx.vmo_create(P, 0)
        expect_status(zx.ZX_ERR_OUT_OF_RANGE, zx.vmo_set_size, vmo, U64_MAX)

    run_guest(body)


def test_set_size_resize_right_before_size():
    def body():
        vmo = zx.vmo_create(P, zx.ZX_VMO_RESIZABLE)
        no_resize = zx.handle_duplicate(vmo, zx.ZX_DEFAULT_VMO_RIGHTS)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmo_set_size, no_resize, U64_MAX)

    run_guest(body)


def test_set_size_resize_right_ignored_when_not_resizable():
    run_guest(lambda: expect_status(zx.ZX_ERR_UNAVAILABLE, zx.vmo_set_size, zx.vmo_create(P, 0), 0))


def test_set_size_rounds_up():
    def body():
        vmo = zx.vmo_create(P, zx.ZX_VMO_RESIZABLE)
        zx.vmo_set_size(vmo, 2 * P + 1)
        assert zx.vmo_get_size(vmo) == 3 * P

    run_guest(body)


def test_shrink_then_grow_reads_zero():
    def body():
        vmo = zx.vmo_create(2 * P, zx.ZX_VMO_RESIZABLE)
        zx.vmo_write(vmo, b"\xff" * (2 * P), 0)
        zx.vmo_set_size(vmo, P)
        zx.vmo_set_size(vmo, 2 * P)
        assert zx.vmo_read(vmo, P, P) == bytes(P)

    run_guest(body)


def test_buffers_freed_after_run():
    """Every VMO page buffer is freed once the program's processes and handles are gone."""
    before = live_buffer_count()

    def body():
        mapped = zx.vmo_create(P, 0)
        zx.vmar_map(zx.vmar_root_self(), zx.ZX_VM_PERM_READ, 0, mapped, 0, P)
        process, root = zx.process_create(zx.job_default(), "holder", 0)
        zx.vmar_map(root, zx.ZX_VM_PERM_READ, 0, zx.vmo_create(P, 0), 0, P)
        grown = zx.vmo_create(P, zx.ZX_VMO_RESIZABLE)
        zx.vmo_set_size(grown, 64 * P)
        return live_buffer_count()

    assert run_guest(body) == before + 3
    gc.collect()
    assert live_buffer_count() == before


# zx_vmo_replace_as_executable.


def test_replace_as_executable_adds_execute() -> None:
    def body() -> tuple[int, int]:
        vmo = zx.vmo_create(P, 0)
        before = zx.object_get_info(vmo, zx.ZX_INFO_HANDLE_BASIC).rights
        executable = zx.vmo_replace_as_executable(vmo, zx.ZX_HANDLE_INVALID)
        return before, zx.object_get_info(executable, zx.ZX_INFO_HANDLE_BASIC).rights

    before, after = run_guest(body)
    assert after == before | zx.ZX_RIGHT_EXECUTE


def test_replace_as_executable_closes_source() -> None:
    def body() -> None:
        vmo = zx.vmo_create(P, 0)
        zx.vmo_replace_as_executable(vmo, zx.ZX_HANDLE_INVALID)
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.handle_close, vmo)

    run_guest(body)


def test_replace_as_executable_bad_handle() -> None:
    def body() -> None:
        expect_status(
            zx.ZX_ERR_BAD_HANDLE, zx.vmo_replace_as_executable, 0x12345, zx.ZX_HANDLE_INVALID
        )

    run_guest(body)


def test_replace_as_executable_bad_vmex() -> None:
    def body() -> None:
        vmo = zx.vmo_create(P, 0)
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.vmo_replace_as_executable, vmo, 0x12345)
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.handle_close, vmo)

    run_guest(body)


def test_replace_as_executable_vmex_wrong_type() -> None:
    def body() -> None:
        vmo = zx.vmo_create(P, 0)
        event = zx.event_create(0)
        expect_status(zx.ZX_ERR_WRONG_TYPE, zx.vmo_replace_as_executable, vmo, event)
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.handle_close, vmo)

    run_guest(body)


def test_replace_as_executable_not_a_vmo() -> None:
    """A handle to another object is ZX_ERR_BAD_HANDLE, as Zircon's syscall returns it."""

    def body() -> None:
        event = zx.event_create(0)
        expect_status(
            zx.ZX_ERR_BAD_HANDLE, zx.vmo_replace_as_executable, event, zx.ZX_HANDLE_INVALID
        )
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.handle_close, event)

    run_guest(body)


def test_replace_as_executable_vmex_before_type() -> None:
    def body() -> None:
        event = zx.event_create(0)
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.vmo_replace_as_executable, event, 0x12345)

    run_guest(body)


def test_executable_vmo_maps_execute() -> None:
    def body() -> int:
        vmo = zx.vmo_replace_as_executable(zx.vmo_create(P, 0), zx.ZX_HANDLE_INVALID)
        perms = zx.ZX_VM_PERM_READ | zx.ZX_VM_PERM_EXECUTE
        return zx.vmar_map(zx.vmar_root_self(), perms, 0, vmo, 0, P)

    assert run_guest(body) > 0
