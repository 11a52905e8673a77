"""Zircon status codes (`zx_status_t`), with the values of `zircon/errors.h`."""

from typing import Final

ZX_OK: Final = 0
ZX_ERR_INTERNAL: Final = -1
ZX_ERR_NOT_SUPPORTED: Final = -2
ZX_ERR_NO_RESOURCES: Final = -3
ZX_ERR_NO_MEMORY: Final = -4
ZX_ERR_INTERNAL_INTR_RETRY: Final = -6
ZX_ERR_INVALID_ARGS: Final = -10
ZX_ERR_BAD_HANDLE: Final = -11
ZX_ERR_WRONG_TYPE: Final = -12
ZX_ERR_BAD_SYSCALL: Final = -13
ZX_ERR_OUT_OF_RANGE: Final = -14
ZX_ERR_BUFFER_TOO_SMALL: Final = -15
ZX_ERR_BAD_STATE: Final = -20
ZX_ERR_TIMED_OUT: Final = -21
ZX_ERR_SHOULD_WAIT: Final = -22
ZX_ERR_CANCELED: Final = -23
ZX_ERR_PEER_CLOSED: Final = -24
ZX_ERR_NOT_FOUND: Final = -25
ZX_ERR_ALREADY_EXISTS: Final = -26
ZX_ERR_ALREADY_BOUND: Final = -27
ZX_ERR_UNAVAILABLE: Final = -28
ZX_ERR_ACCESS_DENIED: Final = -30
ZX_ERR_IO: Final = -40
ZX_ERR_IO_REFUSED: Final = -41
ZX_ERR_IO_DATA_INTEGRITY: Final = -42
ZX_ERR_IO_DATA_LOSS: Final = -43
ZX_ERR_IO_NOT_PRESENT: Final = -44
ZX_ERR_IO_OVERRUN: Final = -45
ZX_ERR_IO_MISSED_DEADLINE: Final = -46
ZX_ERR_IO_INVALID: Final = -47
ZX_ERR_BAD_PATH: Final = -50
ZX_ERR_NOT_DIR: Final = -51
ZX_ERR_NOT_FILE: Final = -52
ZX_ERR_FILE_BIG: Final = -53
ZX_ERR_NO_SPACE: Final = -54
ZX_ERR_NOT_EMPTY: Final = -55
ZX_ERR_STOP: Final = -60
ZX_ERR_NEXT: Final = -61
ZX_ERR_ASYNC: Final = -62
ZX_ERR_PROTOCOL_NOT_SUPPORTED: Final = -70
ZX_ERR_ADDRESS_UNREACHABLE: Final = -71
ZX_ERR_ADDRESS_IN_USE: Final = -72
ZX_ERR_NOT_CONNECTED: Final = -73
ZX_ERR_CONNECTION_REFUSED: Final = -74
ZX_ERR_CONNECTION_RESET: Final = -75
ZX_ERR_CONNECTION_ABORTED: Final = -76
ZX_ERR_INTERNAL_INTR_KILLED: Final = -502

STATUS_NAMES: Final[dict[int, str]] = {
    value: name
    for name, value in list(globals().items())
    if name.startswith("ZX_OK") or name.startswith("ZX_ERR_")
}


def status_name(status: int) -> str:
    """Return the C name of a status, or a description for an unknown value."""
    return STATUS_NAMES.get(status, f"unknown status {status}")
