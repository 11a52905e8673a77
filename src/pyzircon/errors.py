"""The one exception type of pyzircon: a failed syscall and its Zircon status."""

from pyzircon.abi.status import status_name


class ZxError(Exception):
    """A syscall failed with a Zircon status.

    `status` is the `ZX_ERR_*` value; the message names the status and the failed check.
    """

    def __init__(self, status: int, message: str = "") -> None:
        self.status = status
        self.status_name = status_name(status)
        self.detail = message
        text = f"{self.status_name}: {message}" if message else self.status_name
        super().__init__(text)

    def __reduce__(self) -> tuple[type["ZxError"], tuple[int, str]]:
        return (ZxError, (self.status, self.detail))
