"""Suspend tokens: a task stays suspended while a token for it has a handle.

Closing the token's last handle drops its suspension; tokens on one task nest, and a
process token and a thread token on the same thread nest too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyzircon.abi.objtypes import ZX_OBJ_TYPE_SUSPEND_TOKEN
from pyzircon.abi.rights import ZX_DEFAULT_SUSPEND_TOKEN_RIGHTS
from pyzircon.kernel.objects.base import KernelObject

if TYPE_CHECKING:
    from pyzircon.kernel.objects.process import Process
    from pyzircon.kernel.objects.thread import Thread
    from pyzircon.machine import Kernel


class SuspendToken(KernelObject):
    """One suspension of a thread or a process."""

    obj_type = ZX_OBJ_TYPE_SUSPEND_TOKEN
    default_rights = ZX_DEFAULT_SUSPEND_TOKEN_RIGHTS
    waitable = False

    def __init__(self, kernel: Kernel, task: Thread | Process) -> None:
        """Suspend `task`; raises ZX_ERR_BAD_STATE for a dying or dead one."""
        super().__init__(kernel)
        task.suspend()
        # Set only once the suspension took, so that closing the token undoes it.
        self.task: Thread | Process | None = task

    def describe(self) -> str:
        return f"suspends {self.task!r}" if self.task is not None else "released"

    def on_zero_handles(self) -> None:
        task, self.task = self.task, None
        if task is not None:
            task.resume_from_suspend()
