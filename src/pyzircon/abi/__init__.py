"""Zircon's numeric ABI: statuses, rights, object types, signals, flags, info records, layouts.

Every value here is Zircon's number; logic elsewhere names these constants, never literals.
"""
