"""Kernel object types (`zx_obj_type_t`), as in `zircon/types.h`."""

from typing import Final

ZX_OBJ_TYPE_NONE: Final = 0
ZX_OBJ_TYPE_PROCESS: Final = 1
ZX_OBJ_TYPE_THREAD: Final = 2
ZX_OBJ_TYPE_VMO: Final = 3
ZX_OBJ_TYPE_CHANNEL: Final = 4
ZX_OBJ_TYPE_EVENT: Final = 5
ZX_OBJ_TYPE_PORT: Final = 6
ZX_OBJ_TYPE_INTERRUPT: Final = 9
ZX_OBJ_TYPE_PCI_DEVICE: Final = 11
ZX_OBJ_TYPE_DEBUGLOG: Final = 12
ZX_OBJ_TYPE_SOCKET: Final = 14
ZX_OBJ_TYPE_RESOURCE: Final = 15
ZX_OBJ_TYPE_EVENTPAIR: Final = 16
ZX_OBJ_TYPE_JOB: Final = 17
ZX_OBJ_TYPE_VMAR: Final = 18
ZX_OBJ_TYPE_FIFO: Final = 19
ZX_OBJ_TYPE_GUEST: Final = 20
ZX_OBJ_TYPE_VCPU: Final = 21
ZX_OBJ_TYPE_TIMER: Final = 22
ZX_OBJ_TYPE_IOMMU: Final = 23
ZX_OBJ_TYPE_BTI: Final = 24
ZX_OBJ_TYPE_PROFILE: Final = 25
ZX_OBJ_TYPE_PMT: Final = 26
ZX_OBJ_TYPE_SUSPEND_TOKEN: Final = 27
ZX_OBJ_TYPE_PAGER: Final = 28
ZX_OBJ_TYPE_EXCEPTION: Final = 29
ZX_OBJ_TYPE_CLOCK: Final = 30
ZX_OBJ_TYPE_STREAM: Final = 31
ZX_OBJ_TYPE_MSI: Final = 32
ZX_OBJ_TYPE_IOB: Final = 33
ZX_OBJ_TYPE_COUNTER: Final = 34
ZX_OBJ_TYPE_IOB_SHARED_REGION: Final = 35
ZX_OBJ_TYPE_SAMPLER: Final = 36

ZX_OBJ_TYPE_UPPER_BOUND: Final = 64

OBJ_TYPE_NAMES: Final[dict[int, str]] = {
    value: name.removeprefix("ZX_OBJ_TYPE_").lower()
    for name, value in list(globals().items())
    if name.startswith("ZX_OBJ_TYPE_") and name != "ZX_OBJ_TYPE_UPPER_BOUND"
}

# The older C name of ZX_OBJ_TYPE_DEBUGLOG, kept by `zircon/types.h` for compatibility.
ZX_OBJ_TYPE_LOG: Final = ZX_OBJ_TYPE_DEBUGLOG

# `zx_obj_props_t` values of ZX_INFO_HANDLE_BASIC.
ZX_OBJ_PROP_NONE: Final = 0
ZX_OBJ_PROP_WAITABLE: Final = 1
