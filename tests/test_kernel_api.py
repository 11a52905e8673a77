"""The host-side Kernel API: argument checks."""

from __future__ import annotations

import pytest

from pyzircon import Kernel, ZxError, zx


@pytest.mark.parametrize("seed", ["a", None, 1.5, True])
def test_kernel_rejects_bad_seed(seed: object) -> None:
    with pytest.raises(TypeError):
        Kernel(seed=seed)  # type: ignore[arg-type]


def test_kernel_rejects_unknown_arch() -> None:
    with pytest.raises(ZxError) as caught:
        Kernel(arch="sparc")
    assert caught.value.status == zx.ZX_ERR_INVALID_ARGS


def test_run_rejects_non_callable() -> None:
    with pytest.raises(TypeError):
        Kernel().run(None)  # type: ignore[arg-type]


def test_run_passes_arguments() -> None:
    assert Kernel().run(lambda value: value + 1, 4) == 5
