"""Job policy syscalls: zx_job_set_policy and zx_job_set_critical.

`zx.job_set_policy(handle, options, topic, policy)` takes the policy array as a list:
zx.PolicyBasicV1 records for ZX_JOB_POL_BASIC_V1, zx.PolicyBasicV2 records for
ZX_JOB_POL_BASIC_V2, and one zx.PolicyTimerSlack for ZX_JOB_POL_TIMER_SLACK (a list of
one, or the record alone). The C call's count is the list's length.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from pyzircon.abi.policy import (
    JOB_POLICY_MAX_RECORDS,
    ZX_JOB_POL_ABSOLUTE,
    ZX_JOB_POL_BASIC_V1,
    ZX_JOB_POL_BASIC_V2,
    ZX_JOB_POL_RELATIVE,
    ZX_JOB_POL_TIMER_SLACK,
    ZX_POL_OVERRIDE_DENY,
    ZX_TIMER_SLACK_CENTER,
    ZX_TIMER_SLACK_EARLY,
    ZX_TIMER_SLACK_LATE,
    PolicyBasicV1,
    PolicyBasicV2,
    PolicyTimerSlack,
)
from pyzircon.abi.rights import ZX_RIGHT_DESTROY, ZX_RIGHT_SET_POLICY, ZX_RIGHT_WAIT
from pyzircon.abi.status import ZX_ERR_INVALID_ARGS
from pyzircon.abi.task import ZX_JOB_CRITICAL_PROCESS_RETCODE_NONZERO
from pyzircon.errors import ZxError
from pyzircon.kernel.objects.job import Job
from pyzircon.kernel.objects.policy import BasicPolicyEntry
from pyzircon.kernel.objects.process import Process
from pyzircon.kernel.objects.thread import Thread
from pyzircon.syscalls.common import get_object, syscall, to_i64, to_u32

_TIMER_SLACK_MODES: Final = (ZX_TIMER_SLACK_CENTER, ZX_TIMER_SLACK_EARLY, ZX_TIMER_SLACK_LATE)


@syscall
def job_set_policy(
    thread: Thread, handle: object, options: object, topic: object, policy: object
) -> None:
    """zx_job_set_policy: set the basic policy or the timer slack of a job with no children.

    New processes and child jobs copy the job's policy when they are made. An entry may
    name a condition that an ancestor (or an earlier call) fixed with
    ZX_POL_OVERRIDE_DENY. ZX_JOB_POL_RELATIVE mode skips such an entry, and
    ZX_JOB_POL_ABSOLUTE mode fails the call. A failed call changes nothing.

    Checks, in order:
    1. `topic` is ZX_JOB_POL_BASIC_V1, ZX_JOB_POL_BASIC_V2 or ZX_JOB_POL_TIMER_SLACK
       -> ZX_ERR_INVALID_ARGS
    Basic topics:
    2. `options` is ZX_JOB_POL_RELATIVE or ZX_JOB_POL_ABSOLUTE -> ZX_ERR_INVALID_ARGS
    3. `policy` is a list of 1 to 32 records of the topic's type (None is a null
       pointer) -> ZX_ERR_INVALID_ARGS
    4. `handle` is a job handle with ZX_RIGHT_SET_POLICY -> ZX_ERR_BAD_HANDLE,
       ZX_ERR_WRONG_TYPE, ZX_ERR_ACCESS_DENIED
    5. the job has no child jobs or processes -> ZX_ERR_BAD_STATE
    6. at most ZX_POL_MAX records -> ZX_ERR_OUT_OF_RANGE
    7. for each record in turn: the action is a ZX_POL_ACTION_* -> ZX_ERR_NOT_SUPPORTED;
       the flags are a ZX_POL_OVERRIDE_* and the condition a ZX_POL_* ->
       ZX_ERR_INVALID_ARGS; an ABSOLUTE change of a fixed condition ->
       ZX_ERR_ALREADY_EXISTS (a ZX_POL_NEW_ANY record's flags are checked last)
    Timer slack:
    2. `options` is ZX_JOB_POL_RELATIVE -> ZX_ERR_INVALID_ARGS
    3. `policy` is one zx.PolicyTimerSlack -> ZX_ERR_INVALID_ARGS
    4. `handle` as for the basic topics
    5. the job has no child jobs or processes -> ZX_ERR_BAD_STATE
    6. `min_slack` is not negative and `default_mode` is a ZX_TIMER_SLACK_* ->
       ZX_ERR_INVALID_ARGS; a minimum below the job's current one is raised to it
    """
    topic_id = to_u32(topic, "topic")
    if topic_id in (ZX_JOB_POL_BASIC_V1, ZX_JOB_POL_BASIC_V2):
        _set_basic(thread, handle, options, topic_id, policy)
    elif topic_id == ZX_JOB_POL_TIMER_SLACK:
        _set_timer_slack(thread, handle, options, policy)
    else:
        raise ZxError(
            ZX_ERR_INVALID_ARGS,
            f"topic {topic_id:#x} is not ZX_JOB_POL_BASIC_V1, _BASIC_V2 or _TIMER_SLACK",
        )


def _set_basic(thread: Thread, handle: object, options: object, topic: int, policy: object) -> None:
    mode = to_u32(options, "options")
    if mode not in (ZX_JOB_POL_RELATIVE, ZX_JOB_POL_ABSOLUTE):
        raise ZxError(
            ZX_ERR_INVALID_ARGS,
            f"options must be ZX_JOB_POL_RELATIVE or ZX_JOB_POL_ABSOLUTE, not {mode:#x}",
        )
    entries = _basic_entries(topic, policy)
    job = get_object(thread, handle, Job, ZX_RIGHT_SET_POLICY)
    job.set_basic_policy(mode, entries)


def _records(policy: object) -> Sequence[object]:
    if policy is None:
        raise ZxError(ZX_ERR_INVALID_ARGS, "policy must not be None (a null pointer)")
    if not isinstance(policy, (list, tuple)):
        raise ZxError(
            ZX_ERR_INVALID_ARGS, f"policy must be a list of records, not {type(policy).__name__}"
        )
    return policy


def _basic_entries(topic: int, policy: object) -> list[BasicPolicyEntry]:
    """Read the records as the kernel copies them in; V1 records get ZX_POL_OVERRIDE_DENY."""
    records = _records(policy)
    if not 0 < len(records) <= JOB_POLICY_MAX_RECORDS:
        raise ZxError(
            ZX_ERR_INVALID_ARGS,
            f"policy must hold 1 to {JOB_POLICY_MAX_RECORDS} records, not {len(records)}",
        )
    entries = []
    for index, record in enumerate(records):
        if topic == ZX_JOB_POL_BASIC_V1 and isinstance(record, PolicyBasicV1):
            entry = BasicPolicyEntry(
                condition=to_u32(record.condition, f"policy[{index}].condition"),
                action=to_u32(record.policy, f"policy[{index}].policy"),
                override=ZX_POL_OVERRIDE_DENY,
            )
        elif topic == ZX_JOB_POL_BASIC_V2 and isinstance(record, PolicyBasicV2):
            entry = BasicPolicyEntry(
                condition=to_u32(record.condition, f"policy[{index}].condition"),
                action=to_u32(record.action, f"policy[{index}].action"),
                override=to_u32(record.flags, f"policy[{index}].flags"),
            )
        else:
            expected = "zx.PolicyBasicV1" if topic == ZX_JOB_POL_BASIC_V1 else "zx.PolicyBasicV2"
            raise ZxError(
                ZX_ERR_INVALID_ARGS,
                f"policy[{index}] must be a {expected}, not {type(record).__name__}",
            )
        entries.append(entry)
    return entries


def _set_timer_slack(thread: Thread, handle: object, options: object, policy: object) -> None:
    mode = to_u32(options, "options")
    if mode != ZX_JOB_POL_RELATIVE:
        raise ZxError(
            ZX_ERR_INVALID_ARGS,
            f"timer slack takes options ZX_JOB_POL_RELATIVE only, not {mode:#x}",
        )
    records = [policy] if isinstance(policy, PolicyTimerSlack) else _records(policy)
    if len(records) != 1 or not isinstance(records[0], PolicyTimerSlack):
        raise ZxError(ZX_ERR_INVALID_ARGS, "timer slack takes exactly one zx.PolicyTimerSlack")
    slack = records[0]
    min_slack = to_i64(slack.min_slack, "min_slack")
    default_mode = to_u32(slack.default_mode, "default_mode")

    job = get_object(thread, handle, Job, ZX_RIGHT_SET_POLICY)
    job.check_can_set_policy()
    if min_slack < 0:
        raise ZxError(ZX_ERR_INVALID_ARGS, f"min_slack {min_slack} is negative")
    if default_mode not in _TIMER_SLACK_MODES:
        raise ZxError(
            ZX_ERR_INVALID_ARGS, f"default_mode {default_mode} is not a ZX_TIMER_SLACK_* mode"
        )
    job.set_timer_slack(min_slack, default_mode)


@syscall
def job_set_critical(thread: Thread, job: object, options: object, process: object) -> None:
    """zx_job_set_critical: make `job` die with `process`.

    When the process dies, the job is killed with ZX_TASK_RETCODE_CRITICAL_PROCESS_KILL;
    with ZX_JOB_CRITICAL_PROCESS_RETCODE_NONZERO, only if the process's return code is
    not 0.

    Checks, in order:
    1. `options` is 0 or ZX_JOB_CRITICAL_PROCESS_RETCODE_NONZERO -> ZX_ERR_INVALID_ARGS
    2. `job` is a job handle with ZX_RIGHT_DESTROY -> ZX_ERR_BAD_HANDLE,
       ZX_ERR_WRONG_TYPE, ZX_ERR_ACCESS_DENIED
    3. `process` is a process handle with ZX_RIGHT_WAIT -> the same statuses
    4. the process is not critical to a job yet -> ZX_ERR_ALREADY_BOUND
    5. `job` is the process's job or an ancestor of it -> ZX_ERR_INVALID_ARGS
    """
    flags = to_u32(options, "options")
    if flags not in (0, ZX_JOB_CRITICAL_PROCESS_RETCODE_NONZERO):
        raise ZxError(
            ZX_ERR_INVALID_ARGS,
            f"options must be 0 or ZX_JOB_CRITICAL_PROCESS_RETCODE_NONZERO, not {flags:#x}",
        )
    critical_job = get_object(thread, job, Job, ZX_RIGHT_DESTROY)
    target = get_object(thread, process, Process, ZX_RIGHT_WAIT)
    target.set_critical_to_job(critical_job, retcode_nonzero=bool(flags))
