/* SPDX-License-Identifier: MIT */
/*
 * Devices: the cgroup v2 device filter, a BPF_PROG_TYPE_CGROUP_DEVICE program
 * built from an allow list (pure: cg_devices_plan) and loaded and attached
 * with raw bpf(2) to an instance's cgroup (cg_devices_attach). The kernel runs
 * it on every open and mknod of a device node by a process in the cgroup or
 * below, before any capability is consulted for access, so CAP_MKNOD in the
 * host user namespace (--userns=host) does not get past it.
 */
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

#include "cgroups.h"

/*
 * What an instance may reach. mknod is allowed for the nodes the runtime
 * itself creates in /dev with --userns=host (null, zero, full, random,
 * urandom, tty) and for those an init may recreate (console, ptmx, fuse,
 * net/tun). The pts slaves are allocated by devpts, never mknod'ed: rw only,
 * so a node made for another instance's pts cannot be opened through mknod
 * either (the open needs rw, and the slave must be in the instance's devpts).
 */
#define RWM (CG_DEV_READ | CG_DEV_WRITE | CG_DEV_MKNOD)
static const cg_dev_rule allow_list[] = {
	{'c', 1, 3, RWM, "/dev/null"},
	{'c', 1, 5, RWM, "/dev/zero"},
	{'c', 1, 7, RWM, "/dev/full"},
	{'c', 1, 8, RWM, "/dev/random"},
	{'c', 1, 9, RWM, "/dev/urandom"},
	{'c', 5, 0, RWM, "/dev/tty"},
	{'c', 5, 1, RWM, "/dev/console"},
	{'c', 5, 2, RWM, "/dev/ptmx"},
	{'c', 136, CG_DEV_ANY, CG_DEV_READ | CG_DEV_WRITE, "/dev/pts/*"},
	{'c', 10, 229, RWM, "/dev/fuse"},
	{'c', 10, 200, RWM, "/dev/net/tun"},
};

const cg_dev_rule *cg_devices_default(size_t *ret_n)
{
	*ret_n = ARRAY_SIZE(allow_list);
	return allow_list;
}

#define INSN(c, d, s, o, i) \
	((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})
#define LDX_W(d, s, o) INSN(BPF_LDX | BPF_W | BPF_MEM, d, s, o, 0)
#define ALU_K(op, d, i) INSN(BPF_ALU64 | (op) | BPF_K, d, 0, 0, i)
#define MOV_X(d, s) INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define JNE_K(d, i, o) INSN(BPF_JMP | BPF_JNE | BPF_K, d, 0, o, i)
#define EXIT() INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* Registers: r1 the context, r2 access, r3 type, r4 major, r5 minor, r0 scratch and result. */
static int rule_emit(const cg_dev_rule *r, struct bpf_insn *out, size_t max)
{
	int type = r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR;
	int denied = ~(int)r->access & (CG_DEV_READ | CG_DEV_WRITE | CG_DEV_MKNOD);
	bool any_minor = r->minor == CG_DEV_ANY;
	size_t n = any_minor ? 7 : 8, i = 0;

	if ((r->type != 'b' && r->type != 'c') || r->major > INT32_MAX ||
	    (!any_minor && r->minor > INT32_MAX))
		return -EINVAL;
	if (n > max)
		return -ENOSPC;
	/* Each jump skips to the next rule: the count of instructions left in this one. */
	out[i] = JNE_K(3, type, (short)(n - i - 1)), i++;
	out[i] = JNE_K(4, (int)r->major, (short)(n - i - 1)), i++;
	if (!any_minor)
		out[i] = JNE_K(5, (int)r->minor, (short)(n - i - 1)), i++;
	out[i++] = MOV_X(0, 2);
	out[i] = ALU_K(BPF_AND, 0, denied), i++;
	out[i] = JNE_K(0, 0, (short)(n - i - 1)), i++;
	out[i++] = ALU_K(BPF_MOV, 0, 1);
	out[i++] = EXIT();
	return (int)i;
}

int cg_devices_plan(const cg_dev_rule *rules, size_t n_rules, struct bpf_insn *out, size_t max)
{
	static const struct bpf_insn head[] = {
		LDX_W(2, 1, offsetof(struct bpf_cgroup_dev_ctx, access_type)),
		MOV_X(3, 2),
		ALU_K(BPF_AND, 3, 0xffff),
		ALU_K(BPF_RSH, 2, 16),
		LDX_W(4, 1, offsetof(struct bpf_cgroup_dev_ctx, major)),
		LDX_W(5, 1, offsetof(struct bpf_cgroup_dev_ctx, minor)),
	};
	size_t n = ARRAY_SIZE(head);

	if (max < n + 2)
		return -ENOSPC;
	memcpy(out, head, sizeof(head));
	for (size_t k = 0; k < n_rules; k++) {
		int r = rule_emit(&rules[k], out + n, max - n - 2);

		if (r < 0)
			return r;
		n += (size_t)r;
	}
	out[n++] = ALU_K(BPF_MOV, 0, 0); /* nothing matched: deny */
	out[n++] = EXIT();
	return (int)n;
}

static int bpf_call(int cmd, union bpf_attr *attr)
{
	long r = syscall(SYS_bpf, cmd, attr, sizeof(*attr));

	return r < 0 ? -errno : (int)r;
}

/* The verifier's last line, for an error message: it says what it refused. */
static void verifier_reason(const struct bpf_insn *insns, size_t n, char *buf, size_t size)
{
	union bpf_attr attr = {
		.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE,
		.insns = (uintptr_t)insns,
		.insn_cnt = (uint32_t)n,
		.license = (uintptr_t) "Dual MIT/GPL",
		.log_buf = (uintptr_t)buf,
		.log_size = (uint32_t)size,
		.log_level = 1,
	};
	int fd;
	char *last;

	buf[0] = '\0';
	fd = bpf_call(BPF_PROG_LOAD, &attr);
	if (fd >= 0)
		close(fd);
	buf[size - 1] = '\0';
	while ((last = strrchr(buf, '\n')) && last[1] == '\0')
		*last = '\0';
	if (last)
		memmove(buf, last + 1, strlen(last + 1) + 1);
}

static int devices_load(const struct bpf_insn *insns, size_t n, berr *err)
{
	union bpf_attr attr = {
		.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE,
		.insns = (uintptr_t)insns,
		.insn_cnt = (uint32_t)n,
		/* No helpers are called: any license loads; this one is also GPL-compatible. */
		.license = (uintptr_t) "Dual MIT/GPL",
	};
	int fd = bpf_call(BPF_PROG_LOAD, &attr);
	char why[4096];

	if (fd >= 0)
		return fd;
	if (fd == -EPERM)
		return berr_set(err, EPERM,
				"load the device filter (needs CAP_BPF or CAP_SYS_ADMIN)");
	if (fd == -ENOSYS)
		return berr_set(err, ENOSYS,
				"load the device filter (kernel without CONFIG_BPF_SYSCALL)");
	verifier_reason(insns, n, why, sizeof(why));
	return berr_set(err, -fd, "load the device filter%s%s", why[0] ? ": verifier: " : "", why);
}

int cg_devices_attach(int dirfd, berr *err)
{
	struct bpf_insn insns[CG_DEV_INSNS_MAX];
	size_t n_rules;
	const cg_dev_rule *rules = cg_devices_default(&n_rules);
	_cleanup_close_ int progfd = -EBADF, cgfd = -EBADF;
	int n = cg_devices_plan(rules, n_rules, insns, ARRAY_SIZE(insns));
	union bpf_attr attr;
	int r;

	if (n < 0)
		return berr_set(err, -n, "build the device filter");
	/*
	 * 6.18 takes the leaf's O_PATH fd (measured); a plain directory fd is
	 * what BPF_PROG_ATTACH is documented with, so no kernel can refuse it.
	 */
	cgfd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgfd < 0)
		return berr_set(err, errno, "open the cgroup for the device filter");
	progfd = devices_load(insns, (size_t)n, err);
	if (progfd < 0)
		return progfd;
	/*
	 * BPF_F_ALLOW_MULTI: an init inside (systemd, with --userns=host) may
	 * attach its own device programs to its sub-cgroups, and the kernel then
	 * runs ours too: a device is reachable only if every program allows it.
	 * With BPF_F_ALLOW_OVERRIDE a sub-cgroup's program would replace ours;
	 * with 0 systemd's own attach would fail.
	 */
	attr = (union bpf_attr){
		.target_fd = (uint32_t)cgfd,
		.attach_bpf_fd = (uint32_t)progfd,
		.attach_type = BPF_CGROUP_DEVICE,
		.attach_flags = BPF_F_ALLOW_MULTI,
	};
	r = bpf_call(BPF_PROG_ATTACH, &attr);
	if (r == -EINVAL)
		return berr_set(err, EINVAL,
				"attach the device filter (kernel without CONFIG_CGROUP_BPF?)");
	if (r < 0)
		return berr_set(err, -r, "attach the device filter");
	return 0; /* the attachment holds the program; it goes with the cgroup */
}
