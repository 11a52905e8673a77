"""VMO objects: the handle-facing side of a paged VM object.

Besides the VM object, the dispatcher keeps what Zircon keeps at this level: the content
size (ZX_PROP_VMO_CONTENT_SIZE), whether the VMO was made immutable at creation, and the
ZX_VMO_ZERO_CHILDREN signal, which is active while the VMO has no children.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyzircon.abi.objtypes import ZX_OBJ_TYPE_VMO
from pyzircon.abi.rights import ZX_DEFAULT_VMO_RIGHTS, ZX_RIGHT_RESIZE
from pyzircon.abi.signals import ZX_VMO_ZERO_CHILDREN
from pyzircon.kernel.objects.base import KernelObject
from pyzircon.kernel.vm.vmo import VmObjectPaged

if TYPE_CHECKING:
    from pyzircon.machine import Kernel


class VmoDispatcher(KernelObject):
    """A VMO as a kernel object.

    The pages outlive the last handle while a mapping still uses them: `release` only
    drops this object's reference, as in Zircon, where a mapping holds its own.
    `content_size` starts at the unrounded size the VMO was created with. `immutable`
    marks a snapshot made with ZX_VMO_CHILD_NO_WRITE, which ZX_INFO_VMO reports.
    """

    obj_type = ZX_OBJ_TYPE_VMO
    default_rights = ZX_DEFAULT_VMO_RIGHTS

    def __init__(
        self,
        kernel: Kernel,
        vmo: VmObjectPaged,
        *,
        content_size: int | None = None,
        immutable: bool = False,
    ) -> None:
        super().__init__(kernel, ZX_VMO_ZERO_CHILDREN)
        self.vmo = vmo
        self.content_size = vmo.size if content_size is None else content_size
        self.immutable = immutable
        vmo.user_id = self.koid
        vmo.child_observer = self._on_zero_children

    @classmethod
    def create(
        cls, kernel: Kernel, size: int, *, resizable: bool, content_size: int | None = None
    ) -> VmoDispatcher:
        return cls(kernel, VmObjectPaged(size, resizable=resizable), content_size=content_size)

    @property
    def rights_on_create(self) -> int:
        """The rights of the handle zx_vmo_create returns: RESIZE only when resizable."""
        rights = ZX_DEFAULT_VMO_RIGHTS
        if self.vmo.resizable:
            rights |= ZX_RIGHT_RESIZE
        return rights

    @property
    def name(self) -> str:
        return self.vmo.name

    @name.setter
    def name(self, value: str) -> None:
        self.vmo.name = value

    def describe(self) -> str:
        return f"{self.vmo.name!r} size={self.vmo.size:#x}"

    def child_created(self) -> None:
        """Clear ZX_VMO_ZERO_CHILDREN: a child now exists."""
        self.update_signals(clear=ZX_VMO_ZERO_CHILDREN)

    def _on_zero_children(self) -> None:
        self.update_signals(set_=ZX_VMO_ZERO_CHILDREN)

    def on_zero_handles(self) -> None:
        # As in Zircon, the signal stops tracking children once no handle can observe it.
        self.vmo.child_observer = None
        self.vmo.release()
