# Guest programs for examples/mini_starnix.py: x86-64 code that makes Linux syscalls.
# GNU as, Intel syntax. Position-independent: the supervisor loads the blob anywhere.
# Rebuild with `python -m pyzircon.tools.assemble examples/guests/mini_starnix.S`.
    .intel_syntax noprefix
    .text

# hello: write(1, greeting, length), then exit(0).
    .globl hello
hello:
    mov eax, 1
    mov edi, 1
    lea rsi, [rip + greeting]
    mov edx, greeting_end - greeting
    syscall
    mov eax, 60
    xor edi, edi
    syscall
    ud2

# snoop: print the private page at the address in r12, which is the address where the
# other task keeps its secret, then load the u64 at the address in rbx. The supervisor
# passes an address of its own shared part there, which restricted mode cannot see, so
# the load faults. A task that survives the fault continues at `spin`.
    .globl snoop
snoop:
    mov eax, 1
    mov edi, 1
    lea rsi, [rip + found_message]
    mov edx, found_message_end - found_message
    syscall
    mov eax, 1
    mov edi, 1
    mov rsi, r12
    mov edx, 15
    syscall
    mov eax, 1
    mov edi, 1
    lea rsi, [rip + probe_message]
    mov edx, probe_message_end - probe_message
    syscall
    mov rax, qword ptr [rbx]
    mov eax, 60
    mov edi, 3
    syscall
    ud2

# spin: loop forever without a syscall; only a kick gets the supervisor back.
    .globl spin
spin:
    jmp spin

greeting:
    .ascii "hello from restricted mode\n"
greeting_end:
found_message:
    .ascii "at the other task's secret address I find: "
found_message_end:
probe_message:
    .ascii "\nreading the supervisor's memory...\n"
probe_message_end:
