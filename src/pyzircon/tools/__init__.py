"""Tools around the model: building guest machine code."""
