"""The mini Starnix example: Linux syscalls served, isolation shown, spinning guest kicked."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyzircon.cli.main import main

EXAMPLE = Path(__file__).parent.parent / "examples" / "mini_starnix.py"


def run_example(capsys: pytest.CaptureFixture[str], seed: int) -> list[str]:
    assert main(["run", str(EXAMPLE), "--seed", str(seed)]) == 0
    return capsys.readouterr().out.splitlines()


@pytest.mark.parametrize("seed", [0, 5])
def test_hello_write_reaches_stdout(capsys: pytest.CaptureFixture[str], seed: int) -> None:
    assert "[hello] hello from restricted mode" in run_example(capsys, seed)


@pytest.mark.parametrize("seed", [0, 5])
def test_snoop_finds_only_its_secret(capsys: pytest.CaptureFixture[str], seed: int) -> None:
    lines = run_example(capsys, seed)
    found = [line for line in lines if "secret address I find" in line]
    assert found == ["[snoop] at the other task's secret address I find: secret of snoop"]


@pytest.mark.parametrize("seed", [0, 5])
def test_snoop_faults_on_shared_part(capsys: pytest.CaptureFixture[str], seed: int) -> None:
    lines = run_example(capsys, seed)
    assert any(line.startswith("[snoop] fault: exception type 0x108") for line in lines)


@pytest.mark.parametrize("seed", [0, 5])
def test_spinning_guest_is_kicked(capsys: pytest.CaptureFixture[str], seed: int) -> None:
    lines = run_example(capsys, seed)
    assert "[snoop] kicked out of a spinning guest; ending the task" in lines
