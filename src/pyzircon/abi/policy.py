"""Job policy topics, conditions, actions and overrides, as in `zircon/syscalls/policy.h`.

Also the records zx_job_set_policy reads: `zx_policy_basic_v1_t`, `zx_policy_basic_v2_t`
and `zx_policy_timer_slack_t`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

# zx_job_set_policy options.
ZX_JOB_POL_RELATIVE: Final = 0
ZX_JOB_POL_ABSOLUTE: Final = 1

# zx_job_set_policy topics.
ZX_JOB_POL_BASIC_V1: Final = 0
ZX_JOB_POL_BASIC_V2: Final = 0x0100_0000
ZX_JOB_POL_BASIC: Final = ZX_JOB_POL_BASIC_V1
ZX_JOB_POL_TIMER_SLACK: Final = 1

# Conditions (zx_policy_basic_v1_t.condition, zx_policy_basic_v2_t.condition).
ZX_POL_BAD_HANDLE: Final = 0
ZX_POL_WRONG_OBJECT: Final = 1
ZX_POL_VMAR_WX: Final = 2
ZX_POL_NEW_ANY: Final = 3
ZX_POL_NEW_VMO: Final = 4
ZX_POL_NEW_CHANNEL: Final = 5
ZX_POL_NEW_EVENT: Final = 6
ZX_POL_NEW_EVENTPAIR: Final = 7
ZX_POL_NEW_PORT: Final = 8
ZX_POL_NEW_SOCKET: Final = 9
ZX_POL_NEW_FIFO: Final = 10
ZX_POL_NEW_TIMER: Final = 11
ZX_POL_NEW_PROCESS: Final = 12
ZX_POL_NEW_PROFILE: Final = 13
ZX_POL_NEW_PAGER: Final = 14
ZX_POL_AMBIENT_MARK_VMO_EXEC: Final = 15
ZX_POL_NEW_IOB: Final = 16
ZX_POL_NEW_SAMPLER: Final = 17
# Kernel-only: one past the last condition.
ZX_POL_MAX: Final = 18

# Actions (zx_policy_basic_v1_t.policy, zx_policy_basic_v2_t.action).
ZX_POL_ACTION_ALLOW: Final = 0
ZX_POL_ACTION_DENY: Final = 1
ZX_POL_ACTION_ALLOW_EXCEPTION: Final = 2
ZX_POL_ACTION_DENY_EXCEPTION: Final = 3
ZX_POL_ACTION_KILL: Final = 4
# Kernel-only: one past the last action.
ZX_POL_ACTION_MAX: Final = 5

# Overrides (zx_policy_basic_v2_t.flags): whether a child job may change the action.
ZX_POL_OVERRIDE_ALLOW: Final = 0
ZX_POL_OVERRIDE_DENY: Final = 1

# zx_policy_timer_slack_t.default_mode values (`zircon/types.h`).
ZX_TIMER_SLACK_CENTER: Final = 0
ZX_TIMER_SLACK_EARLY: Final = 1
ZX_TIMER_SLACK_LATE: Final = 2

POL_CONDITION_NAMES: Final[dict[int, str]] = {
    value: name.removeprefix("ZX_POL_")
    for name, value in list(globals().items())
    if name.startswith("ZX_POL_")
    and not name.startswith(("ZX_POL_ACTION_", "ZX_POL_OVERRIDE_"))
    and name != "ZX_POL_MAX"
}


# The most records one zx_job_set_policy call may carry (the syscall layer's limit; the
# policy itself then rejects more than ZX_POL_MAX entries with ZX_ERR_OUT_OF_RANGE).
JOB_POLICY_MAX_RECORDS: Final = 32


@dataclass(frozen=True, slots=True)
class PolicyBasicV1:
    """zx_policy_basic_v1_t: a condition and the action (`policy`) taken when it occurs.

    zx_job_set_policy applies a V1 record with ZX_POL_OVERRIDE_DENY.
    """

    condition: int
    policy: int


@dataclass(frozen=True, slots=True)
class PolicyBasicV2:
    """zx_policy_basic_v2_t: a condition, its action, and a ZX_POL_OVERRIDE_* in `flags`."""

    condition: int
    action: int
    flags: int = ZX_POL_OVERRIDE_DENY


@dataclass(frozen=True, slots=True)
class PolicyTimerSlack:
    """zx_policy_timer_slack_t: the minimum slack in ns and a ZX_TIMER_SLACK_* mode."""

    min_slack: int
    default_mode: int
