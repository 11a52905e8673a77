"""Suspending a thread in restricted mode, and a kick that arrives while it is suspended.

Zircon's KickJustBeforeSyscall test suspends a thread running restricted code, kicks it,
and drops the suspension: the kick is processed before any more restricted code runs.
Here the guest runs `store_one`, which sets a flag, increments rsi and spins.
"""

from __future__ import annotations

import pytest
from restricted_guest import load_u64, map_guest, patterned_state, read_state, write_state

from pyzircon import zx
from support import run_guest

# A user address for the vector; restricted_enter returns instead of jumping there.
VECTOR = 0x200000


@pytest.mark.parametrize("seed", range(4))
def test_kick_while_suspended_wins(seed: int) -> None:
    def body() -> tuple[int, int, int, int]:
        vmo = zx.restricted_bind_state(0)
        space = map_guest(zx.vmar_root_self())
        me = zx.thread_self()
        seen = []

        def supervisor(arg1: int, arg2: int) -> int:
            while load_u64(space.data) == 0:
                zx.nanosleep(zx.deadline_after(1000))
            token = zx.task_suspend(me)
            zx.object_wait_one(me, zx.ZX_THREAD_SUSPENDED, zx.ZX_TIME_INFINITE)
            seen.append(zx.object_get_info(me, zx.ZX_INFO_THREAD).state)
            zx.restricted_kick(me, 0)
            zx.handle_close(token)
            return 0

        helper = zx.thread_create(zx.process_self(), "supervisor", 0)
        zx.thread_start(helper, supervisor, 0, 0, 0)
        state = patterned_state(space, "store_one")
        state.rdi = space.data
        state.rsi = 42
        write_state(vmo, state)
        reason = zx.restricted_enter(0, VECTOR, 0)
        zx.object_wait_one(helper, zx.ZX_THREAD_TERMINATED, zx.ZX_TIME_INFINITE)
        return reason, load_u64(space.data), read_state(vmo).rsi, seen[0]

    reason, flag, rsi, state = run_guest(body, seed=seed)
    assert reason == zx.ZX_RESTRICTED_REASON_KICK
    assert flag == 1
    assert rsi == 43
    assert state == zx.ZX_THREAD_STATE_SUSPENDED
