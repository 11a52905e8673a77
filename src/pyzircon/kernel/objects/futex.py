"""The futex context: where threads wait on user addresses, keyed by address.

Processes of one shared group share a single context, so a futex on a shared address
joins waiters from every member.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyzircon.kernel.objects.thread import Thread


class FutexContext:
    """The futex wait queues of a process, or of a whole shared group."""

    def __init__(self, shared: bool) -> None:
        self.shared = shared
        # TODO: zx_futex_wait/wake/requeue/get_owner use these queues; until they exist no
        # thread ever waits here.
        self.waiters: dict[int, list[Thread]] = {}
