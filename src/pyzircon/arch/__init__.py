"""CPU engines that run guest machine code."""
