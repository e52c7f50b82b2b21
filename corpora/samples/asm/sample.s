    .file "sum.s"
# x86-64 Linux, AT&T syntax: sum an array of integers and print the result.
# Build with: gcc -no-pie -o sum sum.s

    .section .data
numbers:
    .quad 3, 14, 15, 92, 65, 35
count:
    .quad 6
message:
    .asciz "sum = %ld\n"
errmsg:
    .asciz "negative total\n"

    .section .bss
    .align 16
buffer:
    .zero 64

    .section .text
    .globl main

/* long sum_array(long *ptr, long n)
   rdi = pointer to the first element, rsi = element count */
sum_array:
    pushq   %rbp
    movq    %rsp, %rbp
    xorq    %rax, %rax          # accumulator = 0
    testq   %rsi, %rsi
    jz      .Ldone
.Lloop:
    addq    (%rdi), %rax
    addq    $8, %rdi
    decq    %rsi
    jnz     .Lloop
.Ldone:
    popq    %rbp
    ret

main:
    pushq   %rbp
    movq    %rsp, %rbp
    subq    $16, %rsp
    movq    $0, -8(%rbp)        // local status = 0

    movq    $numbers, %rdi
    movq    count, %rsi
    call    sum_array
    movq    %rax, -16(%rbp)

    cmpq    $0, %rax
    jl      .Lnegative

    movq    $message, %rdi
    movq    %rax, %rsi
    xorl    %eax, %eax
    call    printf
    jmp     .Lexit

.Lnegative:
    movq    $errmsg, %rdi
    xorl    %eax, %eax
    call    printf
    movq    $1, -8(%rbp)

.Lexit:
    movq    -8(%rbp), %rax
    movq    %rbp, %rsp
    popq    %rbp
    ret
