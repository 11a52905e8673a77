"""Committed guest machine code matches the assembly kept beside it."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyzircon.tools.assemble import assemble, load_blob, tools_available

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted([*ROOT.glob("examples/guests/*.S"), *ROOT.glob("tests/restricted/*.S")])


def test_sources_found() -> None:
    assert len(SOURCES) >= 2


@pytest.mark.skipif(not tools_available(), reason="GNU as, objcopy and nm are not installed")
@pytest.mark.parametrize("source", SOURCES, ids=lambda path: path.name)
def test_blob_matches_source(source: Path) -> None:
    built = assemble(source)
    committed = load_blob(source)
    assert built.code == committed.code
    assert built.symbols == committed.symbols
