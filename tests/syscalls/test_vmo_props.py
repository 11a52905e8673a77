"""VMO cache policy, content size and name properties, and executable VMOs."""

from __future__ import annotations

import pytest

from memory_support import run_in
from pyzircon import zx
from support import expect_status, run_guest

P = zx.PAGE_SIZE
U64_MAX = (1 << 64) - 1
POLICIES = [
    zx.ZX_CACHE_POLICY_CACHED,
    zx.ZX_CACHE_POLICY_UNCACHED,
    zx.ZX_CACHE_POLICY_UNCACHED_DEVICE,
    zx.ZX_CACHE_POLICY_WRITE_COMBINING,
]


def vmo(pages: int = 1, options: int = 0) -> int:
    return zx.vmo_create(pages * P, options)


def cache_policy(handle: int) -> int:
    return zx.object_get_info(handle, zx.ZX_INFO_VMO).cache_policy


# zx_vmo_set_cache_policy, check by check.


@pytest.mark.parametrize("policy", [zx.ZX_CACHE_POLICY_MASK + 1, 1 << 31, -1, None])
def test_cache_policy_invalid(policy):
    run_guest(lambda: expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmo_set_cache_policy, vmo(), policy))


def test_cache_policy_checked_before_handle():
    run_guest(lambda: expect_status(zx.ZX_ERR_INVALID_ARGS, zx.vmo_set_cache_policy, 0x12345, 4))


def test_cache_policy_bad_handle():
    run_guest(lambda: expect_status(zx.ZX_ERR_BAD_HANDLE, zx.vmo_set_cache_policy, 0x12345, 0))


def test_cache_policy_wrong_type():
    run_guest(
        lambda: expect_status(zx.ZX_ERR_WRONG_TYPE, zx.vmo_set_cache_policy, zx.event_create(0), 0)
    )


def test_cache_policy_needs_map():
    def body() -> None:
        handle = zx.handle_duplicate(vmo(), zx.ZX_DEFAULT_VMO_RIGHTS & ~zx.ZX_RIGHT_MAP)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmo_set_cache_policy, handle, 0)

    run_guest(body)


@pytest.mark.parametrize("policy", POLICIES)
def test_cache_policy_sets_each(policy):
    def body() -> int:
        handle = vmo()
        zx.vmo_set_cache_policy(handle, policy)
        return cache_policy(handle)

    assert run_guest(body) == policy


def test_cache_policy_mapped_bad_state():
    """Zircon's VmoTestCase.Cache: a mapping blocks the change until it is gone."""

    def body() -> None:
        handle = vmo()
        address = zx.vmar_map(zx.vmar_root_self(), zx.ZX_VM_PERM_READ, 0, handle, 0, P)
        expect_status(zx.ZX_ERR_BAD_STATE, zx.vmo_set_cache_policy, handle, 0)
        zx.vmar_unmap(zx.vmar_root_self(), address, P)
        zx.vmo_set_cache_policy(handle, 0)

    run_guest(body)


def test_cache_policy_with_child_bad_state():
    def body() -> None:
        handle = vmo()
        child = zx.vmo_create_child(handle, zx.ZX_VMO_CHILD_SNAPSHOT, 0, P)
        expect_status(zx.ZX_ERR_BAD_STATE, zx.vmo_set_cache_policy, handle, 0)
        expect_status(zx.ZX_ERR_BAD_STATE, zx.vmo_set_cache_policy, child, 0)
        zx.handle_close(child)
        zx.vmo_set_cache_policy(handle, 0)

    run_guest(body)


def test_cache_policy_of_slice_bad_state():
    def body() -> None:
        piece = zx.vmo_create_child(vmo(), zx.ZX_VMO_CHILD_SLICE, 0, P)
        expect_status(zx.ZX_ERR_BAD_STATE, zx.vmo_set_cache_policy, piece, 0)

    run_guest(body)


def test_cache_policy_with_committed_pages():
    def body() -> int:
        handle = zx.vmo_create(P << 20, 0)
        zx.vmo_write(handle, b"*", 1 << 30)
        zx.vmo_set_cache_policy(handle, zx.ZX_CACHE_POLICY_UNCACHED)
        return cache_policy(handle)

    assert run_guest(body) == zx.ZX_CACHE_POLICY_UNCACHED


def test_uncached_read_write_bad_state():
    def body() -> bytes:
        handle = vmo()
        zx.vmo_set_cache_policy(handle, zx.ZX_CACHE_POLICY_UNCACHED)
        expect_status(zx.ZX_ERR_BAD_STATE, zx.vmo_read, handle, 1, 0)
        expect_status(zx.ZX_ERR_BAD_STATE, zx.vmo_write, handle, b"c", 0)
        zx.vmo_set_cache_policy(handle, zx.ZX_CACHE_POLICY_CACHED)
        zx.vmo_write(handle, b"c", 0)
        return zx.vmo_read(handle, 1, 0)

    assert run_guest(body) == b"c"


def test_uncached_bad_state_before_range():
    def body() -> None:
        handle = vmo()
        zx.vmo_set_cache_policy(handle, zx.ZX_CACHE_POLICY_UNCACHED)
        expect_status(zx.ZX_ERR_BAD_STATE, zx.vmo_read, handle, 10 * P, 0)

    run_guest(body)


def test_uncached_vmo_can_be_mapped():
    def body() -> int:
        handle = vmo()
        zx.vmo_set_cache_policy(handle, zx.ZX_CACHE_POLICY_UNCACHED)
        return zx.vmar_map(zx.vmar_root_self(), zx.ZX_VM_PERM_READ, 0, handle, 0, P)

    assert run_guest(body) > 0


# ZX_PROP_VMO_CONTENT_SIZE.


def content_size(handle: int) -> int:
    return zx.object_get_property(handle, zx.ZX_PROP_VMO_CONTENT_SIZE)


def test_content_size_of_new_vmo():
    assert run_guest(lambda: content_size(zx.vmo_create(4 * P + 42, 0))) == 4 * P + 42


def test_content_size_follows_set_property():
    """Zircon's VmoTestCase.ContentSize."""

    def body() -> list[int]:
        handle = vmo(4, zx.ZX_VMO_RESIZABLE)
        sizes = [content_size(handle)]
        for target in (4 * P // 3, 4 * P + 15643):
            zx.object_set_property(handle, zx.ZX_PROP_VMO_CONTENT_SIZE, target)
            sizes.append(content_size(handle))
        zx.vmo_set_size(handle, 5461)
        sizes.append(content_size(handle))
        return sizes

    assert run_guest(body) == [4 * P, 4 * P // 3, 4 * P + 15643, 5461]


def test_content_size_set_zeroes_tail():
    def body() -> bytes:
        handle = vmo(2)
        zx.vmo_write(handle, b"\xff" * (2 * P), 0)
        zx.object_set_property(handle, zx.ZX_PROP_VMO_CONTENT_SIZE, 10)
        return zx.vmo_read(handle, 12, 0)

    assert run_guest(body) == b"\xff" * 10 + bytes(2)


def test_set_size_zeroes_partial_page():
    def body() -> bytes:
        handle = vmo(2, zx.ZX_VMO_RESIZABLE)
        zx.vmo_write(handle, b"\xff" * (2 * P), 0)
        zx.vmo_set_size(handle, P + 5)
        return zx.vmo_read(handle, 7, P)

    assert run_guest(body) == b"\xff" * 5 + bytes(2)


def test_content_size_set_needs_write():
    def body() -> None:
        handle = zx.handle_duplicate(vmo(), zx.ZX_RIGHT_READ | zx.ZX_RIGHT_SET_PROPERTY)
        expect_status(
            zx.ZX_ERR_ACCESS_DENIED, zx.object_set_property, handle, zx.ZX_PROP_VMO_CONTENT_SIZE, 1
        )
        writable = zx.handle_duplicate(
            vmo(), zx.ZX_RIGHT_READ | zx.ZX_RIGHT_WRITE | zx.ZX_RIGHT_SET_PROPERTY
        )
        zx.object_set_property(writable, zx.ZX_PROP_VMO_CONTENT_SIZE, 1)

    run_guest(body)


def test_content_size_set_needs_set_property():
    def body() -> None:
        handle = zx.handle_duplicate(vmo(), zx.ZX_RIGHT_READ | zx.ZX_RIGHT_WRITE)
        expect_status(
            zx.ZX_ERR_ACCESS_DENIED, zx.object_set_property, handle, zx.ZX_PROP_VMO_CONTENT_SIZE, 1
        )

    run_guest(body)


def test_content_size_wrong_type():
    def body() -> None:
        process, _ = zx.process_create(zx.job_default(), "p", 0)
        expect_status(
            zx.ZX_ERR_WRONG_TYPE, zx.object_get_property, process, zx.ZX_PROP_VMO_CONTENT_SIZE
        )
        expect_status(
            zx.ZX_ERR_WRONG_TYPE, zx.object_set_property, process, zx.ZX_PROP_VMO_CONTENT_SIZE, 1
        )

    run_guest(body)


@pytest.mark.parametrize("value", [-1, 1 << 64, "1"])
def test_content_size_bad_value(value):
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_INVALID_ARGS,
            zx.object_set_property,
            vmo(),
            zx.ZX_PROP_VMO_CONTENT_SIZE,
            value,
        )
    )


def test_content_size_past_size_kept():
    def body() -> tuple[int, int]:
        handle = vmo()
        zx.object_set_property(handle, zx.ZX_PROP_VMO_CONTENT_SIZE, 3 * P)
        return content_size(handle), zx.vmo_get_size(handle)

    assert run_guest(body) == (3 * P, P)


# ZX_PROP_NAME on VMOs.


def test_name_round_trip_and_truncation():
    def body() -> tuple[str, str]:
        handle = vmo()
        zx.object_set_property(handle, zx.ZX_PROP_NAME, "test vmo")
        first = zx.object_get_property(handle, zx.ZX_PROP_NAME)
        zx.object_set_property(handle, zx.ZX_PROP_NAME, "n" * 40)
        return first, zx.object_get_property(handle, zx.ZX_PROP_NAME)

    assert run_guest(body) == ("test vmo", "n" * 31)


# zx_vmo_replace_as_executable.


def test_replace_as_executable_not_a_vmo_closes_it():
    def body() -> None:
        event = zx.event_create(0)
        expect_status(
            zx.ZX_ERR_BAD_HANDLE, zx.vmo_replace_as_executable, event, zx.ZX_HANDLE_INVALID
        )
        expect_status(zx.ZX_ERR_BAD_HANDLE, zx.handle_close, event)

    run_guest(body)


def test_replace_as_executable_bad_source_before_vmex():
    """The missing source wins over a bad vmex, and nothing is closed."""
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_BAD_HANDLE, zx.vmo_replace_as_executable, 0x12345, zx.event_create(0)
        )
    )


HAS_JOB_POLICY = hasattr(zx, "job_set_policy") and hasattr(zx, "PolicyBasicV1")


def _run_under_exec_policy(action: int, body) -> object:
    """Run `body` in a new process whose job has `action` for ZX_POL_AMBIENT_MARK_VMO_EXEC."""

    def main() -> object:
        job = zx.job_create(zx.job_default(), 0)
        record = zx.PolicyBasicV1(zx.ZX_POL_AMBIENT_MARK_VMO_EXEC, action)
        zx.job_set_policy(job, zx.ZX_JOB_POL_RELATIVE, zx.ZX_JOB_POL_BASIC_V1, [record])
        process, _vmar = zx.process_create(job, "exec-policy", 0)
        return run_in(process, body)

    return run_guest(main)


@pytest.mark.skipif(not HAS_JOB_POLICY, reason="zx.job_set_policy is not available")
def test_replace_as_executable_denied_by_policy():
    """Check 1: a DENY action for ZX_POL_AMBIENT_MARK_VMO_EXEC, reported after check 3."""

    def body() -> tuple[int, int, int]:
        denied = closed = bad_source = zx.ZX_OK
        source = vmo()
        try:
            zx.vmo_replace_as_executable(source, zx.ZX_HANDLE_INVALID)
        except zx.ZxError as error:
            denied = error.status
        # The source was closed anyway.
        try:
            zx.handle_close(source)
        except zx.ZxError as error:
            closed = error.status
        # A bad source still wins over the policy.
        try:
            zx.vmo_replace_as_executable(0x12345, zx.ZX_HANDLE_INVALID)
        except zx.ZxError as error:
            bad_source = error.status
        return denied, closed, bad_source

    result = _run_under_exec_policy(zx.ZX_POL_ACTION_DENY, body)
    assert result == (zx.ZX_ERR_ACCESS_DENIED, zx.ZX_ERR_BAD_HANDLE, zx.ZX_ERR_BAD_HANDLE)


@pytest.mark.skipif(not HAS_JOB_POLICY, reason="zx.job_set_policy is not available")
def test_replace_as_executable_allowed_by_policy():
    def body() -> bool:
        executable = zx.vmo_replace_as_executable(vmo(), zx.ZX_HANDLE_INVALID)
        rights = zx.object_get_info(executable, zx.ZX_INFO_HANDLE_BASIC).rights
        return bool(rights & zx.ZX_RIGHT_EXECUTE)

    assert _run_under_exec_policy(zx.ZX_POL_ACTION_ALLOW, body) is True


def test_replace_as_executable_keeps_other_rights():
    def body() -> tuple[int, int]:
        reduced = zx.handle_duplicate(vmo(), zx.ZX_RIGHT_READ | zx.ZX_RIGHT_MAP)
        executable = zx.vmo_replace_as_executable(reduced, zx.ZX_HANDLE_INVALID)
        return (
            zx.object_get_info(executable, zx.ZX_INFO_HANDLE_BASIC).rights,
            zx.ZX_RIGHT_READ | zx.ZX_RIGHT_MAP | zx.ZX_RIGHT_EXECUTE,
        )

    rights, expected = run_guest(body)
    assert rights == expected


def test_execute_mapping_needs_execute_right():
    def body() -> None:
        handle = vmo()
        rx = zx.ZX_VM_PERM_READ | zx.ZX_VM_PERM_EXECUTE
        expect_status(
            zx.ZX_ERR_ACCESS_DENIED, zx.vmar_map, zx.vmar_root_self(), rx, 0, handle, 0, P
        )
        executable = zx.vmo_replace_as_executable(handle, zx.ZX_HANDLE_INVALID)
        zx.vmar_map(zx.vmar_root_self(), rx, 0, executable, 0, P)

    run_guest(body)


def test_snapshot_of_executable_loses_execute():
    def body() -> None:
        executable = zx.vmo_replace_as_executable(vmo(), zx.ZX_HANDLE_INVALID)
        child = zx.vmo_create_child(executable, zx.ZX_VMO_CHILD_SNAPSHOT, 0, P)
        rx = zx.ZX_VM_PERM_READ | zx.ZX_VM_PERM_EXECUTE
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.vmar_map, zx.vmar_root_self(), rx, 0, child, 0, P)
        again = zx.vmo_replace_as_executable(child, zx.ZX_HANDLE_INVALID)
        zx.vmar_map(zx.vmar_root_self(), rx, 0, again, 0, P)

    run_guest(body)
