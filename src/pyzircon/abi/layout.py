"""Per-architecture user address layouts, from Zircon's `arch/*/kernel_aspace.h`.

The restricted (private) range is the lower half of the user address space, then one
unmapped guard page, then the shared range up to the top of the user address space.
"""

from dataclasses import dataclass
from typing import Final

PAGE_SIZE: Final = 4096
USER_ASPACE_BASE: Final = 0x200000


@dataclass(frozen=True, slots=True)
class AddressLayout:
    """The user address ranges of one architecture; every range is [base, base + size)."""

    arch: str
    user_base: int
    user_size: int
    restricted_base: int
    restricted_size: int
    guard_page: int
    shared_base: int
    shared_size: int
    # Bits of a canonical virtual address (x86-64 4-level paging: 48).
    virtual_address_bits: int
    # An address is user-accessible when none of these bits is set: on x86-64 and
    # riscv64 the upper half of the canonical range, on arm64 bit 55 (from each
    # architecture's `arch/vm.h`).
    user_accessible_mask: int

    @property
    def user_end(self) -> int:
        return self.user_base + self.user_size

    @property
    def restricted_end(self) -> int:
        return self.restricted_base + self.restricted_size

    @property
    def shared_end(self) -> int:
        return self.shared_base + self.shared_size

    def is_user_accessible(self, address: int) -> bool:
        """Return whether `address` is a user address by Zircon's `is_user_accessible`.

        The predicate is wider than the user address space: on x86-64 any address below
        2**47 passes, 0 included. Whether something is mapped there is a separate question.
        """
        return address & self.user_accessible_mask == 0


def _layout(
    arch: str, user_size: int, restricted_size: int, va_bits: int, user_accessible_mask: int
) -> AddressLayout:
    restricted_base = USER_ASPACE_BASE
    guard_page = restricted_base + restricted_size
    shared_base = guard_page + PAGE_SIZE
    shared_size = USER_ASPACE_BASE + user_size - shared_base
    return AddressLayout(
        arch=arch,
        user_base=USER_ASPACE_BASE,
        user_size=user_size,
        restricted_base=restricted_base,
        restricted_size=restricted_size,
        guard_page=guard_page,
        shared_base=shared_base,
        shared_size=shared_size,
        virtual_address_bits=va_bits,
        user_accessible_mask=user_accessible_mask,
    )


# x86-64 stops one page below 2^47 (the sysret issue); the restricted range ends at 2^46.
_U64_MASK: Final = (1 << 64) - 1

X86_64: Final = _layout(
    "x86_64",
    (1 << 47) - PAGE_SIZE - USER_ASPACE_BASE,
    (1 << 46) - USER_ASPACE_BASE,
    48,
    _U64_MASK & ~((1 << 47) - 1),
)
ARM64: Final = _layout(
    "arm64", 0xFFFF_FF00_0000 - USER_ASPACE_BASE, (1 << 47) - USER_ASPACE_BASE, 48, 1 << 55
)
# riscv64 with Sv39 paging.
RISCV64: Final = _layout(
    "riscv64",
    (1 << 38) - USER_ASPACE_BASE,
    (1 << 37) - USER_ASPACE_BASE,
    39,
    _U64_MASK & ~((1 << 38) - 1),
)

LAYOUTS: Final[dict[str, AddressLayout]] = {
    layout.arch: layout for layout in (X86_64, ARM64, RISCV64)
}
