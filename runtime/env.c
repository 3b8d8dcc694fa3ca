/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "runtime-internal.h"

static size_t key_len(const char *kv)
{
	const char *eq = strchr(kv, '=');

	return eq ? (size_t)(eq - kv) : strlen(kv);
}

/* Put kv in env (n entries), replacing an entry with the same key. */
static void env_put(char **env, size_t *n, char *kv)
{
	size_t k = key_len(kv);

	for (size_t i = 0; i < *n; i++)
		if (key_len(env[i]) == k && strncmp(env[i], kv, k) == 0) {
			env[i] = kv;
			return;
		}
	env[(*n)++] = kv;
}

char **env_build(char *const *user_env, char *term_kv)
{
	static char *const defaults[] = {
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=/root",
		"container=berth",
	};
	size_t cap = ARRAY_SIZE(defaults) + 2, n = 0;
	char **env;

	for (char *const *e = user_env; e && *e; e++)
		cap++;
	env = calloc(cap, sizeof(char *));
	if (!env)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(defaults); i++)
		env_put(env, &n, defaults[i]);
	if (term_kv)
		env_put(env, &n, term_kv);
	for (char *const *e = user_env; e && *e; e++)
		env_put(env, &n, *e);
	env[n] = NULL;
	return env;
}
