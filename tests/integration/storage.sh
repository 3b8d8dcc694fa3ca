#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Storage and identity: each instance's own id range (lowest free, distinct
# under concurrent creates, /etc/subuid honoured, released on delete), the
# template shared read-only through the idmapped overlay, isolation between
# two instances, machine identity, the --disk image backend, clone. Root, this
# host.
#
#   storage.sh BERTH
#
# Needs root (else exits 77, meson's "skipped"). Runs in a private mount
# namespace where every host cgroup v1 mount point is covered by an empty
# tmpfs; state lives under a temp --root removed at the end; every instance
# made is deleted at the end (trap). Output as lib.sh describes: "ok - NAME",
# "ok - NAME # SKIP why", "not ok - NAME: why", then the count.
# shellcheck disable=SC2016 # $... in single quotes is for the shell inside the instance
# shellcheck disable=SC2015 # "A && B || why": why only records a failure
set -u
export LC_ALL=C
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$(realpath "$0")")/lib.sh" || exit 99

suite_init storage "berth storage and identity tests"
need_args "BERTH" "$@"
need_root "namespaces, mounts, loop devices, id ranges"
BERTH=$(realpath -e "$1") || exit 2
need_tools unshare mount env find stat timeout setpriv losetup sha256sum mkfs.ext4 resize2fs e2fsck
private_mntns BERTH_STORAGE_HOST_MNTNS "$BERTH"

find_cgroup2
work_dirs berth-storage-it berth-storage-root
nap_init
cover_cgroup_v1 berth-storage-cover
harness_cgroup berth-storage-it

# Names carry our pid, so that leftovers of a killed run are easy to tell apart.
N=bs$$
A=$N-a B=$N-b C=$N-c D=$N-d
MADE=()

cleanup() {
	local n
	trap '' INT TERM HUP PIPE
	umount /etc/subuid /etc/subgid /dev/loop-control 2>/dev/null
	if [ -e "$R2/lib/instances/$N-f" ]; then
		timeout --signal=KILL 30 env --default-signal "$BERTH" --root "$R2" delete --force "$N-f" \
			>/dev/null 2>&1 </dev/null
	fi
	umount "$R2/lib/templates" 2>/dev/null
	for n in "${MADE[@]}"; do
		[ -e "$R/lib/instances/$n" ] || continue
		timeout --signal=KILL 30 env --default-signal "$BERTH" --root "$R" delete --force "$n" \
			>/dev/null 2>&1 </dev/null
	done
	# A loop device of ours still attached (a failed delete): detach it.
	losetup -a 2>/dev/null | grep -F "$R/" | cut -d: -f1 | while read -r dev; do
		echo "# cleanup: detaching $dev" >&2
		umount "$dev" 2>/dev/null
		losetup -d "$dev" 2>/dev/null
	done
	cleanup_harness
}
trap cleanup EXIT

brun() { berth_run 60 "$@"; }
R2=$WORK/root2 # a second --root, whose templates live on ramfs
made() { MADE+=("$@"); }
# bx NAME SCRIPT: run a shell script inside NAME; RC, OUT, ERR.
bx() { brun exec "$1" -- /bin/sh -c "$2"; }
# cfg NAME KEY: a number from the instance's config.json ("base", "count").
cfg() { jget "$2" "$(cat "$R/lib/instances/$1/config.json" 2>/dev/null)"; }
base() { cfg "$1" base; }
statusj() { timeout 30 "$BERTH" --root "$R" status "$1" --json 2>/dev/null </dev/null; }
init_pid() { jget init_pid "$(statusj "$1")"; }
uuid() { jget uuid "$(statusj "$1")"; }
# overlap B1 B2: do two ranges of 65536 ids overlap?
overlap() { (($1 < $2 + 65536 && $2 < $1 + 65536)); }
# A fingerprint of a tree: every path's type, owner, mode, size, mtime, link
# target, xattrs, and every file's content.
tree_hash() {
	(
		cd "$1" || exit 1
		find . -printf '%p %y %U:%G %m %s %T@ %l\n' | sort
		find . -type f -print0 | sort -z | xargs -0 -r sha256sum
		getfattr -R -d -m - -h . 2>/dev/null
	) | sha256sum | cut -d' ' -f1
}
loops_of_root() { losetup -a 2>/dev/null | grep -cF "$R/"; }
mounts_of_root() { grep -cF " $R/" /proc/self/mountinfo; }

# --- id ranges --------------------------------------------------------------------

begin "two instances from one template get distinct, non-overlapping ranges from 1000000 up"
made "$A" "$B"
brun create "$A"
want_rc 0
brun create "$B"
want_rc 0
BA=$(base "$A") BB=$(base "$B")
[ -n "$BA" ] && [ -n "$BB" ] || why "no idmap base in the configs ($(q "$BA"), $(q "$BB"))"
if [ -n "$BA" ] && [ -n "$BB" ]; then
	((BA >= 1000000 && BB >= 1000000)) || why "bases $BA, $BB: want >= 1000000"
	! overlap "$BA" "$BB" || why "ranges overlap: $BA and $BB"
	[ "$BA" = 1000000 ] || why "first range at $BA, want the pool's start 1000000"
fi
end
[ -n "$BA" ] && [ -n "$BB" ] || bail "no id ranges; cannot go on"

TPL=$R/lib/templates/default
[ -d "$TPL" ] || bail "no default template at $TPL after create"
TPL_HASH=$(tree_hash "$TPL")

begin "start both: instance root is host uid BASE (each its own)"
brun start "$A"
want_rc 0
brun start "$B"
want_rc 0
PA=$(init_pid "$A") PB=$(init_pid "$B")
for pair in "$PA:$BA" "$PB:$BB"; do
	p=${pair%%:*} b=${pair##*:}
	u=$(sed -n 's/^Uid:[[:space:]]*//p' "/proc/$p/status" 2>/dev/null | tr -s '\t ' ' ')
	[ "$u" = "$b $b $b $b" ] || why "init $p runs as host uids $(q "$u"), want $b"
	g=$(sed -n 's/^Gid:[[:space:]]*//p' "/proc/$p/status" 2>/dev/null | tr -s '\t ' ' ')
	[ "$g" = "$b $b $b $b" ] || why "init $p runs as host gids $(q "$g"), want $b"
done
end

begin "both see the template's files as root-owned"
for n in "$A" "$B"; do
	bx "$n" 'stat -c "%u:%g" /bin/busybox /etc/passwd /etc /'
	[ "$RC" = 0 ] || why "$n: exec failed ($RC)$(errhint)"
	[ "$(tr '\n' ' ' <<<"$OUT")" = "0:0 0:0 0:0 0:0 " ] || why "$n: owners $(q "$OUT"), want 0:0 each"
done
end

begin "a file created inside as uid 1000 is owned on the host by BASE+1000"
bx "$A" 'echo a >/mine && chown 1000:1001 /mine && echo secret >/root-only && chmod 600 /root-only'
[ "$RC" = 0 ] || why "exec failed ($RC)$(errhint)"
o=$(stat -c %u:%g "$R/lib/instances/$A/rw/upper/mine" 2>&1)
[ "$o" = "$((BA + 1000)):$((BA + 1001))" ] || why "host owner $(q "$o"), want $((BA + 1000)):$((BA + 1001))"
o=$(stat -c %u "$R/lib/instances/$A/rw/upper/root-only" 2>&1)
[ "$o" = "$BA" ] || why "root's file is host uid $(q "$o"), want $BA"
end

begin "a file one instance writes is invisible to the other"
bx "$B" 'test -e /mine || test -e /root-only'
[ "$RC" = 1 ] || why "B sees A's files (exit $RC)"
bx "$A" 'cat /mine'
[ "$OUT" = a ] || why "A does not see its own file: $(q "$OUT")"
end

begin "A cannot see B's processes, nor signal or read B as A's root"
# B's init by its host pid, from inside A: A's PID namespace has no such process.
bx "$A" "kill -0 $PB 2>/dev/null && echo reached; cat /proc/$PB/environ 2>/dev/null && echo read; echo done"
[ "$OUT" = "done" ] || why "from inside A, B's init (host pid $PB): $(q "$OUT")"
# Root of A, as the host sees it (uid BA), against B's init and B's root-only file.
bx "$B" 'echo b >/b-secret && chmod 600 /b-secret'
o=$(setpriv --reuid="$BA" --regid="$BA" --clear-groups -- kill -0 "$PB" 2>&1) &&
	why "A's root (host uid $BA) may signal B's init $PB"
grep -qi 'not permitted' <<<"$o" || why "kill as A's root: $(q "$o"), want EPERM"
o=$(setpriv --reuid="$BA" --regid="$BA" --clear-groups -- cat "$R/lib/instances/$B/rw/upper/b-secret" 2>&1) &&
	why "A's root (host uid $BA) reads B's root-only file"
o=$(setpriv --reuid="$BA" --regid="$BA" --clear-groups -- cat "/proc/$PB/environ" 2>&1) &&
	why "A's root (host uid $BA) reads /proc/$PB/environ of B's init"
end

begin "concurrent creates get distinct, non-overlapping ranges"
pids=()
for i in 1 2 3 4 5 6; do
	made "$N-p$i"
	timeout 60 "$BERTH" --root "$R" create "$N-p$i" >"$WORK/p$i.out" 2>&1 </dev/null &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || why "a concurrent create failed: $(cat "$WORK"/p*.out | grep berth: | head -2)"; done
bases=("$BA" "$BB")
for i in 1 2 3 4 5 6; do bases+=("$(base "$N-p$i")"); done
for ((i = 0; i < ${#bases[@]}; i++)); do
	for ((j = i + 1; j < ${#bases[@]}; j++)); do
		[ -n "${bases[i]}" ] && [ -n "${bases[j]}" ] || continue
		! overlap "${bases[i]}" "${bases[j]}" || why "ranges ${bases[i]} and ${bases[j]} overlap"
	done
done
end

begin "berth run takes a free range of its own, held while it runs and released after"
timeout 30 "$BERTH" --root "$R" run -- sh -c 'cat /proc/self/uid_map; sleep 2' >"$WORK/run.out" 2>&1 </dev/null &
runpid=$!
until_claim() { compgen -G "$R/lib/idranges.d/claim.*" >/dev/null; }
for _ in $(seq 100); do until_claim && break; nap 0.05; done
rb=$(awk '{print $1}' "$R"/lib/idranges.d/claim.* 2>/dev/null)
[ -n "$rb" ] || why "no claim file in $R/lib/idranges.d while berth run runs"
made "$N-r"
brun create "$N-r"
want_rc 0
[ -z "$rb" ] || ! overlap "$(base "$N-r")" "$rb" || why "create during a run took the run's range $rb"
wait "$runpid"
read -r _ out_base _ <"$WORK/run.out"
[ "$out_base" = "$rb" ] || why "the run mapped to $(q "$out_base"), its claim says $rb"
for o in "${bases[@]}"; do [ "$o" = "$rb" ] || ! overlap "$rb" "$o" || why "the run's range $rb overlaps an instance's $o"; done
! compgen -G "$R/lib/idranges.d/claim.*" >/dev/null || why "claim left after the run: $(ls "$R/lib/idranges.d")"
brun delete "$N-r"
end

begin "delete releases the range: the next create takes the lowest free one"
low=${bases[3]}
brun delete "$N-p2"
want_rc 0
made "$N-q"
brun create "$N-q"
want_rc 0
[ "$(base "$N-q")" = "$low" ] || why "new range $(base "$N-q"), want the freed $low"
end

begin "--idmap BASE overlapping another instance is refused, naming it; nothing made"
made "$C"
before=$(find "$R/lib" | sort)
brun create "$C" --idmap "$((BB + 100))"
want_refused "$B"
[ "$(find "$R/lib" | sort)" = "$before" ] || why "files changed under $R/lib"
end

begin "--idmap BASE free, and --idmap auto, are taken"
brun create "$C" --idmap 50000000
want_rc 0
[ "$(base "$C")" = 50000000 ] || why "base $(base "$C"), want 50000000"
brun delete "$C"
brun create "$C" --idmap auto
want_rc 0
b=$(base "$C")
for o in "${bases[@]}"; do [ "$o" = "$low" ] || ! overlap "$b" "$o" || why "auto range $b overlaps $o"; done
brun delete "$C"
end

begin "/etc/subuid and /etc/subgid entries for user berth are the pool"
printf 'other:100000:65536\nberth:7000000:131072\n' >"$WORK/subuid"
printf 'berth:7000000:131072\n' >"$WORK/subgid"
if mount --bind "$WORK/subuid" /etc/subuid && mount --bind "$WORK/subgid" /etc/subgid; then
	made "$N-s1" "$N-s2" "$N-s3"
	brun create "$N-s1"
	want_rc 0
	brun create "$N-s2"
	want_rc 0
	[ "$(base "$N-s1")" = 7000000 ] || why "first base $(base "$N-s1"), want 7000000"
	[ "$(base "$N-s2")" = 7065536 ] || why "second base $(base "$N-s2"), want 7065536"
	brun create "$N-s3"
	want_refused "no free range"
	[ ! -e "$R/lib/instances/$N-s3" ] || why "$N-s3 made although the pool is full"
	umount /etc/subgid /etc/subuid
	brun delete "$N-s1"
	brun delete "$N-s2"
else
	why "cannot bind a test file over /etc/subuid in the private mount namespace"
fi
end

# --- the template ----------------------------------------------------------------------

begin "the template is byte-for-byte unchanged after two instances ran and wrote"
bx "$A" 'rm /etc/profile; echo changed >>/etc/passwd; mkdir /newdir'
[ "$RC" = 0 ] || why "writes inside failed ($RC)$(errhint)"
h=$(tree_hash "$TPL")
[ "$h" = "$TPL_HASH" ] || why "template hash $h, was $TPL_HASH"
bx "$B" 'test -e /etc/profile && ! grep -q changed /etc/passwd'
[ "$RC" = 0 ] || why "B sees A's changes to template files"
end

# --- the fallback: an id-shifted copy of the template ---------------------------------

begin "--shifted-copy: files root-owned inside, the copy owned by the range, template untouched; delete removes it"
made "$N-f"
brun create "$N-f" --shifted-copy
want_rc 0
brun start "$N-f"
want_rc 0
BF=$(base "$N-f")
grep -q 'id-shifted copy' <<<"$("$BERTH" --root "$R" status "$N-f" 2>&1)" || why "status does not say it uses a shifted copy"
[ "$(jget lower "$(statusj "$N-f")")" = shifted ] || why "status --json lower is not shifted"
bx "$N-f" 'stat -c "%u:%g" /bin/busybox /etc/passwd; echo f >/f-only'
[ "$(tr '\n' ' ' <<<"$OUT")" = "0:0 0:0 " ] || why "owners inside $(q "$OUT")"
o=$(stat -c %u:%g "$R/lib/shifted/default@$BF/etc/passwd" 2>&1)
[ "$o" = "$BF:$BF" ] || why "the copy's /etc/passwd is $(q "$o"), want $BF:$BF"
[ "$(tree_hash "$TPL")" = "$TPL_HASH" ] || why "the template changed"
bx "$A" 'test -e /f-only'
[ "$RC" = 1 ] || why "A sees the shifted instance's file"
brun delete --force "$N-f"
want_rc 0
[ ! -e "$R/lib/shifted/default@$BF" ] || why "the copy is left after delete"
end

begin "templates on a file system without idmapped mounts (ramfs): create falls back by itself, and boots"
mkdir -p "$R2/lib/templates" && mount -t ramfs berth-storage-ramfs "$R2/lib/templates" || why "cannot mount ramfs"
R_SAVE=$R R=$R2
brun create "$N-f"
want_rc 0
grep -q 'cannot be idmapped here' <<<"$ERR" || why "create does not say it falls back: $(q "$ERR")"
[ "$(jget lower "$(statusj "$N-f")")" = shifted ] || why "not recorded as shifted"
brun start "$N-f"
want_rc 0
bx "$N-f" 'stat -c "%u:%g" /bin/busybox /etc/passwd; touch /x && echo wrote'
[ "$(tr '\n' ' ' <<<"$OUT")" = "0:0 0:0 wrote " ] || why "inside: $(q "$OUT")$(errhint)"
brun delete --force "$N-f"
want_rc 0
R=$R_SAVE
umount "$R2/lib/templates" || why "ramfs still busy"
end

# --- machine identity ------------------------------------------------------------------

begin "machine-id: 32 hex digits from the UUID, distinct per instance, stable across restart"
bx "$A" 'cat /etc/machine-id'
MA=$OUT
bx "$B" 'cat /etc/machine-id'
MB=$OUT
[[ "$MA" =~ ^[0-9a-f]{32}$ ]] || why "A's machine-id $(q "$MA") is not 32 lower-case hex digits"
[ "$MA" != "$MB" ] || why "A and B share machine-id $MA"
u=$(uuid "$A")
[ "$MA" = "${u//-/}" ] || why "machine-id $MA is not the UUID $u without dashes"
brun restart "$A"
want_rc 0
bx "$A" 'cat /etc/machine-id; cat /etc/hostname'
[ "$OUT" = "$MA"$'\n'"$A" ] || why "after restart: $(q "$OUT"), want $MA and hostname $A"
end

# --- disk quota, image backend ------------------------------------------------------------

begin "--disk 256M: df / inside shows 256M within 5%"
made "$D"
brun create "$D" --disk 256M
want_rc 0
brun start "$D"
want_rc 0
bx "$D" 'df -k / | tail -1'
size=$(awk '{print $2}' <<<"$OUT")
((size > 262144 * 95 / 100 && size <= 262144)) 2>/dev/null ||
	why "df / shows $(q "$size") KiB, want 262144 within 5% ($(q "$OUT"))"
end

begin "writing past the limit fails with ENOSPC inside; the neighbour and the host can still write"
bx "$D" 'dd if=/dev/zero of=/fill bs=1M count=300 2>&1; echo "dd=$?"'
grep -q 'dd=1' <<<"$OUT" || why "dd of 300M into a 256M disk: $(q "$OUT")"
grep -qi 'no space left' <<<"$OUT" || why "not ENOSPC: $(q "$OUT")"
bx "$B" 'dd if=/dev/zero of=/ten bs=1M count=10 2>/dev/null && rm /ten && echo ok'
[ "$OUT" = ok ] || why "neighbour B cannot write 10M: $(q "$OUT")$(errhint)"
dd if=/dev/zero of="$WORK/host10" bs=1M count=10 2>/dev/null || why "the host cannot write 10M"
rm -f "$WORK/host10"
o=$("$BERTH" --root "$R" status "$D" 2>&1 | grep '^disk:')
grep -q 'MiB used of 256.0 MiB' <<<"$o" || why "status disk line: $(q "$o")"
used=$(jget disk_used "$(statusj "$D")")
((used > 200 * 1048576)) 2>/dev/null || why "status disk_used $(q "$used"), want > 200M after the fill"
end

begin "set --disk grows a running instance online"
bx "$D" 'rm -f /fill'
brun set "$D" --disk 384M
if [ "$RC" != 0 ] && grep -q CAP_SYS_RESOURCE <<<"$ERR"; then
	[ "$(jget disk_limit "$(statusj "$D")")" = 268435456 ] || why "a refused set changed the saved limit"
	skipping "online ext4 growth needs CAP_SYS_RESOURCE, which this host withholds (refused cleanly)"
else
	want_rc 0
	bx "$D" 'df -k / | tail -1'
	size=$(awk '{print $2}' <<<"$OUT")
	((size > 393216 * 95 / 100 && size <= 393216)) 2>/dev/null || why "df after online growth: $(q "$OUT")"
fi
end

begin "set --disk 512M on the stopped instance lets the write pass"
brun stop "$D"
want_rc 0
brun set "$D" --disk 512M
want_rc 0
brun start "$D"
want_rc 0
bx "$D" 'dd if=/dev/zero of=/fill bs=1M count=300 2>&1 >/dev/null; echo "dd=$?"; df -k / | tail -1'
grep -q 'dd=0' <<<"$OUT" || why "300M write after growing to 512M: $(q "$OUT")"
size=$(tail -1 <<<"$OUT" | awk '{print $2}')
((size > 524288 * 95 / 100 && size <= 524288)) 2>/dev/null || why "df after growing: $(q "$size") KiB"
end

begin "set --disk smaller is refused; nothing changes"
brun set "$D" --disk 300M
want_refused "shrinking"
[ "$(jget disk_limit "$(statusj "$D")")" = 536870912 ] || why "limit changed"
end

begin "stop unmounts the disk and detaches its loop device; delete removes the image"
brun stop "$D"
want_rc 0
[ "$(loops_of_root)" = 0 ] || why "loop devices still attached: $(losetup -a | grep -F "$R/")"
[ "$(mounts_of_root)" = 0 ] || why "mounts left: $(grep -F " $R/" /proc/self/mountinfo | head -2)"
[ -f "$R/lib/instances/$D/disk.img" ] || why "no disk image while stopped"
brun delete "$D"
want_rc 0
[ ! -e "$R/lib/instances/$D" ] || why "instance dir left"
[ "$(loops_of_root)" = 0 ] || why "loop devices left after delete"
end

begin "--disk-backend project on a store without project quotas is refused, naming the fix"
before=$(find "$R/lib" | sort)
brun create "$D" --disk 64M --disk-backend project
want_refused "project quotas"
grep -q 'quota,project' <<<"$ERR" || why "no hint how to enable them: $(q "$ERR")"
[ "$(find "$R/lib" | sort)" = "$before" ] || why "files changed"
end

begin "a failed --disk create leaves no image, loop device or mount"
before=$(find "$R/lib" | sort)
brun create "$D" --disk 1M
want_refused "too small"
brun create "$D" --disk 64M --hostname 'bad_host!'
want_refused "hostname"
[ "$(find "$R/lib" | sort)" = "$before" ] || why "files changed: $(diff <(echo "$before") <(find "$R/lib" | sort) | head -3)"
[ "$(loops_of_root)" = 0 ] || why "loop device left"
[ "$(mounts_of_root)" = 0 ] || why "mount left"
# Failing after the image is made: no loop device to attach it to (in this namespace only).
if mount --bind /dev/null /dev/loop-control; then
	brun create "$D" --disk 64M
	want_refused "loop"
	umount /dev/loop-control
	[ "$(find "$R/lib" | sort)" = "$before" ] || why "a create that failed at the loop device left: $(diff <(echo "$before") <(find "$R/lib" | sort) | grep '^>' | head -3)"
	[ "$(loops_of_root)" = 0 ] || why "loop device left"
else
	why "cannot cover /dev/loop-control in the private namespace"
fi
end

# --- clone ----------------------------------------------------------------------------

begin "clone of a running instance is refused; nothing made"
brun clone "$A" "$C"
want_refused "running"
[ ! -e "$R/lib/instances/$C" ] || why "$C made"
end

begin "clone: new range, owners moved, new UUID and machine-id, hostname; files kept"
brun stop "$A"
want_rc 0
brun clone "$A" "$C"
want_rc 0
BC=$(base "$C")
[ -n "$BC" ] && [ "$BC" != "$BA" ] || why "clone's base $(q "$BC"), A's $BA"
for o in "${bases[@]}"; do [ "$o" = "$low" ] || ! overlap "$BC" "$o" || why "clone range $BC overlaps $o"; done
o=$(stat -c %u:%g "$R/lib/instances/$C/rw/upper/mine" 2>&1)
[ "$o" = "$((BC + 1000)):$((BC + 1001))" ] || why "copied file owned by $(q "$o"), want $((BC + 1000)):$((BC + 1001))"
[ "$(uuid "$C")" != "$(uuid "$A")" ] || why "same UUID"
brun start "$C"
want_rc 0
bx "$C" 'cat /mine; stat -c %u:%g /mine; cat /etc/machine-id; cat /etc/hostname; test -e /etc/profile || echo noprofile'
MC=$(sed -n 3p <<<"$OUT")
[ "$(sed -n 1,2p <<<"$OUT")" = $'a\n1000:1001' ] || why "inside the clone: $(q "$OUT")"
[ "$MC" != "$MA" ] && [[ "$MC" =~ ^[0-9a-f]{32}$ ]] || why "clone machine-id $(q "$MC"), A's $MA"
[ "$(sed -n 4p <<<"$OUT")" = "$C" ] || why "clone hostname $(q "$(sed -n 4p <<<"$OUT")")"
[ "$(sed -n 5p <<<"$OUT")" = noprofile ] || why "A's deletion (a whiteout) was not cloned"
end

begin "clone of a guest whose /etc is a symlink to a host path never writes there"
made "$N-g" "$N-h"
mkdir -p "$WORK/victim" && echo host-secret >"$WORK/victim/machine-id" && echo host >"$WORK/victim/hostname"
brun create "$N-g"
brun start "$N-g"
# A hostile root first unmounts what berth binds into /etc (resolv.conf), as it may.
bx "$N-g" "if grep -q ' /etc/resolv.conf ' /proc/self/mountinfo; then umount /etc/resolv.conf; fi; mv /etc /etc.real && ln -s $WORK/victim /etc && echo planted"
[ "$OUT" = planted ] || why "could not plant the symlink inside: $(q "$OUT")$(errhint)"
brun stop --force "$N-g"
brun clone "$N-g" "$N-h"
[ "$(cat "$WORK/victim/machine-id")" = host-secret ] || why "the host file behind the symlink was written"
[ "$(cat "$WORK/victim/hostname")" = host ] || why "the host hostname file behind the symlink was written"
[ "$RC" = 0 ] || [ ! -e "$R/lib/instances/$N-h" ] || why "a failed clone left $N-h"
brun delete --force "$N-h"
brun delete --force "$N-g"
end

begin "clone onto an existing name is refused; nothing changes"
before=$(find "$R/lib" | sort)
brun clone "$A" "$B"
want_refused "exists"
[ "$(find "$R/lib" | sort)" = "$before" ] || why "files changed"
end

begin "a clone that fails half-way (no loop device for its image) leaves nothing"
made "$D" "$N-e"
brun create "$D" --disk 128M
want_rc 0
before=$(find "$R/lib" | sort)
if mount --bind /dev/null /dev/loop-control; then
	brun clone "$D" "$N-e"
	want_refused "loop"
	umount /dev/loop-control
	[ "$(find "$R/lib" | sort)" = "$before" ] || why "left: $(diff <(echo "$before") <(find "$R/lib" | sort) | grep '^>' | head -3)"
	[ "$(loops_of_root)" = 0 ] || why "loop device left"
	[ "$(mounts_of_root)" = 0 ] || why "mount left"
else
	why "cannot cover /dev/loop-control in the private namespace"
fi
end

begin "clone of an instance with --disk gets its own image of the same size"
brun clone "$D" "$N-e"
want_rc 0
[ -f "$R/lib/instances/$N-e/disk.img" ] || why "no image for the clone"
[ "$(jget disk_limit "$(statusj "$N-e")")" = 134217728 ] || why "clone's limit differs"
brun start "$N-e"
want_rc 0
bx "$N-e" 'df -k / | tail -1; cat /etc/hostname'
size=$(head -1 <<<"$OUT" | awk '{print $2}')
((size > 131072 * 90 / 100 && size <= 131072)) 2>/dev/null || why "clone's df: $(q "$OUT")"
brun delete --force "$N-e"
brun delete "$D"
[ "$(loops_of_root)" = 0 ] || why "loop device left"
end

# --- the end ------------------------------------------------------------------------------

begin "delete everything: no mount, loop device or instance left"
for n in "${MADE[@]}"; do
	[ -e "$R/lib/instances/$n" ] || continue
	brun delete --force "$n"
	[ "$RC" = 0 ] || why "delete $n: $RC$(errhint)"
done
left=$(find "$R/lib/instances" -mindepth 1 2>/dev/null | head -3 | tr '\n' ' ')
[ -z "$left" ] || why "left: $left"
[ "$(loops_of_root)" = 0 ] || why "loop devices left"
[ "$(mounts_of_root)" = 0 ] || why "mounts left"
end

finish
