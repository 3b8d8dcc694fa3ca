#!/bin/sh
# SPDX-License-Identifier: MIT
#
# smoke.sh BERTH: the first VM test. Runs as root inside the guest that
# run-vm.sh boots (Debian's stock kernel, a pure cgroup v2 host), in busybox
# ash: any tool that is not a busybox applet is called by its full path.
#
# What the foundation and instances issues promise, on an older kernel than
# the development machines': `berth run` (exit status, PID 1, hostname,
# user namespace, idmapped template, overlay writes), and an instance's life
# (create, start, exec, reboot from inside, stop, delete). Controllers and
# limits are limits.sh's: berth enables only what an instance's limits need.
# Each check runs twice, with berth's --root on the guest's /tmp (tmpfs) and
# on its scratch disk /disk (ext4): a check that fails on one only points at
# that file system's support in this kernel.
#
# Prints "ok - NAME", "ok - NAME # SKIP why" or "not ok - NAME: why"; the last
# line is "vm: N passed, N failed, N skipped"; exit status 1 on any failure.
# shellcheck shell=dash # busybox ash: POSIX sh with local
# shellcheck disable=SC2016 # $... in single quotes is for the shell inside the container
BERTH=${1:?usage: smoke.sh BERTH}
# kernel_at_least MAJOR MINOR: is the running kernel that new?
kernel_at_least() {
	local v major minor
	v=$(uname -r)
	major=${v%%.*} v=${v#*.} minor=${v%%[!0-9]*}
	[ "$major" -gt "$1" ] || { [ "$major" -eq "$1" ] && [ "$minor" -ge "$2" ]; }
}
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091 # /vm/lib.sh in the guest; -x follows it
. /vm/lib.sh
FS='' # the file system of berth's --root, or "guest": each check's name starts with it
begin() { begin_check "[$FS] $1"; }

vm_dirs smoke # R: set for each file system below

# shellcheck disable=SC2048,SC2086 # splitting is the point
words() { echo $*; } # the words of $1, one space apart
want_ok() { want_rc 0; want_out "$1"; }
# want_words LIST WORD...: each WORD is one of the space-separated LIST.
want_words() {
	local list=" $1 " w missing=''
	shift
	for w in "$@"; do
		case $list in *" $w "*) ;; *) missing="$missing $w" ;; esac
	done
	[ -z "$missing" ] || why "missing:$missing (have $(q "${list# }"))$(errhint)"
}

# status --json fields, without touching RC, OUT, ERR.
st() {
	timeout -s KILL 120 "$BERTH" --root "$R" status "$1" --json >"$W/st" 2>&1 </dev/null || {
		S_STATE="(berth status failed: $(q "$(cat "$W/st")"))" S_INIT='' S_BOOTS='' S_LAST=''
		return 1
	}
	S_STATE=$(jget state "$W/st") S_INIT=$(jget init_pid "$W/st")
	S_BOOTS=$(jget boots "$W/st") S_LAST=$(jget last_exit "$W/st")
}
GUEST_HOSTNAME=$(hostname)

# --- the guest itself ---------------------------------------------------------

echo "# kernel $(uname -r), $(grep -c ^processor /proc/cpuinfo) CPUs, berth $("$BERTH" --version 2>&1)"
FS=guest
begin "the guest's cgroup2 root offers the memory, cpu, pids and io controllers"
ERR=''
want_words "$(cat "$CG/cgroup.controllers")" memory cpu pids io
end

# --- berth run ------------------------------------------------------------------

run_checks() {
	begin "run -- /bin/true exits 0 (the default template is built on first use)"
	brun run -- /bin/true
	want_ok ""
	end

	begin "run -- sh -c 'exit 42' exits 42"
	brun run -- sh -c 'exit 42'
	want_rc 42
	end

	begin "run: the command is PID 1"
	brun run -- sh -c 'echo $$'
	want_ok 1
	end

	begin "run: no guest process is visible: /proc lists only PID 1"
	brun run -- sh -c 'cd /proc && echo [0-9]*'
	want_ok 1
	end

	begin "run --hostname: the name inside is the one given, the guest's is unchanged"
	brun run --hostname berth-vm-box -- hostname
	want_ok berth-vm-box
	[ "$(hostname)" = "$GUEST_HOSTNAME" ] || why "the guest's hostname became $(hostname)"
	end

	begin "run: a hostname set inside stays inside"
	brun run -- sh -c 'hostname berth-vm-inside && hostname'
	want_ok berth-vm-inside
	[ "$(hostname)" = "$GUEST_HOSTNAME" ] || why "the guest's hostname became $(hostname)"
	end

	begin "run: uid_map and gid_map are 0 1000000 65536"
	brun run -- cat /proc/self/uid_map /proc/self/gid_map
	want_rc 0
	[ "$(words "$OUT")" = "0 1000000 65536 0 1000000 65536" ] || why "maps $(q "$OUT")$(errhint)"
	end

	begin "run: the command runs as uid 0 gid 0 inside"
	brun run -- id
	want_rc 0
	case $OUT in "uid=0(root) gid=0(root)"*) ;; *) why "id says $(q "$OUT")$(errhint)" ;; esac
	end

	begin "run: template files appear owned by root inside (idmapped lower layer)"
	brun run -- stat -c %u:%g /bin/busybox /etc/passwd
	want_ok "0:0
0:0"
	end

	begin "run: writes inside do not reach the template and are gone on the next run"
	brun run -- sh -c 'echo x >/etc/berth-vm && rm /bin/ls && mkdir /berth-vm-dir && echo wrote'
	want_ok wrote
	brun run -- sh -c 'test ! -e /etc/berth-vm && test -e /bin/ls && test ! -e /berth-vm-dir && echo clean'
	want_ok clean
	[ ! -e "$R/lib/templates/default/etc/berth-vm" ] || why "the template has /etc/berth-vm"
	end

	begin "run: a directory from the template can be removed and made again inside (overlay whiteouts)"
	brun run -- sh -c 'rm -r /etc/init.d && mkdir /etc/init.d && echo removed'
	want_ok removed
	end

	begin "run --userns=host: a directory from the template can be removed and made again inside"
	brun run --userns=host -- sh -c 'rm -r /etc/init.d && mkdir /etc/init.d && echo removed'
	want_ok removed
	end

	begin "run: /sys/fs/cgroup inside is cgroup2"
	brun run -- sed -n 's|^[^ ]* [^ ]* [^ ]* [^ ]* /sys/fs/cgroup .* - \([^ ]*\) .*|\1|p' /proc/self/mountinfo
	want_ok cgroup2
	end

}

# --- an instance's life -------------------------------------------------------------

instance_checks() {
	local n="smoke-$FS" init0 boots0 t0

	begin "create $n exits 0; status stopped"
	brun create "$n"
	want_rc 0
	st "$n"
	[ "$S_STATE" = stopped ] || why "status says $(q "$S_STATE"), want stopped"
	end

	begin "start $n exits 0; status running; its init is PID 1 of the instance in $CG/$BCG/$n"
	brun start "$n"
	want_rc 0
	st "$n"
	[ "$S_STATE" = running ] || why "status says $(q "$S_STATE"), want running"
	if [ -n "$S_INIT" ] && [ -r "/proc/$S_INIT/status" ]; then
		grep -q "^NSpid:.*[[:space:]]1\$" "/proc/$S_INIT/status" ||
			why "init $S_INIT is not PID 1 of its namespace"
		grep -qx "0::/$BCG/$n" "/proc/$S_INIT/cgroup" ||
			why "init $S_INIT is in cgroup $(q "$(cat "/proc/$S_INIT/cgroup")"), want /$BCG/$n"
	else
		why "no live init (status init_pid $(q "$S_INIT"))"
	fi
	end

	begin "exec $n -- cat /proc/1/comm is init"
	brun exec "$n" -- cat /proc/1/comm
	want_ok init
	end

	begin "exec $n: the exit status passes through (sh -c 'exit 42' gives 42)"
	brun exec "$n" -- sh -c 'exit 42'
	want_rc 42
	end

	begin "exec $n: hostname is the instance's name, uid 0 inside, uid_map 0 1000000 65536"
	brun exec "$n" -- sh -c 'hostname; id -u; cat /proc/self/uid_map'
	want_rc 0
	[ "$(words "$OUT")" = "$n 0 0 1000000 65536" ] || why "printed $(q "$OUT")$(errhint)"
	end

	begin "exec $n: a directory from the template can be removed and made again inside"
	brun exec "$n" -- sh -c 'rm -r /etc/init.d && mkdir /etc/init.d && echo removed'
	want_ok removed
	end


	begin "exec $n -- reboot: it boots again (a new init, boots +1, last exit reboot)"
	st "$n"
	init0=$S_INIT boots0=$S_BOOTS
	brun exec "$n" -- reboot
	want_rc 0
	if [ "$RC" != 0 ]; then
		: # no reboot asked for: nothing to wait for
	elif until_ 60 eval 'st "$n" && [ "$S_STATE" = running ] && [ -n "$S_INIT" ] && [ "$S_INIT" != "$init0" ]'; then
		[ "$S_BOOTS" = $((boots0 + 1)) ] || why "boots $(q "$S_BOOTS"), want $((boots0 + 1))"
		[ "$S_LAST" = reboot ] || why "last exit $(q "$S_LAST"), want reboot"
		brun exec "$n" -- cat /proc/1/comm
		want_ok init
	else
		why "not running again with a new init within 60 s (status $(q "$S_STATE"), init $(q "$S_INIT"), was $(q "$init0"))"
	fi
	end

	begin "stop $n exits 0; status stopped; its cgroup is gone"
	t0=$(uptime_cs)
	brun stop "$n"
	want_rc 0
	echo "# stop took $(($(uptime_cs) - t0))0 ms"
	st "$n"
	[ "$S_STATE" = stopped ] || why "status says $(q "$S_STATE"), want stopped"
	[ ! -e "$CG/$BCG/$n" ] || why "cgroup $CG/$BCG/$n still there"
	end

	begin "delete $n exits 0; nothing of it is left"
	brun delete "$n"
	want_rc 0
	want_deleted "$n"
	end
}

# The first lines of /proc/self/mountinfo that differ from the start, or nothing.
cat /proc/self/mountinfo >"$W/mountinfo.start"
mounts_changed() {
	cat /proc/self/mountinfo >"$W/mountinfo.now"
	diff "$W/mountinfo.start" "$W/mountinfo.now" | grep '^[-+][^-+]' | head -n 3 | tr '\n' '|'
}

for spec in tmpfs:/tmp/berth-vm-root ext4:/disk/berth-vm-root; do
	FS=${spec%%:*} R=${spec#*:} BCG=$(cgroup_parent "${spec#*:}")
	have=$(stat -f -c %T "${R%/*}" 2>/dev/null)
	[ "$FS" = tmpfs ] || [ "$have" = ext2/ext3 ] || {
		begin "berth --root on $FS"
		why "${R%/*} is $(q "$have"), not $FS: is the scratch disk missing?"
		end
		continue
	}
	echo "# --root $R ($FS)"
	t0=$(uptime_cs)
	if [ "$FS" = tmpfs ] && ! kernel_at_least 6 3; then
		# tmpfs takes idmapped mounts only from Linux 6.3: berth must say so, not half-work.
		begin "run: a template on tmpfs is refused with the kernel requirement named"
		brun run -- /bin/true
		want_rc 125
		case $ERR in *"tmpfs only from Linux 6.3"*) ;; *) why "stderr $(q "$ERR")" ;; esac
		end
		rm -rf "$R"
		continue
	fi
	run_checks
	instance_checks
	begin "nothing is left behind: mounts, cgroups under $CG/$BCG, processes"
	left=$(mounts_changed)
	[ -z "$left" ] || why "mounts changed: $left"
	left=$(find "$CG/$BCG" -mindepth 1 -type d 2>/dev/null | tr '\n' ' ')
	[ -z "$left" ] || why "cgroups left: $left"
	left=$(ps -o pid,comm | awk '$1 != 1 && $2 ~ /^(berth|init|getty|sleep)$/' | tr '\n' '|')
	[ -z "$left" ] || why "processes left: $left"
	end
	echo "# [$FS] took $(($(uptime_cs) - t0))0 ms"
	rm -rf "$R"
done

FS=guest
begin "the guest's mounts are as they were"
left=$(mounts_changed)
[ -z "$left" ] || why "mounts changed: $left"
end

# What the kernel said about overlay, file systems, cgroups and kills: the why behind a failure.
dmesg | grep -iE 'overlayfs|idmap|xattr|cgroup|oom|killed process|segfault' |
	sed 's/^\[[^]]*\] //' | sort | uniq -c | sed 's/^ *\([0-9]*\) /# kernel (x\1): /'
done_
