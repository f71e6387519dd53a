/* agentward egress enforcement: cgroup connect4/connect6/sendmsg4/sendmsg6 programs that
 * check each destination of a process in a governed cgroup against that agent's allowlist.
 *
 * All four are attached together: connect4 alone leaves IPv4-mapped IPv6 (connect6 to
 * ::ffff:a.b.c.d) and unconnected UDP (sendmsg) open. Addresses are kept as 16 bytes with
 * IPv4 v4-mapped, so one rule covers both spellings of an IPv4 destination.
 *
 * Maps are pinned by name: links pinned in bpffs keep enforcing with the same allowlist
 * after the probe exits, and the next probe reopens them. */
#include "common.h"

char LICENSE[] SEC("license") = "GPL";

#define LIBBPF_PIN_BY_NAME 1

struct egress_policy {
	__u8 enforce; /* 0: monitor (log would-be denials), 1: enforce (EPERM) */
	__u8 _pad[7];
};

struct egress_rule {
	__u64 policy_cgroup;
	__u8 addr[16];
	__u16 port; /* 0: any port */
	__u8 _pad[6];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct egress_policy);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} egress_policies SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct egress_rule);
	__type(value, __u8);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} egress_allow SEC(".maps");

/* Allowed networks: the longest prefix of (policy cgroup, port, address) that matches. The
 * cgroup and port are always matched whole (prefixlen counts their 80 bits), the address
 * to the network's length (an IPv4 network's bits start at bit 96 of the v4-mapped form). */
struct egress_net {
	__u32 prefixlen;
	__u64 policy_cgroup;
	__u16 port; /* 0: any port */
	__u8 addr[16];
} __attribute__((packed));

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 16384);
	__type(key, struct egress_net);
	__type(value, __u8);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} egress_allow_nets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 18);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} egress_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, COUNTER_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} egress_counters SEC(".maps");

static __always_inline void report(__u64 cgroup_id, __u16 family, __u16 port, __u16 sock_type,
				   const __u8 *addr, __u8 enforcing)
{
	struct connect_event *e = bpf_ringbuf_reserve(&egress_events, sizeof(*e), 0);
	if (!e) {
		count(&egress_counters, COUNTER_RESERVE_FAILED);
		return;
	}
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	e->h.boot_ns = bpf_ktime_get_boot_ns();
	e->h.cgroup_id = cgroup_id;
	e->h.pid = pid_tgid >> 32;
	e->h.tid = (__u32)pid_tgid;
	e->h.ppid = 0;
	e->h.uid = (__u32)bpf_get_current_uid_gid();
	e->h.kind = KIND_EGRESS;
	e->h.size = sizeof(*e);
	e->h.result = enforcing ? -1 /* EPERM */ : 0;
	bpf_get_current_comm(e->h.comm, sizeof(e->h.comm));
	e->family = family;
	e->port = port;
	e->sock_type = sock_type;
	e->verdict = 0;
	e->enforcing = enforcing;
	__builtin_memcpy(e->addr, addr, 16);
	bpf_ringbuf_submit(e, 0);
	count(&egress_counters, COUNTER_EMITTED);
}

/* 1 lets the call go on, 0 fails it with EPERM. */
static __always_inline int decide(__u16 family, __u16 port, __u16 sock_type, const __u8 *addr)
{
	__u64 cgroup_id = bpf_get_current_cgroup_id();
	__u64 policy_cgroup = nearest_listed_cgroup(&egress_policies, cgroup_id);
	if (!policy_cgroup)
		return 1;
	struct egress_policy *policy = bpf_map_lookup_elem(&egress_policies, &policy_cgroup);
	if (!policy)
		return 1;
	struct egress_rule rule = {.policy_cgroup = policy_cgroup, .port = port};
	__builtin_memcpy(rule.addr, addr, 16);
	if (bpf_map_lookup_elem(&egress_allow, &rule))
		return 1;
	rule.port = 0;
	if (bpf_map_lookup_elem(&egress_allow, &rule))
		return 1;
	struct egress_net net = {.prefixlen = 64 + 16 + 128, .policy_cgroup = policy_cgroup,
				 .port = port};
	__builtin_memcpy(net.addr, addr, 16);
	if (bpf_map_lookup_elem(&egress_allow_nets, &net))
		return 1;
	net.port = 0;
	if (bpf_map_lookup_elem(&egress_allow_nets, &net))
		return 1;
	__u8 enforce = policy->enforce;
	report(cgroup_id, family, port, sock_type, addr, enforce);
	return enforce ? 0 : 1;
}

static __always_inline int decide4(struct bpf_sock_addr *ctx)
{
	__u32 ip4 = ctx->user_ip4; /* network order */
	__u8 addr[16] = {};
	addr[10] = 0xff;
	addr[11] = 0xff;
	__builtin_memcpy(&addr[12], &ip4, 4);
	return decide(2, __builtin_bswap16((__u16)ctx->user_port), ctx->type, addr);
}

static __always_inline int decide6(struct bpf_sock_addr *ctx)
{
	__u32 ip6[4];
	ip6[0] = ctx->user_ip6[0];
	ip6[1] = ctx->user_ip6[1];
	ip6[2] = ctx->user_ip6[2];
	ip6[3] = ctx->user_ip6[3];
	return decide(10, __builtin_bswap16((__u16)ctx->user_port), ctx->type, (const __u8 *)ip6);
}

SEC("cgroup/connect4")
int egress_connect4(struct bpf_sock_addr *ctx) { return decide4(ctx); }

SEC("cgroup/connect6")
int egress_connect6(struct bpf_sock_addr *ctx) { return decide6(ctx); }

SEC("cgroup/sendmsg4")
int egress_sendmsg4(struct bpf_sock_addr *ctx) { return decide4(ctx); }

SEC("cgroup/sendmsg6")
int egress_sendmsg6(struct bpf_sock_addr *ctx) { return decide6(ctx); }
