"""JobPolicy, used directly: merging entries, override bits, modes and ZX_POL_NEW_ANY."""

from __future__ import annotations

import pytest

from pyzircon import zx
from pyzircon.kernel.objects.policy import NEW_OBJECT_CONDITIONS, BasicPolicyEntry, JobPolicy

ALLOW = zx.ZX_POL_ACTION_ALLOW
DENY = zx.ZX_POL_ACTION_DENY
KILL = zx.ZX_POL_ACTION_KILL
OVERRIDE_ALLOW = zx.ZX_POL_OVERRIDE_ALLOW
OVERRIDE_DENY = zx.ZX_POL_OVERRIDE_DENY
RELATIVE = zx.ZX_JOB_POL_RELATIVE
ABSOLUTE = zx.ZX_JOB_POL_ABSOLUTE
CONDITIONS = [c for c in range(zx.ZX_POL_MAX) if c != zx.ZX_POL_NEW_ANY]


def entry(condition, action, override=OVERRIDE_DENY):
    return BasicPolicyEntry(condition=condition, action=action, override=override)


def expect_error(status, call, *args):
    with pytest.raises(zx.ZxError) as caught:
        call(*args)
    assert caught.value.status == status


def test_root_policy_allows_everything():
    policy = JobPolicy()
    for condition in CONDITIONS:
        assert policy.action(condition) == ALLOW
        assert policy.override(condition) == OVERRIDE_ALLOW


@pytest.mark.parametrize("condition", [zx.ZX_POL_NEW_ANY, zx.ZX_POL_MAX, 1 << 31])
def test_unknown_condition_queries_deny(condition):
    policy = JobPolicy()
    assert policy.action(condition) == DENY
    assert policy.override(condition) == OVERRIDE_DENY


def test_new_object_conditions_cover_every_new_condition():
    names = {
        value
        for name, value in vars(zx).items()
        if name.startswith("ZX_POL_NEW_") and name != "ZX_POL_NEW_ANY"
    }
    assert set(NEW_OBJECT_CONDITIONS) == names


def test_overridable_entry_replaced():
    policy = JobPolicy()
    policy.add_basic(ABSOLUTE, [entry(zx.ZX_POL_NEW_EVENT, DENY, OVERRIDE_ALLOW)])
    assert policy.action(zx.ZX_POL_NEW_EVENT) == DENY
    policy.add_basic(ABSOLUTE, [entry(zx.ZX_POL_NEW_EVENT, KILL, OVERRIDE_DENY)])
    assert policy.action(zx.ZX_POL_NEW_EVENT) == KILL
    assert policy.override(zx.ZX_POL_NEW_EVENT) == OVERRIDE_DENY


@pytest.mark.parametrize("mode", [RELATIVE, ABSOLUTE])
def test_fixed_entry_same_action_accepted(mode):
    policy = JobPolicy()
    policy.add_basic(RELATIVE, [entry(zx.ZX_POL_NEW_EVENT, DENY)])
    policy.add_basic(mode, [entry(zx.ZX_POL_NEW_EVENT, DENY)])
    assert policy.action(zx.ZX_POL_NEW_EVENT) == DENY


def test_fixed_entry_change_absolute_fails():
    policy = JobPolicy()
    policy.add_basic(RELATIVE, [entry(zx.ZX_POL_NEW_EVENT, DENY)])
    expect_error(
        zx.ZX_ERR_ALREADY_EXISTS,
        policy.add_basic,
        ABSOLUTE,
        [entry(zx.ZX_POL_NEW_EVENT, KILL)],
    )
    # Asking to make it overridable again is a change too.
    expect_error(
        zx.ZX_ERR_ALREADY_EXISTS,
        policy.add_basic,
        ABSOLUTE,
        [entry(zx.ZX_POL_NEW_EVENT, DENY, OVERRIDE_ALLOW)],
    )


def test_fixed_entry_change_relative_skipped():
    policy = JobPolicy()
    policy.add_basic(RELATIVE, [entry(zx.ZX_POL_NEW_EVENT, DENY)])
    policy.add_basic(RELATIVE, [entry(zx.ZX_POL_NEW_EVENT, ALLOW), entry(zx.ZX_POL_NEW_PORT, KILL)])
    assert policy.action(zx.ZX_POL_NEW_EVENT) == DENY
    assert policy.action(zx.ZX_POL_NEW_PORT) == KILL


def test_failed_merge_changes_nothing():
    policy = JobPolicy()
    policy.add_basic(RELATIVE, [entry(zx.ZX_POL_NEW_EVENT, DENY)])
    expect_error(
        zx.ZX_ERR_ALREADY_EXISTS,
        policy.add_basic,
        ABSOLUTE,
        [entry(zx.ZX_POL_NEW_PORT, KILL), entry(zx.ZX_POL_NEW_EVENT, KILL)],
    )
    assert policy.action(zx.ZX_POL_NEW_PORT) == ALLOW


def test_too_many_entries():
    entries = [entry(zx.ZX_POL_NEW_EVENT, DENY)] * (zx.ZX_POL_MAX + 1)
    expect_error(zx.ZX_ERR_OUT_OF_RANGE, JobPolicy().add_basic, RELATIVE, entries)


def test_bad_action_before_bad_override():
    expect_error(
        zx.ZX_ERR_NOT_SUPPORTED,
        JobPolicy().add_basic,
        RELATIVE,
        [entry(zx.ZX_POL_NEW_EVENT, zx.ZX_POL_ACTION_MAX, 7)],
    )


def test_bad_override_before_bad_condition():
    expect_error(
        zx.ZX_ERR_INVALID_ARGS,
        JobPolicy().add_basic,
        RELATIVE,
        [entry(zx.ZX_POL_MAX, DENY, 7)],
    )


@pytest.mark.parametrize("condition", [zx.ZX_POL_MAX, 1 << 31])
def test_bad_condition(condition):
    expect_error(zx.ZX_ERR_INVALID_ARGS, JobPolicy().add_basic, RELATIVE, [entry(condition, DENY)])


def test_new_any_sets_every_new_condition():
    policy = JobPolicy()
    policy.add_basic(RELATIVE, [entry(zx.ZX_POL_NEW_ANY, DENY, OVERRIDE_DENY)])
    for condition in NEW_OBJECT_CONDITIONS:
        assert policy.action(condition) == DENY
        assert policy.override(condition) == OVERRIDE_DENY
    for condition in (zx.ZX_POL_BAD_HANDLE, zx.ZX_POL_AMBIENT_MARK_VMO_EXEC):
        assert policy.action(condition) == ALLOW


def test_new_any_bad_override_checked_last():
    policy = JobPolicy()
    expect_error(
        zx.ZX_ERR_INVALID_ARGS,
        policy.add_basic,
        RELATIVE,
        [entry(zx.ZX_POL_NEW_ANY, DENY, 7)],
    )
    assert policy.action(zx.ZX_POL_NEW_VMO) == ALLOW


def test_copy_is_independent():
    parent = JobPolicy()
    child = parent.copy()
    child.add_basic(RELATIVE, [entry(zx.ZX_POL_NEW_EVENT, DENY)])
    assert parent.action(zx.ZX_POL_NEW_EVENT) == ALLOW
