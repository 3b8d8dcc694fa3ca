#!/bin/sh
# SPDX-License-Identifier: MIT
#
# limits.sh BERTH: resource limits, enforced by a real cgroup v2 host. Runs as
# root inside the guest that run-vm.sh boots (Debian's stock kernel, every
# controller in cgroup2, 2 CPUs), in busybox ash: any tool that is not a
# busybox applet is called by its full path. berth's --root is on the scratch
# disk /disk (ext4): the 6.1 kernel takes idmapped mounts on tmpfs only from
# 6.3 (see smoke.sh), and the io check reads a file of the instance that lives
# on that disk (/dev/vda).
#
# One instance, created with every limit, proves in turn: the controllers are
# enabled down to it and its limit files are host root's; --cpuset 1; --cpus
# 0.5 (ratio from cpu.stat); --io-read-bps on /dev/vda with O_DIRECT reads;
# --memory 32M (a 64 MiB allocation is OOM-killed, init lives on); --swap (with
# a swap file on: 64M of swap lets 72 MiB through memory.max 48M, 0 OOM-kills
# it); berth set on the running instance (pids lowered: a fork is refused;
# memory and cpus rewritten); --pids 20 against a fork bomb, and stop still works.
#
# Prints "ok - NAME", "ok - NAME # SKIP why" or "not ok - NAME: why"; the last
# line is "vm: N passed, N failed, N skipped"; exit status 1 on any failure.
# TCG runs CPU-bound code ~20x slower: loads are small, timeouts generous.
# shellcheck shell=dash # busybox ash: POSIX sh with local
# shellcheck disable=SC2016 # $... in single quotes is for the shell inside the container
# shellcheck disable=SC2015 # "A && B || why": why only records a failure
BERTH=${1:?usage: limits.sh BERTH}
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091 # /vm/lib.sh in the guest; -x follows it
. /vm/lib.sh

vm_dirs limits lim

echo "# kernel $(uname -r), $(grep -c ^processor /proc/cpuinfo) CPUs, berth $("$BERTH" --version 2>&1)"
need_scratch_disk
HAVE_VDA=0
[ -b /dev/vda ] && HAVE_VDA=1
IO_OPT=''
[ "$HAVE_VDA" = 0 ] || IO_OPT="--io-read-bps /dev/vda=3M"

# --- create and start with every limit ------------------------------------------------

begin "create with --memory 32M --pids 20 --cpus 0.5 --cpuset 1 ${IO_OPT}: status shows them"
# shellcheck disable=SC2086 # IO_OPT is two words or none
brun create "$N" --memory 32M --swap 0 --pids 20 --cpus 0.5 --cpu-weight 200 --cpuset 1 $IO_OPT
want_rc 0
brun status "$N"
case $OUT in
*"limits:     cpus 0.5, cpu-weight 200, cpuset 1, memory 32M, swap 0, pids 20"*) ;;
*) why "status $(q "$OUT")$(errhint)" ;;
esac
end

begin "start: the limit files of $L hold the values, are host root's, and the controllers reach it"
brun start "$N"
want_rc 0
want_file cpu.max "50000 100000"
want_file cpu.weight 200
want_file cpuset.cpus 1
want_file memory.max 33554432
want_file memory.swap.max 0
want_file pids.max 20
if [ "$HAVE_VDA" = 1 ]; then
	# shellcheck disable=SC2046 # two hex words
	set -- $(stat -L -c '%t %T' /dev/vda)
	want_file io.max "$((0x$1)):$((0x$2)) rbps=3145728 wbps=max riops=max wiops=max"
fi
owner=$(stat -c %u "$L/memory.max" "$L/pids.max" "$L/cpu.max" 2>&1 | sort -u | tr '\n' ' ')
[ "$owner" = "0 " ] || why "limit files owned by $(q "$owner"), want host root (0) only"
[ "$(stat -c %u "$L/cgroup.procs")" != 0 ] || why "cgroup.procs is host root's: not delegated"
for c in cpu cpuset memory pids io; do
	grep -qw "$c" "$CG/$BCG/cgroup.subtree_control" || why "$BCG/cgroup.subtree_control lacks $c"
done
brun exec "$N" -- cat /sys/fs/cgroup/cgroup.controllers
for c in cpu cpuset memory pids io; do
	case " $OUT " in *" $c "*) ;; *) why "inside, cgroup.controllers $(q "$OUT") lacks $c" ;; esac
done
brun exec "$N" -- sh -c 'echo 1G >/sys/fs/cgroup/memory.max'
[ "$RC" != 0 ] || why "root inside raised its own memory.max"
want_file memory.max 33554432
end

# --- cpuset ------------------------------------------------------------------------

begin "--cpuset 1: init and an exec'd process may run on CPU 1 only"
if [ "$(grep -c ^processor /proc/cpuinfo)" -lt 2 ]; then
	skipping "the guest has one CPU (run-vm.sh gives -smp 2)"
else
	status_json
	i=$(init_pid)
	have=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "/proc/$i/status" 2>&1)
	[ "$have" = 1 ] || why "init ($(q "$i")) has Cpus_allowed_list $(q "$have")"
	brun exec "$N" -- sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status
	want_rc 0
	want_out 1
fi
end

# --- cpus --------------------------------------------------------------------------

begin "--cpus 0.5: a busy loop gets 0.45-0.55 of a CPU over 3 s (cpu.stat usage_usec)"
brun exec "$N" -- sh -c 'while :; do :; done >/dev/null 2>&1 </dev/null & echo $! >/loop.pid'
want_rc 0
sleep 0.5 # past the first period
u0=$(field "$L/cpu.stat" usage_usec) t0=$(uptime_cs)
sleep 3
u1=$(field "$L/cpu.stat" usage_usec) t1=$(uptime_cs)
# permille of one CPU: usage (us) / wall (cs * 10000 us) * 1000
ratio=$(((u1 - u0) / ((t1 - t0) * 10)))
echo "# busy loop under cpu.max 50000 100000: $ratio/1000 of a CPU ($((u1 - u0)) us in $((t1 - t0))0 ms)"
[ "$ratio" -ge 450 ] && [ "$ratio" -le 550 ] || why "got $ratio/1000 of a CPU, want 450-550"
thr=$(field "$L/cpu.stat" nr_throttled)
[ "${thr:-0}" -gt 0 ] || why "cpu.stat nr_throttled $(q "$thr"), want > 0"
end

begin "set --cpus 0.25 on the running instance: cpu.max changes and the loop gets ~0.25"
brun set "$N" --cpus 0.25
want_rc 0
want_file cpu.max "25000 100000"
u0=$(field "$L/cpu.stat" usage_usec) t0=$(uptime_cs)
sleep 2
u1=$(field "$L/cpu.stat" usage_usec) t1=$(uptime_cs)
ratio=$(((u1 - u0) / ((t1 - t0) * 10)))
echo "# after set --cpus 0.25: $ratio/1000 of a CPU"
[ "$ratio" -ge 200 ] && [ "$ratio" -le 300 ] || why "got $ratio/1000 of a CPU, want 200-300"
brun exec "$N" -- sh -c 'kill $(cat /loop.pid)'
want_rc 0
end

# --- io ------------------------------------------------------------------------------

begin "--io-read-bps /dev/vda=3M: a direct read of 6 MiB from the instance's disk takes ~2 s"
if [ "$HAVE_VDA" = 0 ]; then
	skipping "no /dev/vda in the guest (run-vm.sh's scratch disk)"
else
	brun exec "$N" -- sh -c 'dd if=/dev/zero of=/io.dat bs=1M count=6 2>&1 && sync'
	want_rc 0
	echo 3 >/proc/sys/vm/drop_caches
	# Timed inside, so that exec's own start is not counted.
	brun exec "$N" -- sh -c 'read a _ </proc/uptime; dd if=/io.dat of=/dev/null bs=256k iflag=direct || exit; read b _ </proc/uptime; echo $a $b'
	# shellcheck disable=SC2086 # two words
	set -- $OUT
	t0=$((${1%.*} * 100 + 1${1#*.} - 100)) t1=$((${2%.*} * 100 + 1${2#*.} - 100))
	if [ "$RC" != 0 ]; then
		case $ERR in
		*"nvalid argument"*) skipping "O_DIRECT on the overlay root is refused by this kernel: $(q "$ERR")" ;;
		*) why "dd exit $RC$(errhint)" ;;
		esac
	else
		# KiB/s = 6144 KiB / (cs / 100)
		rate=$((6144 * 100 / (t1 - t0)))
		echo "# direct read under io.max rbps=3145728: $rate KiB/s in $((t1 - t0))0 ms"
		[ "$rate" -ge 2457 ] && [ "$rate" -le 3686 ] || why "read at $rate KiB/s, want 3072 +-20%"
	fi
	brun exec "$N" -- rm -f /io.dat
fi
end

# --- memory ----------------------------------------------------------------------------

begin "--memory 32M: a 64 MiB allocation inside is OOM-killed, init lives on, memory.events counts it"
status_json
i0=$(init_pid)
brun exec "$N" -- dd if=/dev/zero of=/dev/null bs=64M count=1
[ "$RC" = 137 ] || why "the 64 MiB dd exited $RC, want 137 (SIGKILL by the OOM killer)$(errhint)"
kills=$(field "$L/memory.events" oom_kill)
[ "${kills:-0}" -ge 1 ] || why "memory.events oom_kill $(q "$kills"), want >= 1"
status_json
[ "$(init_pid)" = "$i0" ] && [ -n "$i0" ] || why "init was $(q "$i0"), now $(q "$(init_pid)")"
brun exec "$N" -- cat /proc/1/comm
want_out init
end

begin "set --memory 48M --memory-high 40M on the running instance: the files change, 24 MiB fits"
brun set "$N" --memory 48M --memory-high 40M
want_rc 0
want_file memory.max 50331648
want_file memory.high 41943040
brun exec "$N" -- dd if=/dev/zero of=/dev/null bs=24M count=1
want_rc 0
brun status "$N"
case $OUT in *"memory 48M, memory-high 40M"*) ;; *) why "status $(q "$OUT")" ;; esac
end

begin "--swap: with swap on, set --swap 64M lets 72 MiB through memory.max 48M by swapping; set --swap 0 OOM-kills it"
# The guest has no swap of its own: a 128 MiB swap file on the scratch disk, for this check only.
SWAPF=/disk/berth-vm-swap
if [ "$HAVE_VDA" = 0 ]; then
	skipping "no /dev/vda in the guest (run-vm.sh's scratch disk) for a swap file"
elif ! { dd if=/dev/zero of="$SWAPF" bs=1M count=128 2>/dev/null && chmod 600 "$SWAPF" &&
	mkswap "$SWAPF" >/dev/null && swapon "$SWAPF"; }; then
	why "could not make and enable a swap file on /disk"
else
	brun set "$N" --swap 64M
	want_rc 0
	want_file memory.swap.max 67108864
	out0=$(sed -n 's/^pswpout //p' /proc/vmstat)
	brun exec "$N" -- dd if=/dev/zero of=/dev/null bs=72M count=1
	[ "$RC" = 0 ] || why "the 72 MiB dd with 64M of swap exited $RC, want 0$(errhint)"
	out1=$(sed -n 's/^pswpout //p' /proc/vmstat)
	[ "${out1:-0}" -gt "${out0:-0}" ] || why "pswpout $(q "$out0") -> $(q "$out1"): nothing was swapped out"
	brun set "$N" --swap 0
	want_rc 0
	want_file memory.swap.max 0
	brun exec "$N" -- dd if=/dev/zero of=/dev/null bs=72M count=1
	[ "$RC" = 137 ] || why "the 72 MiB dd with --swap 0 exited $RC, want 137 (OOM-killed)$(errhint)"
	swapoff "$SWAPF" || why "swapoff failed"
fi
rm -f "$SWAPF"
end

begin "set with one bad value changes nothing, live or saved"
brun set "$N" --memory 40M --pids 0
want_rc 125
case $ERR in *'pids limit "0": out of range'*) ;; *) why "stderr $(q "$ERR")" ;; esac
want_file memory.max 50331648
brun status "$N"
case $OUT in *"memory 48M"*) ;; *) why "status $(q "$OUT")" ;; esac
end

begin "set whose io.max write fails (no disk 254:99): memory.max, written first, is put back; nothing saved"
brun set "$N" --memory 40M --io-read-bps 254:99=1M
want_rc 125
case $ERR in *"io.max"*) ;; *) why "stderr $(q "$ERR"), want the io.max write named" ;; esac
want_file memory.max 50331648
brun status "$N"
case $OUT in *"memory 48M"*"io-read-bps"*"254:99"*) why "saved: $(q "$OUT")" ;; *"memory 48M"*) ;; *) why "status $(q "$OUT")" ;; esac
end

# --- pids ------------------------------------------------------------------------------

begin "set --pids (in use + 4) on the running instance: a fork past it is refused; --pids 20 again"
lim=$(($(cat "$L/pids.current") + 4))
brun set "$N" --pids $lim
want_rc 0
want_file pids.max $lim
brun exec "$N" -- sh -c 'sleep 5 & sleep 5 & sleep 5 & sleep 5 & sleep 5 & sleep 5 & wait'
[ "$RC" != 0 ] || why "six more processes started under pids.max $lim"
case $ERR in *"can't fork"*) ;; *) why "no fork refused inside (exit $RC$(errhint))" ;; esac
e=$(field "$L/pids.events" max)
[ "${e:-0}" -gt 0 ] || why "pids.events max $(q "$e"), want > 0"
brun exec "$N" -- sh -c 'kill $(pidof sleep) 2>/dev/null; true'
brun set "$N" --pids 20
want_rc 0
want_file pids.max 20
end

begin "--pids 20: a fork bomb stays at the limit, the guest answers, stop still works"
brun exec "$N" -- sh -c 'b() { b | b & }; b'
sleep 3
cur=$(cat "$L/pids.current" 2>&1)
[ "$cur" -le 20 ] 2>/dev/null || why "pids.current $(q "$cur"), want <= 20"
e=$(field "$L/pids.events" max)
[ "${e:-0}" -gt 0 ] || why "pids.events max $(q "$e"), want > 0"
t0=$(uptime_cs)
# The guest outside the instance still forks and runs a program promptly.
[ "$(/bin/busybox ls -d /proc/self/.)" = /proc/self/. ] || why "the guest could not run ls"
[ $(($(uptime_cs) - t0)) -lt 300 ] || why "the guest took $(($(uptime_cs) - t0))0 ms to run ls"
t0=$(uptime_cs)
brun stop "$N" --timeout 5
want_rc 0
echo "# stop under a fork bomb took $(($(uptime_cs) - t0))0 ms"
[ ! -e "$L" ] || why "cgroup $L still there ($(cat "$L/pids.current" 2>/dev/null) processes)"
end

begin "set on a stopped instance: saved only; the next start applies it"
brun set "$N" --pids 30 --cpus max
want_rc 0
case $OUT in *"applied at the next start"*) ;; *) why "stdout $(q "$OUT")" ;; esac
brun start "$N"
want_rc 0
want_file pids.max 30
want_file cpu.max "max 100000"
want_file memory.max 50331648
brun stop "$N" --force
want_rc 0
end

begin "delete: nothing is left (instance, cgroup)"
brun delete "$N"
want_rc 0
want_deleted "$N"
left=$(ps -o pid,comm | awk '$1 != 1 && $2 ~ /^(berth|init|getty|sleep)$/' | tr '\n' '|')
[ -z "$left" ] || why "processes left: $left"
end
rm -rf "$R"

dmesg | grep -iE 'oom|killed process|cgroup' | sed 's/^\[[^]]*\] //' | sort | uniq -c |
	sed 's/^ *\([0-9]*\) /# kernel (x\1): /' | head -n 12
done_
