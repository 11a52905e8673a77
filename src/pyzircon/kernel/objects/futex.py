"""The futex context: where threads wait on user addresses, keyed by address.

Processes of one shared group share a single context, so a futex is named by its virtual
address within the group. A waiter in one member is woken by a wake from another member
on the same address, and never by a process outside the group. As on Zircon, the key is
the address alone, so the same restricted-range address in two members names one futex
too.

A futex exists only while threads wait on it. It may have an owner (a thread of the same
context), which waits and requeues assign and wakes clear; the owner is dropped when the
last waiter leaves or when the owning thread exits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyzircon.abi.task import ZX_KOID_INVALID, ZX_THREAD_STATE_BLOCKED_FUTEX
from pyzircon.kernel.objects.wait import WaitQueue, Wakeup, block

if TYPE_CHECKING:
    from pyzircon.kernel.objects.thread import Thread


class FutexContext:
    """The futex wait queues of a process, or of a whole shared group."""

    def __init__(self, shared: bool) -> None:
        self.shared = shared
        self._queues: dict[int, WaitQueue] = {}
        # The address each waiting thread's wakeup is queued on (requeue moves it).
        self._blocked_on: dict[Thread, int] = {}
        self._owners: dict[int, Thread] = {}
        self._owned: dict[Thread, set[int]] = {}

    # Queries.

    def waiting_on(self, thread: Thread) -> int | None:
        """Return the address `thread` waits on, or None."""
        return self._blocked_on.get(thread)

    def waiter_count(self, address: int) -> int:
        queue = self._queues.get(address)
        return len(queue) if queue is not None else 0

    def owner_koid(self, address: int) -> int:
        """Return the koid of the futex's owner, or ZX_KOID_INVALID."""
        owner = self._owners.get(address)
        return owner.koid if owner is not None else ZX_KOID_INVALID

    # Operations. The syscall layer has checked the arguments and the futex value.

    def wait(
        self, thread: Thread, address: int, owner: Thread | None, deadline_ns: int | None
    ) -> int:
        """Block `thread` on the futex at `address`, which `owner` then owns.

        Returns ZX_OK when a wake or requeue woke it and ZX_ERR_TIMED_OUT at the deadline.
        """
        queue = self._queues.get(address)
        if queue is None:
            queue = self._queues[address] = WaitQueue()
        wakeup = Wakeup(thread)
        queue.add(wakeup)
        self._blocked_on[thread] = address
        self._set_owner(address, owner)
        try:
            return block(
                thread,
                wakeup,
                deadline_ns,
                ZX_THREAD_STATE_BLOCKED_FUTEX,
                lambda: self._reason(address),
            )
        finally:
            if wakeup.status is None:
                # Timed out or killed: leave whichever queue a requeue moved it to.
                self._leave(thread, wakeup)

    def wake(self, address: int, count: int) -> int:
        """Wake up to `count` waiters, oldest first, and clear the owner; return how many."""
        woken = self._wake_from(address, count)
        self._set_owner(address, None)
        return woken

    def requeue(
        self,
        wake_address: int,
        wake_count: int,
        requeue_address: int,
        requeue_count: int,
        owner: Thread | None,
    ) -> None:
        """Wake `wake_count` waiters, then move `requeue_count` more to `requeue_address`.

        The woken futex loses its owner; the requeue futex gets `owner`.
        """
        self._wake_from(wake_address, wake_count)
        self._set_owner(wake_address, None)

        source = self._queues.get(wake_address)
        moved = 0
        while source and moved < requeue_count:
            wakeup = source.pop()
            assert wakeup is not None
            target = self._queues.get(requeue_address)
            if target is None:
                target = self._queues[requeue_address] = WaitQueue()
            target.add(wakeup)
            self._blocked_on[wakeup.thread] = requeue_address
            moved += 1
        if source is not None and not source:
            del self._queues[wake_address]
        self._set_owner(requeue_address, owner)

    def release_owner(self, thread: Thread) -> None:
        """Drop every futex `thread` owns (it is exiting)."""
        for address in self._owned.pop(thread, ()):
            del self._owners[address]

    # Helpers.

    def _wake_from(self, address: int, count: int) -> int:
        queue = self._queues.get(address)
        if queue is None:
            return 0
        woken = 0
        while queue and woken < count:
            wakeup = queue.pop()
            assert wakeup is not None
            del self._blocked_on[wakeup.thread]
            wakeup.signal()
            woken += 1
        if not queue:
            del self._queues[address]
        return woken

    def _leave(self, thread: Thread, wakeup: Wakeup) -> None:
        address = self._blocked_on.pop(thread, None)
        if address is None:
            return
        queue = self._queues[address]
        queue.remove(wakeup)
        if not queue:
            del self._queues[address]
            # A futex with no waiters has no owner.
            self._set_owner(address, None)

    def _set_owner(self, address: int, owner: Thread | None) -> None:
        previous = self._owners.pop(address, None)
        if previous is not None:
            owned = self._owned[previous]
            owned.discard(address)
            if not owned:
                del self._owned[previous]
        if owner is None or address not in self._queues:
            return
        self._owners[address] = owner
        self._owned.setdefault(owner, set()).add(address)

    def _reason(self, address: int) -> str:
        owner = self._owners.get(address)
        owned = f", owned by thread koid {owner.koid}" if owner is not None else ""
        return f"the futex at {address:#x}{owned}"
