// SPDX-License-Identifier: MIT
/*
 * native.c - run a sequence on the host CPU, in a sandboxed child.
 *
 * The child maps the code at FZ_CODE_LA (read/execute) and the sandbox at
 * FZ_DATA_LA from a memfd the parent also maps, then enters strict seccomp
 * (read, write, exit, sigreturn only) and serves runs: the parent writes
 * a byte on a pipe, the child runs the sequence and answers a byte.
 *
 * The entry stub (fz_native_exec) loads FXSAVE state, RFLAGS and all 16
 * GPRs from the input state and jumps to the sequence.  The sequence ends
 * with "jmp [rip+0]" to fz_native_done, which stores everything back.
 * A fault is caught by a signal handler on an alternate stack (the
 * sequence's RSP points into the sandbox, which must not be scribbled
 * on): it records the vector and error code the kernel reports
 * (uc_mcontext REG_TRAPNO/REG_ERR) and the registers at the faulting
 * instruction, then resumes in the stub's exit path.  A child that dies
 * or does not answer within FZ_NATIVE_TIMEOUT_MS is replaced.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include "fuzz.h"

#define FZ_NATIVE_TIMEOUT_MS	2000

_Static_assert(offsetof(struct fz_state, rip) == 128, "stub layout");
_Static_assert(offsetof(struct fz_state, rflags) == 136, "stub layout");
_Static_assert(offsetof(struct fz_state, fx) == 144, "stub layout");

/* Shared between parent and child (MAP_SHARED). */
struct fz_shared {
	struct fz_state in, out;
};

static struct {
	pid_t pid;
	int req, resp;		/* parent's ends of the pipes */
	int memfd;
	uint8_t *code, *data;	/* parent's views of the memfd */
	struct fz_shared *sh;
} nat = { .pid = -1, .req = -1, .resp = -1, .memfd = -1 };

/* ------------------------------------------------------- entry stub */

/* Used by the stub (rip-relative), set in the child. */
uint64_t fz_host_rsp, fz_out_ptr, fz_entry, fz_tmp;
uint8_t fz_host_fx[512] __attribute__((aligned(16)));

void fz_native_exec(const struct fz_state *in, struct fz_state *out);
void fz_native_done(void);
void fz_native_resume(void);

asm(".text\n"
    ".globl fz_native_exec\n"
    ".hidden fz_native_exec\n"
    "fz_native_exec:\n"
    "	push %rbx\n push %rbp\n push %r12\n push %r13\n push %r14\n push %r15\n"
    "	mov %rsi, fz_out_ptr(%rip)\n"
    "	mov %rsp, fz_host_rsp(%rip)\n"
    "	fxsave64 fz_host_fx(%rip)\n"
    "	fxrstor64 144(%rdi)\n"
    "	pushq 136(%rdi)\n"
    "	popfq\n"
    "	mov 0(%rdi), %rax\n"
    "	mov 8(%rdi), %rcx\n"
    "	mov 16(%rdi), %rdx\n"
    "	mov 24(%rdi), %rbx\n"
    "	mov 32(%rdi), %rsp\n"
    "	mov 40(%rdi), %rbp\n"
    "	mov 48(%rdi), %rsi\n"
    "	mov 64(%rdi), %r8\n"
    "	mov 72(%rdi), %r9\n"
    "	mov 80(%rdi), %r10\n"
    "	mov 88(%rdi), %r11\n"
    "	mov 96(%rdi), %r12\n"
    "	mov 104(%rdi), %r13\n"
    "	mov 112(%rdi), %r14\n"
    "	mov 120(%rdi), %r15\n"
    "	mov 56(%rdi), %rdi\n"
    "	jmp *fz_entry(%rip)\n"
    ".globl fz_native_done\n"
    ".hidden fz_native_done\n"
    "fz_native_done:\n"
    "	mov %rax, fz_tmp(%rip)\n"
    "	mov fz_out_ptr(%rip), %rax\n"
    "	mov %rcx, 8(%rax)\n"
    "	mov %rdx, 16(%rax)\n"
    "	mov %rbx, 24(%rax)\n"
    "	mov %rsp, 32(%rax)\n"
    "	mov %rbp, 40(%rax)\n"
    "	mov %rsi, 48(%rax)\n"
    "	mov %rdi, 56(%rax)\n"
    "	mov %r8, 64(%rax)\n"
    "	mov %r9, 72(%rax)\n"
    "	mov %r10, 80(%rax)\n"
    "	mov %r11, 88(%rax)\n"
    "	mov %r12, 96(%rax)\n"
    "	mov %r13, 104(%rax)\n"
    "	mov %r14, 112(%rax)\n"
    "	mov %r15, 120(%rax)\n"
    "	mov fz_tmp(%rip), %rcx\n"
    "	mov %rcx, 0(%rax)\n"
    "	mov fz_host_rsp(%rip), %rsp\n"
    "	pushfq\n"
    "	popq 136(%rax)\n"
    "	pushq $0x202\n"
    "	popfq\n"
    "	fxsave64 144(%rax)\n"
    ".globl fz_native_resume\n"
    ".hidden fz_native_resume\n"
    "fz_native_resume:\n"
    "	mov fz_host_rsp(%rip), %rsp\n"
    "	cld\n"
    "	fxrstor64 fz_host_fx(%rip)\n"
    "	pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %rbp\n pop %rbx\n"
    "	ret\n");

/* --------------------------------------------------------- the child */

static const int fz_greg[16] = {
	REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
	REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15,
};

static void fz_child_signal(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	greg_t *g = uc->uc_mcontext.gregs;
	struct fz_state *out = (struct fz_state *)fz_out_ptr;
	int i;

	/* the sequence may have left AC set: clear it (past the red zone) */
	asm volatile("lea -128(%%rsp), %%rsp\n\tpushq $0x202\n\tpopfq\n\t"
		     "lea 128(%%rsp), %%rsp" ::: "cc", "memory");
	for (i = 0; i < 16; i++)
		out->gpr[i] = g[fz_greg[i]];
	out->rip = g[REG_RIP];
	out->rflags = g[REG_EFL];
	out->vector = (int)g[REG_TRAPNO];
	out->err = (uint32_t)g[REG_ERR];
	if (uc->uc_mcontext.fpregs)
		memcpy(out->fx, uc->uc_mcontext.fpregs, sizeof(out->fx));
	/* leave through the stub's exit path, on the host stack */
	g[REG_RIP] = (greg_t)(uintptr_t)fz_native_resume;
	g[REG_RSP] = (greg_t)fz_host_rsp;
	g[REG_EFL] = 0x202;
}

static void fz_child_map(void)
{
	void *p;

	p = mmap((void *)FZ_CODE_LA, FZ_CODE_SIZE, PROT_READ | PROT_EXEC,
		 MAP_SHARED | MAP_FIXED_NOREPLACE, nat.memfd, 0);
	if (p != (void *)FZ_CODE_LA)
		_exit(2);
	p = mmap((void *)FZ_DATA_LA, FZ_DATA_SIZE, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED_NOREPLACE, nat.memfd, FZ_CODE_SIZE);
	if (p != (void *)FZ_DATA_LA)
		_exit(2);
}

static void fz_child_signals(void)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP };
	static uint8_t altstack[65536] __attribute__((aligned(16)));
	struct sigaction sa;
	stack_t ss;
	unsigned int i;

	ss.ss_sp = altstack;
	ss.ss_size = sizeof(altstack);
	ss.ss_flags = 0;
	if (sigaltstack(&ss, NULL))
		_exit(2);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fz_child_signal;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL))
			_exit(2);
}

static void fz_child(int req, int resp)
{
	char c;

	fz_child_map();
	fz_child_signals();
	fz_entry = FZ_CODE_LA;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT))
		_exit(2);
	for (;;) {
		if (read(req, &c, 1) != 1)
			break;
		fz_native_exec(&nat.sh->in, &nat.sh->out);
		if (write(resp, &c, 1) != 1)
			break;
	}
	_exit(0);
}

/* -------------------------------------------------------- the parent */

static void fz_native_kill(void)
{
	if (nat.pid > 0) {
		kill(nat.pid, SIGKILL);
		waitpid(nat.pid, NULL, 0);
	}
	nat.pid = -1;
	if (nat.req >= 0)
		close(nat.req);
	if (nat.resp >= 0)
		close(nat.resp);
	nat.req = nat.resp = -1;
}

static int fz_native_spawn(void)
{
	int p1[2], p2[2];
	pid_t pid;

	if (pipe2(p1, O_CLOEXEC) || pipe2(p2, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		close(p1[1]);
		close(p2[0]);
		fz_child(p1[0], p2[1]);
	}
	close(p1[0]);
	close(p2[1]);
	nat.pid = pid;
	nat.req = p1[1];
	nat.resp = p2[0];
	return 0;
}

int fz_native_start(void)
{
	size_t size = FZ_CODE_SIZE + FZ_DATA_SIZE;
	void *p;

	signal(SIGPIPE, SIG_IGN);
	nat.memfd = memfd_create("skvm-fuzz", MFD_CLOEXEC);
	if (nat.memfd < 0 || ftruncate(nat.memfd, size))
		return -errno;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, nat.memfd, 0);
	if (p == MAP_FAILED)
		return -errno;
	nat.code = p;
	nat.data = nat.code + FZ_CODE_SIZE;
	p = mmap(NULL, sizeof(*nat.sh), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	nat.sh = p;
	return fz_native_spawn();
}

void fz_native_stop(void)
{
	fz_native_kill();
}

/*
 * The native terminator: jmp [rip+disp] to fz_native_done, the address
 * stored 8-byte aligned (the sequence may have set EFLAGS.AC).
 */
static unsigned int fz_native_term(uint8_t *p)
{
	ZydisEncoderRequest r;
	ZyanUSize len = 15;
	uint64_t target = (uint64_t)(uintptr_t)fz_native_done;
	unsigned int at = 6 + (8 - ((uintptr_t)p + 6) % 8) % 8;

	memset(&r, 0, sizeof(r));
	r.machine_mode = ZYDIS_MACHINE_MODE_LONG_64;
	r.mnemonic = ZYDIS_MNEMONIC_JMP;
	r.operand_count = 1;
	r.operands[0].type = ZYDIS_OPERAND_TYPE_MEMORY;
	r.operands[0].mem.base = ZYDIS_REGISTER_RIP;
	r.operands[0].mem.size = 8;
	r.operands[0].mem.displacement = at - 6;
	if (!ZYAN_SUCCESS(ZydisEncoderEncodeInstruction(&r, p, &len)) ||
	    len != 6)
		abort();
	memcpy(p + at, &target, 8);
	return at + 8;
}

static void fz_native_fail(struct fz_state *out, int why, const char *note)
{
	out->vector = why;
	snprintf(out->note, sizeof(out->note), "%s", note);
}

void fz_native_run(const struct fz_seq *s, const struct fz_code *c,
		   struct fz_state *out, uint8_t *data)
{
	struct pollfd pfd;
	char b = 1;
	int rc;

	memset(nat.code, 0xcc, FZ_CODE_SIZE);
	memcpy(nat.code, c->bytes, c->len);
	fz_native_term(nat.code + c->len);
	memcpy(nat.data, s->data, FZ_DATA_SIZE);
	nat.sh->in = s->init;
	memset(&nat.sh->out, 0, sizeof(nat.sh->out));
	nat.sh->out.vector = FZ_END;

	if (nat.pid < 0 && fz_native_spawn() < 0) {
		fz_native_fail(out, FZ_CRASH, "cannot start the native child");
		return;
	}
	if (write(nat.req, &b, 1) != 1) {
		fz_native_kill();
		fz_native_fail(out, FZ_CRASH, "native child gone");
		return;
	}
	pfd.fd = nat.resp;
	pfd.events = POLLIN;
	do
		rc = poll(&pfd, 1, FZ_NATIVE_TIMEOUT_MS);
	while (rc < 0 && errno == EINTR);
	if (rc == 0) {
		fz_native_kill();
		fz_native_fail(out, FZ_TIMEOUT, "native run timed out");
		return;
	}
	if (read(nat.resp, &b, 1) != 1) {
		fz_native_kill();
		fz_native_fail(out, FZ_CRASH, "native child died");
		return;
	}
	*out = nat.sh->out;
	if (out->vector == FZ_END)
		out->rip = FZ_CODE_LA + c->len;
	memcpy(data, nat.data, FZ_DATA_SIZE);
}
