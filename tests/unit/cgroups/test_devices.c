/* SPDX-License-Identifier: MIT */
/*
 * The device filter's program, run through a small eBPF interpreter that
 * knows only the instructions the plan emits and fails on anything else,
 * checked against the allow list: what is on it is allowed with exactly its
 * access, everything else (block devices, /dev/mem, mknod of a pts) denied.
 */
#include <criterion/criterion.h>
#include <linux/bpf.h>
#include <string.h>

#include "cgroups.h"

#define STEPS_MAX 4096

/* Run prog on one device access; returns r0 at exit. */
static uint64_t run(const struct bpf_insn *prog, int n, int type, int access, uint32_t major,
		    uint32_t minor)
{
	struct bpf_cgroup_dev_ctx ctx = {.access_type = (uint32_t)(access << 16) | (uint32_t)type,
					 .major = major,
					 .minor = minor};
	uint64_t reg[11] = {0};
	bool init[11] = {[1] = true};
	int pc = 0;

	for (int steps = 0; steps < STEPS_MAX; steps++) {
		const struct bpf_insn *i;
		int d, s;

		cr_assert(pc >= 0 && pc < n, "pc %d out of the program (%d insns)", pc, n);
		i = &prog[pc++];
		d = i->dst_reg, s = i->src_reg;
		cr_assert(d <= 10 && s <= 10, "insn %d: bad register", pc - 1);
		switch (i->code) {
		case BPF_LDX | BPF_W | BPF_MEM:
			cr_assert_eq(s, 1, "insn %d: load from r%d, not the context", pc - 1, s);
			cr_assert(i->off >= 0 && i->off % 4 == 0 &&
					  (size_t)i->off + 4 <= sizeof(ctx),
				  "insn %d: load at offset %d", pc - 1, i->off);
			cr_assert_neq(d, 1, "insn %d: overwrites the context pointer", pc - 1);
			uint32_t w;
			memcpy(&w, (const char *)&ctx + i->off, 4);
			reg[d] = w, init[d] = true;
			break;
		case BPF_ALU64 | BPF_MOV | BPF_K:
			reg[d] = (uint64_t)(int64_t)i->imm, init[d] = true;
			break;
		case BPF_ALU64 | BPF_MOV | BPF_X:
			cr_assert(init[s], "insn %d: reads r%d before it is set", pc - 1, s);
			reg[d] = reg[s], init[d] = true;
			break;
		case BPF_ALU64 | BPF_AND | BPF_K:
			cr_assert(init[d], "insn %d: reads r%d before it is set", pc - 1, d);
			reg[d] &= (uint64_t)(int64_t)i->imm;
			break;
		case BPF_ALU64 | BPF_RSH | BPF_K:
			cr_assert(init[d] && i->imm >= 0 && i->imm < 64, "insn %d: bad rsh",
				  pc - 1);
			reg[d] >>= i->imm;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
		case BPF_JMP | BPF_JNE | BPF_K: {
			bool eq = reg[d] == (uint64_t)(int64_t)i->imm;

			cr_assert(init[d], "insn %d: reads r%d before it is set", pc - 1, d);
			if (eq == ((i->code & 0xf0) == BPF_JEQ))
				pc += i->off;
			break;
		}
		case BPF_JMP | BPF_JA:
			pc += i->off;
			break;
		case BPF_JMP | BPF_EXIT:
			cr_assert(init[0], "exit with r0 unset");
			return reg[0];
		default:
			cr_assert_fail("insn %d: opcode 0x%02x the interpreter does not know",
				       pc - 1, i->code);
		}
	}
	cr_assert_fail("no exit after %d steps", STEPS_MAX);
	return 0;
}

static struct bpf_insn prog[CG_DEV_INSNS_MAX];
static int n_insns;

static void plan_default(void)
{
	size_t n;
	const cg_dev_rule *rules = cg_devices_default(&n);

	n_insns = cg_devices_plan(rules, n, prog, ARRAY_SIZE(prog));
	cr_assert_gt(n_insns, 0, "plan: %d", n_insns);
}

#define C BPF_DEVCG_DEV_CHAR
#define B BPF_DEVCG_DEV_BLOCK
#define R BPF_DEVCG_ACC_READ
#define W BPF_DEVCG_ACC_WRITE
#define M BPF_DEVCG_ACC_MKNOD

static bool allowed(int type, int access, uint32_t major, uint32_t minor)
{
	uint64_t r0 = run(prog, n_insns, type, access, major, minor);

	cr_assert(r0 == 0 || r0 == 1, "r0 = %llu, want 0 or 1", (unsigned long long)r0);
	return r0 == 1;
}

TestSuite(devices, .init = plan_default);

Test(devices, allow_list_allowed_with_its_access)
{
	static const struct {
		uint32_t major, minor;
		int access;
	} want[] = {{1, 3, R | W | M},   {1, 5, R | W | M},  {1, 7, R | W | M},
		    {1, 8, R | W | M},   {1, 9, R | W | M},  {5, 0, R | W | M},
		    {5, 1, R | W | M},   {5, 2, R | W | M},  {136, 0, R | W},
		    {136, 5, R | W},     {136, 4095, R | W}, {10, 229, R | W | M},
		    {10, 200, R | W | M}};

	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		for (int a = 1; a <= (R | W | M); a++) {
			bool ok = (a & ~want[i].access) == 0;

			cr_expect_eq(allowed(C, a, want[i].major, want[i].minor), ok,
				     "c %u:%u access %d: want %s", want[i].major, want[i].minor, a,
				     ok ? "allowed" : "denied");
		}
}

Test(devices, block_devices_denied)
{
	cr_expect_not(allowed(B, R, 8, 0));
	cr_expect_not(allowed(B, W, 8, 0));
	cr_expect_not(allowed(B, M, 8, 0));
	cr_expect_not(allowed(B, R | W, 254, 0));
	/* The allowed char numbers as block devices: type is checked too. */
	cr_expect_not(allowed(B, R, 1, 3));
	cr_expect_not(allowed(B, M, 5, 2));
	cr_expect_not(allowed(B, R, 136, 5));
}

Test(devices, mem_and_unknown_denied)
{
	cr_expect_not(allowed(C, R, 1, 1)); /* /dev/mem */
	cr_expect_not(allowed(C, M, 1, 1));
	cr_expect_not(allowed(C, R, 1, 2));     /* /dev/kmem */
	cr_expect_not(allowed(C, R, 1, 4));     /* /dev/port */
	cr_expect_not(allowed(C, R | W, 4, 1)); /* /dev/tty1 */
	cr_expect_not(allowed(C, R, 10, 1));
	cr_expect_not(allowed(C, R, 137, 0));
	cr_expect_not(allowed(C, R, 0, 0));
	cr_expect_not(allowed(C, R, UINT32_MAX, UINT32_MAX));
}

Test(devices, pts_rw_but_no_mknod)
{
	cr_expect(allowed(C, R | W, 136, 5));
	cr_expect_not(allowed(C, M, 136, 5));
	cr_expect_not(allowed(C, R | M, 136, 5));
}

Test(devices, plan_refuses_small_buffer_and_bad_rule)
{
	struct bpf_insn small[8];
	size_t n;
	const cg_dev_rule *rules = cg_devices_default(&n);
	cg_dev_rule bad = {'x', 1, 3, CG_DEV_READ, "bad"};
	cg_dev_rule none[1];

	cr_expect_eq(cg_devices_plan(rules, n, small, ARRAY_SIZE(small)), -ENOSPC);
	cr_expect_eq(cg_devices_plan(&bad, 1, prog, ARRAY_SIZE(prog)), -EINVAL);
	/* An empty list denies everything. */
	n_insns = cg_devices_plan(none, 0, prog, ARRAY_SIZE(prog));
	cr_assert_gt(n_insns, 0);
	cr_expect_not(allowed(C, R, 1, 3));
}

Test(devices, program_calls_no_helper)
{
	/* No helper call, so no GPL-only helper: the license string is free (devices.c). */
	for (int i = 0; i < n_insns; i++)
		cr_expect_neq(prog[i].code, BPF_JMP | BPF_CALL, "insn %d is a call", i);
	cr_expect_lt(n_insns, CG_DEV_INSNS_MAX);
}
