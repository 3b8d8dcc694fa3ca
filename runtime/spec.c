/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "runtime.h"

void spec_init(spec *s)
{
	*s = (spec){0};
	s->process.cwd = "/";
	s->userns = true;
	s->uid_map = s->gid_map = (idmap){0, IDMAP_DEFAULT_BASE, IDMAP_DEFAULT_COUNT};
}

int idmap_parse(const char *s, idmap *ret, berr *err)
{
	_cleanup_free_ char *copy = strdup(s);
	char *colon;
	idmap m = {0, 0, IDMAP_DEFAULT_COUNT};

	if (!copy)
		return -ENOMEM;
	colon = strchr(copy, ':');
	if (colon)
		*colon = '\0';
	if (parse_u32(copy, &m.outside) < 0 || (colon && parse_u32(colon + 1, &m.count) < 0))
		return berr_setx(err, EINVAL,
				 "idmap \"%s\": not a number (use BASE or BASE:COUNT, "
				 "e.g. 1000000:65536)",
				 s);
	/* Guests expect every id up to nobody (65534) to exist. */
	if (m.count < IDMAP_DEFAULT_COUNT)
		return berr_setx(err, EINVAL,
				 "idmap \"%s\": count %u is too small (at least %u, "
				 "so that nobody, 65534, exists inside)",
				 s, m.count, IDMAP_DEFAULT_COUNT);
	if (m.outside == 0)
		return berr_setx(err, EINVAL,
				 "idmap \"%s\": base 0 would make root inside host "
				 "root (use --userns=host if that is what you want)",
				 s);
	if ((uint64_t)m.outside + m.count - 1 > UINT32_MAX - 1)
		return berr_setx(err, ERANGE, "idmap \"%s\": range runs past the largest id", s);
	*ret = m;
	return 0;
}

int idmap_render(const idmap *m, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%u %u %u\n", m->inside, m->outside, m->count);

	return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}

uint32_t idmap_to_host(const idmap *m, uint32_t inside)
{
	if (inside < m->inside || inside - m->inside >= m->count)
		return (uint32_t)-1;
	return m->outside + (inside - m->inside);
}

/* RFC 1123 host name: labels of letters, digits and '-', not starting or ending with '-'. */
bool spec_hostname_valid(const char *h)
{
	size_t len = strlen(h), label = 0;

	if (len == 0 || len > 64)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = h[i];

		if (c == '.') {
			if (label == 0 || h[i - 1] == '-')
				return false;
			label = 0;
		} else if (isalnum((unsigned char)c) || (c == '-' && label > 0)) {
			label++;
		} else {
			return false;
		}
	}
	return label > 0 && h[len - 1] != '-';
}

int spec_validate(const spec *s, berr *err)
{
	if (!s->process.args || !s->process.args[0] || !s->process.args[0][0])
		return berr_setx(err, EINVAL,
				 "no command given (put it after --, e.g. "
				 "berth run -- /bin/sh)");
	if (!s->process.cwd || s->process.cwd[0] != '/')
		return berr_setx(err, EINVAL,
				 "working directory \"%s\" is not absolute (use e.g. "
				 "--cwd /root)",
				 s->process.cwd ? s->process.cwd : "");
	if (s->hostname && !spec_hostname_valid(s->hostname))
		return berr_setx(err, EINVAL,
				 "hostname \"%s\" is not valid (letters, digits, '-' "
				 "and '.', at most 64 characters)",
				 s->hostname);
	for (char **e = s->process.env; e && *e; e++)
		if ((*e)[0] == '=' || !strchr(*e, '='))
			return berr_setx(err, EINVAL, "environment \"%s\" is not KEY=VALUE", *e);
	if (!s->root.path)
		return berr_setx(err, EINVAL, "no root file system");
	return 0;
}
