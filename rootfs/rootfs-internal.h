/* SPDX-License-Identifier: MIT */
/* rootfs: shared between its own files and its unit tests only. */
#pragma once

#include "rootfs.h"

/* A fresh hidden working name for template name, for this process. */
char *template_temp_name_new(const char *name);
/* renameat2(RENAME_NOREPLACE) within dfd, with a rename(2) fallback for directories. */
int template_rename_noreplace(int dfd, const char *from, const char *to);

/*
 * tar(1) (tar.c): the one place that runs it. GNU tar keeps what a root file
 * system needs: numeric owners, modes, device nodes, xattrs (security.* too),
 * ACLs, hard links, sparse files, timestamps. Both run tar with a clean
 * environment, never through a shell, and fail unless every tar exits 0.
 */
#define TAR_PATHS "/usr/bin/tar", "/bin/tar"
/* Copy the tree below src_dir (absolute) into dst_dir (existing, empty). */
int tar_copy_tree(const char *src_dir, const char *dst_dir, berr *err);
/* Extract the archive (any compression tar detects) into dst_dir (existing, empty). */
int tar_extract(const char *archive, const char *dst_dir, berr *err);

/* debootstrap into tmp_path (made here) and make the tree fit to be a template (debootstrap.c). */
int debootstrap_fill(const char *tmp_path, const rootfs_debootstrap *o, berr *err);
