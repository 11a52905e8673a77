"""The pyzircon command: exit codes, options, crash and usage reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyzircon.cli.main import EXIT_FAILURE, main


def write_program(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "program.py"
    path.write_text(body)
    return path


def test_run_returns_main_result(tmp_path: Path) -> None:
    path = write_program(tmp_path, "def main():\n    return 7\n")
    assert main(["run", str(path)]) == 7


def test_run_passes_seed_and_arch(tmp_path: Path) -> None:
    body = (
        "from pyzircon import zx\n"
        "def main():\n"
        "    info = zx.object_get_info(zx.vmar_root_self(), zx.ZX_INFO_VMAR)\n"
        "    return 0 if info.base + info.len == 1 << 38 else 1\n"
    )
    path = write_program(tmp_path, body)
    assert main(["run", str(path), "--seed", "5", "--arch", "riscv64"]) == 0


def test_run_skips_main_block(tmp_path: Path) -> None:
    body = "def main():\n    return 0\nif __name__ == '__main__':\n    raise SystemExit(9)\n"
    path = write_program(tmp_path, body)
    assert main(["run", str(path)]) == 0


def test_run_guest_exception_exits_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    body = "def helper():\n    raise ValueError('boom')\ndef main():\n    helper()\n"
    path = write_program(tmp_path, body)
    assert main(["run", str(path)]) == EXIT_FAILURE
    assert "ValueError: boom" in capsys.readouterr().err


def test_run_large_return_code_exits_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_program(tmp_path, "def main():\n    return 256\n")
    assert main(["run", str(path)]) == EXIT_FAILURE
    assert "256" in capsys.readouterr().err


def test_run_missing_file_exits(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["run", str(tmp_path / "absent.py")])
    assert "no such file" in str(caught.value.code)


def test_run_without_main_exits(tmp_path: Path) -> None:
    path = write_program(tmp_path, "x = 1\n")
    with pytest.raises(SystemExit) as caught:
        main(["run", str(path)])
    assert "defines no main()" in str(caught.value.code)


def test_run_unknown_arch_is_usage_error(tmp_path: Path) -> None:
    path = write_program(tmp_path, "def main():\n    return 0\n")
    with pytest.raises(SystemExit) as caught:
        main(["run", str(path), "--arch", "sparc"])
    assert caught.value.code == 2


def test_run_killed_by_fault_exits_one(tmp_path: Path) -> None:
    body = "from pyzircon import user\ndef main():\n    user.store(0x1000, b'x')\n"
    path = write_program(tmp_path, body)
    assert main(["run", str(path)]) == EXIT_FAILURE


def test_run_directory_exits(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["run", str(tmp_path)])
    assert "is not a file" in str(caught.value.code)


def test_run_load_error_exits(tmp_path: Path) -> None:
    path = write_program(tmp_path, "import module_that_does_not_exist\n")
    with pytest.raises(SystemExit) as caught:
        main(["run", str(path)])
    assert "loading the file failed with ModuleNotFoundError" in str(caught.value.code)


def test_run_syntax_error_exits(tmp_path: Path) -> None:
    path = write_program(tmp_path, "def main(:\n")
    with pytest.raises(SystemExit) as caught:
        main(["run", str(path)])
    assert "SyntaxError" in str(caught.value.code)
