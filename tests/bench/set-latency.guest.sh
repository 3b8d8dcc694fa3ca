#!/bin/sh
# The guest half of set-latency.sh (busybox ash, as root, inside the VM tier's guest).
# shellcheck shell=dash # busybox ash: POSIX sh with local
BERTH=${1:?usage: set-latency.guest.sh BERTH}
# shellcheck source-path=SCRIPTDIR source=../vm/lib.sh disable=SC1091 # /vm/lib.sh in the guest
. /vm/lib.sh
N_RUNS=${BENCH_RUNS:-100}
vm_dirs setlat bench

cleanup() {
	timeout -s KILL 60 "$BERTH" --root "$R" delete --force "$N" >/dev/null 2>&1 </dev/null
	rm -rf "$R" "$W"
}
trap cleanup EXIT

# per_run_us LABEL COMMAND...: run COMMAND N_RUNS times; print and set US, the mean in µs.
per_run_us() {
	local label=$1 i=0 t0 t1
	shift
	t0=$(uptime_cs)
	while [ $i -lt "$N_RUNS" ]; do
		"$@" >/dev/null 2>&1 </dev/null || { echo "bench: $label failed"; exit 1; }
		i=$((i + 1))
	done
	t1=$(uptime_cs)
	US=$(((t1 - t0) * 10000 / N_RUNS))
	echo "bench: $label: $US us per run ($N_RUNS runs)"
}
flip=0
set_cpus() {
	flip=$((1 - flip))
	"$BERTH" --root "$R" set "$N" --cpus "0.$((5 + flip))"
}
raw_write() { sh -c "echo '$((50000 + flip * 10000)) 100000' >'$L/cpu.max'"; }

brun create "$N" --cpus 1
[ "$RC" = 0 ] || { echo "bench: create failed: $ERR"; exit 1; }
brun start "$N"
[ "$RC" = 0 ] || { echo "bench: start failed: $ERR"; exit 1; }
echo "# kernel $(uname -r), qemu TCG: absolute times are ~20x a real CPU's; read the ratios"
per_run_us "berth set $N --cpus 0.5|0.6" set_cpus
SET=$US
per_run_us "berth status $N --json" "$BERTH" --root "$R" status "$N" --json
STATUS=$US
per_run_us "sh -c 'echo ... >cpu.max'" raw_write
RAW=$US
grep -qx "60000 100000\|50000 100000" "$L/cpu.max" || { echo "bench: cpu.max is $(cat "$L/cpu.max")"; exit 1; }
echo "bench: ratio set/status $((SET * 100 / STATUS))%, set/raw shell write $((SET * 100 / RAW))%"
