"""Job policy: what a process may do, decided per ZX_POL_* condition.

A policy holds, for every condition, an action (ZX_POL_ACTION_*) and whether a child job
may still change it (the override bit). The root job allows everything and lets children
override everything. A child job starts with a copy of its parent's policy, and a process
with a copy of its job's policy, taken when the process is created: a policy never
changes under a live process, because zx_job_set_policy works only on a job with no
children.

Merging new entries follows Zircon's JobPolicy::AddBasicPolicy: an entry for a condition
whose override is ALLOW replaces its action and override; an entry for a condition whose
override is DENY is accepted without change when it asks for the same action with
override DENY, and otherwise fails the whole call in ZX_JOB_POL_ABSOLUTE mode or is
skipped in ZX_JOB_POL_RELATIVE mode. Nothing changes unless every entry is accepted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from pyzircon.abi.policy import (
    POL_CONDITION_NAMES,
    ZX_JOB_POL_ABSOLUTE,
    ZX_POL_ACTION_ALLOW,
    ZX_POL_ACTION_DENY,
    ZX_POL_ACTION_MAX,
    ZX_POL_AMBIENT_MARK_VMO_EXEC,
    ZX_POL_MAX,
    ZX_POL_NEW_ANY,
    ZX_POL_NEW_CHANNEL,
    ZX_POL_NEW_EVENT,
    ZX_POL_NEW_EVENTPAIR,
    ZX_POL_NEW_FIFO,
    ZX_POL_NEW_IOB,
    ZX_POL_NEW_PAGER,
    ZX_POL_NEW_PORT,
    ZX_POL_NEW_PROCESS,
    ZX_POL_NEW_PROFILE,
    ZX_POL_NEW_SAMPLER,
    ZX_POL_NEW_SOCKET,
    ZX_POL_NEW_TIMER,
    ZX_POL_NEW_VMO,
    ZX_POL_OVERRIDE_ALLOW,
    ZX_POL_OVERRIDE_DENY,
    ZX_TIMER_SLACK_CENTER,
)
from pyzircon.abi.status import (
    ZX_ERR_ALREADY_EXISTS,
    ZX_ERR_INVALID_ARGS,
    ZX_ERR_NOT_SUPPORTED,
    ZX_ERR_OUT_OF_RANGE,
)
from pyzircon.errors import ZxError

# The conditions ZX_POL_NEW_ANY stands for: every "new object" condition.
NEW_OBJECT_CONDITIONS: Final = (
    ZX_POL_NEW_VMO,
    ZX_POL_NEW_CHANNEL,
    ZX_POL_NEW_EVENT,
    ZX_POL_NEW_EVENTPAIR,
    ZX_POL_NEW_PORT,
    ZX_POL_NEW_SOCKET,
    ZX_POL_NEW_FIFO,
    ZX_POL_NEW_TIMER,
    ZX_POL_NEW_PROCESS,
    ZX_POL_NEW_PROFILE,
    ZX_POL_NEW_PAGER,
    ZX_POL_NEW_IOB,
    ZX_POL_NEW_SAMPLER,
)
# Besides NEW_ANY itself, four conditions are not "new object" ones: BAD_HANDLE,
# WRONG_OBJECT, VMAR_WX and AMBIENT_MARK_VMO_EXEC.
assert len(NEW_OBJECT_CONDITIONS) + 5 == ZX_POL_MAX
assert ZX_POL_AMBIENT_MARK_VMO_EXEC not in NEW_OBJECT_CONDITIONS


@dataclass(frozen=True, slots=True)
class BasicPolicyEntry:
    """One entry of zx_job_set_policy, in its V2 form: condition, action, override."""

    condition: int
    action: int
    override: int


@dataclass(frozen=True, slots=True)
class TimerSlack:
    """A job's timer slack: the minimum slack in ns and the ZX_TIMER_SLACK_* mode."""

    amount_ns: int = 0
    mode: int = ZX_TIMER_SLACK_CENTER


def condition_name(condition: int) -> str:
    return f"ZX_POL_{POL_CONDITION_NAMES.get(condition, str(condition))}"


class JobPolicy:
    """The basic policy and timer slack of a job, or the snapshot a process keeps."""

    __slots__ = ("_actions", "_overridable", "timer_slack")

    def __init__(self) -> None:
        # Indexed by condition; the NEW_ANY slot is never used.
        self._actions = [ZX_POL_ACTION_ALLOW] * ZX_POL_MAX
        self._overridable = [True] * ZX_POL_MAX
        self.timer_slack = TimerSlack()

    def copy(self) -> JobPolicy:
        policy = JobPolicy()
        policy._actions = list(self._actions)
        policy._overridable = list(self._overridable)
        policy.timer_slack = self.timer_slack
        return policy

    def action(self, condition: int) -> int:
        """Return the ZX_POL_ACTION_* for `condition`; DENY for an unknown condition."""
        if not 0 <= condition < ZX_POL_MAX or condition == ZX_POL_NEW_ANY:
            return ZX_POL_ACTION_DENY
        return self._actions[condition]

    def override(self, condition: int) -> int:
        """Return ZX_POL_OVERRIDE_ALLOW or _DENY for `condition` (DENY when unknown)."""
        if not 0 <= condition < ZX_POL_MAX or condition == ZX_POL_NEW_ANY:
            return ZX_POL_OVERRIDE_DENY
        return ZX_POL_OVERRIDE_ALLOW if self._overridable[condition] else ZX_POL_OVERRIDE_DENY

    def add_basic(self, mode: int, entries: Sequence[BasicPolicyEntry]) -> None:
        """Merge `entries` in `mode` (ZX_JOB_POL_RELATIVE or _ABSOLUTE); all or nothing.

        Raises ZX_ERR_OUT_OF_RANGE for more than ZX_POL_MAX entries; then, entry by entry:
        ZX_ERR_NOT_SUPPORTED for an unknown action, ZX_ERR_INVALID_ARGS for an unknown
        override or condition, ZX_ERR_ALREADY_EXISTS for an ABSOLUTE change of a condition
        that may not be overridden. A NEW_ANY entry's override is checked last.
        """
        if len(entries) > ZX_POL_MAX:
            raise ZxError(
                ZX_ERR_OUT_OF_RANGE,
                f"{len(entries)} policy entries is more than ZX_POL_MAX ({ZX_POL_MAX})",
            )
        actions = list(self._actions)
        overridable = list(self._overridable)
        new_any_override: int | None = None
        for entry in entries:
            if entry.condition == ZX_POL_NEW_ANY:
                # Each new-object condition takes the action with override ALLOW first;
                # the NEW_ANY entry's own override is applied to all of them at the end.
                for condition in NEW_OBJECT_CONDITIONS:
                    _merge(
                        mode, condition, entry.action, ZX_POL_OVERRIDE_ALLOW, actions, overridable
                    )
                new_any_override = entry.override
            else:
                _merge(mode, entry.condition, entry.action, entry.override, actions, overridable)

        if new_any_override is not None:
            _check_override(new_any_override)
            for condition in NEW_OBJECT_CONDITIONS:
                overridable[condition] = new_any_override == ZX_POL_OVERRIDE_ALLOW

        self._actions = actions
        self._overridable = overridable


def _check_override(override: int) -> None:
    if override not in (ZX_POL_OVERRIDE_ALLOW, ZX_POL_OVERRIDE_DENY):
        raise ZxError(
            ZX_ERR_INVALID_ARGS,
            f"policy flags {override:#x} are neither ZX_POL_OVERRIDE_ALLOW nor _DENY",
        )


def _merge(
    mode: int,
    condition: int,
    action: int,
    override: int,
    actions: list[int],
    overridable: list[bool],
) -> None:
    """Merge one entry into `actions` and `overridable`, as described in the module docstring."""
    if not 0 <= action < ZX_POL_ACTION_MAX:
        raise ZxError(ZX_ERR_NOT_SUPPORTED, f"policy action {action} is not a ZX_POL_ACTION_*")
    _check_override(override)
    if not 0 <= condition < ZX_POL_MAX or condition == ZX_POL_NEW_ANY:
        raise ZxError(ZX_ERR_INVALID_ARGS, f"policy condition {condition} is not a ZX_POL_*")

    allow_override = override == ZX_POL_OVERRIDE_ALLOW
    if overridable[condition]:
        actions[condition] = action
        overridable[condition] = allow_override
        return
    if actions[condition] == action and not allow_override:
        return
    if mode == ZX_JOB_POL_ABSOLUTE:
        raise ZxError(
            ZX_ERR_ALREADY_EXISTS,
            f"{condition_name(condition)} was set with ZX_POL_OVERRIDE_DENY by this job or "
            "an ancestor; it cannot change",
        )
