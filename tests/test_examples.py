"""Every program in examples/ runs to completion and reports success."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyzircon.cli.main import main

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("*.py"))


def test_examples_exist() -> None:
    assert len(EXAMPLES) >= 6


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_example_succeeds(path: Path, seed: int, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(path), "--seed", str(seed)]) == 0
    assert capsys.readouterr().out


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
def test_example_output_repeats(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["run", str(path), "--seed", "4"])
    first = capsys.readouterr().out
    main(["run", str(path), "--seed", "4"])
    assert capsys.readouterr().out == first


def test_tour_shows_mapping_permissions(capsys: pytest.CaptureFixture[str]) -> None:
    tour = Path(__file__).parent.parent / "examples" / "tour.py"
    main(["run", str(tour)])
    out = capsys.readouterr().out
    assert "shared-page rw-" in out
