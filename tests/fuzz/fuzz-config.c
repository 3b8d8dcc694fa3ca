/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the instance config and state parsers (runtime/config.c).
 * config.json and state.json live under berth's own --root, written by berth;
 * a damaged or hand-edited file must give an error, never a crash. The first
 * byte picks the parser; the rest is the document. A config that parses must
 * also survive a render and parse round trip.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *json;
	berr err = {0};

	if (size < 1)
		return 0;
	json = strndup((const char *)data + 1, size - 1);
	if (!json)
		return 0;
	if (data[0] & 1) {
		instance_state st, again;
		char *out = NULL;
		size_t len;

		if (instance_state_from_json(json, &st, &err) >= 0 &&
		    instance_state_to_json(&st, &out, &len) >= 0 &&
		    instance_state_from_json(out, &again, &err) < 0)
			abort(); /* berth could not read back what it wrote */
		free(out);
	} else {
		instance_config c, again;
		char *out = NULL;
		size_t len;

		if (instance_config_from_json(json, &c, &err) >= 0) {
			if (instance_config_to_json(&c, &out, &len) >= 0) {
				if (instance_config_from_json(out, &again, &err) < 0)
					abort(); /* berth could not read back what it wrote */
				instance_config_free(&again);
			}
			instance_config_free(&c);
		}
		free(out);
	}
	free(json);
	return 0;
}
