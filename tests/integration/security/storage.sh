# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# The battery's storage and id-range attacks (sourced by security.sh, after A
# and B run). X has a disk limit (--disk: the image backend on a host without
# project quotas, docs/STORAGE.md) and tries to write past it; the host's side
# of it (the image file's allocated blocks) is the judge. Then the id ranges:
# A's and B's roots are different host uids with no overlap.
# shellcheck disable=SC2015 # [ ] && [ ] || why: why is meant to run when either fails
# shellcheck disable=SC2016 # $... in single quotes is for the shell inside

X=$N-x
DISK_MIB=32
SHM_MIB=32

begin "storage: X (--disk ${DISK_MIB}M) cannot write past its limit: new files, fallocate, a sparse file's hole, hard links, remounts, the loop device, a tmpfs"
MADE+=("$X")
brun create "$X" --template sec --net none --disk "${DISK_MIB}M"
if [ "$RC" != 0 ] && grep -qiE 'mkfs|loop' <<<"$ERR"; then
	skipping "no disk limit on this host: $ERR"
elif [ "$RC" != 0 ]; then
	why "create --disk: exit $RC$(errhint)"
else
	brun start "$X"
	[ "$RC" = 0 ] || why "start $X: exit $RC$(errhint)"
	backend=$(jget disk_backend "$("$BERTH" --root "$R" status "$X" --json 2>/dev/null </dev/null)")
	IMG=$R/lib/instances/$X/disk.img
	echo "# disk backend: $backend"
	if [ "$backend" = image ]; then
		[ "$(stat -c %s "$IMG")" = $((DISK_MIB << 20)) ] || why "the image is $(stat -c %s "$IMG") bytes, want $((DISK_MIB << 20))"
	fi
	# Each refused allocation commits ext4's journal: slow on a busy host, so 300 s.
	ATK_IN=$X BRUN_TIMEOUT=300 atk quota "$DISK_MIB" "$IMG" /dev/shm/berth-sec-shm "$SHM_MIB"
	line "fill the root" ENOSPC
	size=$(sed -n 's/^root size MiB: //p' <<<"$OUT") filled=$(sed -n 's/^filled MiB: //p' <<<"$OUT")
	[ "${size:-999}" -le "$DISK_MIB" ] && [ "${size:-0}" -ge $((DISK_MIB * 3 / 4)) ] ||
		why "df / inside says ${size:-?} MiB, want $((DISK_MIB * 3 / 4))..$DISK_MIB (ext4 keeps a 4 MiB journal and its metadata)"
	[ "${filled:-999}" -le "$DISK_MIB" ] || why "filled ${filled:-?} MiB past a $DISK_MIB MiB limit"
	line "write a new file" ENOSPC
	line "fallocate 64 MiB" ENOSPC
	line "sparse file of 1 GiB (no blocks)" ok
	line "write into its hole" ENOSPC
	line "hard link a template file (copy-up)" ENOSPC
	line "hard link the full file" ok
	line "append through the link" ENOSPC
	# The root's overlay belongs to the instance's mount namespace: a remount is allowed
	# (overlay ignores new layer options on remount) and changes nothing that matters;
	# the root of a mount namespace cannot be unmounted. Writes still fail after.
	line_in "remount / read-write" ok EPERM
	line_in "remount / with new overlay options" ok EPERM EINVAL
	line "umount /" EINVAL
	line "write after the mount attempts" ENOSPC
	line "open /dev/loop-control" ENOENT
	line "open /dev/loop0" ENOENT
	line "open the image by its host path" ENOENT
	# /dev/shm is a tmpfs: memory, not disk. It takes what it is given (the memory cgroup's
	# limit is what bounds it; docs/SECURITY.md), and none of it lands in the image.
	line "tmpfs MiB written" "$SHM_MIB"
	if [ "$backend" = image ]; then
		used=$(($(stat -c '%b * %B' "$IMG")))
		echo "# the image holds $((used >> 20)) MiB on the host (limit $DISK_MIB MiB)"
		[ "$used" -le $((DISK_MIB << 20)) ] || why "the image holds $used bytes on the host, past $((DISK_MIB << 20))"
		[ "$(stat -c %s "$IMG")" = $((DISK_MIB << 20)) ] || why "the image grew to $(stat -c %s "$IMG") bytes"
	fi
	brun exec "$X" -- sh -c 'grep -c " /dev/loop" /proc/self/mountinfo; grep -c disk.img /proc/self/mountinfo'
	want_out $'0\n0'
fi
end

begin "storage: with X full, the host and the neighbour B still write; X writes again once it deletes"
if [ -n "$SKIPWHY" ] || ! [ -e "$R/lib/instances/$X" ]; then
	skipping "no instance with a disk limit (above)"
else
	dd if=/dev/zero of="$R/lib/host-writes" bs=1M count=8 status=none conv=fsync || why "the host cannot write 8 MiB to its store"
	rm -f "$R/lib/host-writes"
	brun exec "$B" -- dd if=/dev/zero of=/b-writes bs=1M count=8 conv=fsync
	[ "$RC" = 0 ] || why "B cannot write 8 MiB$(errhint)"
	brun exec "$B" -- rm -f /b-writes
	brun exec "$X" -- sh -c 'rm -f /fill /hl-fill /sparse && dd if=/dev/zero of=/again bs=1M count=8 conv=fsync 2>/dev/null && echo ok'
	want_ok ok
fi
end
[ -e "$R/lib/instances/$X" ] && brun delete --force "$X"

begin "storage: another path to the host's disk: the console log stays under 2 x 1 MiB however much the guest prints"
# The monitor keeps the console's output in R/log/NAME/console.log, rotated at 1 MiB
# (CONSOLE_LOG_MAX) to console.log.1: the one host file a guest writes without a limit of its own.
brun exec "$A" -- sh -c 'i=0; while [ $i -lt 5 ]; do head -c 1048576 /dev/zero | tr "\0" x >/dev/console; i=$((i + 1)); done; echo done'
want_ok done
nap 0.5
total=$(cat "$R/log/$A/console.log" "$R/log/$A/console.log.1" 2>/dev/null | wc -c)
echo "# the guest printed 5 MiB; the console log holds $total bytes"
[ "$total" -ge 1048576 ] || why "the console log holds $total bytes: the guest's output did not reach it (the check cannot tell)"
[ "$total" -le 2097152 ] || why "the console log holds $total bytes, past 2 x 1 MiB"
end

# --- id ranges ----------------------------------------------------------------------

# idmap NAME: "inside host count" of the instance root's uid_map and gid_map (one line each).
idmap() { berth_run 30 exec "$1" -- cat /proc/self/uid_map /proc/self/gid_map; }

begin "id ranges: A's and B's roots are different host uids; their ranges do not overlap; A's files are not B's"
idmap "$A"
read -r ai ah ac <<<"$(sed -n 1p <<<"$OUT")"
[ "$(sed -n 2p <<<"$OUT" | tr -s ' ' | sed 's/^ //')" = "$ai $ah $ac" ] || why "A's gid_map differs from its uid_map: $(q "$OUT")"
idmap "$B"
read -r bi bh bc <<<"$(sed -n 1p <<<"$OUT")"
echo "# A: ids $ai.. inside are host $ah.. ($ac); B: host $bh.. ($bc)"
[ "$ai" = 0 ] && [ "$bi" = 0 ] || why "a map does not start at 0 inside: A $ai, B $bi"
[ -n "$ah" ] && [ -n "$bh" ] && [ "$ah" != "$bh" ] || why "A and B have the same host base $(q "$ah")"
if [ -n "$ah" ] && [ -n "$bh" ] && [ -n "$ac" ] && [ -n "$bc" ]; then
	((ah + ac <= bh || bh + bc <= ah)) || why "the ranges overlap: A $ah+$ac, B $bh+$bc"
	((ah > 0 && bh > 0)) || why "a range maps host root"
fi
[ "$(stat -c %u "/proc/$A_INIT")" = "$ah" ] || why "A's init runs as host uid $(stat -c %u "/proc/$A_INIT"), want $ah"
[ "$(stat -c %u "/proc/$B_INIT")" = "$bh" ] || why "B's init runs as host uid $(stat -c %u "/proc/$B_INIT"), want $bh"
# A file A's root makes is its range's on the host, not B's root's. No place is shared
# between two instances (each has its own root, /tmp, /dev/shm, IPC): the host's view
# of A's upper layer is where another party could meet it.
brun exec "$A" -- sh -c 'echo a >/id-probe'
f=$R/lib/instances/$A/rw/upper/id-probe
[ "$(stat -c '%u %g' "$f" 2>/dev/null)" = "$ah $ah" ] || why "A's file on the host is owned by $(q "$(stat -c '%u %g' "$f" 2>&1)"), want $ah $ah"
brun exec "$B" -- test -e /id-probe
want_rc 1
brun exec "$A" -- rm -f /id-probe
end
