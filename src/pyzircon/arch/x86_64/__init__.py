"""x86-64: the unicorn engine for restricted mode."""
