"""zx.RestrictedState and the exception report: layouts and bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyzircon import zx
from pyzircon.tools.assemble import main as assemble_main


def test_state_layout_offsets() -> None:
    values = {name: index + 1 for index, name in enumerate(zx.RestrictedState.__slots__)}
    raw = zx.RestrictedState(**values).to_bytes()
    assert len(raw) == zx.X86_64_STATE_SIZE
    for index, name in enumerate(zx.RestrictedState.__slots__):
        assert int.from_bytes(raw[8 * index : 8 * index + 8], "little") == values[name], name


def test_state_round_trip() -> None:
    state = zx.RestrictedState(rax=1, ip=0x1234, gs_base=(1 << 64) - 1)
    assert zx.RestrictedState.from_bytes(state.to_bytes()) == state


@pytest.mark.parametrize("data", [b"", b"\0" * 159, None, "text", 5])
def test_state_from_bad_bytes(data: object) -> None:
    with pytest.raises(zx.ZxError) as caught:
        zx.RestrictedState.from_bytes(data)  # type: ignore[arg-type]
    assert caught.value.status == zx.ZX_ERR_INVALID_ARGS


@pytest.mark.parametrize("value", [None, "1", 1.5])
def test_state_to_bytes_bad_field(value: object) -> None:
    state = zx.RestrictedState(ip=value)  # type: ignore[arg-type]
    with pytest.raises(zx.ZxError) as caught:
        state.to_bytes()
    assert caught.value.status == zx.ZX_ERR_INVALID_ARGS


@pytest.mark.parametrize("data", [b"", b"\0" * 199, None])
def test_report_from_bad_bytes(data: object) -> None:
    with pytest.raises(zx.ZxError) as caught:
        zx.read_exception_report(data)  # type: ignore[arg-type]
    assert caught.value.status == zx.ZX_ERR_INVALID_ARGS


def test_report_decodes_after_state() -> None:
    report = zx.ExceptionReport(40, zx.ZX_EXCP_FATAL_PAGE_FAULT, 14, 6, 0x1000, 5, 0)
    data = bytes(zx.X86_64_STATE_SIZE) + report.to_bytes()
    assert zx.read_exception_report(data) == report


def test_assemble_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert assemble_main([str(tmp_path / "absent.S")]) == 1
    assert "no such file" in capsys.readouterr().err
