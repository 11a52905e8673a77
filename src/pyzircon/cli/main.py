"""The `pyzircon` command: run a guest program in a fresh machine.

`pyzircon run FILE.py` loads FILE, calls its `main()` as the first thread of a process
in a new machine, and exits with that process's return code. An uncaught exception in
guest code prints the guest traceback and exits with status 1.

Inspection options: `--trace` prints one line per syscall, `--trace-json OUT` writes a
trace for Perfetto, and `--dump KIND` and `--map OUT.svg` show the machine at exit, that
is when `main()` returns or raises, before its process dies and its handles close.
"""

from __future__ import annotations

import argparse
import logging
import runpy
import signal
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pyzircon.abi.layout import LAYOUTS
from pyzircon.errors import ZxError
from pyzircon.kernel.sched.scheduler import Deadlock
from pyzircon.machine import Kernel
from pyzircon.tools.inspector import DUMP_KINDS
from pyzircon.tools.trace import PerfettoTrace, TextTrace

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
    _add_inspection_options(run)
    return parser


def _add_inspection_options(run: argparse.ArgumentParser) -> None:
    run.add_argument(
        "--trace",
        action="store_true",
        help="print one line per syscall to standard error: process, thread, call, "
        "arguments, status and results",
    )
    run.add_argument(
        "--trace-file",
        type=Path,
        metavar="FILE",
        help="write the --trace lines to FILE instead of standard error",
    )
    run.add_argument(
        "--trace-json",
        type=Path,
        metavar="OUT",
        help="write a Chrome trace-event JSON file that Perfetto's UI opens, in virtual time",
    )
    run.add_argument(
        "--dump",
        action="append",
        type=_dump_request,
        default=[],
        metavar="KIND[:PROCESS]",
        help=f"print a dump at exit; KIND is one of {', '.join(DUMP_KINDS)}, and vmaps and "
        "handles take an optional process koid or name (default: every process); repeatable",
    )
    run.add_argument(
        "--map",
        type=Path,
        metavar="OUT.svg",
        help="draw every shared group's address spaces at exit into an SVG file",
    )


def _dump_request(text: str) -> tuple[str, str | None]:
    """Parse KIND[:PROCESS] for --dump."""
    kind, _, process = text.partition(":")
    if kind not in DUMP_KINDS:
        raise argparse.ArgumentTypeError(
            f"unknown dump {kind!r}: choose one of {', '.join(DUMP_KINDS)}"
        )
    if process and kind in ("ps", "memory"):
        raise argparse.ArgumentTypeError(
            f"the {kind} dump covers the whole machine and takes no process: use --dump {kind}"
        )
    return kind, process or None


def _load_main(path: Path) -> Callable[[], Any]:
    """Load `path` without running its `__main__` block and return its `main`."""
    if not path.exists():
        raise SystemExit(f"pyzircon: {path}: no such file")
    if not path.is_file():
        raise SystemExit(f"pyzircon: {path}: is not a file; give a Python file")
    try:
        namespace = runpy.run_path(str(path), run_name="__pyzircon_guest__")
    except SystemExit:
        raise
    except BaseException as error:  # noqa: BLE001 - anything the file's top level raises
        traceback.print_exception(error, file=sys.stderr)
        raise SystemExit(
            f"pyzircon: {path}: loading the file failed with {type(error).__name__}: {error}"
        ) from None
    main = namespace.get("main")
    if not callable(main):
        raise SystemExit(f"pyzircon: {path} defines no main() function to run")
    return main  # type: ignore[no-any-return]


def _show_at_exit(
    kernel: Kernel, dumps: list[tuple[str, str | None]], map_path: Path | None
) -> None:
    """Print the requested dumps and draw the map; a failure is reported, not raised."""
    inspector = kernel.inspect
    for index, (kind, process) in enumerate(dumps):
        try:
            text = inspector.dump(kind, process)
        except ZxError as error:
            print(f"pyzircon: --dump {kind}: {error}", file=sys.stderr)
            continue
        # A blank line separates one dump from the next.
        print(text, end="\n" if index + 1 < len(dumps) else "", flush=True)
    if map_path is not None:
        try:
            inspector.save_map(map_path)
        except OSError as error:
            print(f"pyzircon: --map {map_path}: {error}", file=sys.stderr)


def _run(path: Path, seed: int, arch: str, arguments: argparse.Namespace) -> int:
    main = _load_main(path)
    kernel = Kernel(seed=seed, arch=arch)
    text_trace = None
    trace_file = None
    if arguments.trace or arguments.trace_file is not None:
        stream = sys.stderr
        if arguments.trace_file is not None:
            try:
                stream = trace_file = arguments.trace_file.open("w", encoding="utf-8")
            except OSError as error:
                print(f"pyzircon: --trace-file {arguments.trace_file}: {error}", file=sys.stderr)
                return EXIT_FAILURE
        text_trace = TextTrace(kernel, stream)
    json_trace = PerfettoTrace(kernel) if arguments.trace_json is not None else None

    guest_main = main
    if arguments.dump or arguments.map is not None:

        def guest_main() -> Any:
            try:
                return main()
            finally:
                _show_at_exit(kernel, arguments.dump, arguments.map)

    try:
        exit_status = _run_kernel(kernel, guest_main, path)
    finally:
        if text_trace is not None:
            text_trace.close()
        if trace_file is not None:
            trace_file.close()
    if json_trace is not None:
        json_trace.close()
        try:
            arguments.trace_json.write_text(json_trace.to_json(), encoding="utf-8")
        except OSError as error:
            print(f"pyzircon: --trace-json {arguments.trace_json}: {error}", file=sys.stderr)
            return EXIT_FAILURE
    return exit_status


def _run_kernel(kernel: Kernel, main: Callable[[], Any], path: Path) -> int:
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
    if argv is None and hasattr(signal, "SIGPIPE"):
        # As a command, end quietly when the reader of the output goes away (`| head`),
        # as other command-line tools do, instead of a BrokenPipeError per guest print.
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    if arguments.command == "run":
        return _run(arguments.file, arguments.seed, arguments.arch, arguments)
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
