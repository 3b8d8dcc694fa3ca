/* SPDX-License-Identifier: MIT */
/*
 * Read kernel symbol addresses from /proc/kallsyms (a KASLR bypass). The
 * kernel shows real addresses only to CAP_SYSLOG in the initial user namespace
 * (and, with kptr_restrict=0, to perf when perf_event_paranoid <= 1): inside,
 * every address reads as zero. Prints how many symbols and how many nonzero.
 */
#include "atk.h"

int main(void)
{
	FILE *f = fopen("/proc/kallsyms", "re");
	unsigned long long addr;
	char line[512];
	long n = 0, nonzero = 0;

	if (!f)
		return atk_step("open /proc/kallsyms", -1), 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx", &addr) != 1)
			continue;
		n++;
		nonzero += addr != 0;
	}
	fclose(f);
	printf("symbols: %s\n", n > 1000 ? "many" : "few");
	printf("nonzero addresses: %ld\n", nonzero);
	return 0;
}
