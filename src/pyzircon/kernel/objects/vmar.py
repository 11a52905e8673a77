"""VMAR objects: the handle-facing side of a region of an address space."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyzircon.abi.objtypes import ZX_OBJ_TYPE_VMAR
from pyzircon.abi.rights import (
    ZX_DEFAULT_VMAR_RIGHTS,
    ZX_RIGHT_EXECUTE,
    ZX_RIGHT_READ,
    ZX_RIGHT_WRITE,
)
from pyzircon.kernel.objects.base import KernelObject

if TYPE_CHECKING:
    from pyzircon.kernel.vm.vmar import VmAddressRegion
    from pyzircon.machine import Kernel

# Root VMARs can map anything: their handles get READ, WRITE and EXECUTE on top of the
# default VMAR rights.
ROOT_VMAR_RIGHTS = ZX_DEFAULT_VMAR_RIGHTS | ZX_RIGHT_READ | ZX_RIGHT_WRITE | ZX_RIGHT_EXECUTE


class VmarDispatcher(KernelObject):
    """A VMAR as a kernel object; the region itself lives in the VM layer."""

    obj_type = ZX_OBJ_TYPE_VMAR
    default_rights = ZX_DEFAULT_VMAR_RIGHTS
    waitable = False

    def __init__(self, kernel: Kernel, vmar: VmAddressRegion) -> None:
        super().__init__(kernel)
        self.vmar = vmar

    def describe(self) -> str:
        return f"[{self.vmar.base:#x}, {self.vmar.base + self.vmar.size:#x})"
