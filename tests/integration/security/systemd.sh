# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# The hybrid-host cgroup decision against a real systemd guest (sourced by
# security.sh): the instance's cgroup namespace is the host's to own, its
# cgroup2 is mounted from the host side (docs/SECURITY.md). systemd must still
# boot to "running" and make its own sub-cgroups, and a v1 mount from inside
# must still be refused. Reuses the Debian template systemd.sh caches
# ($BERTH_TEST_CACHE, default /var/cache/berth-tests); without it, a loud skip.
# The v1 attempt is cgroup-v1's: detached, read-only, closed at once.

Y=$N-y
TARBALL=${BERTH_TEST_CACHE:-/var/cache/berth-tests}/debian-bookworm-systemd.tar

begin "hybrid host, systemd guest: boots to running, makes its sub-cgroups; mount -t cgroup -o memory inside: EPERM"
if [ -z "$V1" ]; then
	skipping "no cgroup v1 memory hierarchy on this host: not a hybrid host"
elif [ ! -f "$TARBALL" ]; then
	echo "########################################################################" >&2
	echo "# SKIP: no cached systemd template at $TARBALL: run integration-systemd once (it makes it)" >&2
	echo "########################################################################" >&2
	skipping "no cached systemd template at $TARBALL (integration-systemd makes it; needs the Debian mirror once)"
else
	berth_run 300 template import sec-systemd "$TARBALL"
	[ "$RC" = 0 ] || why "template import $TARBALL: exit $RC$(errhint)"
	MADE+=("$Y")
	brun create "$Y" --template sec-systemd --net none
	[ "$RC" = 0 ] || why "create: exit $RC$(errhint)"
	brun start "$Y" --wait-ready --timeout 50
	[ "$RC" = 0 ] || why "start --wait-ready: exit $RC$(errhint)"
	brun exec "$Y" -- timeout 50 systemctl is-system-running --wait
	[ "$OUT" = running ] || why "systemctl is-system-running: $(q "$OUT")"
	# systemd made its tree below the instance's cgroup, and can make more.
	brun exec "$Y" -- sh -c 'test -d /sys/fs/cgroup/init.scope && test -d /sys/fs/cgroup/system.slice &&
		systemd-run --wait --quiet -p Description=berth-sec true && echo delegated'
	want_ok delegated
	brun exec "$Y" -- sh -c 'readlink /proc/self/ns/cgroup'
	[ "$OUT" = "$(readlink "/proc/$(init_of "$Y")/ns/cgroup")" ] || why "exec is not in the init's cgroup namespace"
	# The attacker, fed in on stdin: the template has no /atk.
	timeout --signal=KILL 60 "$BERTH" --root "$R" exec "$Y" -- sh -c 'cat >/root/atk-cgroup-v1 && chmod 0755 /root/atk-cgroup-v1' \
		<"$ATK_DIR/atk-cgroup-v1" >/dev/null 2>"$WORK/err" || why "could not copy the attacker in: $(q "$(<"$WORK/err")")"
	brun exec "$Y" -- /root/atk-cgroup-v1 "$V1"
	printf '%s\n' "$OUT" | sed 's/^/#   /'
	grep -q ESCAPED <<<"$OUT" && why "ESCAPED: $(q "$OUT")"
	line "mount the host's v1 hierarchy" EPERM
	line "create a new named v1 hierarchy" EPERM
	brun delete --force "$Y"
	brun template remove sec-systemd
fi
end
