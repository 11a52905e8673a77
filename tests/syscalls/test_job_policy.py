"""zx.job_set_policy and zx.job_set_critical: one test per check, then enforcement.

A policy is checked against the calling process's copy of its job's policy, taken when
the process was created. Each enforcement test runs the call in a child process of a job
with the policy, and looks at the call's status or at how the process ended.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from exception_support import (
    HANDLED,
    answer,
    child_process,
    deny,
    job_with_policy,
    read_exception,
    run_process,
)
from guest_tasks import kill_and_wait, park, start
from ipc_support import spawn
from pyzircon import zx
from pyzircon.kernel.current import current_thread
from support import expect_status, run_guest

V1 = zx.ZX_JOB_POL_BASIC_V1
V2 = zx.ZX_JOB_POL_BASIC_V2
SLACK = zx.ZX_JOB_POL_TIMER_SLACK
RELATIVE = zx.ZX_JOB_POL_RELATIVE
ABSOLUTE = zx.ZX_JOB_POL_ABSOLUTE
DENY_EVENT = zx.PolicyBasicV2(zx.ZX_POL_NEW_EVENT, zx.ZX_POL_ACTION_DENY, zx.ZX_POL_OVERRIDE_DENY)
CHILD_KILLED = "killed"


def new_job() -> int:
    return zx.job_create(zx.job_default(), 0)


def job_object(handle: int) -> Any:
    """Return the kernel's job object behind `handle` (to read its timer slack)."""
    entry = current_thread().process.handle_table.get(handle)
    assert entry is not None
    return entry.obj


def outcome_in(job: int, call: Callable[[], Any]) -> Any:
    """Run `call()` in a child process of `job`: return its status, or how the child died.

    Returns zx.ZX_OK when the call returned, its ZxError status when it failed, or
    ("killed", return code) when the process died during the call.
    """
    box: dict[str, Any] = {}

    def body() -> int:
        try:
            call()
            box["status"] = zx.ZX_OK
        except zx.ZxError as error:
            box["status"] = error.status
        return 0

    code = run_process(job, body)
    if "status" not in box:
        return (CHILD_KILLED, code)
    return box["status"]


# zx.job_set_policy: checks common to every topic.


@pytest.mark.parametrize("topic", [2, 3, V2 + 1, -1, 1 << 32, "0", None])
def test_set_bad_topic(topic):
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_INVALID_ARGS, zx.job_set_policy, new_job(), RELATIVE, topic, [DENY_EVENT]
        )
    )


def test_set_topic_before_handle():
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_INVALID_ARGS,
            zx.job_set_policy,
            zx.ZX_HANDLE_INVALID,
            RELATIVE,
            2,
            [DENY_EVENT],
        )
    )


# zx.job_set_policy with a basic topic: checks.


@pytest.mark.parametrize("options", [2, -1, 1 << 32, None])
def test_basic_bad_options(options):
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_INVALID_ARGS, zx.job_set_policy, new_job(), options, V2, [DENY_EVENT]
        )
    )


@pytest.mark.parametrize(
    "policy",
    [
        None,
        [],
        [DENY_EVENT] * (zx.JOB_POLICY_MAX_RECORDS + 1),
        DENY_EVENT,
        b"\x00" * 12,
        [zx.PolicyBasicV1(zx.ZX_POL_NEW_EVENT, zx.ZX_POL_ACTION_DENY)],
        [zx.PolicyBasicV2(-1, zx.ZX_POL_ACTION_DENY)],
        [zx.PolicyBasicV2(zx.ZX_POL_NEW_EVENT, 1 << 32)],
        [zx.PolicyBasicV2(zx.ZX_POL_NEW_EVENT, zx.ZX_POL_ACTION_DENY, "0")],
    ],
    ids=[
        "none",
        "empty",
        "33 records",
        "record alone",
        "bytes",
        "v1 record",
        "negative condition",
        "action past u32",
        "str flags",
    ],
)
def test_basic_bad_records(policy):
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_INVALID_ARGS, zx.job_set_policy, new_job(), RELATIVE, V2, policy
        )
    )


def test_basic_v2_record_for_v1_topic():
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_INVALID_ARGS, zx.job_set_policy, new_job(), RELATIVE, V1, [DENY_EVENT]
        )
    )


@pytest.mark.parametrize("value", [zx.ZX_HANDLE_INVALID, 0xBADC0FFF, None])
def test_basic_bad_handle(value):
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_BAD_HANDLE, zx.job_set_policy, value, RELATIVE, V2, [DENY_EVENT]
        )
    )


def test_basic_wrong_type():
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_WRONG_TYPE, zx.job_set_policy, child_process(), RELATIVE, V2, [DENY_EVENT]
        )
    )


def test_basic_without_set_policy_right():
    def body():
        job = zx.handle_duplicate(new_job(), zx.ZX_DEFAULT_JOB_RIGHTS & ~zx.ZX_RIGHT_SET_POLICY)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.job_set_policy, job, RELATIVE, V2, [DENY_EVENT])

    run_guest(body)


@pytest.mark.parametrize("child", ["job", "process"])
def test_basic_job_with_children(child):
    def body():
        job = new_job()
        made = zx.job_create(job, 0) if child == "job" else child_process(job)
        expect_status(zx.ZX_ERR_BAD_STATE, zx.job_set_policy, job, RELATIVE, V2, [DENY_EVENT])
        zx.handle_close(made)
        zx.job_set_policy(job, RELATIVE, V2, [DENY_EVENT])

    run_guest(body)


def test_basic_more_than_pol_max_records():
    def body():
        records = [DENY_EVENT] * (zx.ZX_POL_MAX + 1)
        expect_status(zx.ZX_ERR_OUT_OF_RANGE, zx.job_set_policy, new_job(), RELATIVE, V2, records)

    run_guest(body)


@pytest.mark.parametrize(
    ("record", "status"),
    [
        (zx.PolicyBasicV2(zx.ZX_POL_NEW_EVENT, zx.ZX_POL_ACTION_MAX), zx.ZX_ERR_NOT_SUPPORTED),
        (
            zx.PolicyBasicV2(zx.ZX_POL_NEW_EVENT, zx.ZX_POL_ACTION_DENY, 2),
            zx.ZX_ERR_INVALID_ARGS,
        ),
        (zx.PolicyBasicV2(zx.ZX_POL_MAX, zx.ZX_POL_ACTION_DENY), zx.ZX_ERR_INVALID_ARGS),
        (
            zx.PolicyBasicV2(zx.ZX_POL_NEW_ANY, zx.ZX_POL_ACTION_DENY, 2),
            zx.ZX_ERR_INVALID_ARGS,
        ),
    ],
    ids=["bad action", "bad flags", "bad condition", "new_any bad flags"],
)
def test_basic_bad_entry(record, status):
    run_guest(lambda: expect_status(status, zx.job_set_policy, new_job(), RELATIVE, V2, [record]))


def test_basic_absolute_conflict():
    def body():
        job = new_job()
        zx.job_set_policy(job, RELATIVE, V2, [DENY_EVENT])
        changed = zx.PolicyBasicV2(zx.ZX_POL_NEW_EVENT, zx.ZX_POL_ACTION_KILL)
        expect_status(zx.ZX_ERR_ALREADY_EXISTS, zx.job_set_policy, job, ABSOLUTE, V2, [changed])

    run_guest(body)


def test_basic_handle_before_children():
    def body():
        job = new_job()
        zx.job_create(job, 0)
        reduced = zx.handle_duplicate(job, zx.ZX_DEFAULT_JOB_RIGHTS & ~zx.ZX_RIGHT_SET_POLICY)
        expect_status(
            zx.ZX_ERR_ACCESS_DENIED, zx.job_set_policy, reduced, RELATIVE, V2, [DENY_EVENT]
        )

    run_guest(body)


def test_basic_children_before_count():
    def body():
        job = new_job()
        zx.job_create(job, 0)
        records = [DENY_EVENT] * (zx.ZX_POL_MAX + 1)
        expect_status(zx.ZX_ERR_BAD_STATE, zx.job_set_policy, job, RELATIVE, V2, records)

    run_guest(body)


def test_basic_records_before_handle():
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_INVALID_ARGS, zx.job_set_policy, zx.ZX_HANDLE_INVALID, RELATIVE, V2, []
        )
    )


# zx.job_set_policy with ZX_JOB_POL_TIMER_SLACK: checks.


def test_slack_absolute_mode():
    slack = zx.PolicyTimerSlack(0, zx.ZX_TIMER_SLACK_CENTER)
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_INVALID_ARGS, zx.job_set_policy, new_job(), ABSOLUTE, SLACK, slack
        )
    )


@pytest.mark.parametrize(
    "policy",
    [
        None,
        [],
        [zx.PolicyTimerSlack(0, 0)] * 2,
        [DENY_EVENT],
        zx.PolicyTimerSlack("0", 0),
    ],
    ids=["none", "empty", "two", "basic record", "str slack"],
)
def test_slack_bad_records(policy):
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_INVALID_ARGS, zx.job_set_policy, new_job(), RELATIVE, SLACK, policy
        )
    )


def test_slack_bad_handle():
    slack = zx.PolicyTimerSlack(0, zx.ZX_TIMER_SLACK_CENTER)
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_BAD_HANDLE, zx.job_set_policy, zx.ZX_HANDLE_INVALID, RELATIVE, SLACK, slack
        )
    )


def test_slack_job_with_child():
    def body():
        job = new_job()
        child = zx.job_create(job, 0)
        slack = zx.PolicyTimerSlack(1000, zx.ZX_TIMER_SLACK_LATE)
        expect_status(zx.ZX_ERR_BAD_STATE, zx.job_set_policy, job, RELATIVE, SLACK, slack)
        zx.handle_close(child)
        zx.job_set_policy(job, RELATIVE, SLACK, slack)

    run_guest(body)


@pytest.mark.parametrize(
    "slack",
    [zx.PolicyTimerSlack(-1, zx.ZX_TIMER_SLACK_CENTER), zx.PolicyTimerSlack(0, 3)],
    ids=["negative slack", "bad mode"],
)
def test_slack_bad_values(slack):
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_INVALID_ARGS, zx.job_set_policy, new_job(), RELATIVE, SLACK, [slack]
        )
    )


def test_slack_children_before_values():
    def body():
        job = new_job()
        zx.job_create(job, 0)
        slack = zx.PolicyTimerSlack(-1, 3)
        expect_status(zx.ZX_ERR_BAD_STATE, zx.job_set_policy, job, RELATIVE, SLACK, slack)

    run_guest(body)


def test_slack_minimum_only_grows():
    def body():
        job = new_job()
        zx.job_set_policy(job, RELATIVE, SLACK, zx.PolicyTimerSlack(5000, zx.ZX_TIMER_SLACK_LATE))
        zx.job_set_policy(job, RELATIVE, SLACK, [zx.PolicyTimerSlack(10, zx.ZX_TIMER_SLACK_EARLY)])
        slack = job_object(job).policy.timer_slack
        child_slack = job_object(zx.job_create(job, 0)).policy.timer_slack
        return slack, child_slack

    slack, child_slack = run_guest(body)
    assert (slack.amount_ns, slack.mode) == (5000, zx.ZX_TIMER_SLACK_EARLY)
    assert child_slack == slack


# zx.job_set_critical: checks.


@pytest.mark.parametrize("options", [2, 3, -1, None])
def test_critical_bad_options(options):
    def body():
        job = new_job()
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.job_set_critical, job, options, child_process(job))

    run_guest(body)


def test_critical_options_before_handles():
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_INVALID_ARGS,
            zx.job_set_critical,
            zx.ZX_HANDLE_INVALID,
            2,
            zx.ZX_HANDLE_INVALID,
        )
    )


def test_critical_bad_job_handle():
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_BAD_HANDLE, zx.job_set_critical, zx.ZX_HANDLE_INVALID, 0, child_process()
        )
    )


def test_critical_job_wrong_type():
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_WRONG_TYPE, zx.job_set_critical, child_process(), 0, child_process()
        )
    )


def test_critical_job_without_destroy():
    def body():
        job = new_job()
        reduced = zx.handle_duplicate(job, zx.ZX_DEFAULT_JOB_RIGHTS & ~zx.ZX_RIGHT_DESTROY)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.job_set_critical, reduced, 0, child_process(job))

    run_guest(body)


def test_critical_bad_process_handle():
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_BAD_HANDLE, zx.job_set_critical, new_job(), 0, zx.ZX_HANDLE_INVALID
        )
    )


def test_critical_process_wrong_type():
    run_guest(
        lambda: expect_status(zx.ZX_ERR_WRONG_TYPE, zx.job_set_critical, new_job(), 0, new_job())
    )


def test_critical_process_without_wait():
    def body():
        job = new_job()
        process = child_process(job)
        reduced = zx.handle_duplicate(process, zx.ZX_DEFAULT_PROCESS_RIGHTS & ~zx.ZX_RIGHT_WAIT)
        expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.job_set_critical, job, 0, reduced)

    run_guest(body)


def test_critical_job_checked_before_process():
    run_guest(
        lambda: expect_status(
            zx.ZX_ERR_WRONG_TYPE, zx.job_set_critical, child_process(), 0, zx.ZX_HANDLE_INVALID
        )
    )


def test_critical_already_bound():
    def body():
        job = new_job()
        process = child_process(job)
        zx.job_set_critical(job, 0, process)
        expect_status(zx.ZX_ERR_ALREADY_BOUND, zx.job_set_critical, job, 0, process)
        # The bound check comes before the ancestry check.
        expect_status(zx.ZX_ERR_ALREADY_BOUND, zx.job_set_critical, new_job(), 0, process)

    run_guest(body)


def test_critical_not_an_ancestor():
    def body():
        parent = new_job()
        child = zx.job_create(parent, 0)
        in_parent = child_process(parent)
        expect_status(zx.ZX_ERR_INVALID_ARGS, zx.job_set_critical, child, 0, in_parent)
        # Any ancestor job is accepted.
        zx.job_set_critical(parent, 0, child_process(child))

    run_guest(body)


# Enforcement at object creation.


def _create_shared() -> None:
    proto, _vmar = zx.process_create(zx.job_default(), "proto", zx.ZX_PROCESS_SHARED)
    zx.process_create_shared(proto, 0, "member")


CREATIONS = {
    "event_create": (zx.ZX_POL_NEW_EVENT, lambda: zx.event_create(0)),
    "eventpair_create": (zx.ZX_POL_NEW_EVENTPAIR, lambda: zx.eventpair_create(0)),
    "channel_create": (zx.ZX_POL_NEW_CHANNEL, lambda: zx.channel_create(0)),
    "port_create": (zx.ZX_POL_NEW_PORT, lambda: zx.port_create(0)),
    "process_create": (
        zx.ZX_POL_NEW_PROCESS,
        lambda: zx.process_create(zx.job_default(), "p", 0),
    ),
    "restricted_bind_state": (zx.ZX_POL_NEW_VMO, lambda: zx.restricted_bind_state(0)),
    "vmo_create": (zx.ZX_POL_NEW_VMO, lambda: zx.vmo_create(4096, 0)),
    "task_create_exception_channel": (
        zx.ZX_POL_NEW_CHANNEL,
        lambda: zx.task_create_exception_channel(zx.thread_self(), 0),
    ),
    "vmo_replace_as_executable": (
        zx.ZX_POL_AMBIENT_MARK_VMO_EXEC,
        lambda: zx.vmo_replace_as_executable(zx.vmo_create(4096, 0), zx.ZX_HANDLE_INVALID),
    ),
}


@pytest.mark.parametrize("name", sorted(CREATIONS))
def test_creation_allowed_by_default(name):
    _condition, call = CREATIONS[name]
    assert run_guest(lambda: outcome_in(new_job(), call)) == zx.ZX_OK


@pytest.mark.parametrize("name", sorted(CREATIONS))
def test_creation_denied(name):
    condition, call = CREATIONS[name]
    result = run_guest(lambda: outcome_in(job_with_policy([deny(condition)]), call))
    assert result == zx.ZX_ERR_ACCESS_DENIED


@pytest.mark.parametrize("name", sorted(CREATIONS))
def test_creation_denied_by_new_any(name):
    condition, call = CREATIONS[name]
    expected = zx.ZX_OK if condition == zx.ZX_POL_AMBIENT_MARK_VMO_EXEC else zx.ZX_ERR_ACCESS_DENIED
    # NEW_ANY leaves alone the conditions that create nothing new; the VMO that
    # vmo_replace_as_executable needs is made by the same process.
    if name == "vmo_replace_as_executable":
        entries = [deny(zx.ZX_POL_NEW_ANY), zx.PolicyBasicV2(zx.ZX_POL_NEW_VMO, 0, 0)]
    else:
        entries = [deny(zx.ZX_POL_NEW_ANY)]
    assert run_guest(lambda: outcome_in(job_with_policy(entries), call)) == expected


@pytest.mark.parametrize("name", sorted(CREATIONS))
def test_creation_killed(name):
    condition, call = CREATIONS[name]
    policy = [deny(condition, zx.ZX_POL_ACTION_KILL)]
    result = run_guest(lambda: outcome_in(job_with_policy(policy), call))
    assert result == (CHILD_KILLED, zx.ZX_TASK_RETCODE_POLICY_KILL)


def test_create_shared_denied():
    result = run_guest(
        lambda: outcome_in(job_with_policy([deny(zx.ZX_POL_NEW_PROCESS)]), _create_shared)
    )
    assert result == zx.ZX_ERR_ACCESS_DENIED


def test_create_shared_uses_callers_policy():
    def body():
        # The prototype lives in a job that denies new processes; the caller's job does
        # not, so the caller may add members to it.
        job = job_with_policy([deny(zx.ZX_POL_NEW_PROCESS)])
        proto, _vmar = zx.process_create(job, "proto", zx.ZX_PROCESS_SHARED)
        zx.process_create_shared(proto, 0, "member")

    run_guest(body)


@pytest.mark.parametrize(
    ("call", "status"),
    [
        (lambda: zx.event_create(1), zx.ZX_ERR_INVALID_ARGS),
        (lambda: zx.eventpair_create(1), zx.ZX_ERR_NOT_SUPPORTED),
        (lambda: zx.channel_create(1), zx.ZX_ERR_INVALID_ARGS),
        (lambda: zx.process_create(zx.job_default(), "p", 2), zx.ZX_ERR_INVALID_ARGS),
        (lambda: zx.process_create_shared(zx.ZX_HANDLE_INVALID, 1, "m"), zx.ZX_ERR_INVALID_ARGS),
        (lambda: zx.restricted_bind_state(1), zx.ZX_ERR_INVALID_ARGS),
        (lambda: zx.task_create_exception_channel(zx.thread_self(), 2), zx.ZX_ERR_INVALID_ARGS),
    ],
    ids=["event", "eventpair", "channel", "process", "process_shared", "bind_state", "excp"],
)
def test_options_checked_before_policy(call, status):
    assert run_guest(lambda: outcome_in(job_with_policy([deny(zx.ZX_POL_NEW_ANY)]), call)) == status


@pytest.mark.parametrize(
    "call",
    [
        lambda: zx.port_create(7),
        lambda: zx.process_create(zx.job_default(), None, 0),
        lambda: zx.process_create(zx.ZX_HANDLE_INVALID, "p", 0),
        lambda: zx.process_create_shared(zx.ZX_HANDLE_INVALID, 0, "m"),
    ],
    ids=["port options", "process name", "process job", "shared_proc"],
)
def test_policy_checked_before_later_arguments(call):
    result = run_guest(lambda: outcome_in(job_with_policy([deny(zx.ZX_POL_NEW_ANY)]), call))
    assert result == zx.ZX_ERR_ACCESS_DENIED


def test_vmex_policy_status_held_until_source_checked():
    def body():
        job = job_with_policy([deny(zx.ZX_POL_AMBIENT_MARK_VMO_EXEC)])
        return outcome_in(
            job, lambda: zx.vmo_replace_as_executable(zx.ZX_HANDLE_INVALID, zx.ZX_HANDLE_INVALID)
        )

    # The source handle is looked up before the held policy status is reported.
    assert run_guest(body) == zx.ZX_ERR_BAD_HANDLE


# Policy snapshots and inheritance.


def test_policy_of_caller_not_of_target_job():
    def body():
        denying = job_with_policy([deny(zx.ZX_POL_NEW_PROCESS)])
        # A process in an allowing job may create processes in the denying job...
        process, _vmar = zx.process_create(denying, "p", 0)
        zx.handle_close(process)
        # ...and a process in the denying job may not create them anywhere.
        return outcome_in(denying, lambda: zx.process_create(zx.job_default(), "p", 0))

    assert run_guest(body) == zx.ZX_ERR_ACCESS_DENIED


def test_child_job_inherits_policy():
    def body():
        parent = job_with_policy([DENY_EVENT])
        child = zx.job_create(parent, 0)
        return outcome_in(child, lambda: zx.event_create(0))

    assert run_guest(body) == zx.ZX_ERR_ACCESS_DENIED


@pytest.mark.parametrize(
    ("override", "mode", "expected"),
    [
        (zx.ZX_POL_OVERRIDE_DENY, RELATIVE, zx.ZX_ERR_ACCESS_DENIED),
        (zx.ZX_POL_OVERRIDE_ALLOW, RELATIVE, zx.ZX_OK),
        (zx.ZX_POL_OVERRIDE_ALLOW, ABSOLUTE, zx.ZX_OK),
    ],
)
def test_child_job_override(override, mode, expected):
    def body():
        parent = job_with_policy(
            [zx.PolicyBasicV2(zx.ZX_POL_NEW_EVENT, zx.ZX_POL_ACTION_DENY, override)]
        )
        child = zx.job_create(parent, 0)
        allow = zx.PolicyBasicV2(zx.ZX_POL_NEW_EVENT, zx.ZX_POL_ACTION_ALLOW)
        zx.job_set_policy(child, mode, V2, [allow])
        return outcome_in(child, lambda: zx.event_create(0))

    assert run_guest(body) == expected


def test_child_job_cannot_override_absolute():
    def body():
        parent = job_with_policy([DENY_EVENT])
        child = zx.job_create(parent, 0)
        allow = zx.PolicyBasicV2(zx.ZX_POL_NEW_EVENT, zx.ZX_POL_ACTION_ALLOW)
        expect_status(zx.ZX_ERR_ALREADY_EXISTS, zx.job_set_policy, child, ABSOLUTE, V2, [allow])

    run_guest(body)


def test_v1_records_cannot_be_overridden():
    def body():
        parent = new_job()
        zx.job_set_policy(
            parent, RELATIVE, V1, [zx.PolicyBasicV1(zx.ZX_POL_NEW_EVENT, zx.ZX_POL_ACTION_DENY)]
        )
        child = zx.job_create(parent, 0)
        allow = zx.PolicyBasicV1(zx.ZX_POL_NEW_EVENT, zx.ZX_POL_ACTION_ALLOW)
        expect_status(zx.ZX_ERR_ALREADY_EXISTS, zx.job_set_policy, child, ABSOLUTE, V1, [allow])

    run_guest(body)


# Actions.


def policy_exception_handler(process_channel: int, seen: list[Any], state: int) -> None:
    """Answer every exception on `process_channel` with `state`, recording each report."""

    def serve() -> None:
        while True:
            try:
                info, exception = read_exception(process_channel)
            except zx.ZxError:
                return
            thread = zx.exception_get_thread(exception)
            report = zx.object_get_info(thread, zx.ZX_INFO_THREAD_EXCEPTION_REPORT)
            seen.append((info.type, report.synth_code))
            answer(exception, state)

    spawn(serve, "handler")


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        (zx.ZX_POL_ACTION_ALLOW_EXCEPTION, zx.ZX_OK),
        (zx.ZX_POL_ACTION_DENY_EXCEPTION, zx.ZX_ERR_ACCESS_DENIED),
    ],
)
def test_exception_actions_handled(action, expected):
    def body():
        job = job_with_policy([deny(zx.ZX_POL_NEW_EVENT, action)])
        seen: list[Any] = []
        box: dict[str, Any] = {}
        process = child_process(job)
        channel = zx.task_create_exception_channel(process, 0)
        policy_exception_handler(channel, seen, HANDLED)

        def entry(arg1: int, arg2: int) -> int:
            try:
                zx.event_create(0)
                box["status"] = zx.ZX_OK
            except zx.ZxError as error:
                box["status"] = error.status
            return 7

        start(process, entry)
        zx.object_wait_one(process, zx.ZX_PROCESS_TERMINATED, zx.ZX_TIME_INFINITE)
        code = zx.object_get_info(process, zx.ZX_INFO_PROCESS).return_code
        return box["status"], code, seen

    status, code, seen = run_guest(body)
    assert status == expected
    assert code == 7
    assert seen == [(zx.ZX_EXCP_POLICY_ERROR, zx.ZX_EXCP_POLICY_CODE_NEW_EVENT)]


@pytest.mark.parametrize(
    "action", [zx.ZX_POL_ACTION_ALLOW_EXCEPTION, zx.ZX_POL_ACTION_DENY_EXCEPTION]
)
def test_exception_actions_unhandled_kill(action):
    def body():
        job = job_with_policy([deny(zx.ZX_POL_NEW_EVENT, action)])
        return outcome_in(job, lambda: zx.event_create(0))

    assert run_guest(body) == (CHILD_KILLED, zx.ZX_TASK_RETCODE_EXCEPTION_KILL)


def test_deny_leaves_process_running():
    def body():
        job = job_with_policy([DENY_EVENT])

        def child() -> int:
            expect_status(zx.ZX_ERR_ACCESS_DENIED, zx.event_create, 0)
            zx.port_create(0)
            return 5

        return run_process(job, child)

    assert run_guest(body) == 5


# ZX_POL_BAD_HANDLE.

BAD_HANDLE_CALLS = {
    "handle_close": lambda: zx.handle_close(0xBADC0FFF),
    "handle_duplicate": lambda: zx.handle_duplicate(0xBADC0FFF, zx.ZX_RIGHT_SAME_RIGHTS),
    "object_get_info": lambda: zx.object_get_info(0xBADC0FFF, zx.ZX_INFO_HANDLE_BASIC),
    "object_wait_one": lambda: zx.object_wait_one(0xBADC0FFF, 1, 0),
    "channel_write": lambda: zx.channel_write(zx.channel_create(0)[0], 0, b"", [0xBADC0FFF]),
    "process_start": lambda: zx.process_start(
        zx.process_create(zx.job_default(), "p", 0)[0], zx.ZX_HANDLE_INVALID, park, 0, 0, 0
    ),
    "futex_wait": lambda: _futex_wait_bad_owner(),
}


def _futex_wait_bad_owner() -> None:
    vmo = zx.vmo_create(4096, 0)
    rw = zx.ZX_VM_PERM_READ | zx.ZX_VM_PERM_WRITE
    address = zx.vmar_map(zx.vmar_root_self(), rw, 0, vmo, 0, 4096)
    zx.futex_wait(address, 0, 0xBADC0FFF, 0)


@pytest.mark.parametrize("name", sorted(BAD_HANDLE_CALLS))
@pytest.mark.parametrize("action", [zx.ZX_POL_ACTION_ALLOW, zx.ZX_POL_ACTION_DENY])
def test_bad_handle_allow_and_deny_same(name, action):
    policy = [deny(zx.ZX_POL_BAD_HANDLE, action)]
    result = run_guest(lambda: outcome_in(job_with_policy(policy), BAD_HANDLE_CALLS[name]))
    assert result == zx.ZX_ERR_BAD_HANDLE


@pytest.mark.parametrize("name", sorted(BAD_HANDLE_CALLS))
def test_bad_handle_kill(name):
    policy = [deny(zx.ZX_POL_BAD_HANDLE, zx.ZX_POL_ACTION_KILL)]
    result = run_guest(lambda: outcome_in(job_with_policy(policy), BAD_HANDLE_CALLS[name]))
    assert result == (CHILD_KILLED, zx.ZX_TASK_RETCODE_POLICY_KILL)


@pytest.mark.parametrize("name", sorted(BAD_HANDLE_CALLS))
def test_bad_handle_exception_then_status(name):
    def body():
        job = job_with_policy([deny(zx.ZX_POL_BAD_HANDLE, zx.ZX_POL_ACTION_ALLOW_EXCEPTION)])
        seen: list[Any] = []
        box: dict[str, Any] = {}
        process = child_process(job)
        channel = zx.task_create_exception_channel(process, 0)
        policy_exception_handler(channel, seen, HANDLED)

        def entry(arg1: int, arg2: int) -> int:
            try:
                BAD_HANDLE_CALLS[name]()
            except zx.ZxError as error:
                box["status"] = error.status
            return 0

        start(process, entry)
        zx.object_wait_one(process, zx.ZX_PROCESS_TERMINATED, zx.ZX_TIME_INFINITE)
        return box["status"], seen

    status, seen = run_guest(body)
    assert status == zx.ZX_ERR_BAD_HANDLE
    assert seen == [(zx.ZX_EXCP_POLICY_ERROR, zx.ZX_EXCP_POLICY_CODE_BAD_HANDLE)]


def test_handle_valid_topic_exempt():
    policy = [deny(zx.ZX_POL_BAD_HANDLE, zx.ZX_POL_ACTION_KILL)]

    def call():
        zx.object_get_info(0xBADC0FFF, zx.ZX_INFO_HANDLE_VALID)

    assert run_guest(lambda: outcome_in(job_with_policy(policy), call)) == zx.ZX_ERR_BAD_HANDLE


def test_closing_invalid_handle_is_not_a_bad_handle():
    policy = [deny(zx.ZX_POL_BAD_HANDLE, zx.ZX_POL_ACTION_KILL)]
    result = run_guest(
        lambda: outcome_in(job_with_policy(policy), lambda: zx.handle_close(zx.ZX_HANDLE_INVALID))
    )
    assert result == zx.ZX_OK


# Policy exceptions that need no job policy.


def test_port_full_raises_policy_exception():
    def body():
        seen: list[Any] = []
        box: dict[str, Any] = {}
        process = child_process()
        channel = zx.task_create_exception_channel(process, 0)
        policy_exception_handler(channel, seen, HANDLED)

        def entry(arg1: int, arg2: int) -> int:
            port = zx.port_create(0)
            packet = zx.PortPacket(key=0, type=zx.ZX_PKT_TYPE_USER, status=0)
            for _ in range(4097):
                zx.port_queue(port, packet)
            expect_status(zx.ZX_ERR_SHOULD_WAIT, zx.port_queue, port, packet)
            box["done"] = True
            return 0

        start(process, entry)
        zx.object_wait_one(process, zx.ZX_PROCESS_TERMINATED, zx.ZX_TIME_INFINITE)
        return box.get("done"), seen

    done, seen = run_guest(body)
    assert done
    assert seen == [(zx.ZX_EXCP_POLICY_ERROR, zx.ZX_EXCP_POLICY_CODE_PORT_TOO_MANY_PACKETS)]


def test_channel_full_raises_policy_exception():
    def body():
        seen: list[Any] = []
        box: dict[str, Any] = {}
        process = child_process()
        channel = zx.task_create_exception_channel(process, 0)
        policy_exception_handler(channel, seen, HANDLED)

        def entry(arg1: int, arg2: int) -> int:
            writer, reader = zx.channel_create(0)
            for _ in range(3500):
                zx.channel_write(writer, 0, b"m", [])
            # The 3501st message is still queued; the writer gets an exception.
            zx.channel_write(writer, 0, b"m", [])
            box["readable"] = zx.channel_read(reader, 0, 8, 0)[0]
            return 0

        start(process, entry)
        zx.object_wait_one(process, zx.ZX_PROCESS_TERMINATED, zx.ZX_TIME_INFINITE)
        return box.get("readable"), seen

    readable, seen = run_guest(body)
    assert readable == b"m"
    assert seen == [(zx.ZX_EXCP_POLICY_ERROR, zx.ZX_EXCP_POLICY_CODE_CHANNEL_FULL_WRITE)]


def test_killed_child_reports_policy_kill_to_job():
    def body():
        job = job_with_policy([deny(zx.ZX_POL_NEW_EVENT, zx.ZX_POL_ACTION_KILL)])
        process = child_process(job)
        start(process, lambda arg1, arg2: zx.event_create(0))
        zx.object_wait_one(process, zx.ZX_PROCESS_TERMINATED, zx.ZX_TIME_INFINITE)
        info = zx.object_get_info(process, zx.ZX_INFO_PROCESS)
        kill_and_wait(process)
        return info

    info = run_guest(body)
    assert info.return_code == zx.ZX_TASK_RETCODE_POLICY_KILL
    assert info.flags & zx.ZX_INFO_PROCESS_FLAG_EXITED


def test_vmo_create_policy_before_options() -> None:
    def body() -> int:
        return outcome_in(
            job_with_policy([deny(zx.ZX_POL_NEW_VMO)]), lambda: zx.vmo_create(1, 1 << 31)
        )

    assert run_guest(body) == zx.ZX_ERR_ACCESS_DENIED
