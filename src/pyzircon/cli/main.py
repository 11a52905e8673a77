"""The `pyzircon` command: run a guest program in a fresh machine.

`pyzircon run FILE.py` loads FILE, calls its `main()` as the first thread of a process
in a new machine, and exits with that process's return code. An uncaught exception in
guest code prints the guest traceback and exits with status 1.
"""

from __future__ import annotations

import argparse
import logging
import runpy
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pyzircon.abi.layout import LAYOUTS
from pyzircon.kernel.sched.scheduler import Deadlock
from pyzircon.machine import Kernel

# Exit status for a program that could not be loaded or whose guest code crashed.
EXIT_FAILURE = 1
# Exit status for a command-line usage error, as argparse uses.
EXIT_USAGE = 2


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pyzircon",
        description="Run programs in pyzircon, an executable model of Zircon's "
        "process and memory system.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run",
        help="run FILE's main() as the first thread of a new process",
        description="Load FILE, run its main() in a new machine, and exit with the "
        "process's return code.",
    )
    run.add_argument("file", type=Path, help="a Python file that defines main()")
    run.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the scheduler and the kernel's random source (default: 0)",
    )
    run.add_argument(
        "--arch",
        choices=sorted(LAYOUTS),
        default="x86_64",
        help="address layout of the machine (default: x86_64)",
    )
    return parser


def _load_main(path: Path) -> Callable[[], Any]:
    """Load `path` without running its `__main__` block and return its `main`."""
    if not path.is_file():
        raise SystemExit(f"pyzircon: {path}: no such file")
    namespace = runpy.run_path(str(path), run_name="__pyzircon_guest__")
    main = namespace.get("main")
    if not callable(main):
        raise SystemExit(f"pyzircon: {path} defines no main() function to run")
    return main  # type: ignore[no-any-return]


def _run(path: Path, seed: int, arch: str) -> int:
    main = _load_main(path)
    kernel = Kernel(seed=seed, arch=arch)
    try:
        return_code = kernel.run(main, name=path.stem)
    except Deadlock as deadlock:
        print(f"pyzircon: {deadlock}", file=sys.stderr)
        return EXIT_FAILURE
    except Exception as error:  # noqa: BLE001 - any guest exception ends the run
        if kernel.guest_crashes:
            # The kernel has logged the guest traceback with the thread and process names.
            print(
                f"pyzircon: {path}: guest code raised {type(error).__name__}: {error}",
                file=sys.stderr,
            )
        else:
            traceback.print_exception(error, file=sys.stderr)
        return EXIT_FAILURE
    if not 0 <= return_code <= 255:
        # A shell keeps only the low 8 bits, which could turn a failure into 0.
        print(
            f"pyzircon: the process's return code {return_code} does not fit an exit "
            f"status; exiting with {EXIT_FAILURE}",
            file=sys.stderr,
        )
        return EXIT_FAILURE
    return return_code


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line, run the command and return the exit status."""
    arguments = _build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="pyzircon: %(message)s")
    if arguments.command == "run":
        return _run(arguments.file, arguments.seed, arguments.arch)
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
