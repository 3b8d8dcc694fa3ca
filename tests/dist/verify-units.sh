#!/bin/bash
# SPDX-License-Identifier: MIT
#
# systemd-analyze verify on the units berth installs, and on the drop-ins
# `berth enable` writes (docs/SYSTEMD.md).
#
#   verify-units.sh DISTDIR BERTH
#
# DISTDIR holds the configured berth@.service and berth.target (build/dist),
# BERTH the built binary. The units name the installed berth (bindir), which
# is not there before `meson install`: a copy points ExecStart/ExecStop at
# BERTH instead, nothing else changes. Skips (77) loudly without
# systemd-analyze. The drop-in part needs root (berth create): without root it
# is skipped loudly, the unit part still runs.
set -u
export LC_ALL=C
fail=0
dist=$(realpath -e "$1") || exit 2
berth=$(realpath -e "$2") || exit 2
if ! command -v systemd-analyze >/dev/null; then
	echo "SKIP: systemd-analyze is missing (Debian package systemd)" >&2
	exit 77
fi
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
units=$tmp/units
mkdir -p "$units"
bindir=$(sed -n 's|^ExecStart=\(.*\)/berth start --foreground %i$|\1|p' "$dist/berth@.service")
if [ -z "$bindir" ]; then
	echo "not ok - berth@.service: no 'ExecStart=BINDIR/berth start --foreground %i' line"
	exit 1
fi
sed "s|$bindir/berth |$berth |" "$dist/berth@.service" >"$units/berth@.service"
cp "$dist/berth.target" "$units/berth.target"
check() { # NAME CMD...: run, print ok/not ok with systemd-analyze's words
	local name=$1 out
	shift
	if out=$("$@" 2>&1) && [ -z "$out" ]; then
		echo "ok - $name"
	else
		echo "not ok - $name: ${out:-exit status $?}"
		fail=1
	fi
}
# A template cannot be verified as such: as an instance, from the unit path.
check "berth@.service as berth@web1.service" \
	env SYSTEMD_UNIT_PATH="$units:" systemd-analyze verify berth@web1.service
check "berth.target" env SYSTEMD_UNIT_PATH="$units:" systemd-analyze verify berth.target
# The unit must keep what docs/SYSTEMD.md promises.
for want in Type=notify Delegate=yes KillMode=mixed "ExecStop=$berth stop %i"; do
	if grep -qx -- "$want" "$units/berth@.service"; then
		echo "ok - berth@.service has $want"
	else
		echo "not ok - berth@.service lacks $want"
		fail=1
	fi
done

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: drop-ins of berth enable: need root (berth create); unit checks above ran" >&2
	exit "$fail"
fi
root=$tmp/root
"$berth" --root "$root" create first >/dev/null &&
	"$berth" --root "$root" create second >/dev/null &&
	"$berth" --root "$root" enable first --boot-order 1 --boot-delay 2 >/dev/null &&
	"$berth" --root "$root" enable second --boot-order 2 >/dev/null || {
	echo "not ok - berth create/enable under --root $root"
	exit 1
}
drop=$root/systemd/berth@second.service.d/50-berth-autostart.conf
if grep -qx 'After=berth@first.service' "$drop"; then
	echo "ok - second (order 2) starts after first (order 1)"
else
	echo "not ok - $drop lacks After=berth@first.service"
	fail=1
fi
cp -r "$root/systemd/." "$units/"
check "berth@first.service with its drop-in (boot delay)" \
	env SYSTEMD_UNIT_PATH="$units:" systemd-analyze verify berth@first.service
check "berth@second.service with its drop-in (order)" \
	env SYSTEMD_UNIT_PATH="$units:" systemd-analyze verify berth@second.service
exit "$fail"
