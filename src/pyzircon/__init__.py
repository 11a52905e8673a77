"""pyzircon: Zircon's process and memory model, executable in Python.

`Kernel` boots a machine and runs programs in it; `zx` is the API those programs call.
"""

from pyzircon import zx
from pyzircon.errors import ZxError
from pyzircon.machine import Kernel

__all__ = ["Kernel", "ZxError", "zx"]
__version__ = "0.1.0"
