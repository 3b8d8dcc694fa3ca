# SPDX-License-Identifier: MIT
#
# lib.sh: the harness the guest test scripts share (smoke.sh, limits.sh,
# stats.sh, devices.sh). run-vm.sh puts it at /vm/lib.sh next to /vm/test;
# a script sources it with `. /vm/lib.sh` after setting BERTH. busybox ash:
# POSIX sh with local.
#
# Sourcing sets -u, LC_ALL=C and CG (the guest's cgroup2 root). vm_dirs sets
# what the helpers use: W (brun's and status_json's output), R (berth's
# --root), N (the instance, for status_json) and L (its cgroup, for want_file).
#
# A check: begin NAME; assertions add reasons with why (or skipping); end
# prints "ok - NAME", "ok - NAME # SKIP why" or "not ok - NAME: why". done_
# prints the closing "vm: N passed, N failed, N skipped" line and fails on any
# failure: make it the script's last command.
# shellcheck shell=dash # busybox ash: POSIX sh with local
set -u
export LC_ALL=C
CG=/sys/fs/cgroup
. /vm/cgroup-parent.sh

# vm_dirs NAME [INSTANCE]: the scratch directory W=/run/berth-vm-NAME (made
# here, or the test ends) and berth's --root R=/disk/berth-vm-NAME; with
# INSTANCE, the instance's name N and its cgroup dir L.
vm_dirs() {
	W=/run/berth-vm-$1 R=/disk/berth-vm-$1
	mkdir -p "$W" || exit 1
	BCG=$(cgroup_parent "$R")
	[ $# -lt 2 ] || { N=$2 L=$CG/$BCG/$2; }
}

# Centiseconds since boot, without forking a tool.
uptime_cs() { local u; read -r u _ </proc/uptime; echo $((${u%.*} * 100 + 1${u#*.} - 100)); }
PASS=0 FAIL=0 SKIPPED=0
ok() { PASS=$((PASS + 1)); echo "ok - $1"; }
notok() { FAIL=$((FAIL + 1)); echo "not ok - $1: $2"; }
skip() { SKIPPED=$((SKIPPED + 1)); echo "ok - $1 # SKIP $2"; }

TNAME='' WHY='' SKIPWHY='' T0=0
# begin_check NAME: start a check called exactly NAME (begin may add a prefix).
begin_check() { TNAME=$1 WHY='' SKIPWHY='' T0=$(uptime_cs); }
begin() { begin_check "$1"; }
why() { WHY="$WHY${WHY:+; }$*"; }
skipping() { SKIPWHY=$*; }
end() {
	local cs=$(($(uptime_cs) - T0))
	[ "$cs" -lt 100 ] || echo "# ${cs}0 ms: $TNAME"
	if [ -n "$WHY" ]; then
		notok "$TNAME" "$WHY"
	elif [ -n "$SKIPWHY" ]; then
		echo "########## SKIP: $TNAME: $SKIPWHY"
		skip "$TNAME" "$SKIPWHY"
	else
		ok "$TNAME"
	fi
}
# done_: the closing line; exit status 1 on any failure.
done_() {
	echo "vm: $PASS passed, $FAIL failed, $SKIPPED skipped"
	[ "$FAIL" = 0 ]
}
q() { # quote for a message, on one line, bounded
	local s
	s=$(printf '%s' "$1" | tr '\n' '|')
	[ ${#s} -le 300 ] || s="$(printf '%s' "$s" | head -c 300)..."
	printf "'%s'" "$s"
}

# brun ARGS...: berth --root $R ARGS, stdin /dev/null, killed after 120 s
# (TCG is slow). Sets RC, OUT, ERR.
brun() {
	timeout -s KILL 120 "$BERTH" --root "$R" "$@" >"$W/out" 2>"$W/err" </dev/null
	RC=$?
	OUT=$(cat "$W/out") ERR=$(cat "$W/err")
}
errhint() { # stderr of the run, once per check
	case $WHY in *"(stderr: "*) return 0 ;; esac
	[ -z "$ERR" ] || printf ' (stderr: %s)' "$(q "$ERR")"
}
want_rc() { [ "$RC" = "$1" ] || why "exit status $RC, want $1$(errhint)"; }
want_out() { [ "$OUT" = "$1" ] || why "stdout $(q "$OUT"), want $(q "$1")$(errhint)"; }
# want_file FILE CONTENT: the exact content of the cgroup file $L/FILE.
want_file() {
	local have
	have=$(cat "$L/$1" 2>&1)
	[ "$have" = "$2" ] || why "$1 is $(q "$have"), want $(q "$2")"
}
# want_deleted NAME: neither the instance NAME's directory in $R nor its cgroup is left.
want_deleted() {
	[ ! -e "$R/lib/instances/$1" ] || why "$R/lib/instances/$1 still there"
	[ ! -e "$CG/$BCG/$1" ] || why "cgroup $CG/$BCG/$1 still there"
}
# field FILE KEY: the value of "KEY value" in a flat-keyed cgroup file.
field() { sed -n "s/^$2 //p" "$1" 2>/dev/null; }

# until_ SECONDS COMMAND...: run COMMAND every 0.2 s until it succeeds (0) or SECONDS pass (1).
until_() {
	local deadline=$(($(uptime_cs) + $1 * 100))
	shift
	while ! "$@"; do
		[ "$(uptime_cs)" -lt "$deadline" ] || return 1
		sleep 0.2
	done
}

# jget KEY FILE: a scalar member of berth's beautified JSON, one key a line.
jget() { sed -n "s/^ *\"$1\": *\"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}\$/\1/p" "$2" | head -n 1; }
# status_json: berth status $N --json into $W/st; init_pid: its numeric init_pid.
status_json() { timeout -s KILL 60 "$BERTH" --root "$R" status "$N" --json >"$W/st" 2>&1 </dev/null; }
init_pid() { sed -n 's/^ *"init_pid": *\([0-9]*\),*$/\1/p' "$W/st" | head -n 1; }

# need_scratch_disk: /disk must be the ext4 scratch disk, or the test fails
# there with one check and ends.
need_scratch_disk() {
	[ "$(stat -f -c %T /disk 2>/dev/null)" = ext2/ext3 ] && return 0
	begin "the scratch disk is ext4 at /disk"
	why "/disk is $(q "$(stat -f -c %T /disk 2>&1)"): is the scratch disk missing?"
	end
	done_
	exit 1
}
