"""VMO objects: the handle-facing side of a paged VM object."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyzircon.abi.objtypes import ZX_OBJ_TYPE_VMO
from pyzircon.abi.rights import ZX_DEFAULT_VMO_RIGHTS, ZX_RIGHT_RESIZE
from pyzircon.kernel.objects.base import KernelObject
from pyzircon.kernel.vm.vmo import VmObjectPaged

if TYPE_CHECKING:
    from pyzircon.machine import Kernel


class VmoDispatcher(KernelObject):
    """A VMO as a kernel object.

    The pages outlive the last handle while a mapping still uses them: `release` only
    drops this object's reference, as in Zircon, where a mapping holds its own.
    """

    obj_type = ZX_OBJ_TYPE_VMO
    default_rights = ZX_DEFAULT_VMO_RIGHTS

    def __init__(self, kernel: Kernel, vmo: VmObjectPaged) -> None:
        super().__init__(kernel)
        self.vmo = vmo
        vmo.user_id = self.koid

    @classmethod
    def create(cls, kernel: Kernel, size: int, *, resizable: bool) -> VmoDispatcher:
        return cls(kernel, VmObjectPaged(size, resizable=resizable))

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

    def on_zero_handles(self) -> None:
        self.vmo.release()
