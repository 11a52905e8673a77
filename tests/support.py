"""Helpers for tests: run a guest function inside a fresh machine, expect a status.

Tests import them as `from support import run_guest, expect_status`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import pytest

from pyzircon import Kernel, ZxError

T = TypeVar("T")


def run_guest(body: Callable[[], T], *, seed: int = 0, arch: str = "x86_64") -> T:
    """Run `body()` as the main thread of a new process; return what it returned.

    Exceptions raised by `body` (assertion failures included) propagate to the test.
    """
    outcome: dict[str, Any] = {}

    def main() -> int:
        outcome["value"] = body()
        return 0

    Kernel(seed=seed, arch=arch).run(main)
    return outcome["value"]  # type: ignore[no-any-return]


def expect_status(status: int, call: Callable[..., Any], *args: Any, **kwargs: Any) -> ZxError:
    """Call `call(*args, **kwargs)` and check that it raises ZxError with `status`."""
    with pytest.raises(ZxError) as caught:
        call(*args, **kwargs)
    assert caught.value.status == status, (
        f"expected status {status}, got {caught.value.status}: {caught.value}"
    )
    return caught.value
