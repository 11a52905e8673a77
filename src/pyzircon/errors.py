"""The one exception type of pyzircon: a failed syscall and its Zircon status."""

from typing import Any

from pyzircon.abi.status import status_name


class ZxError(Exception):
    """A syscall failed with a Zircon status.

    `status` is the `ZX_ERR_*` value; the message names the status and the failed check.
    `outputs` contains what the C call still writes to its out-parameters when it fails this
    way, or None: the observed signals of a wait that timed out or was cancelled, or the
    sizes of a channel message that did not fit. Each syscall's docstring says which.
    """

    def __init__(self, status: int, message: str = "", *, outputs: Any = None) -> None:
        self.status = status
        self.status_name = status_name(status)
        self.detail = message
        self.outputs = outputs
        text = f"{self.status_name}: {message}" if message else self.status_name
        super().__init__(text)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.status, self.detail, self.outputs))


def _rebuild(status: int, detail: str, outputs: Any) -> ZxError:
    return ZxError(status, detail, outputs=outputs)
