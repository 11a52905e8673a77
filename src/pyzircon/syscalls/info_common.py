"""The shape of a ZX_INFO_* topic: which object type and rights it needs, and its records."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pyzircon.kernel.objects.base import KernelObject

if TYPE_CHECKING:
    from pyzircon.kernel.objects.handle_table import Handle
    from pyzircon.kernel.objects.thread import Thread

# A topic reader gets the caller, the looked-up handle and its object; it returns one
# record (single-record topics) or a list of records.
TopicReader = Callable[["Thread", "Handle", Any], Any]


@dataclass(frozen=True)
class InfoTopic:
    """How zx_object_get_info serves one topic."""

    name: str
    kind: type[KernelObject]
    rights: int
    single: bool
    read: TopicReader
