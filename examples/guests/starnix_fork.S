# Guest program for examples/starnix_fork.py: x86-64 code that forks with a Linux syscall.
# GNU as, Intel syntax. Position-independent: the supervisor loads the blob anywhere.
# Rebuild with `python -m pyzircon.tools.assemble examples/guests/starnix_fork.S`.
    .intel_syntax noprefix
    .text

# task: r12 holds the address of the task's private heap: a u64 counter, then a 32-byte
# note. Count once, fork, count again in each task, mark the note with the task's letter,
# print the note with write(1, note, 32) and exit with the counter as the status.
    .globl task
task:
    add qword ptr [r12], 1
    mov eax, 57
    syscall
    test rax, rax
    jz in_child
    add qword ptr [r12], 10
    mov byte ptr [r12 + 8], 'P'
    jmp report
in_child:
    add qword ptr [r12], 100
    mov byte ptr [r12 + 8], 'C'
report:
    mov eax, 1
    mov edi, 1
    lea rsi, [r12 + 8]
    mov edx, 32
    syscall
    mov rdi, qword ptr [r12]
    mov eax, 60
    syscall
    ud2
