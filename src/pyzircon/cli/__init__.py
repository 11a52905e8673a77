"""The `pyzircon` command."""
