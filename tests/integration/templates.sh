#!/bin/bash
# SPDX-License-Identifier: MIT
#
# berth template list|create|import|remove: root, this host.
#
#   templates.sh BERTH
#
# Needs root (else exits 77, meson's "skipped"): an import keeps owners,
# device nodes and file capabilities, which only root can make. Runs in a
# private mount namespace with a temp --root removed at the end. Each test
# prints "ok - NAME", "ok - NAME # SKIP why" or "not ok - NAME: why"; the last
# line is "templates: N passed, N failed, N skipped"; the exit status is 1 on
# any failure. The harness itself is in lib.sh.
set -u
export LC_ALL=C
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$(realpath "$0")")/lib.sh" || exit 99

suite_init templates "berth template tests"
need_args "BERTH" "$@"
need_root "owners, device nodes, file capabilities"
BERTH=$(realpath -e "$1") || exit 2
need_tools unshare tar gzip mknod mkfifo stat find truncate timeout
private_mntns BERTH_TPL_HOST_MNTNS "$BERTH"

work_dirs berth-tpl-it berth-tpl-root
T=$R/lib/templates
BGPID=
cleanup() {
	trap '' INT TERM HUP PIPE
	if [ -n "$BGPID" ] && kill -0 "$BGPID" 2>/dev/null; then kill -KILL "$BGPID"; fi
	cleanup_harness
}
trap cleanup EXIT

# brun ARGS...: berth --root R ARGS with a time limit. Sets RC, OUT, ERR.
brun() { berth_run 120 "$@"; }
# The names in the templates dir, hidden ones too, one line.
store() { find "$T" -mindepth 1 -maxdepth 1 -printf '%f ' 2>/dev/null; }
hidden_temp() { find "$T" -mindepth 1 -maxdepth 1 -name ".$1.tmp-*" -printf '%f ' 2>/dev/null; }

# --- xattr and ACL access: attr/acl tools when there, else python3 -------------

XATTR=''
if command -v getfattr >/dev/null && command -v setfattr >/dev/null; then
	XATTR=attr
	xset() { setfattr -h -n "$2" -v "0x$3" "$1"; } # value in hex
	xhex() { getfattr -h --absolute-names -e hex -n "$2" "$1" 2>/dev/null | sed -n "s/^$2=0x//p"; }
elif command -v python3 >/dev/null; then
	XATTR=python3
	xset() {
		python3 -c 'import os, sys
os.setxattr(sys.argv[1], sys.argv[2], bytes.fromhex(sys.argv[3]), follow_symlinks=False)' "$@"
	}
	xhex() {
		python3 -c 'import os, sys
try: sys.stdout.write(os.getxattr(sys.argv[1], sys.argv[2], follow_symlinks=False).hex())
except OSError: pass' "$@"
	}
fi
[ -n "$XATTR" ] || echo "# SKIPPED below: no getfattr/setfattr (apt-get install attr) nor python3: xattr and ACL checks" >&2
hex() { od -An -tx1 -v | tr -d ' \n'; }
# A POSIX ACL in its xattr form: user::rw- user:1234:r-- group::r-- mask::r-- other::r--
le16() { printf '%04x' "$1" | sed -E 's/(..)(..)/\2\1/'; }
le32() { printf '%08x' "$1" | sed -E 's/(..)(..)(..)(..)/\4\3\2\1/'; }
acl_entry() { printf '%s%s%s' "$(le16 "$1")" "$(le16 "$2")" "$(le32 "$3")"; }
ACL_HEX=$(le32 2)$(acl_entry 1 6 4294967295)$(acl_entry 2 4 1234)$(acl_entry 4 4 4294967295)$(acl_entry 16 4 4294967295)$(acl_entry 32 4 4294967295)

HAVE_SETCAP=0
command -v setcap >/dev/null && command -v getcap >/dev/null && HAVE_SETCAP=1
[ "$HAVE_SETCAP" = 1 ] || echo "# SKIPPED below: no setcap/getcap (apt-get install libcap2-bin): the security.capability check" >&2

# --- the source tree -----------------------------------------------------------

SRC=$WORK/src
make_source() {
	mkdir -p "$SRC"/{bin,sbin,etc,dev,data} &&
		printf '#!/bin/sh\necho tool\n' >"$SRC/bin/tool" &&
		chown 0:0 "$SRC/bin/tool" && chmod 04755 "$SRC/bin/tool" &&
		ln -s ../bin/tool "$SRC/sbin/init" &&
		echo owned >"$SRC/data/owned" && chown 1234:5678 "$SRC/data/owned" &&
		mknod -m 0666 "$SRC/dev/null" c 1 3 &&
		mkfifo -m 0640 "$SRC/data/fifo" &&
		ln -s /etc/hostname "$SRC/data/symlink" &&
		echo pair >"$SRC/data/link-a" && ln "$SRC/data/link-a" "$SRC/data/link-b" &&
		echo xattr >"$SRC/data/xattr" &&
		echo acl >"$SRC/data/acl" &&
		printf '\177ELF' >"$SRC/bin/ping" && chmod 0755 "$SRC/bin/ping" &&
		printf 'start' >"$SRC/data/sparse" && truncate -s 256M "$SRC/data/sparse" &&
		touch -h -d '2001-09-09 01:46:40' "$SRC/data/owned" "$SRC/data/symlink" &&
		touch -d '2002-02-02 02:02:02' "$SRC/data" &&
		chmod 0700 "$SRC"
}
make_source || bail "cannot make the source tree in $SRC"
if [ -n "$XATTR" ]; then
	xset "$SRC/data/xattr" user.berth.test "$(printf 'kept value' | hex)" ||
		bail "cannot set a user.* xattr on $SRC (file system without user xattrs?)"
	xset "$SRC/data/acl" system.posix_acl_access "$ACL_HEX" || bail "cannot set an ACL on $SRC"
fi
if [ "$HAVE_SETCAP" = 1 ]; then
	setcap cap_net_raw+ep "$SRC/bin/ping" || bail "setcap on $SRC/bin/ping failed"
fi

# Everything but the top directory: type, mode, owner, mtime (s), size of files, link text.
tree_state() {
	find "$1" -mindepth 1 -printf '%P|%y|%m|%U:%G|%T@|%l|%s\n' |
		awk -F'|' 'BEGIN { OFS = "|" } { sub(/\..*/, "", $5); if ($2 == "d") $7 = "-"; print }' |
		sort
}
SRC_STATE=$(tree_state "$SRC")

# check_copy DIR: DIR (a template) holds what $SRC holds, each property compared.
check_copy() {
	local d=$1 got s
	got=$(tree_state "$d")
	[ "$got" = "$SRC_STATE" ] ||
		why "tree differs: $(diff <(echo "$SRC_STATE") <(echo "$got") | grep '^[<>]' | head -4 | tr '\n' ' ')"
	[ "$(stat -c '%a %u:%g' "$d/bin/tool" 2>&1)" = "4755 0:0" ] ||
		why "bin/tool is $(stat -c '%a %u:%g' "$d/bin/tool" 2>&1), want 4755 0:0"
	[ "$(stat -c '%u:%g' "$d/data/owned" 2>&1)" = "1234:5678" ] ||
		why "data/owned is owned by $(stat -c '%u:%g' "$d/data/owned" 2>&1), want 1234:5678"
	[ "$(stat -c '%F %t:%T %a' "$d/dev/null" 2>&1)" = "character special file 1:3 666" ] ||
		why "dev/null is $(q "$(stat -c '%F %t:%T %a' "$d/dev/null" 2>&1)"), want a char device 1:3"
	[ -p "$d/data/fifo" ] || why "data/fifo is not a FIFO"
	[ "$(readlink "$d/data/symlink")" = /etc/hostname ] ||
		why "data/symlink -> $(q "$(readlink "$d/data/symlink")"), want /etc/hostname"
	[ "$(stat -c %i "$d/data/link-a" 2>&1)" = "$(stat -c %i "$d/data/link-b" 2>&1)" ] ||
		why "data/link-a and data/link-b are no longer one inode"
	[ "$(stat -c %h "$d/data/link-a" 2>&1)" = 2 ] || why "data/link-a has $(stat -c %h "$d/data/link-a") links, want 2"
	[ "$(stat -c %Y "$d/data/owned")" = "$(stat -c %Y "$SRC/data/owned")" ] ||
		why "data/owned mtime $(stat -c %Y "$d/data/owned"), want $(stat -c %Y "$SRC/data/owned")"
	[ "$(stat -c %Y "$d/data")" = "$(stat -c %Y "$SRC/data")" ] || why "data/ mtime not kept"
	s=$(stat -c '%s %b %B' "$d/data/sparse")
	read -r size blocks bsize <<<"$s"
	[ "$size" = 268435456 ] || why "data/sparse size $size, want 268435456"
	[ $((blocks * bsize)) -lt 1048576 ] || why "data/sparse takes $((blocks * bsize)) bytes on disk: not sparse"
	[ "$(head -c 5 "$d/data/sparse")" = start ] || why "data/sparse lost its data"
	[ "$(stat -c '%a %u:%g' "$d")" = "755 0:0" ] ||
		why "the template dir is $(stat -c '%a %u:%g' "$d"), want 755 0:0"
	if [ -n "$XATTR" ]; then
		got=$(xhex "$d/data/xattr" user.berth.test)
		[ "$got" = "$(printf 'kept value' | hex)" ] || why "user.berth.test xattr is $(q "$got")"
		got=$(xhex "$d/data/acl" system.posix_acl_access)
		[ "$got" = "$ACL_HEX" ] || why "the ACL on data/acl is $(q "$got"), want $ACL_HEX"
	fi
	if [ "$HAVE_SETCAP" = 1 ]; then
		got=$(getcap "$d/bin/ping" 2>&1)
		[ "${got#"$d/bin/ping"}" = " cap_net_raw=ep" ] ||
			why "security.capability of bin/ping: getcap says $(q "$got")"
	fi
	[ -n "$XATTR" ] || skipping "xattr and ACL checks need attr (getfattr) or python3"
	[ "$HAVE_SETCAP" = 1 ] || skipping "security.capability check needs setcap (apt-get install libcap2-bin)"
}

# --- import --------------------------------------------------------------------

begin "import of a directory keeps owners, modes, devices, FIFOs, symlinks, hard links, xattrs, ACLs, file capabilities, sparse files, timestamps"
brun template import fromdir "$SRC"
want_rc 0
[ -d "$T/fromdir" ] && check_copy "$T/fromdir"
[ -z "$(hidden_temp fromdir)" ] || why "temp dir left: $(hidden_temp fromdir)"
end
[ -d "$T/fromdir" ] || bail "no template from the directory import; cannot go on"

begin "the source directory is unchanged by the import"
[ "$(tree_state "$SRC")" = "$SRC_STATE" ] || why "the source changed"
end

begin "import of a .tar.gz made with tar --xattrs keeps the same"
tar -C "$SRC" --numeric-owner --xattrs --xattrs-include='*' --acls --sparse -czpf "$WORK/src.tar.gz" . ||
	why "cannot make the tarball"
brun template import fromtar "$WORK/src.tar.gz"
want_rc 0
[ -d "$T/fromtar" ] && check_copy "$T/fromtar"
[ -z "$(hidden_temp fromtar)" ] || why "temp dir left: $(hidden_temp fromtar)"
end

begin "import under an existing name is refused and the template is unchanged"
before=$(tree_state "$T/fromdir")
brun template import fromdir "$WORK/src.tar.gz"
want_refused "already exists"
grep -qF "template import fromdir:" <<<"$ERR" || why "stderr does not name the verb and template: $(q "$ERR")"
[ "$(tree_state "$T/fromdir")" = "$before" ] || why "the existing template changed"
[ -z "$(hidden_temp fromdir)" ] || why "temp dir left: $(hidden_temp fromdir)"
end

begin "import of a path that does not exist is refused, nothing left"
brun template import bogus "$WORK/nonexistent"
want_refused "$WORK/nonexistent"
if [ -e "$T/bogus" ] || [ -n "$(hidden_temp bogus)" ]; then why "left: $(store)"; fi
end

begin "import of a file that is not an archive is refused with tar's reason, nothing left"
echo "not an archive" >"$WORK/junk.tar.gz"
brun template import junk "$WORK/junk.tar.gz"
want_refused "tar could not extract"
if [ -e "$T/junk" ] || [ -n "$(hidden_temp junk)" ]; then why "left: $(store)"; fi
end

begin "a tarball cannot write through its own symlink to the host (refused, host untouched)"
mkdir -p "$WORK/evil/bin" "$WORK/evil/etc" "$WORK/victim"
ln -s "$WORK/victim" "$WORK/evil/etc/out"
tar -C "$WORK/evil" -cf "$WORK/evil.tar" . || why "cannot make the tarball"
rm "$WORK/evil/etc/out" && mkdir "$WORK/evil/etc/out" && echo pwned >"$WORK/evil/etc/out/pwned"
tar -C "$WORK/evil" -rf "$WORK/evil.tar" ./etc/out/pwned || why "cannot append to the tarball"
brun template import evil "$WORK/evil.tar"
want_refused "tar could not extract"
[ ! -e "$WORK/victim/pwned" ] || why "the tarball wrote $WORK/victim/pwned on the host"
if [ -e "$T/evil" ] || [ -n "$(hidden_temp evil)" ]; then why "left: $(store)"; fi
end

begin "import of a directory that is not a root file system is refused, nothing left"
mkdir -p "$WORK/notroot/etc"
brun template import notroot "$WORK/notroot"
want_refused "does not look like a root file system"
if [ -e "$T/notroot" ] || [ -n "$(hidden_temp notroot)" ]; then why "left: $(store)"; fi
end

begin "import under a bad name is refused, naming the name and the rule"
brun template import ../evil "$SRC"
want_refused '"../evil"'
grep -qF "a-z 0-9 . _ -" <<<"$ERR" || why "stderr does not give the rule: $(q "$ERR")"
[ ! -e "$R/lib/evil" ] || why "$R/lib/evil was made"
end

STORE_BEFORE=$(store)
for bad in "" UPPER -x "$(printf 'a%.0s' {1..64})"; do
	begin "template name $(q "$bad") is refused"
	brun template import "$bad" "$SRC"
	want_rc 125
	[ "$(store)" = "$STORE_BEFORE" ] || why "the store changed: $(store)"
	end
done

# --- create --------------------------------------------------------------------

begin "create --busybox makes a template with busybox init"
if [ -x /bin/busybox ]; then
	brun template create small --busybox
	want_rc 0
	if [ ! -L "$T/small/sbin/init" ] || [ ! -x "$T/small/bin/busybox" ]; then
		why "no busybox in $T/small"
	fi
	[ "$(stat -c '%a %u:%g' "$T/small" 2>&1)" = "755 0:0" ] || why "$T/small is $(stat -c '%a %u:%g' "$T/small" 2>&1)"
	brun template create small --busybox
	want_refused "already exists"
else
	skipping "no /bin/busybox (apt-get install busybox-static)"
fi
end

# A real debootstrap (the mirror, a minute) is tests/integration/systemd.sh's; here the refusals.
begin "create --debootstrap with a bad suite, package list, variant or mirror is refused"
for bad in "--debootstrap bad/suite:suite" "--debootstrap bookworm --include a;b:--include" \
	"--debootstrap bookworm --variant fakeroot:--variant" "--debootstrap bookworm --mirror ftp://x:--mirror" \
	"--busybox --include systemd:--include" "--busybox --debootstrap bookworm:exclude"; do
	read -r -a args <<<"${bad%:*}"
	CTX=${bad%:*}
	brun template create deb "${args[@]}"
	want_refused "${bad##*:}"
	[ ! -e "$T/deb" ] || why "$T/deb was made"
done
CTX=''
end

begin "create without --busybox or --debootstrap is refused"
brun template create nothing
want_refused "--busybox"
grep -qF -- "--debootstrap" <<<"$ERR" || why "stderr does not mention --debootstrap: $(q "$ERR")"
end

# --- list ----------------------------------------------------------------------

mkdir -p "$T/.hidden.tmp-1-0123456789abcdef"
begin "list: the templates, sorted, with their instance counts; no hidden dirs"
brun template list
want_rc 0
want=$'TEMPLATE  INSTANCES\nfromdir   0\nfromtar   0'
[ -d "$T/small" ] && want+=$'\nsmall     0'
[ "$OUT" = "$want" ] || why "stdout $(q "$OUT"), want $(q "$want")"
end

begin "list --json"
brun template list --json
want_rc 0
# The structure, not the layout: names sorted, hidden temp dirs absent, instance lists.
got=$(python3 -c 'import json, sys
d = json.loads(sys.argv[1])
print(" ".join("%s:%d" % (t["name"], len(t["instances"])) for t in d))' "$OUT" 2>&1) ||
	why "not JSON: $(q "$OUT")"
case $got in
"fromdir:0 fromtar:0"*) ;;
*) why "parsed $(q "$got") from $(q "$OUT")" ;;
esac
case $got in *hidden*) why "a hidden temp dir is listed: $(q "$got")" ;; esac
end
rmdir "$T/.hidden.tmp-1-0123456789abcdef"

begin "template --help lists the subcommands"
brun template --help
want_rc 0
for s in list create import remove; do grep -q "berth template $s" <<<"$OUT" || why "no $s in the help"; done
end

begin "an unknown subcommand is refused"
brun template frobnicate
want_refused "frobnicate"
end

# --- remove --------------------------------------------------------------------

begin "remove: the template is gone, from the list too, nothing hidden left"
brun template remove fromtar
want_rc 0
[ ! -e "$T/fromtar" ] || why "$T/fromtar still there"
[ -z "$(hidden_temp fromtar)" ] || why "left: $(hidden_temp fromtar)"
brun template list
grep -q fromtar <<<"$OUT" && why "list still shows it: $(q "$OUT")"
end

begin "remove of a template that does not exist is refused"
brun template remove fromtar
want_refused "not found"
end

begin "remove while an instance uses it is refused, naming the instance"
brun create --template fromdir tpl-user1
if [ "$RC" != 0 ]; then
	skipping "berth create not available (exit $RC: $(q "$ERR"))"
else
	brun create --template fromdir tpl-user2
	brun template remove fromdir
	want_refused "used by tpl-user1, tpl-user2 (delete them first)"
	[ -d "$T/fromdir" ] || why "the template was removed anyway"
	[ -z "$(hidden_temp fromdir)" ] || why "left: $(hidden_temp fromdir)"
	brun template list
	grep -qE '^fromdir +2$' <<<"$OUT" || why "list does not count 2 instances: $(q "$OUT")"
	brun delete tpl-user1
	brun delete tpl-user2
	brun template remove fromdir
	want_rc 0
fi
end

# --- interrupted -----------------------------------------------------------------

begin "an import killed half-way (SIGKILL) leaves no template under its name, and no tar"
BIG=$WORK/big
if ! mkdir -p "$BIG/bin" "$BIG/etc" || ! head -c 768M /dev/urandom >"$BIG/blob"; then
	why "cannot make $BIG"
fi
env --default-signal "$BERTH" --root "$R" template import big "$BIG" >"$WORK/out" 2>"$WORK/err" </dev/null &
BGPID=$!
for _ in $(seq 1000); do
	[ -n "$(hidden_temp big)" ] && [ -e "$T/$(hidden_temp big | tr -d ' ')/blob" ] && break
	kill -0 "$BGPID" 2>/dev/null || break
	sleep 0.01
done
tars=$(pgrep -P "$BGPID" | tr '\n' ' ')
if kill -KILL "$BGPID" 2>/dev/null && [ -n "$tars" ]; then
	wait "$BGPID" 2>/dev/null
	BGPID=
	for _ in $(seq 100); do
		alive=''
		for p in $tars; do kill -0 "$p" 2>/dev/null && alive+=" $p"; done
		[ -z "$alive" ] && break
		sleep 0.02
	done
	if [ -n "$alive" ]; then
		why "tar outlived berth:$alive"
		for p in $alive; do kill -KILL "$p" 2>/dev/null; done # ours: children of our berth
	fi
	[ ! -e "$T/big" ] || why "$T/big exists"
	brun template list
	want_rc 0
	grep -q big <<<"$OUT" && why "list shows it: $(q "$OUT")"
	left=$(hidden_temp big)
	# The next change sweeps what a dead import left.
	brun template import after "$SRC"
	want_rc 0
	[ -z "$(hidden_temp big)" ] || why "the next import did not sweep $left"
else
	wait "$BGPID" 2>/dev/null
	BGPID=
	skipping "the import finished before it could be killed"
fi
rm -rf "$BIG"
end

echo "templates: $PASS passed, $FAIL failed, $SKIPPED skipped"
[ "$FAIL" = 0 ]
