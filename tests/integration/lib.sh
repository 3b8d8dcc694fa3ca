# shellcheck shell=bash
# SPDX-License-Identifier: MIT
#
# What the integration suites (run.sh, templates.sh, instances.sh) share,
# sourced by each from its own directory. Each suite calls, in order:
#
#   suite_init NAME TITLE       name of the closing line, title of the banner
#   need_args "ARG..." "$@"     else a usage line and exit 2
#   need_root WHY               else skip_all (exit 77, meson's "skipped")
#   need_tools TOOL...          else skip_all
#   private_mntns MARKER ARG... re-exec in a private mount namespace
#
# Then the TAP-like protocol: begin NAME; assertions (why REASON for each
# failure, skipping REASON for a part that cannot run); end. Each test prints
# "ok - NAME", "ok - NAME # SKIP why" or "not ok - NAME: why"; finish prints
# "NAME: N passed, N failed, N skipped" and returns 1 on any failure.
# shellcheck disable=SC2034 # RC, NOW, TIMEDOUT, CG, ... are read by the suites

PASS=0 FAIL=0 SKIPPED=0
SUITE='' SUITE_TITLE=''
suite_init() { SUITE=$1 SUITE_TITLE=$2; }

skip_all() {
	echo "########################################################################" >&2
	echo "# SKIP: $SUITE_TITLE: $*" >&2
	echo "########################################################################" >&2
	echo "$SUITE: 0 passed, 0 failed, 0 skipped (all skipped: $*)"
	exit 77
}

# need_args "NAME..." "$@": one argument per NAME, else usage and exit 2.
need_args() {
	local names=$1
	local -a name_list
	read -r -a name_list <<<"$names"
	shift
	if [ $# -ne "${#name_list[@]}" ]; then
		echo "usage: $0 $names" >&2
		exit 2
	fi
}
need_root() { [ "$(id -u)" = 0 ] || skip_all "need root ($*); run as root"; }
need_tools() {
	local tool
	for tool in "$@"; do
		command -v "$tool" >/dev/null || skip_all "need $tool"
	done
}

# private_mntns MARKER ARG...: re-exec this script with ARGs in a private mount
# namespace and a private network namespace (instances get veths and routes:
# never in the machine's own). The environment variable MARKER carries the
# host's namespace ids, so the inner run can prove it is somewhere else before
# it mounts or links anything. With KEEP_HOST_NET=1 set before the call, a
# keeper process stays in the machine's network namespace (it exits with this
# script), so that on_host_net can run a command that needs the outside world
# there: only a download (debootstrap from the Debian mirror), never anything
# that makes links or routes.
private_mntns() {
	local marker=$1 host
	shift
	if [ -z "${!marker:-}" ]; then
		host="$(readlink /proc/self/ns/mnt) $(readlink /proc/self/ns/net)"
		export "$marker=$host"
		if [ "${KEEP_HOST_NET:-}" = 1 ]; then
			tail --pid=$$ -f /dev/null </dev/null >/dev/null 2>&1 &
			export BERTH_TEST_NET_KEEPER=$!
		fi
		exec unshare --mount --propagation private --net -- "$BASH" "$0" "$@"
	fi
	if [ "$(readlink /proc/self/ns/mnt)" = "${!marker% *}" ]; then
		echo "Bail out! not in a private mount namespace; refusing to mount anything" >&2
		exit 1
	fi
	if [ "$(readlink /proc/self/ns/net)" = "${!marker#* }" ]; then
		echo "Bail out! not in a private network namespace; refusing to make links" >&2
		exit 1
	fi
	# The private namespace's loopback starts down.
	if command -v ip >/dev/null; then ip link set lo up; fi
}

# host_netns: the path of the machine's network namespace, held by the keeper
# (see private_mntns, KEEP_HOST_NET=1). on_host_net COMMAND...: run COMMAND
# there (for downloads only); `nsenter --net="$(host_netns)" CMD &` when the
# caller needs CMD's own pid.
host_netns() {
	local keeper=${BERTH_TEST_NET_KEEPER:-}
	[ -n "$keeper" ] && [ "$(readlink "/proc/$keeper/ns/net")" != "$(readlink /proc/self/ns/net)" ] ||
		bail "host_netns: no keeper in the machine's network namespace (KEEP_HOST_NET=1 before private_mntns)"
	echo "/proc/$keeper/ns/net"
}
on_host_net() { nsenter --net="$(host_netns)" -- "$@"; }

# --- results -----------------------------------------------------------------

ok() { PASS=$((PASS + 1)); echo "ok - $1"; }
notok() { FAIL=$((FAIL + 1)); echo "not ok - $1: $2"; }
skip() {
	SKIPPED=$((SKIPPED + 1))
	echo "ok - $1 # SKIP $2"
	echo "# SKIPPED: $1: $2" >&2
}
bail() {
	echo "Bail out! $*"
	FAIL=$((FAIL + 1))
	echo "$SUITE: $PASS passed, $FAIL failed, $SKIPPED skipped (bailed out: $*)"
	exit 1
}
finish() {
	echo "$SUITE: $PASS passed, $FAIL failed, $SKIPPED skipped"
	[ "$FAIL" = 0 ]
}

# A test: begin NAME; assertions; end. CTX, when set, prefixes each reason
# (e.g. which round of a loop). A suite whose runner checks each berth run for
# leftovers sets RAN=1 and LEFT (what the run left behind): such a test fails
# on leftovers too.
TNAME='' WHY='' SKIPWHY='' CTX='' RAN=0 LEFT=''
begin() { TNAME=$1 WHY='' SKIPWHY='' RAN=0; }
why() { WHY+="${WHY:+; }${CTX:+$CTX: }$*"; }
skipping() { SKIPWHY=$*; }
end() {
	if [ "$RAN" = 1 ] && [ -n "$LEFT" ]; then why "left behind: $LEFT"; fi
	if [ -n "$WHY" ]; then
		notok "$TNAME" "$WHY"
	elif [ -n "$SKIPWHY" ]; then
		skip "$TNAME" "$SKIPWHY"
	else
		ok "$TNAME"
	fi
}
q() { # quote for a message, bounded
	local s
	s=$(printf '%q' "$1")
	[ ${#s} -le 240 ] || s="${s:0:240}..."
	printf '%s' "$s"
}

# Assertions on the last berth run (RC, OUT, ERR).
errhint() { [ -z "$ERR" ] || printf ' (stderr: %s)' "$(q "$ERR")"; }
want_rc() { [ "$RC" = "$1" ] || why "exit status $RC, want $1$(errhint)"; }
want_out() { [ "$OUT" = "$1" ] || why "stdout $(q "$OUT"), want $(q "$1")$(errhint)"; }
want_ok() { want_rc 0; want_out "$1"; }
# A refusal: exit 125, one stderr line "berth: ..." that mentions $1, no stdout.
want_refused() {
	want_rc 125
	if [ "$(printf '%s\n' "$ERR" | grep -c .)" != 1 ] || [ "${ERR#berth: }" = "$ERR" ]; then
		why "stderr should be one line starting 'berth: ', got $(q "$ERR")"
	fi
	grep -qiF -- "$1" <<<"$ERR" || why "stderr $(q "$ERR") does not say $(q "$1")"
	[ -z "$OUT" ] || why "unexpected stdout $(q "$OUT")"
}

# berth_run SECONDS ARGS...: berth --root R ARGS, stdin /dev/null, killed
# after SECONDS. Sets RC, OUT, ERR. Redirections on the call (e.g. 9>file)
# reach berth.
berth_run() {
	local seconds=$1
	shift
	timeout --signal=KILL "$seconds" env --default-signal "$BERTH" --root "$R" "$@" \
		>"$WORK/out" 2>"$WORK/err" </dev/null
	RC=$?
	OUT=$(tr -d '\0' <"$WORK/out") ERR=$(<"$WORK/err")
}

# --- temp dirs, sleeping and waiting without forking ---------------------------

# work_dirs WORKNAME ROOTNAME: WORK (scratch) and R (berth's --root) as
# /tmp/NAME.XXXXXX, removed on exit; INT, TERM, HUP, PIPE exit (and so clean up).
WORK='' R=''
work_dirs() {
	WORK=$(mktemp -d "/tmp/$1.XXXXXX") || bail "mktemp"
	R=$(mktemp -d "/tmp/$2.XXXXXX") || { rm -rf "$WORK"; bail "mktemp"; }
	trap 'rm -rf --one-file-system "$WORK" "$R"' EXIT
	trap 'exit 1' INT TERM HUP PIPE
	BCG=$(cgroup_parent "$R")
}

# shellcheck source=../cgroup-parent.sh
. "$(dirname "${BASH_SOURCE[0]}")/../cgroup-parent.sh"

# nap SECONDS: sleep without a fork, by a read that times out on a FIFO of
# our own (nap_init makes it, in WORK).
NAPFD=
nap_init() {
	mkfifo "$WORK/nap" || bail "mkfifo"
	exec {NAPFD}<>"$WORK/nap"
}
nap() { read -r -t "$1" -u "$NAPFD" _ || :; }
now_us() { NOW=${EPOCHREALTIME/./}; }

# jget KEY JSON: the value of "KEY" in berth's pretty-printed --json output
# (one key per line), without quotes; the first match.
jget() { sed -n "s/^ *\"$1\": *\"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}\$/\1/p" <<<"$2" | head -1; }

# prun [PTY STEPS...] -- ARGS...: berth --root $R ARGS on a pty driven by the
# berth-pty helper ($PTY), killed after 40 s. Sets RC, OUT (NULs and CRs
# dropped) and ERR.
prun() {
	local steps=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		steps+=("$1")
		shift
	done
	shift
	timeout --signal=KILL 40 "$PTY" "${steps[@]}" -- "$BERTH" --root "$R" "$@" \
		>"$WORK/out" 2>"$WORK/err" </dev/null
	RC=$?
	OUT=$(tr -d '\0\r' <"$WORK/out") ERR=$(<"$WORK/err")
}

# until_ SECONDS COMMAND...: run COMMAND every 50 ms until it succeeds (0) or
# SECONDS pass (1). Needs nap_init.
until_() {
	local deadline
	now_us
	deadline=$((NOW + $1 * 1000000))
	shift
	until "$@"; do
		now_us
		((NOW < deadline)) || return 1
		nap 0.05
	done
}

# wait_job PID SECONDS: reap our background job; RC its status; on timeout
# SIGKILL it (our own child) and set TIMEDOUT=1.
wait_job() {
	local pid=$1 deadline
	now_us
	deadline=$((NOW + $2 * 1000000))
	TIMEDOUT=0
	while kill -0 "$pid" 2>/dev/null; do
		now_us
		if ((NOW > deadline)); then
			TIMEDOUT=1
			kill -KILL "$pid" 2>/dev/null
			break
		fi
		nap 0.01
	done
	wait "$pid"
	RC=$?
}

# --- the cgroup2 mount, the harness's own cgroup, v1 covered -------------------

# find_cgroup2: CG, where cgroup2 is mounted; skip_all if nowhere.
CG='' HCG='' HCG_ORIG=''
find_cgroup2() {
	local mp rest
	while read -r _ _ _ _ mp _ rest; do
		rest=" $rest" rest=${rest#* - }
		if [ "${rest%% *}" = cgroup2 ] && [ -z "$CG" ]; then CG=$(printf '%b' "$mp"); fi
	done </proc/self/mountinfo
	[ -n "$CG" ] || skip_all "no cgroup2 mount on this host"
}

# cover_cgroup_v1 SOURCE: an empty tmpfs (named SOURCE) over every cgroup v1
# mount point, in this (private) mount namespace only.
cover_cgroup_v1() {
	local mp rest n=0
	while read -r _ _ _ _ mp _ rest; do
		rest=" $rest" rest=${rest#* - }
		[ "${rest%% *}" = cgroup ] || continue
		mp=$(printf '%b' "$mp")
		mount -t tmpfs -o mode=0755,size=4k "$1" "$mp" ||
			bail "cannot cover cgroup v1 mount $mp"
		n=$((n + 1))
	done < <(cat /proc/self/mountinfo)
	echo "# covered $n cgroup v1 mount point(s) with tmpfs (private namespace)"
}

# harness_cgroup NAME: the harness moves into a cgroup of its own, CG/NAME-PID
# (HCG), so that everything it starts and leaves behind is found there at the
# end, and is ours to kill.
harness_cgroup() {
	HCG_ORIG=$(sed -n 's/^0:://p' /proc/self/cgroup)
	HCG=$CG/$1-$$
	mkdir "$HCG" || bail "cannot make the harness cgroup $HCG"
	echo $$ >"$HCG/cgroup.procs" || { rmdir "$HCG"; bail "cannot enter the harness cgroup $HCG"; }
}

# cleanup_harness: the last step of a suite's EXIT trap. Leaves the harness
# cgroup, kills what is left in it, removes it, and removes the temp dirs.
# No nap (read -t) here: the trap may have interrupted one.
cleanup_harness() {
	local -a procs
	if [ -n "$HCG" ]; then
		echo $$ >"$CG$HCG_ORIG/cgroup.procs" 2>/dev/null
		if [ -d "$HCG" ]; then
			mapfile -t procs <"$HCG/cgroup.procs"
			if [ "${#procs[@]}" -gt 0 ]; then
				echo "# cleanup: killing stray processes left in $HCG: ${procs[*]}" >&2
				echo 1 >"$HCG/cgroup.kill"
			fi
			for _ in 1 2 3 4 5 6 7 8 9 10; do rmdir "$HCG" 2>/dev/null && break; sleep 0.1; done
		fi
	fi
	rm -rf --one-file-system "$WORK" "$R"
}
