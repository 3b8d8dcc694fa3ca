#!/usr/bin/env bash
# systemd-guest.sh [BERTH]: a Debian bookworm guest with systemd as PID 1, booted until
# systemd says READY=1, under berth, crun and systemd-nspawn on the same root file system,
# in turn, BENCH_RUNS times each (default 10, after BENCH_WARMUP=2 rounds); prints the
# median times, the ratio to crun (goal: berth <= 0.8x) and the guest's memory, PSS of all
# its processes plus its monitor's (goal: berth <= 6 MB). Needs root, crun,
# systemd-container, python3, unshare, and the Debian template: the tarball
# tests/integration/systemd.sh caches ($BERTH_TEST_CACHE, default /var/cache/berth-tests),
# or the Debian mirror to make it. See tests/bench/README.md.
set -euo pipefail

RUNS=${BENCH_RUNS:-10}
# stock: the template as debootstrap made it. same: console-getty and systemd-sysctl masked
# in the one root all three boot (the two units only berth's guest starts: it has a console,
# and its own network namespace makes /proc/sys/net writable). minimal: same, plus dbus and
# logind masked and a volatile journal (no flush to /var/log/journal).
GUEST=${BENCH_GUEST:-stock}
WARMUP=${BENCH_WARMUP:-2}
CACHE=${BERTH_TEST_CACHE:-/var/cache/berth-tests}
TARBALL=$CACHE/debian-bookworm-systemd.tar
TMP=

die() {
	printf 'systemd-guest: %s\n' "$*" >&2
	exit 1
}

# crun's default spec, edited for a systemd guest the way podman --systemd would: init,
# container=crun, a writable cgroup2 (its own cgroup namespace), tmpfs /run, /run/lock
# and /tmp, podman's default capabilities, and our READY=1 socket's directory bound in.
make_bundle() {
	local bundle=$1 rootfs=$2 notify=$3
	mkdir -p "$bundle"
	(cd "$bundle" && crun spec)
	python3 - "$bundle/config.json" "$rootfs" "$notify" <<'EOF'
import json, sys
path, rootfs, notify = sys.argv[1:]
c = json.load(open(path))
caps = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
        "CAP_NET_BIND_SERVICE", "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID",
        "CAP_SYS_CHROOT"]
p = c["process"]
p.update(args=["/sbin/init"], terminal=False)
p["env"] += ["container=crun", "NOTIFY_SOCKET=/run/host-notify/notify"]
p["capabilities"] = {k: caps for k in ("bounding", "effective", "permitted")}
c["root"] = {"path": rootfs, "readonly": False}
c["linux"].pop("resources", None)  # no device eBPF: RLIMIT_MEMLOCK cannot be raised here
ns = c["linux"]["namespaces"]
if not any(n["type"] == "cgroup" for n in ns):
    ns.append({"type": "cgroup"})
for m in c["mounts"]:
    if m["destination"] == "/sys/fs/cgroup":
        m["options"] = [o for o in m["options"] if o != "ro"] + ["rw"]
for d, o in (("/run", "mode=755"), ("/run/lock", "mode=1777"), ("/tmp", "mode=1777")):
    c["mounts"].append({"destination": d, "type": "tmpfs", "source": "tmpfs",
                        "options": ["nosuid", "nodev", o]})
c["mounts"].append({"destination": "/run/host-notify", "type": "bind", "source": notify,
                    "options": ["bind", "rw"]})
json.dump(c, open(path, "w"), indent=1)
EOF
}

# mask_units DIR: make the template at DIR the BENCH_GUEST variant (before it is copied).
mask_units() {
	local dir=$1 units=() u
	case $GUEST in
	stock) return ;;
	same) units=(console-getty.service systemd-sysctl.service) ;;
	minimal)
		units=(console-getty.service systemd-sysctl.service dbus.service dbus.socket
			systemd-logind.service)
		mkdir -p "$dir/etc/systemd/journald.conf.d"
		printf '[Journal]\nStorage=volatile\n' >"$dir/etc/systemd/journald.conf.d/bench.conf"
		;;
	*) die "BENCH_GUEST=$GUEST: use stock, same or minimal" ;;
	esac
	for u in "${units[@]}"; do
		ln -sfn /dev/null "$dir/etc/systemd/system/$u"
	done
	echo "==> guest $GUEST: masked ${units[*]}"
}

inside() {
	local berth=$1 here
	here=$(dirname "$(readlink -f "$0")")
	mount -t cgroup2 none /sys/fs/cgroup
	ip link set lo up
	python3 "$here/systemd-guest.py" "$berth" "$TMP" "$RUNS" "$WARMUP"
}

main() {
	local repo berth tool
	repo=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
	berth=$(readlink -f "${1:-$repo/build/cli/berth}")
	((EUID == 0)) || die "needs root (namespaces, mounts, cgroups)"
	[[ -x $berth ]] || die "no berth binary at $berth (build first)"
	for tool in crun systemd-nspawn python3 unshare tar ip; do
		command -v "$tool" >/dev/null ||
			die "$tool not found (apt-get install crun systemd-container python3)"
	done
	if [[ -n ${BENCH_INNER:-} ]]; then
		TMP=$BENCH_INNER
		inside "$berth"
		return
	fi
	TMP=$(mktemp -d /tmp/berth-bench-sd.XXXXXX)
	chmod 0711 "$TMP"
	trap 'rm -rf --one-file-system "$TMP"' EXIT
	if [[ ! -s $TARBALL ]]; then
		echo "==> no $TARBALL: making the template with debootstrap (a minute or two)"
		"$berth" --root "$TMP/berth" template create bookworm --debootstrap bookworm \
			--include systemd,dbus,iproute2
	else
		"$berth" --root "$TMP/berth" template import bookworm "$TARBALL"
	fi
	mask_units "$TMP/berth/lib/templates/bookworm"
	# The same tree for crun and nspawn: copies, since they write into their roots.
	for tool in crun nspawn; do
		mkdir "$TMP/$tool-root"
		tar --numeric-owner --xattrs --xattrs-include='*' -C "$TMP/berth/lib/templates/bookworm" -cf - . |
			tar --numeric-owner --xattrs --xattrs-include='*' -C "$TMP/$tool-root" -xf -
	done
	mkdir -p "$TMP/crun-notify"
	make_bundle "$TMP/crun-bundle" "$TMP/crun-root" "$TMP/crun-notify"
	echo "==> $RUNS rounds (after $WARMUP warm-up rounds): berth, crun, nspawn in turn"
	# -n: a network namespace of the benchmark's own, so nothing any runtime does to a
	# network (nspawn shares its caller's) reaches the host's.
	BENCH_INNER=$TMP unshare -m -n --propagation private -- "$0" "$berth"
}

main "$@"
