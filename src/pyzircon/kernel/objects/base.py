"""The base of every kernel object: koid, signals, handle count and a readable repr.

Zircon calls these dispatchers. Each object counts the handles that refer to it; when the
count drops to zero, `on_zero_handles` runs, which is where an unstarted process or thread
dies and a childless job leaves the tree.

Waits follow Zircon's observer rules. A `SignalObserver` is added through one handle and
fires once: at once if a trigger signal is already active (unless it is edge-triggered),
or at the first later change that makes some signal newly active while the new signal
word has a trigger bit. Destroying that handle cancels it (`cancel`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from pyzircon.abi.objtypes import OBJ_TYPE_NAMES, ZX_OBJ_TYPE_NONE
from pyzircon.abi.signals import USER_SETTABLE_SIGNALS
from pyzircon.abi.status import ZX_ERR_NOT_SUPPORTED
from pyzircon.errors import ZxError

if TYPE_CHECKING:
    from pyzircon.kernel.objects.handle_table import Handle
    from pyzircon.machine import Kernel


class SignalObserver:
    """One pending wait on an object's signals (Zircon's SignalObserver).

    `trigger` and `handle` are set when the observer is queued on an object. Subclasses
    define what a match and a cancellation do, and both get the object's signal word.
    """

    __slots__ = ("trigger", "handle")

    def __init__(self, trigger: int = 0, handle: Handle | None = None) -> None:
        self.trigger = trigger
        self.handle = handle

    def on_match(self, signals: int) -> None:
        raise NotImplementedError

    def on_cancel(self, signals: int) -> None:
        raise NotImplementedError

    def matches_key(self, port: object, key: int) -> bool:
        """Return whether zx_port_cancel(port, ..., key) names this observer."""
        return False


class KernelObject:
    """A kernel object with a koid, a signal word and a count of the handles to it."""

    obj_type: ClassVar[int] = ZX_OBJ_TYPE_NONE
    default_rights: ClassVar[int] = 0
    waitable: ClassVar[bool] = True
    # Signals zx_object_signal may set or clear on this type (and zx_object_signal_peer on
    # its peer): the user signals, plus a SIGNALED bit for events and event pairs.
    user_signals: ClassVar[int] = USER_SETTABLE_SIGNALS

    def __init__(self, kernel: Kernel, signals: int = 0) -> None:
        self.kernel = kernel
        self.koid = kernel.allocate_koid()
        self.signals = signals
        self.handle_count = 0
        self._observers: list[SignalObserver] = []
        kernel.track_object(self)

    # Identity and relations.

    @property
    def type_name(self) -> str:
        return OBJ_TYPE_NAMES.get(self.obj_type, "object")

    def related_koid(self) -> int:
        """Return the koid ZX_INFO_HANDLE_BASIC reports as related (parent or peer), or 0."""
        return 0

    def describe(self) -> str:
        """Return a short state description for repr and dumps."""
        return ""

    def __repr__(self) -> str:
        detail = self.describe()
        suffix = f" {detail}" if detail else ""
        return f"<{self.type_name} koid={self.koid}{suffix}>"

    # Handles.

    def on_handle_added(self) -> None:
        self.handle_count += 1

    def on_handle_removed(self) -> None:
        assert self.handle_count > 0, f"{self!r} lost a handle it never had"
        self.handle_count -= 1
        if self.handle_count == 0:
            self.on_zero_handles()

    def on_zero_handles(self) -> None:
        """Run when the last handle to this object is closed."""

    # Signals.

    def update_signals(self, clear: int = 0, set_: int = 0) -> None:
        """Clear then set signal bits; fire the observers when a signal became active.

        As in Zircon, observers fire only when `set_` makes some signal newly active, and
        then every observer with a trigger bit in the new word fires, newest first.
        """
        old = self.signals
        new = (old & ~clear) | set_
        if new == old:
            return
        self.signals = new
        if not set_ & ~old or not self._observers:
            return
        observers = self._observers
        for observer in observers[::-1]:
            if observer.trigger & new:
                observers.remove(observer)
                observer.on_match(new)

    def add_observer(
        self, observer: SignalObserver, handle: Handle | None, trigger: int, *, edge: bool = False
    ) -> None:
        """Queue `observer` for `trigger`, or fire it at once if a trigger bit is active.

        An edge-triggered observer never fires at once. Raises ZX_ERR_NOT_SUPPORTED for an
        object that cannot be waited on.
        """
        if not self.waitable:
            raise ZxError(ZX_ERR_NOT_SUPPORTED, f"a {self.type_name} cannot be waited on")
        if not edge and self.signals & trigger:
            observer.on_match(self.signals)
            return
        observer.trigger = trigger
        observer.handle = handle
        self._observers.append(observer)

    def remove_observer(self, observer: SignalObserver) -> bool:
        """Dequeue `observer`; return False when it already fired or was cancelled."""
        if observer not in self._observers:
            return False
        self._observers.remove(observer)
        return True

    def cancel(self, handle: Handle) -> None:
        """Cancel every observer added through `handle` (the handle is being destroyed)."""
        if not self._observers:
            return
        for observer in reversed(list(self._observers)):
            if observer.handle is handle:
                self._observers.remove(observer)
                observer.on_cancel(self.signals)

    def cancel_by_key(self, handle: Handle, port: object, key: int) -> bool:
        """Cancel the observers of `port` with `key` added through `handle`.

        Returns whether any was cancelled.
        """
        cancelled = False
        for observer in reversed(list(self._observers)):
            if observer.handle is handle and observer.matches_key(port, key):
                self._observers.remove(observer)
                observer.on_cancel(self.signals)
                cancelled = True
        return cancelled
