"""Kernel objects, one module per object type; they hold state and never see handles' values."""
