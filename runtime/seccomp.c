/* SPDX-License-Identifier: MIT */
/*
 * The default seccomp filter. This is the only file that includes <seccomp.h>, so the
 * library can be swapped without touching callers.
 *
 * A VPS runs a whole distribution, so the filter is a short deny list on top of
 * "allow": anything an init system, a package manager or a container-in-container may
 * need stays open, and only what reaches past the namespaces or the guest's own kernel
 * view is refused.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

#include "runtime-internal.h"

struct sec_deny {
	const char *name;
	int errno_value;
};

static const struct sec_deny sec_denied[] = {
	/* Replacing or extending the host kernel. */
	{"kexec_load", EPERM},
	{"kexec_file_load", EPERM},
	{"init_module", EPERM},
	{"finit_module", EPERM},
	{"delete_module", EPERM},
	/* Reaches files by handle, around the mount namespace (the "shocker" escape). */
	{"open_by_handle_at", EPERM},
	/* Raw port I/O to the host's hardware. */
	{"iopl", EPERM},
	{"ioperm", EPERM},
	/* Host-wide state that no namespace isolates. */
	{"swapon", EPERM},
	{"swapoff", EPERM},
	{"acct", EPERM},
	{"lookup_dcookie", EPERM},
	/* Obsolete, and old bugs live there; nothing a current guest calls. */
	{"create_module", EPERM},
	{"get_kernel_syms", EPERM},
	{"query_module", EPERM},
	{"uselib", EPERM},
	{"nfsservctl", EPERM},
	{"vm86", EPERM},
	{"vm86old", EPERM},
	{"_sysctl", EPERM},
	/*
	 * The kernel keyring is not namespaced: keys would be shared with the host and
	 * every other instance of the same uid range. ENOSYS, not EPERM, because
	 * systemd, sshd and ecryptfs treat ENOSYS as "no keyring here" and carry on.
	 */
	{"add_key", ENOSYS},
	{"request_key", ENOSYS},
	{"keyctl", ENOSYS},
	/* quotactl stays allowed on purpose: guests manage quotas on their own disks. */
};

/*
 * The compat ABIs a process on this kernel can enter, whatever the binary it was
 * started from: without them, an `int 0x80` from a 64-bit process, or any 32-bit or
 * x32 binary, would walk around every rule (the kernel reports another audit arch,
 * and only arches in the filter have rules).
 */
static int sec_add_compat_arches(scmp_filter_ctx ctx, berr *err)
{
	static const struct {
		uint32_t native;
		uint32_t compat;
		const char *name;
	} compat[] = {
		{SCMP_ARCH_X86_64, SCMP_ARCH_X86, "x86"},
		{SCMP_ARCH_X86_64, SCMP_ARCH_X32, "x32"},
		{SCMP_ARCH_AARCH64, SCMP_ARCH_ARM, "arm"},
	};
	uint32_t native = seccomp_arch_native();

	for (size_t i = 0; i < ARRAY_SIZE(compat); i++) {
		int r;

		if (compat[i].native != native)
			continue;
		r = seccomp_arch_add(ctx, compat[i].compat);
		if (r < 0 && r != -EEXIST)
			return berr_set(err, -r, "seccomp: add architecture %s", compat[i].name);
	}
	return 0;
}

static int sec_add_denied(scmp_filter_ctx ctx, berr *err)
{
	for (size_t i = 0; i < ARRAY_SIZE(sec_denied); i++) {
		const struct sec_deny *d = &sec_denied[i];
		int nr = seccomp_syscall_resolve_name(d->name);
		int r;

		/*
		 * A name missing on the native arch resolves to a pseudo number, and
		 * seccomp_rule_add (unlike _exact) then adds the rule only on the arches
		 * that have the call (vm86 on x86 only). __NR_SCMP_ERROR means libseccomp
		 * has never heard of the name: a typo here, not a missing syscall.
		 */
		if (nr == __NR_SCMP_ERROR)
			return berr_setx(err, EINVAL,
					 "seccomp: libseccomp does not know syscall %s", d->name);
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO((uint32_t)d->errno_value), nr, 0);
		if (r < 0)
			return berr_set(err, -r, "seccomp: add rule for %s", d->name);
	}
	return 0;
}

/*
 * TIOCSTI pushes bytes into a terminal's input queue: a guest holding an fd to the
 * operator's terminal (berth run in the foreground) could type commands there. The
 * kernel reads cmd as an unsigned int, so only the low 32 bits are compared: a caller
 * setting high bits must not slip past an exact 64-bit match.
 */
static int sec_add_tiocsti(scmp_filter_ctx ctx, berr *err)
{
	/* TIOCLINUX too: on a virtual console its selection paste is TIOCSTI by another name. */
	static const struct {
		unsigned long cmd;
		const char *name;
	} cmds[] = {{TIOCSTI, "TIOCSTI"}, {TIOCLINUX, "TIOCLINUX"}};

	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++) {
		int r = seccomp_rule_add(
			ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
			SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, (scmp_datum_t)cmds[i].cmd));

		if (r < 0)
			return berr_set(err, -r, "seccomp: add rule for ioctl(%s)", cmds[i].name);
	}
	return 0;
}

static void sec_releasep(scmp_filter_ctx *ctx)
{
	if (*ctx)
		seccomp_release(*ctx);
}

static int sec_filter_build(scmp_filter_ctx *ret, berr *err)
{
	_cleanup_(sec_releasep) scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int r;

	if (!ctx)
		return berr_setx(err, ENOMEM, "seccomp: cannot create a filter context");
	/*
	 * No no_new_privs: root in the instance's user namespace holds CAP_SYS_ADMIN
	 * there, which is enough to load the filter, and NNP would break su, sudo
	 * and every other setuid or file-capability binary in the guest.
	 */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (r < 0)
		return berr_set(err, -r, "seccomp: turn off no_new_privs");
	/* Without it a refused load reports ECANCELED instead of the kernel's errno. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1);
	if (r < 0)
		return berr_set(err, -r, "seccomp: ask for raw kernel errors");
	r = sec_add_compat_arches(ctx, err);
	if (r < 0)
		return r;
	r = sec_add_denied(ctx, err);
	if (r < 0)
		return r;
	r = sec_add_tiocsti(ctx, err);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(ctx);
	return 0;
}

int sec_export_bpf(int fd, berr *err)
{
	_cleanup_(sec_releasep) scmp_filter_ctx ctx = NULL;
	int r = sec_filter_build(&ctx, err);

	if (r < 0)
		return r;
	r = seccomp_export_bpf(ctx, fd);
	if (r < 0)
		return berr_set(err, -r, "seccomp: export the filter");
	return 0;
}

/*
 * Syscalls newer than the profile. The deny list above allows what it does not name,
 * so a syscall a later kernel adds would reach the guest before anyone looked at it.
 * Every number from SEC_FIRST_UNREVIEWED on answers ENOSYS instead, which programs
 * take as "this kernel is too old" and fall back from. Since Linux 5.1 new syscalls
 * get the same number on every architecture (424 on), so one bound serves x86-64,
 * i386 (int 0x80 from 64-bit processes too), x32 (bit 30, plus its own 512-547
 * entries, which stay allowed) and arm64. Other arches are left to the main filter
 * (32-bit arm has private calls at 0x0f0000). libseccomp cannot compare syscall
 * numbers, hence a second, hand-written filter: the kernel runs both, and ERRNO
 * wins over ALLOW.
 *
 * Reviewed through Linux 6.17: 469 (file_setattr) is the last number looked at.
 * Raise it after reviewing the new calls (and add any that must be denied above).
 */
#define SEC_FIRST_UNREVIEWED 470
#define SEC_X32_BIT 0x40000000u

static const struct sock_filter sec_unreviewed[] = {
	/* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
	/* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 6),
	/* 2 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	/* 3 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, SEC_X32_BIT, 0, 3),
	/* 4 */ BPF_STMT(BPF_ALU | BPF_AND | BPF_K, ~SEC_X32_BIT),
	/* 5 */ BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 512, 0, 1),
	/* 6 */ BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 548, 0, 6),
	/* 7 */ BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, SEC_FIRST_UNREVIEWED, 4, 5),
	/* 8 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_I386, 1, 0),
	/* 9 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_AARCH64, 0, 3),
	/* 10 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	/* 11 */ BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, SEC_FIRST_UNREVIEWED, 0, 1),
	/* 12 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
	/* 13 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
};

const struct sock_filter *sec_unreviewed_filter(size_t *ret_len)
{
	*ret_len = ARRAY_SIZE(sec_unreviewed);
	return sec_unreviewed;
}

int sec_load(berr *err)
{
	_cleanup_(sec_releasep) scmp_filter_ctx ctx = NULL;
	struct sock_fprog unreviewed = {
		.len = ARRAY_SIZE(sec_unreviewed),
		.filter = (struct sock_filter *)sec_unreviewed,
	};
	int r = sec_filter_build(&ctx, err);

	if (r < 0)
		return r;
	/* First the bound: once the main filter is in, seccomp() itself is still allowed. */
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &unreviewed) < 0)
		return berr_set(err, errno, "seccomp: load the filter for unreviewed syscalls");
	r = seccomp_load(ctx);
	if (r < 0)
		return berr_set(err, -r, "seccomp: load the filter");
	return 0;
}
