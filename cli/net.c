/* SPDX-License-Identifier: MIT */
/* An instance's network in `berth status`: text and JSON. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "ipam.h"

/* "10.88.0.2/16 fd88::2/64", or "-" */
static void addrs_text(const instance_net *n, char *buf, size_t size)
{
	size_t len = 0;

	snprintf(buf, size, "-");
	for (size_t i = 0; i < n->n_addrs && len + 1 < size; i++) {
		int w;

		if (i > 0)
			buf[len++] = ' ';
		w = net_addr_format(&n->addrs[i], true, buf + len, size - len);
		if (w < 0)
			break;
		len += (size_t)w;
	}
}

void cli_net_status_print(const instance_config *c)
{
	const instance_net *n = &c->net;
	char ifname[NET_IFNAMSIZ], addrs[NET_MAX_ADDRS * 48], in[32], out[32];

	if (n->mode == NET_NONE) {
		printf("network:    none (loopback only)\n");
		return;
	}
	net_host_ifname(c->name, ifname);
	addrs_text(n, addrs, sizeof(addrs));
	net_rate_format(n->rate_in, in, sizeof(in));
	net_rate_format(n->rate_out, out, sizeof(out));
	printf("network:    %s, host interface %s\n", net_mode_name(n->mode), ifname);
	printf("addresses:  %s\n", addrs);
	printf("net rate:   in %s, out %s\n", in, out);
	printf("antispoof:  %s\n", n->antispoof ? "on" : "off (--no-antispoof)");
}

void cli_net_status_json(json_gen *g, const instance_config *c)
{
	const instance_net *n = &c->net;
	char ifname[NET_IFNAMSIZ] = "";

	if (n->mode != NET_NONE)
		net_host_ifname(c->name, ifname);
	json_gen_key(g, "network");
	json_gen_map_open(g);
	json_gen_key_string(g, "mode", net_mode_name(n->mode));
	json_gen_key_string(g, "host_interface", n->mode != NET_NONE ? ifname : NULL);
	instance_net_addrs_json(g, n);
	json_gen_key_u64(g, "rate_in", n->rate_in);
	json_gen_key_u64(g, "rate_out", n->rate_out);
	json_gen_key_bool(g, "antispoof", n->antispoof);
	json_gen_map_close(g);
}
