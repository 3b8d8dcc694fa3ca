#!/bin/sh
# SPDX-License-Identifier: MIT
#
# quota.sh BERTH: --disk with the project-quota backend, on Debian's 6.1
# kernel (this host's has no CONFIG_QUOTA). Runs as root inside the guest that
# run-vm.sh boots (busybox ash; tools that are not applets by full path). The
# store is an ext4 file system made with -O quota,project on a loop file on
# the scratch disk; berth's --root lives there.
#
# Proves: create --disk picks the project backend by itself (status says so);
# `df /` inside shows the limit within 5%; writing past it fails with EDQUOT
# (or ENOSPC) inside, while a neighbour and the host still write; berth set
# --disk raises it on the running instance and the write passes; a clone gets
# a project and limit of its own; delete lifts the quota (a new instance on
# the same project id starts with nothing charged). Then the image backend:
# ENOSPC past the limit, and `set --disk` growing it online, which needs the
# CAP_SYS_RESOURCE that the development host withholds.
#
# Prints "ok - NAME", "ok - NAME # SKIP why" or "not ok - NAME: why"; the last
# line is "vm: N passed, N failed, N skipped"; exit status 1 on any failure.
# shellcheck shell=dash # busybox ash: POSIX sh with local
# shellcheck disable=SC2016 # $... in single quotes is for the shell inside the container
# shellcheck disable=SC2015 # "A && B || why": why only records a failure
BERTH=${1:?usage: quota.sh BERTH}
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091 # /vm/lib.sh in the guest
. /vm/lib.sh

vm_dirs quota
need_scratch_disk
echo "# kernel $(uname -r), berth $("$BERTH" --version 2>&1)"
P=/run/prj
R=$P/root
N=qa
M=qb
# bx NAME SCRIPT: a shell script inside NAME; RC, OUT, ERR.
bx() { brun exec "$1" -- /bin/sh -c "$2"; }
sj() { timeout -s KILL 60 "$BERTH" --root "$R" status "$1" --json >"$W/st" 2>&1 </dev/null; jget "$2" "$W/st"; }
dfk() { bx "$1" 'df -k / | tail -n 1'; echo "$OUT" | awk '{print $2}'; }

begin "an ext4 store with project quotas (mkfs.ext4 -O quota,project, loop mount)"
mkdir -p $P
/usr/sbin/mkfs.ext4 -q -F -O quota,project -b 4096 /disk/prj.img 700M >"$W/mkfs" 2>&1 ||
	why "mkfs.ext4: $(q "$(cat "$W/mkfs")")"
mount -o loop /disk/prj.img $P 2>"$W/mnt" || why "mount: $(q "$(cat "$W/mnt")")"
end
[ -z "$WHY" ] || { done_; exit 1; }

begin "mounted without prjquota (usage counted, limits not enforced): project is refused, auto picks image"
brun create "$N" --disk 64M --disk-backend project
want_rc 125
case $ERR in *prjquota*) ;; *) why "the refusal does not name prjquota: $(q "$ERR")" ;; esac
[ ! -e "$R/lib/instances/$N" ] || why "instance made anyway"
brun create qz --disk 64M
want_rc 0
[ "$(sj qz disk_backend)" = image ] || why "auto chose $(q "$(sj qz disk_backend)"), want image"
brun delete qz
want_rc 0
umount $P
mount -o loop,prjquota /disk/prj.img $P 2>"$W/mnt" || why "mount -o prjquota: $(q "$(cat "$W/mnt")")"
end
[ -z "$WHY" ] || { done_; exit 1; }

begin "create --disk 100M picks the project backend; status shows used and limit"
brun create "$N" --disk 100M
want_rc 0
[ "$(sj "$N" disk_backend)" = project ] || why "backend $(q "$(cat "$W/st")")"
brun status "$N"
case $OUT in *"disk:       "*"MiB used of 100.0 MiB (project backend)"*) ;; *) why "status: $(q "$OUT")" ;; esac
end

begin "df / inside shows the 100M limit within 5%"
brun start "$N"
want_rc 0
k=$(dfk "$N")
[ "${k:-0}" -gt 97280 ] 2>/dev/null && [ "$k" -le 107520 ] || why "df / says $(q "$k") KiB, want 102400 within 5% ($(q "$OUT"))"
end

begin "writing past the limit fails inside (EDQUOT); a neighbour and the host still write"
bx "$N" 'dd if=/dev/zero of=/fill bs=1M count=150 2>&1; echo "dd=$?"'
case $OUT in *"dd=1"*) ;; *) why "150M into a 100M quota: $(q "$OUT")" ;; esac
case $OUT in *"quota exceeded"* | *"No space left"*) ;; *) why "not EDQUOT/ENOSPC: $(q "$OUT")" ;; esac
used=$(sj "$N" disk_used)
[ "${used:-0}" -gt 94371840 ] 2>/dev/null || why "status disk_used $(q "$used"), want about 100M"
brun create "$M"
brun start "$M"
bx "$M" 'dd if=/dev/zero of=/twenty bs=1M count=20 2>&1 >/dev/null && echo ok'
case $OUT in *ok) ;; *) why "neighbour without a limit cannot write 20M: $(q "$OUT")" ;; esac
dd if=/dev/zero of=$P/host20 bs=1M count=20 2>/dev/null || why "the host cannot write 20M on the store"
rm -f $P/host20
end

begin "set --disk 200M on the running instance lets the write pass; df follows"
bx "$N" 'rm -f /fill'
brun set "$N" --disk 200M
want_rc 0
bx "$N" 'dd if=/dev/zero of=/fill bs=1M count=150 2>&1 >/dev/null; echo "dd=$?"'
case $OUT in *"dd=0"*) ;; *) why "150M under a 200M quota: $(q "$OUT")" ;; esac
k=$(dfk "$N")
[ "${k:-0}" -gt 194560 ] 2>/dev/null && [ "$k" -le 215040 ] || why "df / after set: $(q "$k") KiB"
end

begin "clone gets its own project and limit; the files come along"
brun stop "$N"
brun clone "$N" qc
want_rc 0
[ "$(sj qc disk_backend)" = project ] || why "clone backend $(q "$(cat "$W/st")")"
[ "$(sj qc disk_limit)" = 209715200 ] || why "clone limit $(q "$(cat "$W/st")")"
used=$(sj qc disk_used)
[ "${used:-0}" -gt 150000000 ] 2>/dev/null || why "clone's usage $(q "$used"): the copy is not charged to its project"
brun start qc
want_rc 0
bx qc 'dd if=/dev/zero of=/more bs=1M count=80 2>&1; echo "dd=$?"'
case $OUT in *"dd=1"*) ;; *) why "clone wrote 230M under 200M: $(q "$OUT")" ;; esac
brun delete --force qc
end

begin "delete lifts the quota: a new instance on the same project id starts clean"
base=$(sj "$N" idmap_base)
brun delete --force "$N"
want_rc 0
want_deleted "$N"
brun create qd --disk 50M
want_rc 0
[ "$(sj qd idmap_base)" = "$base" ] || why "new instance took base $(q "$(sj qd idmap_base)"), want the freed $base"
used=$(sj qd disk_used)
[ "${used:-1}" -lt 1048576 ] 2>/dev/null || why "new instance starts with $(q "$used") bytes charged"
brun start qd
k=$(dfk qd)
[ "${k:-0}" -gt 48640 ] 2>/dev/null && [ "$k" -le 53760 ] || why "df / on the new instance: $(q "$k") KiB, want 51200"
brun delete --force qd
brun delete --force "$M"
end

begin "image backend: ENOSPC past the limit, then grown online by set (root here has CAP_SYS_RESOURCE)"
brun create qi --disk 64M --disk-backend image
want_rc 0
brun start qi
want_rc 0
bx qi 'dd if=/dev/zero of=/fill bs=1M count=100 2>&1; echo "dd=$?"'
case $OUT in *"dd=1"*"No space left"* | *"No space left"*"dd=1"*) ;; *) why "100M into a 64M image: $(q "$OUT")" ;; esac
bx qi 'rm -f /fill'
brun set qi --disk 160M
want_rc 0
case $OUT in *"grown and saved"*) ;; *) why "set said $(q "$OUT")" ;; esac
bx qi 'dd if=/dev/zero of=/fill bs=1M count=100 2>&1 >/dev/null; echo "dd=$?"'
case $OUT in *"dd=0"*) ;; *) why "100M after growing to 160M online: $(q "$OUT")" ;; esac
k=$(dfk qi)
[ "${k:-0}" -gt 155648 ] 2>/dev/null && [ "$k" -le 163840 ] || why "df / after online growth: $(q "$k") KiB, want 163840 within 5%"
brun delete --force qi
want_rc 0
grep -q " $R/" /proc/mounts && why "mounts left: $(grep " $R/" /proc/mounts)"
end

umount $P 2>/dev/null
rm -f /disk/prj.img
done_
