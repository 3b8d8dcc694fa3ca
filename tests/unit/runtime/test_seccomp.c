/* SPDX-License-Identifier: MIT */
/*
 * The default seccomp filter, checked as the kernel would run it: the filter is
 * exported as classic BPF and evaluated here by a small interpreter, for the syscall
 * numbers of each ABI a process on an x86-64 kernel can use. The numbers are written
 * down independently of libseccomp, so a wrong table there shows up here.
 */
#include <criterion/criterion.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "runtime-internal.h"

#if defined(__x86_64__)

#define X32_BIT 0x40000000

static struct sock_filter *prog;
static size_t prog_len;

static void filter_export(void)
{
	_cleanup_close_ int fd = memfd_create("seccomp-bpf", MFD_CLOEXEC);
	static char buf[65536];
	berr err = {0};
	size_t len = 0;
	ssize_t n;

	cr_assert(fd >= 0, "memfd_create: %s", strerror(errno));
	cr_assert_eq(sec_export_bpf(fd, &err), 0, "sec_export_bpf: %s", err.msg);
	cr_assert_eq(lseek(fd, 0, SEEK_SET), 0);
	while ((n = read(fd, buf + len, sizeof(buf) - len)) > 0)
		len += (size_t)n;
	cr_assert(n == 0, "read: %s", strerror(errno));
	cr_assert(len > 0 && len % sizeof(struct sock_filter) == 0, "odd BPF size %zu", len);
	cr_assert(len < sizeof(buf), "BPF program larger than the test's buffer");
	prog = (struct sock_filter *)buf;
	prog_len = len / sizeof(struct sock_filter);
	cr_assert(prog_len <= BPF_MAXINSNS, "%zu instructions: the kernel takes %d at most",
		  prog_len, BPF_MAXINSNS);
}

TestSuite(seccomp, .init = filter_export);

static uint32_t data_load(const struct seccomp_data *d, uint32_t k)
{
	uint32_t v;

	cr_assert(k % 4 == 0 && k + 4 <= sizeof(*d), "ld [%u]: outside struct seccomp_data", k);
	memcpy(&v, (const char *)d + k, sizeof(v));
	return v;
}

static size_t jump(size_t pc, uint32_t off)
{
	cr_assert(pc + off < prog_len, "jump from %zu by %u leaves the program", pc, off);
	return pc + off;
}

/*
 * Only the instructions libseccomp emits; anything else fails the test, so a new
 * construct in a later libseccomp is looked at rather than guessed.
 */
static uint32_t bpf_run(const struct seccomp_data *d)
{
	uint32_t a = 0;

	for (size_t pc = 0; pc < prog_len; pc++) {
		const struct sock_filter *f = &prog[pc];

		switch (f->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			a = data_load(d, f->k);
			break;
		case BPF_ALU | BPF_AND | BPF_K:
			a &= f->k;
			break;
		case BPF_JMP | BPF_JA:
			pc = jump(pc, f->k);
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc = jump(pc, a == f->k ? f->jt : f->jf);
			break;
		case BPF_JMP | BPF_JGT | BPF_K:
			pc = jump(pc, a > f->k ? f->jt : f->jf);
			break;
		case BPF_JMP | BPF_JGE | BPF_K:
			pc = jump(pc, a >= f->k ? f->jt : f->jf);
			break;
		case BPF_JMP | BPF_JSET | BPF_K:
			pc = jump(pc, (a & f->k) ? f->jt : f->jf);
			break;
		case BPF_RET | BPF_K:
			return f->k;
		default:
			cr_assert_fail(
				"BPF opcode 0x%04x at %zu: the test's interpreter does not know it",
				f->code, pc);
		}
	}
	cr_assert_fail("the BPF program ran off its end");
	return 0;
}

static uint32_t run(uint32_t arch, int nr, uint64_t arg1)
{
	struct seccomp_data d = {.nr = nr, .arch = arch, .args = {3, arg1, 0, 0, 0, 0}};

	return bpf_run(&d);
}

#define RET_EPERM (SECCOMP_RET_ERRNO | EPERM)
#define RET_ENOSYS (SECCOMP_RET_ERRNO | ENOSYS)
#define NONE (-1)

/*
 * x86-64 numbers come from the C library's headers; i386 and x32 numbers are copied
 * from the kernel's arch/x86/entry/syscalls/syscall_32.tbl and syscall_64.tbl (x32
 * uses the 64-bit number with bit 30 set, or its own 512+ entry). NONE: the ABI has
 * no such call (kexec_file_load on i386, vm86 on 64-bit).
 */
static const struct {
	const char *name;
	int x86_64;
	int i386;
	int x32;
	uint32_t ret;
} denied[] = {
	{"kexec_load", SYS_kexec_load, 283, 528, RET_EPERM},
	{"kexec_file_load", SYS_kexec_file_load, NONE, 320, RET_EPERM},
	{"init_module", SYS_init_module, 128, 175, RET_EPERM},
	{"finit_module", SYS_finit_module, 350, 313, RET_EPERM},
	{"delete_module", SYS_delete_module, 129, 176, RET_EPERM},
	{"open_by_handle_at", SYS_open_by_handle_at, 342, 304, RET_EPERM},
	{"iopl", SYS_iopl, 110, 172, RET_EPERM},
	{"ioperm", SYS_ioperm, 101, 173, RET_EPERM},
	{"swapon", SYS_swapon, 87, 167, RET_EPERM},
	{"swapoff", SYS_swapoff, 115, 168, RET_EPERM},
	{"acct", SYS_acct, 51, 163, RET_EPERM},
	{"lookup_dcookie", SYS_lookup_dcookie, 253, 212, RET_EPERM},
	{"create_module", SYS_create_module, 127, NONE, RET_EPERM},
	{"get_kernel_syms", SYS_get_kernel_syms, 130, NONE, RET_EPERM},
	{"query_module", SYS_query_module, 167, NONE, RET_EPERM},
	{"uselib", SYS_uselib, 86, NONE, RET_EPERM},
	{"nfsservctl", SYS_nfsservctl, 169, NONE, RET_EPERM},
	{"vm86", NONE, 166, NONE, RET_EPERM},
	{"vm86old", NONE, 113, NONE, RET_EPERM},
	{"_sysctl", SYS__sysctl, 149, NONE, RET_EPERM},
	{"add_key", SYS_add_key, 286, 248, RET_ENOSYS},
	{"request_key", SYS_request_key, 287, 249, RET_ENOSYS},
	{"keyctl", SYS_keyctl, 288, 250, RET_ENOSYS},
};

/* What an init system, a container engine inside or a package manager needs. */
static const struct {
	const char *name;
	int x86_64;
	int i386;
	int x32;
} allowed[] = {
	{"read", SYS_read, 3, 0},       {"write", SYS_write, 4, 1},
	{"mount", SYS_mount, 21, 165},  {"reboot", SYS_reboot, 88, 169},
	{"clone", SYS_clone, 120, 56},  {"unshare", SYS_unshare, 310, 272},
	{"setns", SYS_setns, 346, 308}, {"quotactl", SYS_quotactl, 131, 179},
	{"bpf", SYS_bpf, 357, 321},
};

static void expect_ret(const char *abi, const char *name, uint32_t arch, int nr, uint64_t arg1,
		       uint32_t want)
{
	uint32_t got = run(arch, nr, arg1);

	cr_expect_eq(got, want, "%s %s (nr %d): filter returns 0x%08x, want 0x%08x", abi, name,
		     nr & ~X32_BIT, got, want);
}

Test(seccomp, denied_on_x86_64)
{
	for (size_t i = 0; i < ARRAY_SIZE(denied); i++)
		if (denied[i].x86_64 != NONE)
			expect_ret("x86_64", denied[i].name, AUDIT_ARCH_X86_64, denied[i].x86_64, 0,
				   denied[i].ret);
}

Test(seccomp, denied_on_i386)
{
	for (size_t i = 0; i < ARRAY_SIZE(denied); i++)
		if (denied[i].i386 != NONE)
			expect_ret("i386", denied[i].name, AUDIT_ARCH_I386, denied[i].i386, 0,
				   denied[i].ret);
}

Test(seccomp, denied_on_x32)
{
	for (size_t i = 0; i < ARRAY_SIZE(denied); i++)
		if (denied[i].x32 != NONE)
			expect_ret("x32", denied[i].name, AUDIT_ARCH_X86_64,
				   denied[i].x32 | X32_BIT, 0, denied[i].ret);
}

Test(seccomp, allowed_on_every_abi)
{
	for (size_t i = 0; i < ARRAY_SIZE(allowed); i++) {
		expect_ret("x86_64", allowed[i].name, AUDIT_ARCH_X86_64, allowed[i].x86_64, 0,
			   SECCOMP_RET_ALLOW);
		expect_ret("i386", allowed[i].name, AUDIT_ARCH_I386, allowed[i].i386, 0,
			   SECCOMP_RET_ALLOW);
		expect_ret("x32", allowed[i].name, AUDIT_ARCH_X86_64, allowed[i].x32 | X32_BIT, 0,
			   SECCOMP_RET_ALLOW);
	}
}

/* ioctl: x86_64 16, i386 54 (syscall_32.tbl), x32 514 (syscall_64.tbl). */
Test(seccomp, ioctl_tiocsti_denied_tcgets_allowed)
{
	expect_ret("x86_64", "ioctl(TIOCSTI)", AUDIT_ARCH_X86_64, SYS_ioctl, TIOCSTI, RET_EPERM);
	expect_ret("i386", "ioctl(TIOCSTI)", AUDIT_ARCH_I386, 54, TIOCSTI, RET_EPERM);
	expect_ret("x32", "ioctl(TIOCSTI)", AUDIT_ARCH_X86_64, 514 | X32_BIT, TIOCSTI, RET_EPERM);
	expect_ret("x86_64", "ioctl(TCGETS)", AUDIT_ARCH_X86_64, SYS_ioctl, TCGETS,
		   SECCOMP_RET_ALLOW);
	expect_ret("i386", "ioctl(TCGETS)", AUDIT_ARCH_I386, 54, TCGETS, SECCOMP_RET_ALLOW);
	expect_ret("x32", "ioctl(TCGETS)", AUDIT_ARCH_X86_64, 514 | X32_BIT, TCGETS,
		   SECCOMP_RET_ALLOW);
}

/* The kernel takes cmd as unsigned int: junk in the upper half must not get past. */
Test(seccomp, ioctl_tiocsti_with_high_bits_denied)
{
	expect_ret("x86_64", "ioctl(TIOCSTI | 1 << 32)", AUDIT_ARCH_X86_64, SYS_ioctl,
		   (1ull << 32) | TIOCSTI, RET_EPERM);
	expect_ret("x86_64", "ioctl(TIOCSTI | 0xdeadbeef << 32)", AUDIT_ARCH_X86_64, SYS_ioctl,
		   (0xdeadbeefull << 32) | TIOCSTI, RET_EPERM);
}

/* The second filter (syscalls newer than the profile), through the same interpreter. */
static uint32_t run_unreviewed(uint32_t arch, uint32_t nr)
{
	struct sock_filter *main_prog = prog;
	size_t main_len = prog_len;
	uint32_t got;

	prog = (struct sock_filter *)sec_unreviewed_filter(&prog_len);
	got = run(arch, (int)nr, 0);
	prog = main_prog;
	prog_len = main_len;
	return got;
}

Test(seccomp, unreviewed_syscalls_get_enosys)
{
	static const struct {
		const char *what;
		uint32_t arch, nr, ret;
	} cases[] = {
		{"x86_64 read", AUDIT_ARCH_X86_64, 0, SECCOMP_RET_ALLOW},
		{"x86_64 clone3 (435)", AUDIT_ARCH_X86_64, 435, SECCOMP_RET_ALLOW},
		{"x86_64 mseal (462)", AUDIT_ARCH_X86_64, 462, SECCOMP_RET_ALLOW},
		{"x86_64 file_setattr (469), the last reviewed", AUDIT_ARCH_X86_64, 469,
		 SECCOMP_RET_ALLOW},
		{"x86_64 470, not reviewed", AUDIT_ARCH_X86_64, 470, RET_ENOSYS},
		{"x86_64 1000", AUDIT_ARCH_X86_64, 1000, RET_ENOSYS},
		{"x86_64 0xffffffff", AUDIT_ARCH_X86_64, 0xffffffffu, RET_ENOSYS},
		{"x32 read", AUDIT_ARCH_X86_64, X32_BIT | 0, SECCOMP_RET_ALLOW},
		{"x32 clone3", AUDIT_ARCH_X86_64, X32_BIT | 435, SECCOMP_RET_ALLOW},
		{"x32 rt_sigaction (512)", AUDIT_ARCH_X86_64, X32_BIT | 512, SECCOMP_RET_ALLOW},
		{"x32 pwritev2 (547)", AUDIT_ARCH_X86_64, X32_BIT | 547, SECCOMP_RET_ALLOW},
		{"x32 470", AUDIT_ARCH_X86_64, X32_BIT | 470, RET_ENOSYS},
		{"x32 548", AUDIT_ARCH_X86_64, X32_BIT | 548, RET_ENOSYS},
		{"i386 clone3 (435)", AUDIT_ARCH_I386, 435, SECCOMP_RET_ALLOW},
		{"i386 469", AUDIT_ARCH_I386, 469, SECCOMP_RET_ALLOW},
		{"i386 470", AUDIT_ARCH_I386, 470, RET_ENOSYS},
		{"aarch64 469", AUDIT_ARCH_AARCH64, 469, SECCOMP_RET_ALLOW},
		{"aarch64 470", AUDIT_ARCH_AARCH64, 470, RET_ENOSYS},
		{"arm private cacheflush (0x0f0002), left to the main filter", AUDIT_ARCH_ARM,
		 0x0f0002, SECCOMP_RET_ALLOW},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint32_t got = run_unreviewed(cases[i].arch, cases[i].nr);

		cr_expect_eq(got, cases[i].ret, "%s: filter returns 0x%08x, want 0x%08x",
			     cases[i].what, got, cases[i].ret);
	}
}

Test(seccomp, unknown_arch_is_killed)
{
	uint32_t got = run(AUDIT_ARCH_AARCH64, 0, 0);
	uint32_t action = got & SECCOMP_RET_ACTION_FULL;

	cr_assert_neq(got, SECCOMP_RET_ALLOW, "an unknown arch must not be allowed");
	cr_assert(action == SECCOMP_RET_KILL_THREAD || action == SECCOMP_RET_KILL_PROCESS,
		  "unknown arch: filter returns 0x%08x, want a kill", got);
}

enum {
	LOAD_OK,
	LOAD_NO_USERNS,
	LOAD_FAILED,
	LOAD_NNP_SET,
	LOAD_ACCT,
	LOAD_KEYCTL,
	LOAD_TIOCSTI,
	LOAD_GETPPID,
	LOAD_CLOSE_RANGE
};

static int load_check(void)
{
	berr err = {0};

	if (unshare(CLONE_NEWUSER) < 0)
		return LOAD_NO_USERNS;
	if (sec_load(&err) < 0) {
		fprintf(stderr, "sec_load: %s\n", err.msg);
		return LOAD_FAILED;
	}
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 0)
		return LOAD_NNP_SET;
	if (syscall(SYS_acct, NULL) != -1 || errno != EPERM)
		return LOAD_ACCT;
	if (syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0) != -1 || errno != ENOSYS)
		return LOAD_KEYCTL;
	if (ioctl(0, TIOCSTI, "x") != -1 || errno != EPERM)
		return LOAD_TIOCSTI;
	if (getppid() <= 0)
		return LOAD_GETPPID;
	if (syscall(SYS_close_range, 1000, 1001, 0) != 0)
		return LOAD_CLOSE_RANGE;
	return LOAD_OK;
}

/*
 * The filter as the kernel takes it, without no_new_privs: root of a fresh user
 * namespace, like the instance's init. In a forked child, so the filter stays there.
 */
Test(seccomp, loads_without_nnp_in_userns)
{
	int status;
	pid_t pid = fork();

	cr_assert(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0)
		_exit(load_check());
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status), "child died: status 0x%x", status);
	if (WEXITSTATUS(status) == LOAD_NO_USERNS)
		cr_skip_test("user namespaces are not available here");
	cr_assert_neq(WEXITSTATUS(status), LOAD_FAILED, "sec_load failed (see stderr)");
	cr_assert_neq(WEXITSTATUS(status), LOAD_NNP_SET, "no_new_privs was set");
	cr_assert_neq(WEXITSTATUS(status), LOAD_ACCT, "acct() was not refused with EPERM");
	cr_assert_neq(WEXITSTATUS(status), LOAD_KEYCTL, "keyctl() was not refused with ENOSYS");
	cr_assert_neq(WEXITSTATUS(status), LOAD_TIOCSTI, "TIOCSTI was not refused with EPERM");
	cr_assert_neq(WEXITSTATUS(status), LOAD_GETPPID, "getppid() failed under the filter");
	cr_assert_neq(WEXITSTATUS(status), LOAD_CLOSE_RANGE,
		      "close_range (436) failed under the filters");
	cr_assert_eq(WEXITSTATUS(status), LOAD_OK);
}

#else

Test(seccomp, x86_64_only) { cr_skip_test("the syscall tables in this test are for x86-64 hosts"); }

#endif
