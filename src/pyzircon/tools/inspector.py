"""`Kernel.inspect`: every dump and the address-space picture of one machine.

Each call walks the machine's objects afresh, so it shows the state at that moment. None
of them is a syscall: they read kernel objects directly, switch no thread and advance no
virtual time, so calling them from guest code does not change the run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final

from pyzircon.abi.status import ZX_ERR_INVALID_ARGS
from pyzircon.errors import ZxError
from pyzircon.kernel.objects.process import Process
from pyzircon.tools import dumps
from pyzircon.tools.memgraph import Node, memory_graph, memory_json
from pyzircon.tools.tasks import TaskTree

if TYPE_CHECKING:
    from pyzircon.machine import Kernel

# What `dump` accepts, in the order the CLI lists them.
DUMP_KINDS: Final = ("ps", "vmaps", "handles", "memory")

ProcessSelector = int | str | Process


class Inspector:
    """Dumps (`ps`, `vmaps`, `handles`, `memory`) and the map picture of a kernel.

    A process is named by its koid, its name (when only one process has it) or the
    Process object. Naming no process or a missing one raises ZxError with
    ZX_ERR_NOT_FOUND.
    """

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel

    def tasks(self) -> TaskTree:
        return TaskTree(self.kernel)

    def ps(self) -> str:
        """Return the job tree with processes and threads, like Fuchsia's `ps -T`."""
        return dumps.ps(self.tasks())

    def vmaps(self, process: ProcessSelector | None = None) -> str:
        """Return one process's address space, or every live process's, like `vmaps`."""
        tree = self.tasks()
        if process is not None:
            return dumps.vmaps(tree, tree.find_process(process))
        return "\n".join(dumps.vmaps(tree, p) for p in tree.live_processes())

    def handles(self, process: ProcessSelector | None = None) -> str:
        """Return one process's handle table, or every table once, like `handles`."""
        tree = self.tasks()
        if process is not None:
            return dumps.handles(tree, tree.find_process(process))
        return dumps.all_handle_tables(tree)

    def memory(self) -> list[Node]:
        """Return the memory graph as JSON-ready nodes (see `pyzircon.tools.memgraph`)."""
        return memory_graph(self.tasks())

    def memory_json(self) -> str:
        return memory_json(self.tasks())

    def dump(self, kind: str, process: ProcessSelector | None = None) -> str:
        """Return the dump named `kind`: "ps", "vmaps", "handles" or "memory".

        Raises ZX_ERR_INVALID_ARGS for another kind, or for a process given to "ps" or
        "memory", which always cover the whole machine.
        """
        if kind not in DUMP_KINDS:
            raise ZxError(
                ZX_ERR_INVALID_ARGS,
                f"unknown dump {kind!r}: choose one of {', '.join(DUMP_KINDS)}",
            )
        if kind in ("ps", "memory") and process is not None:
            raise ZxError(
                ZX_ERR_INVALID_ARGS,
                f"the {kind} dump covers the whole machine and takes no process",
            )
        if kind == "ps":
            return self.ps()
        if kind == "vmaps":
            return self.vmaps(process)
        if kind == "handles":
            return self.handles(process)
        return self.memory_json()

    def map_svg(self, processes: Sequence[ProcessSelector] | None = None) -> str:
        """Return the SVG picture of the groups of `processes` (by default, every group)."""
        # Imported on first use: drawsvg takes a while to load, and most runs draw nothing.
        from pyzircon.tools.aspace_map import draw_map

        tree = self.tasks()
        chosen: Iterable[Process] | None = None
        if processes is not None:
            chosen = [tree.find_process(p) for p in processes]
        return draw_map(tree, chosen)

    def save_map(
        self, path: str | Path, processes: Sequence[ProcessSelector] | None = None
    ) -> None:
        """Write the SVG picture to `path`."""
        Path(path).write_text(self.map_svg(processes), encoding="utf-8")
