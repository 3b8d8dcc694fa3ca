/* SPDX-License-Identifier: MIT */
/*
 * Templates: read-only root filesystems under templates_dir/NAME. The default
 * one is made on first use from the host's busybox-static, so a fresh host can
 * start an instance with no download.
 */
#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "rootfs-internal.h"

#define BUSYBOX_FIX "(apt-get install busybox-static)"
#define CAPTURE_MAX (1u << 20)
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ELF_NATIVE ELFDATA2LSB
#else
#define ELF_NATIVE ELFDATA2MSB
#endif

/* State of one template build; paths in messages are relative to dest. */
typedef struct tpl_build {
	const char *busybox;
	const char *dest;
	int dfd;
	berr *err;
} tpl_build;

static const struct {
	const char *path;
	mode_t mode;
} tpl_dirs[] = {
	{"bin", 0755},  {"sbin", 0755},       {"usr", 0755}, {"usr/bin", 0755}, {"usr/sbin", 0755},
	{"etc", 0755},  {"etc/init.d", 0755}, {"dev", 0755}, {"proc", 0755},    {"sys", 0755},
	{"run", 0755},  {"tmp", 01777},       {"var", 0755}, {"var/log", 0755}, {"var/tmp", 01777},
	{"root", 0700}, {"home", 0755},       {"mnt", 0755},
};

/*
 * etc/hostname is left out on purpose: the runtime sets the hostname, and
 * rcS only applies one the customer wrote. etc/os-release is written apart,
 * as it carries the busybox version.
 */
static const struct {
	const char *path;
	mode_t mode;
	const char *data;
} tpl_files[] = {
	/*
	 * root's password is empty: at the console's login prompt, "root" and
	 * Enter. Debian's busybox-static reads no shadow file, so the hash lives
	 * here: an "x" would ask for a password that can never match, and an
	 * empty field breaks busybox's getpwuid (id, whoami). The hash is
	 * crypt("", "$1$berth$"). The console is reachable only by host root
	 * (berth console), who owns the instance anyway; networked logins need
	 * a password or key the customer sets (passwd).
	 */
	{"etc/passwd", 0644,
	 "root:$1$berth$Ykt4SOb3nf7sixf72eQ9b1:0:0:root:/root:/bin/sh\n"
	 "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"},
	{"etc/group", 0644, "root:x:0:\ntty:x:5:\nnogroup:x:65534:\n"},
	/* No aging fields, so login does not demand a password change. */
	{"etc/shadow", 0600, "root::::::::\nnobody:*:::::::\n"},
	{"etc/inittab", 0644,
	 "# busybox init: id:runlevels:action:process (runlevels are ignored;\n"
	 "# id is the tty the process runs on, empty means the console).\n"
	 "# Boot-time setup, run once before anything else:\n"
	 "::sysinit:/etc/init.d/rcS\n"
	 "# A login prompt on the console (berth console NAME), restarted on logout:\n"
	 "console::respawn:/sbin/getty -L 38400 console vt100\n"
	 "# Ctrl-Alt-Del on the console reboots the instance, not the host:\n"
	 "::ctrlaltdel:/sbin/reboot\n"
	 "# On halt, poweroff or reboot, leave file systems clean:\n"
	 "::shutdown:/bin/umount -a -r\n"},
	{"etc/init.d/rcS", 0755,
	 "#!/bin/sh\n"
	 "# Run once at boot by busybox init (::sysinit in /etc/inittab).\n"
	 "# No mount -a: the runtime has already mounted /proc, /sys and /dev.\n"
	 "# The runtime sets the hostname; a customer may override it here.\n"
	 "[ -s /etc/hostname ] && hostname -F /etc/hostname\n"
	 "ip link set lo up\n"
	 "exit 0\n"},
	{"etc/profile", 0644,
	 "export PATH=/usr/sbin:/usr/bin:/sbin:/bin\n"
	 "export PS1='\\h:\\w\\$ '\n"},
	{"etc/shells", 0644, "/bin/sh\n"},
	{"etc/resolv.conf", 0644, ""},
	{"etc/hosts", 0644, "127.0.0.1\tlocalhost\n::1\tlocalhost\n"},
};

bool rootfs_template_name_valid(const char *name)
{
	size_t i;

	if (!name || str_eq(name, ".") || str_eq(name, ".."))
		return false;
	for (i = 0; name[i]; i++) {
		char c = name[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		/* '/' is excluded here too: a name is one path component. */
		if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
			return false;
	}
	return i >= 1 && i <= 63;
}

int rootfs_template_name_check(const char *name, berr *err)
{
	if (rootfs_template_name_valid(name))
		return 0;
	return berr_setx(err, EINVAL,
			 "template name \"%.64s\" is not valid (use 1 to 63 of a-z 0-9 . _ -, "
			 "starting with a letter or digit)",
			 name ? name : "");
}

/* A dynamic busybox would need the host's libc inside every instance. */
static int check_static_elf(const char *busybox, berr *err)
{
	_cleanup_close_ int fd = open(busybox, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	union {
		Elf64_Ehdr e64;
		Elf32_Ehdr e32;
	} h;
	uint64_t phoff;
	unsigned phentsize, phnum, i;
	ssize_t n;

	if (fd < 0) {
		int e = errno;

		/* The fix goes last, after the reason. */
		return berr_setx(err, e, "busybox at %s: %s " BUSYBOX_FIX, busybox, strerror(e));
	}
	memset(&h, 0, sizeof(h));
	n = pread(fd, &h, sizeof(h), 0);
	if (n < 0)
		return berr_set(err, errno, "read busybox at %s", busybox);
	if ((size_t)n < (h.e64.e_ident[EI_CLASS] == ELFCLASS64 ? sizeof(h.e64) : sizeof(h.e32)) ||
	    memcmp(h.e64.e_ident, ELFMAG, SELFMAG) != 0 || h.e64.e_ident[EI_DATA] != ELF_NATIVE)
		return berr_setx(err, ENOEXEC,
				 "busybox at %s is not an executable for this host " BUSYBOX_FIX,
				 busybox);
	if (h.e64.e_ident[EI_CLASS] == ELFCLASS64) {
		phoff = h.e64.e_phoff;
		phentsize = h.e64.e_phentsize;
		phnum = h.e64.e_phnum;
	} else {
		phoff = h.e32.e_phoff;
		phentsize = h.e32.e_phentsize;
		phnum = h.e32.e_phnum;
	}
	/* p_type is the first 32-bit field of both Elf32_Phdr and Elf64_Phdr. */
	for (i = 0; i < phnum; i++) {
		uint32_t type;

		if (pread(fd, &type, sizeof(type), (off_t)(phoff + (uint64_t)i * phentsize)) !=
		    (ssize_t)sizeof(type))
			return berr_setx(err, ENOEXEC,
					 "busybox at %s: truncated ELF file " BUSYBOX_FIX, busybox);
		if (type == PT_INTERP)
			return berr_setx(err, ENOEXEC,
					 "busybox at %s is dynamically linked; a "
					 "template needs a static one " BUSYBOX_FIX,
					 busybox);
	}
	return 0;
}

static int read_all(int fd, char **ret)
{
	_cleanup_free_ char *buf = malloc(CAPTURE_MAX + 1);
	size_t len = 0;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n = read(fd, buf + len, CAPTURE_MAX - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == CAPTURE_MAX)
			return -EFBIG;
	}
	buf[len] = '\0';
	*ret = TAKE_PTR(buf);
	return 0;
}

/* Run "busybox ARG" with a clean environment and return its stdout. */
static int busybox_capture(const tpl_build *b, const char *arg, char **ret)
{
	char *argv[] = {(char *)"busybox", (char *)arg, NULL};
	char *envp[] = {(char *)"PATH=/usr/sbin:/usr/bin:/sbin:/bin", (char *)"LC_ALL=C", NULL};
	_cleanup_close_ int rfd = -EBADF, wfd = -EBADF;
	_cleanup_free_ char *out = NULL;
	posix_spawn_file_actions_t fa;
	int pfd[2], status, r, rr;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return berr_set(b->err, errno, "pipe for %s %s", b->busybox, arg);
	rfd = pfd[0];
	wfd = pfd[1];
	r = posix_spawn_file_actions_init(&fa);
	if (r == 0)
		r = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (r == 0)
		r = posix_spawn_file_actions_adddup2(&fa, wfd, 1);
	if (r == 0)
		r = posix_spawn(&pid, b->busybox, &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0)
		return berr_set(b->err, r, "run %s %s", b->busybox, arg);
	close(TAKE_FD(wfd));
	rr = read_all(rfd, &out);
	/* Close before reaping: a child still writing (output over the cap) gets SIGPIPE. */
	close(TAKE_FD(rfd));
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return berr_set(b->err, errno, "wait for %s %s", b->busybox, arg);
	if (rr == 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
		return berr_setx(b->err, EIO, "%s %s failed (%s %d) " BUSYBOX_FIX, b->busybox, arg,
				 WIFEXITED(status) ? "exit status" : "signal",
				 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	if (rr < 0)
		return berr_set(b->err, -rr, "read output of %s %s", b->busybox, arg);
	*ret = TAKE_PTR(out);
	return 0;
}

/* mkdirat with the exact mode, umask aside; an existing directory is fine. */
static int mkdir_exact(const tpl_build *b, const char *path, mode_t mode)
{
	if (mkdirat(b->dfd, path, mode) < 0) {
		if (errno == EEXIST)
			return 0;
		return berr_set(b->err, errno, "create %s/%s", b->dest, path);
	}
	if (fchmodat(b->dfd, path, mode, 0) < 0)
		return berr_set(b->err, errno, "chmod %s/%s", b->dest, path);
	return 0;
}

static int write_new_file(const tpl_build *b, const char *path, const char *data, mode_t mode)
{
	_cleanup_close_ int fd =
		openat(b->dfd, path,
		       O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, mode);
	size_t len = strlen(data);

	if (fd < 0)
		return berr_set(b->err, errno, "create %s/%s", b->dest, path);
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return berr_set(b->err, errno, "write %s/%s", b->dest, path);
		data += n;
		len -= (size_t)n;
	}
	if (fchmod(fd, mode) < 0)
		return berr_set(b->err, errno, "chmod %s/%s", b->dest, path);
	return 0;
}

/*
 * One relative symlink per applet, so the links stay right wherever the
 * template is mounted. The list comes from the binary; a line that could
 * leave dest (absolute, "..") is refused rather than trusted.
 */
static int link_applet(const tpl_build *b, char *path)
{
	char target[PATH_MAX] = "";
	size_t off = 0;
	char *s;
	int r;

	if (path[0] == '\0' || str_eq(path, "bin/busybox"))
		return 0;
	if (path[0] == '/' || strstr(path, "..") || strstr(path, "//") ||
	    strlen(path) > PATH_MAX / 4)
		return berr_setx(b->err, EINVAL,
				 "%s --list-full: bad applet path \"%s\" " BUSYBOX_FIX, b->busybox,
				 path);
	for (s = strchr(path, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		r = mkdir_exact(b, path, 0755);
		*s = '/';
		if (r < 0)
			return r;
		off += (size_t)snprintf(target + off, sizeof(target) - off, "../");
	}
	snprintf(target + off, sizeof(target) - off, "bin/busybox");
	if (symlinkat(target, b->dfd, path) < 0 && errno != EEXIST)
		return berr_set(b->err, errno, "symlink %s/%s", b->dest, path);
	return 0;
}

static int link_applets(const tpl_build *b)
{
	_cleanup_free_ char *list = NULL;
	char *line, *save = NULL;
	int r, n = 0;

	r = busybox_capture(b, "--list-full", &list);
	if (r < 0)
		return r;
	for (line = strtok_r(list, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		r = link_applet(b, line);
		if (r < 0)
			return r;
		n++;
	}
	if (n == 0)
		return berr_setx(b->err, EINVAL, "%s --list-full listed no applets " BUSYBOX_FIX,
				 b->busybox);
	return 0;
}

/* From "BusyBox v1.35.0 (Debian 1:1.35.0-4) multi-call binary." */
static int write_os_release(const tpl_build *b)
{
	_cleanup_free_ char *help = NULL, *data = NULL;
	char *ver, *end, *p;
	int r;

	r = busybox_capture(b, "--help", &help);
	if (r < 0)
		return r;
	ver = strstr(help, "BusyBox v");
	if (!ver)
		return berr_setx(b->err, EINVAL,
				 "%s --help: no \"BusyBox v\" version line " BUSYBOX_FIX,
				 b->busybox);
	ver += strlen("BusyBox v");
	end = ver + strcspn(ver, "\n");
	*end = '\0';
	p = strstr(ver, " multi-call binary");
	if (p)
		*p = '\0';
	/* os-release values are shell-quoted: keep nothing the shell would expand. */
	for (p = ver; *p; p++)
		if (strchr("\"\\`$", *p))
			*p = '_';
	data = str_printf("NAME=\"berth busybox\"\nID=berth-busybox\nVERSION=\"%s\"\n"
			  "VERSION_ID=%.*s\nPRETTY_NAME=\"berth busybox %.*s\"\n",
			  ver, (int)strcspn(ver, " "), ver, (int)strcspn(ver, " "), ver);
	if (!data)
		return berr_set(b->err, ENOMEM, "os-release");
	return write_new_file(b, "etc/os-release", data, 0644);
}

static int populate(const tpl_build *b)
{
	size_t i;
	int r;

	for (i = 0; i < ARRAY_SIZE(tpl_dirs); i++) {
		r = mkdir_exact(b, tpl_dirs[i].path, tpl_dirs[i].mode);
		if (r < 0)
			return r;
	}
	r = copy_file_at(AT_FDCWD, b->busybox, b->dfd, "bin/busybox", 0755);
	if (r < 0)
		return berr_set(b->err, -r, "copy %s to %s/bin/busybox", b->busybox, b->dest);
	r = link_applets(b);
	if (r < 0)
		return r;
	for (i = 0; i < ARRAY_SIZE(tpl_files); i++) {
		r = write_new_file(b, tpl_files[i].path, tpl_files[i].data, tpl_files[i].mode);
		if (r < 0)
			return r;
	}
	/* busybox mount, df and umount -a read the mount table through it. */
	if (symlinkat("../proc/self/mounts", b->dfd, "etc/mtab") < 0)
		return berr_set(b->err, errno, "symlink %s/etc/mtab", b->dest);
	r = write_os_release(b);
	if (r < 0)
		return r;
	/* The template is renamed into place next: its contents must be on disk first. */
	if (syncfs(b->dfd) < 0)
		return berr_set(b->err, errno, "sync %s", b->dest);
	return 0;
}

int rootfs_template_build_busybox(const char *busybox, const char *dest, berr *err)
{
	_cleanup_close_ int dfd = -EBADF;
	tpl_build b = {.busybox = busybox, .dest = dest, .err = err};
	int r;

	r = check_static_elf(busybox, err);
	if (r < 0)
		return r;
	if (mkdir(dest, 0755) < 0)
		return berr_set(err, errno, "create template directory %s", dest);
	dfd = open(dest, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		r = berr_set(err, errno, "open %s", dest);
	else if (fchmod(dfd, 0755) < 0)
		r = berr_set(err, errno, "chmod %s", dest);
	if (r == 0) {
		b.dfd = dfd;
		r = populate(&b);
	}
	if (r < 0)
		rm_rf_at(AT_FDCWD, dest);
	return r;
}

/*
 * Build in a hidden temp dir, then rename it onto its name: concurrent starts
 * either win the rename or find the winner's template, and a failed or killed
 * build never leaves a half-made template under the real name.
 */
static int build_default(const char *templates_dir, const char *busybox, berr *err)
{
	_cleanup_free_ char *tmp = NULL, *tmp_path = NULL;
	_cleanup_close_ int dfd = -EBADF;
	int r;

	r = mkdir_p(templates_dir, 0700);
	if (r < 0)
		return berr_set(err, -r, "create templates directory %s", templates_dir);
	dfd = open(templates_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return berr_set(err, errno, "open templates directory %s", templates_dir);
	tmp = template_temp_name_new(ROOTFS_DEFAULT_TEMPLATE);
	tmp_path = tmp ? str_printf("%s/%s", templates_dir, tmp) : NULL;
	if (!tmp_path)
		return berr_set(err, ENOMEM, "build default template");
	r = rootfs_template_build_busybox(busybox, tmp_path, err);
	if (r < 0) {
		berr_prefix(err, "build default template");
		return r;
	}
	r = template_rename_noreplace(dfd, tmp, ROOTFS_DEFAULT_TEMPLATE);
	if (r == -EEXIST || r == -ENOTEMPTY) {
		log_debug("default template in %s was built concurrently; using that one",
			  templates_dir);
		r = 0;
	} else if (r < 0) {
		r = berr_set(err, -r, "rename %s to %s/%s", tmp_path, templates_dir,
			     ROOTFS_DEFAULT_TEMPLATE);
	}
	rm_rf_at(dfd, tmp);
	if (r == 0 && fsync(dfd) < 0)
		r = berr_set(err, errno, "sync templates directory %s", templates_dir);
	return r;
}

int rootfs_template_resolve(const char *templates_dir, const char *name, const char *busybox,
			    char **ret_path, berr *err)
{
	_cleanup_free_ char *path = NULL;
	struct stat st;
	int r;

	r = rootfs_template_name_check(name, err);
	if (r < 0)
		return r;
	path = str_printf("%s/%s", templates_dir, name);
	if (!path)
		return berr_set(err, ENOMEM, "template %s", name);
	if (stat(path, &st) < 0) {
		if (errno != ENOENT)
			return berr_set(err, errno, "template %s", path);
		if (!str_eq(name, ROOTFS_DEFAULT_TEMPLATE))
			return berr_setx(err, ENOENT,
					 "template \"%s\" not found in %s (the "
					 "default template is \"%s\")",
					 name, templates_dir, ROOTFS_DEFAULT_TEMPLATE);
		r = build_default(templates_dir, busybox, err);
		if (r < 0)
			return r;
		if (stat(path, &st) < 0)
			return berr_set(err, errno, "template %s", path);
	}
	if (!S_ISDIR(st.st_mode))
		return berr_setx(err, ENOTDIR,
				 "template %s is not a directory (remove it, or "
				 "put a root filesystem there)",
				 path);
	*ret_path = TAKE_PTR(path);
	return 0;
}
