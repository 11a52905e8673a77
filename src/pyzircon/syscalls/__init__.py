"""The syscall layer: argument and rights checks in the kernel's order, then one object call.

This is the only layer that turns exceptions into statuses.
"""
