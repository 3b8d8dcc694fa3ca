/* SPDX-License-Identifier: MIT */
/* Helpers shared by the template tests (test_template.c, test_template_store.c). */
#pragma once

#include <sys/types.h>

#define BUSYBOX "/bin/busybox"

extern char tmpdir[64]; /* a fresh temp dir per test (tmp_setup) */
extern char tpl[256];   /* tmpdir/tpl */

void tmp_setup(void);
void tmp_teardown(void);
/* Skip the test loudly unless /bin/busybox is a static busybox. */
void require_static_busybox(void);
/* rel is a symlink whose text is want_text and which resolves to bin/busybox. */
void assert_applet_link(const char *rel, const char *want_text);
/* The names in dir, sorted, joined with spaces (caller frees). */
char *dir_list(const char *dir);
/* Independent of template.c: does the ELF file at path have a PT_INTERP? 1, 0, -errno. */
int elf64_is_dynamic(const char *path);
