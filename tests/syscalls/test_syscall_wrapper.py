"""The syscall wrapper: signatures, argument-count errors and wrong-type messages."""

from __future__ import annotations

import inspect

import pytest

from pyzircon import zx
from support import run_guest


def test_signature_hides_calling_thread() -> None:
    assert list(inspect.signature(zx.vmo_create).parameters) == ["size", "options"]


def test_missing_argument_names_syscall() -> None:
    def body() -> str:
        with pytest.raises(TypeError) as caught:
            zx.vmo_create(4096)  # type: ignore[call-arg]
        return str(caught.value)

    message = run_guest(body)
    assert message.startswith("zx.vmo_create(")
    assert "missing a required argument: 'options'" in message


def test_extra_argument_names_syscall() -> None:
    def body() -> str:
        with pytest.raises(TypeError) as caught:
            zx.vmo_create(4096, 0, 0)  # type: ignore[call-arg]
        return str(caught.value)

    assert "too many positional arguments" in run_guest(body)


def test_wrong_type_message_uses_object_names() -> None:
    def body() -> str:
        with pytest.raises(zx.ZxError) as caught:
            zx.vmo_get_size(zx.vmar_root_self())
        return str(caught.value)

    assert run_guest(body).endswith("is a vmar, not a vmo")
