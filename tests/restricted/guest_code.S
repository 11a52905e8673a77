# Guest routines for the restricted-mode tests, in GNU as Intel syntax.
# Every routine is position-independent; the tests load the blob at a page of their own.
    .intel_syntax noprefix
    .text

# Add 1 to every general register, store rcx at fs:0 and r11 at gs:0, then make a
# syscall; loop back so that entering again bounces again.
    .globl syscall_bounce
syscall_bounce:
    inc rax
    inc rbx
    inc rcx
    inc rdx
    inc rsi
    inc rdi
    inc rbp
    inc rsp
    inc r8
    inc r9
    inc r10
    inc r11
    inc r12
    inc r13
    inc r14
    inc r15
    mov qword ptr fs:0, rcx
    mov qword ptr gs:0, r11
    syscall
    .globl syscall_bounce_post_syscall
syscall_bounce_post_syscall:
    jmp syscall_bounce

# Add 1 to every general register, then execute an undefined instruction.
    .globl exception_bounce
exception_bounce:
    inc rax
    inc rbx
    inc rcx
    inc rdx
    inc rsi
    inc rdi
    inc rbp
    inc rsp
    inc r8
    inc r9
    inc r10
    inc r11
    inc r12
    inc r13
    inc r14
    inc r15
    .globl exception_bounce_exception_address
exception_bounce_exception_address:
    ud2
    jmp exception_bounce

# Store 1 to the u64 at rdi, add 1 to rsi, then spin forever.
    .globl store_one
store_one:
    mov qword ptr [rdi], 1
    inc rsi
1:
    jmp 1b

# Push 0xaaaabbbbccccdddd on the stack, then make a syscall.
    .globl push_then_syscall
push_then_syscall:
    movabs rax, 0xaaaabbbbccccdddd
    push rax
    syscall
    jmp push_then_syscall

# Load the u64 at rdi into rax, then make a syscall.
    .globl load_then_syscall
load_then_syscall:
    mov rax, qword ptr [rdi]
    syscall
    jmp load_then_syscall

# Store rsi to the u64 at rdi, then make a syscall.
    .globl store_then_syscall
store_then_syscall:
    mov qword ptr [rdi], rsi
    syscall
    jmp store_then_syscall

# Jump to the address in rdi.
    .globl jump_to_rdi
jump_to_rdi:
    jmp rdi

# Execute int3.
    .globl breakpoint
breakpoint:
    int3
    jmp breakpoint

# Make a syscall at once, so every register except rcx and r11 comes back unchanged.
    .globl bare_syscall
bare_syscall:
    syscall
    jmp bare_syscall

# Copy rax into xmm0 and make a syscall; on the next entry copy xmm0 back into rax and
# make a syscall, so a test can see whether xmm0 survived in between.
    .globl vector_round_trip
vector_round_trip:
    movq xmm0, rax
    syscall
    movq rax, xmm0
    syscall
    jmp vector_round_trip

# Instructions user mode may not run, each followed by a syscall.
    .globl port_input
port_input:
    in al, 0x60
    syscall
    .globl port_output
port_output:
    out 0x60, al
    syscall
    .globl system_enter
system_enter:
    sysenter
    syscall
    .globl interrupt_0x80
interrupt_0x80:
    int 0x80
    syscall

# Divide rax by zero.
    .globl divide_by_zero
divide_by_zero:
    xor ecx, ecx
    .globl divide_by_zero_instruction
divide_by_zero_instruction:
    div rcx
    syscall

# Two no-ops and a syscall, for single-stepping.
    .globl two_nops
two_nops:
    nop
    nop
    syscall
