"""Assemble x86-64 guest programs with GNU as, for restricted mode.

Guest programs are flat blobs of position-independent code: `.text` only, loaded at any
page-aligned address. `assemble` returns the bytes and the offset of every global label,
so a test or example can point the instruction pointer at a routine.

Run `python -m pyzircon.tools.assemble FILE.S` to write FILE.bin (the code) and FILE.sym
(one "offset name" line per global symbol) beside the source; `load_blob` reads them back.
Committed blobs are checked against their sources by the test suite wherever GNU as
and objcopy are installed.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class GuestBlob:
    """Machine code and the offsets of its global symbols."""

    code: bytes
    symbols: dict[str, int]


def tools_available() -> bool:
    """Return whether GNU as, objcopy and nm are on PATH."""
    return all(shutil.which(tool) for tool in ("as", "objcopy", "nm"))


def assemble(source: Path) -> GuestBlob:
    """Assemble `source` (GNU as syntax) into a flat blob.

    Raises RuntimeError with the assembler's output when assembly fails.
    """
    with tempfile.TemporaryDirectory() as scratch:
        obj = Path(scratch) / "guest.o"
        flat = Path(scratch) / "guest.bin"
        _run(["as", "--64", "-o", str(obj), str(source)])
        _run(["objcopy", "-O", "binary", "-j", ".text", str(obj), str(flat)])
        listing = _run(["nm", "--defined-only", str(obj)])
        code = flat.read_bytes()

    symbols: dict[str, int] = {}
    for line in listing.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in ("T", "t"):
            symbols[parts[2]] = int(parts[0], 16)
    return GuestBlob(code, symbols)


def format_symbols(symbols: dict[str, int]) -> str:
    lines = [
        f"{offset:#06x} {name}" for name, offset in sorted(symbols.items(), key=lambda i: i[1])
    ]
    return "\n".join(lines) + "\n"


def load_blob(source: Path) -> GuestBlob:
    """Read the committed FILE.bin and FILE.sym that belong to `source` (FILE.S)."""
    code = source.with_suffix(".bin").read_bytes()
    symbols: dict[str, int] = {}
    for line in source.with_suffix(".sym").read_text().splitlines():
        offset, name = line.split()
        symbols[name] = int(offset, 16)
    return GuestBlob(code, symbols)


def _run(command: list[str]) -> str:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr}")
    return result.stdout


def main(argv: list[str]) -> int:
    """Assemble FILE.S into FILE.bin and FILE.sym; return the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m pyzircon.tools.assemble",
        description="Assemble an x86-64 guest program (GNU as syntax) into FILE.bin, the "
        "flat code, and FILE.sym, the offset of each symbol. Needs as, objcopy and nm "
        "from GNU binutils.",
    )
    parser.add_argument("source", type=Path, help="the assembly source, FILE.S")
    arguments = parser.parse_args(argv)
    source: Path = arguments.source

    if not source.is_file():
        print(f"assemble: {source}: no such file", file=sys.stderr)
        return 1
    if not tools_available():
        print("assemble: as, objcopy and nm (GNU binutils) must be on PATH", file=sys.stderr)
        return 1
    try:
        blob = assemble(source)
    except RuntimeError as error:
        print(f"assemble: {source}: {error}", file=sys.stderr)
        return 1

    source.with_suffix(".bin").write_bytes(blob.code)
    listing = format_symbols(blob.symbols)
    source.with_suffix(".sym").write_text(listing)
    print(listing, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
