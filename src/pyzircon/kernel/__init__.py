"""The kernel proper: objects, the VM layer and the scheduler."""
