/*
 * napi-dump -- the tests' own reader of the kernel's `netdev` generic netlink family, written
 * on raw AF_NETLINK sockets (no libnl, nothing shared with bpstune) so that bpstune's netlink
 * work is checked by an independent implementation.
 *
 *   napi-dump IFNAME     one line per rx/tx queue and per NAPI of IFNAME:
 *                          queue rx 0 napi 8193
 *                          napi 8193 irq 25 pid 1234 defer-hard-irqs 0 gro-flush-timeout 0
 *                               irq-suspend-timeout 0 threaded 1
 *                        (a missing attribute prints as "-")
 *   napi-dump --ops      the family's op numbers, then napi-set's policy: attribute numbers
 *                        with their maximum value where the kernel states one
 *
 * Attribute and command numbers: include/uapi/linux/netdev.h (linux-libc-dev 6.1 predates them).
 */
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { CMD_QUEUE_GET = 10, CMD_NAPI_GET = 11, CMD_NAPI_SET = 14 };
enum { NAPI_IFINDEX = 1, NAPI_ID, NAPI_IRQ, NAPI_PID, NAPI_DEFER, NAPI_GRO, NAPI_SUSPEND, NAPI_THREADED, NAPI_MAX };
enum { QUEUE_ID = 1, QUEUE_IFINDEX, QUEUE_TYPE, QUEUE_NAPI_ID, QUEUE_MAX = 16 };

static int fd;
static unsigned seq = 1;
static char buf[1 << 16];

static void die(const char *what) {
	fprintf(stderr, "napi-dump: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void put_attr(char *msg, struct nlmsghdr *h, int type, const void *data, int len) {
	struct nlattr *a = (struct nlattr *)(msg + NLMSG_ALIGN(h->nlmsg_len));
	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	memcpy((char *)a + NLA_HDRLEN, data, len);
	h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + NLA_ALIGN(a->nla_len);
}

struct attr { int type; const void *data; int len; };

/* Sends one request with up to two attributes; `each` gets every reply message's attributes.
 * Returns 0, or the kernel's negative errno. */
static int request(int family, int cmd, int flags, const struct attr *attrs, int count,
		   void (*each)(struct nlattr **, int, void *), int max, void *ctx) {
	char msg[512] = {0};
	struct nlmsghdr *h = (struct nlmsghdr *)msg;
	h->nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	h->nlmsg_type = family;
	h->nlmsg_flags = NLM_F_REQUEST | flags;
	h->nlmsg_seq = ++seq;
	struct genlmsghdr *g = NLMSG_DATA(h);
	g->cmd = cmd;
	g->version = 1;
	for (int i = 0; i < count; i++) put_attr(msg, h, attrs[i].type, attrs[i].data, attrs[i].len);
	if (send(fd, msg, h->nlmsg_len, 0) < 0) die("send");
	for (;;) {
		int n = recv(fd, buf, sizeof buf, 0);
		if (n < 0) die("recv");
		for (struct nlmsghdr *r = (struct nlmsghdr *)buf; NLMSG_OK(r, n); r = NLMSG_NEXT(r, n)) {
			if (r->nlmsg_type == NLMSG_DONE) return 0;
			if (r->nlmsg_type == NLMSG_ERROR) return ((struct nlmsgerr *)NLMSG_DATA(r))->error;
			struct nlattr *tb[64] = {0};
			int rem = r->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
			struct nlattr *a = (struct nlattr *)((char *)NLMSG_DATA(r) + GENL_HDRLEN);
			for (; rem >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= rem;
			     rem -= NLA_ALIGN(a->nla_len), a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len)))
				if ((a->nla_type & NLA_TYPE_MASK) < max) tb[a->nla_type & NLA_TYPE_MASK] = a;
			each(tb, max, ctx);
			/* netdev's dump replies do not carry NLM_F_MULTI: a dump ends at NLMSG_DONE. */
			if (!(flags & NLM_F_DUMP)) return 0;
		}
	}
}

/* request() that must succeed. */
static void must(int err, const char *what) {
	if (err) { errno = -err; die(what); }
}

static void *payload(struct nlattr *a) { return (char *)a + NLA_HDRLEN; }
static uint64_t uint_value(struct nlattr *a) {
	return a->nla_len - NLA_HDRLEN == 8 ? *(uint64_t *)payload(a) : *(uint32_t *)payload(a);
}

static void family_id(struct nlattr **tb, int max, void *ctx) {
	if (tb[CTRL_ATTR_FAMILY_ID]) *(int *)ctx = *(uint16_t *)payload(tb[CTRL_ATTR_FAMILY_ID]);
}

static void print_ops(struct nlattr **tb, int max, void *ctx) {
	if (!tb[CTRL_ATTR_OPS]) return;
	struct nlattr *op = payload(tb[CTRL_ATTR_OPS]);
	int rem = tb[CTRL_ATTR_OPS]->nla_len - NLA_HDRLEN;
	printf("ops");
	for (; rem >= NLA_HDRLEN; rem -= NLA_ALIGN(op->nla_len), op = (struct nlattr *)((char *)op + NLA_ALIGN(op->nla_len))) {
		struct nlattr *f = payload(op);
		int frem = op->nla_len - NLA_HDRLEN;
		for (; frem >= NLA_HDRLEN; frem -= NLA_ALIGN(f->nla_len), f = (struct nlattr *)((char *)f + NLA_ALIGN(f->nla_len)))
			if (f->nla_type == CTRL_ATTR_OP_ID) printf(" %u", *(uint32_t *)payload(f));
	}
	printf("\n");
}

/* CTRL_ATTR_POLICY { policy index { attribute { NL_POLICY_TYPE_ATTR_* } } } */
static void print_policy(struct nlattr **tb, int max, void *ctx) {
	if (!tb[CTRL_ATTR_POLICY]) return;
	struct nlattr *idx = payload(tb[CTRL_ATTR_POLICY]);
	struct nlattr *attr = payload(idx);
	int rem = idx->nla_len - NLA_HDRLEN;
	for (; rem >= NLA_HDRLEN; rem -= NLA_ALIGN(attr->nla_len), attr = (struct nlattr *)((char *)attr + NLA_ALIGN(attr->nla_len))) {
		printf("policy %u attr %u", idx->nla_type & NLA_TYPE_MASK, attr->nla_type & NLA_TYPE_MASK);
		struct nlattr *f = payload(attr);
		int frem = attr->nla_len - NLA_HDRLEN;
		for (; frem >= NLA_HDRLEN; frem -= NLA_ALIGN(f->nla_len), f = (struct nlattr *)((char *)f + NLA_ALIGN(f->nla_len)))
			if (f->nla_type == NL_POLICY_TYPE_ATTR_MAX_VALUE_U) printf(" max %llu", (unsigned long long)uint_value(f));
		printf("\n");
	}
}

static void print_field(const char *name, struct nlattr *a) {
	if (a) printf(" %s %llu", name, (unsigned long long)uint_value(a));
	else printf(" %s -", name);
}

static void print_queue(struct nlattr **tb, int max, void *ctx) {
	if (!tb[QUEUE_IFINDEX] || *(uint32_t *)payload(tb[QUEUE_IFINDEX]) != *(uint32_t *)ctx) return;
	printf("queue %s %u", *(uint32_t *)payload(tb[QUEUE_TYPE]) ? "tx" : "rx", *(uint32_t *)payload(tb[QUEUE_ID]));
	print_field("napi", tb[QUEUE_NAPI_ID]);
	printf("\n");
}

static void print_napi(struct nlattr **tb, int max, void *ctx) {
	if (!tb[NAPI_IFINDEX] || *(uint32_t *)payload(tb[NAPI_IFINDEX]) != *(uint32_t *)ctx) return;
	printf("napi %u", *(uint32_t *)payload(tb[NAPI_ID]));
	print_field("irq", tb[NAPI_IRQ]);
	print_field("pid", tb[NAPI_PID]);
	print_field("defer-hard-irqs", tb[NAPI_DEFER]);
	print_field("gro-flush-timeout", tb[NAPI_GRO]);
	print_field("irq-suspend-timeout", tb[NAPI_SUSPEND]);
	print_field("threaded", tb[NAPI_THREADED]);
	printf("\n");
}

int main(int argc, char **argv) {
	if (argc != 2) {
		fprintf(stderr, "usage: napi-dump IFNAME | --ops\n");
		return 2;
	}
	fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_GENERIC);
	if (fd < 0) die("socket");
	int family = 0;
	struct attr name = {CTRL_ATTR_FAMILY_NAME, "netdev", 7};
	must(request(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0, &name, 1, family_id, CTRL_ATTR_MAX + 1, &family), "netdev family");
	if (!strcmp(argv[1], "--ops")) {
		must(request(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0, &name, 1, print_ops, CTRL_ATTR_MAX + 1, NULL), "ops");
		uint32_t op = CMD_NAPI_SET;
		struct attr policy[] = {name, {CTRL_ATTR_OP, &op, 4}};
		int err = request(GENL_ID_CTRL, CTRL_CMD_GETPOLICY, NLM_F_DUMP, policy, 2, print_policy, CTRL_ATTR_MAX + 1, NULL);
		if (err) printf("no napi-set policy (%s)\n", strerror(-err));
		return 0;
	}
	uint32_t ifindex = if_nametoindex(argv[1]);
	if (!ifindex) die(argv[1]);
	struct attr filter = {NAPI_IFINDEX, &ifindex, 4};
	must(request(family, CMD_QUEUE_GET, NLM_F_DUMP, NULL, 0, print_queue, QUEUE_MAX, &ifindex), "queue-get");
	must(request(family, CMD_NAPI_GET, NLM_F_DUMP, &filter, 1, print_napi, NAPI_MAX + 1, &ifindex), "napi-get");
	return 0;
}
