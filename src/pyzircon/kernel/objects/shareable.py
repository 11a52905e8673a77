"""What the processes of a shared group have in common: one reference-counted object.

It holds the handle table, the shared address space and the futex context. The count is
the number of live sharing processes: it starts at 1 for the creator, a new member adds
one, and each process that reaches DEAD drops one. The last drop closes every handle in
the table and destroys the shared address space, exactly once; after that no process can
join (zx_process_create_shared returns ZX_ERR_BAD_STATE).
"""

from __future__ import annotations

from pyzircon.kernel.objects.futex import FutexContext
from pyzircon.kernel.objects.handle_table import HandleTable
from pyzircon.kernel.objects.vmar import VmarDispatcher
from pyzircon.kernel.vm.aspace import VmAspace


class ShareableProcessState:
    """The handle table, address space and futex context of one or more processes."""

    def __init__(
        self, handle_table: HandleTable, aspace: VmAspace, root_vmar: VmarDispatcher, shared: bool
    ) -> None:
        self.handle_table = handle_table
        self.aspace = aspace
        # The one VMAR object for the aspace's root, whose handles every sharer may hold.
        self.root_vmar = root_vmar
        self.futex_context = FutexContext(shared)
        self.share_count = 1
        # Where the vDSO is mapped in the shared aspace; pyzircon maps no vDSO, so it stays 0.
        self.vdso_base_address = 0

    @property
    def alive(self) -> bool:
        return self.share_count > 0

    def increment_share_count(self) -> bool:
        """Add a sharer; return False when every sharer is already gone."""
        if self.share_count == 0:
            return False
        self.share_count += 1
        return True

    def decrement_share_count(self) -> None:
        """Drop a sharer; the last one closes the table and destroys the address space."""
        assert self.share_count > 0, "share count dropped below zero"
        self.share_count -= 1
        if self.share_count == 0:
            self.handle_table.clean()
            self.aspace.destroy()
