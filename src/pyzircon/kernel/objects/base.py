"""The base of every kernel object: koid, signals, handle count and a readable repr.

Zircon calls these dispatchers. Each object counts the handles that refer to it; when the
count drops to zero, `on_zero_handles` runs, which is where an unstarted process or thread
dies and a childless job leaves the tree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from pyzircon.abi.objtypes import OBJ_TYPE_NAMES, ZX_OBJ_TYPE_NONE

if TYPE_CHECKING:
    from pyzircon.machine import Kernel

SignalObserver = Callable[["KernelObject", int], None]


class KernelObject:
    """A kernel object with a koid, a signal word and a count of the handles to it."""

    obj_type: ClassVar[int] = ZX_OBJ_TYPE_NONE
    default_rights: ClassVar[int] = 0
    waitable: ClassVar[bool] = True

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
        """Clear then set signal bits, and tell observers when the word changed."""
        new = (self.signals & ~clear) | set_
        if new == self.signals:
            return
        self.signals = new
        for observer in list(self._observers):
            observer(self, new)

    def add_observer(self, observer: SignalObserver) -> None:
        self._observers.append(observer)

    def remove_observer(self, observer: SignalObserver) -> None:
        if observer in self._observers:
            self._observers.remove(observer)
