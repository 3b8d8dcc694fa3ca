/* SPDX-License-Identifier: MIT */
/*
 * The instance's capability set. This is the only file that includes
 * <sys/capability.h> (libcap).
 *
 * A VPS root must be able to run a full init system, so the default keeps everything
 * (sys_admin for mounts, mknod for /dev, sys_boot for reboot(2), net_admin for its own
 * interfaces, setuid/setgid for logins) and drops a short list. Most of the dropped
 * ones are already powerless inside a user namespace, since the kernel checks them
 * against the initial namespace; dropping them anyway is defence in depth, and it
 * makes guest software that tests for them (systemd-timesyncd's
 * ConditionCapability=CAP_SYS_TIME) stand down instead of failing.
 *
 * It is a deny list rather than an allow list so that a capability added by a newer
 * kernel reaches the guest root just as it reaches the host root.
 */
#include <errno.h>
#include <sys/capability.h>

#include "runtime-internal.h"

struct caps_drop {
	cap_value_t cap;
	const char *name;
};

static const struct caps_drop caps_dropped[] = {
	{CAP_SYS_MODULE, "cap_sys_module"},       /* load code into the host kernel */
	{CAP_SYS_RAWIO, "cap_sys_rawio"},         /* raw device and port access */
	{CAP_SYS_TIME, "cap_sys_time"},           /* the clock is host-wide */
	{CAP_MAC_ADMIN, "cap_mac_admin"},         /* the host's LSM policy */
	{CAP_MAC_OVERRIDE, "cap_mac_override"},   /* ... and bypassing it */
	{CAP_AUDIT_CONTROL, "cap_audit_control"}, /* the host's audit rules */
	{CAP_WAKE_ALARM, "cap_wake_alarm"},       /* waking the host from suspend */
	{CAP_BLOCK_SUSPEND, "cap_block_suspend"}, /* keeping the host from suspending */
	{CAP_SYSLOG, "cap_syslog"},               /* the host's kernel log */
};

bool caps_default_keeps(int cap)
{
	if (cap < 0)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(caps_dropped); i++)
		if (caps_dropped[i].cap == cap)
			return false;
	return true;
}

static void caps_freep(cap_t *c)
{
	if (*c)
		cap_free(*c);
}

/*
 * The bounding set is what matters across execve: uid 0 gets every bounded cap back
 * at exec, so clearing only the permitted set would last until the first exec.
 */
static int caps_drop_bounding(berr *err)
{
	int max = cap_max_bits();

	for (size_t i = 0; i < ARRAY_SIZE(caps_dropped); i++) {
		/* Older kernels lack some (wake_alarm, block_suspend): nothing to drop. */
		if (caps_dropped[i].cap >= max)
			continue;
		if (cap_drop_bound(caps_dropped[i].cap) < 0)
			return berr_set(err, errno, "capabilities: drop %s from the bounding set",
					caps_dropped[i].name);
	}
	return 0;
}

/* Until the exec, the running process must not keep what its successors lose. */
static int caps_drop_process(berr *err)
{
	static const cap_flag_t flags[] = {CAP_PERMITTED, CAP_EFFECTIVE, CAP_INHERITABLE};
	_cleanup_(caps_freep) cap_t caps = cap_get_proc();
	cap_value_t list[ARRAY_SIZE(caps_dropped)];
	int n = 0;

	if (!caps)
		return berr_set(err, errno, "capabilities: read the process's sets");
	for (size_t i = 0; i < ARRAY_SIZE(caps_dropped); i++)
		if (caps_dropped[i].cap < cap_max_bits())
			list[n++] = caps_dropped[i].cap;
	for (size_t i = 0; i < ARRAY_SIZE(flags); i++)
		if (cap_set_flag(caps, flags[i], n, list, CAP_CLEAR) < 0)
			return berr_set(err, errno, "capabilities: clear the dropped ones");
	if (cap_set_proc(caps) < 0)
		return berr_set(err, errno, "capabilities: set the process's sets");
	return 0;
}

int caps_apply(berr *err)
{
	int r = caps_drop_bounding(err);

	if (r < 0)
		return r;
	r = caps_drop_process(err);
	if (r < 0)
		return r;
	/*
	 * Ambient caps would carry kept caps across exec into the guest's non-root
	 * programs; its own init hands out ambient caps where a service asks for them.
	 */
	if (cap_reset_ambient() < 0)
		return berr_set(err, errno, "capabilities: clear the ambient set");
	return 0;
}
