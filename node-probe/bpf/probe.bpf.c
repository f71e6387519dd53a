/* agentward node probe: what processes in watched cgroups execute, open and connect to.
 *
 * Only watched cgroups (and their whole subtrees) produce events. A repeated (cgroup, kind,
 * target) is counted in the `dedupe` map instead of being sent again: the baseline needs new
 * behavior and counts, not every syscall. Every event that is not sent is counted, by why,
 * in `counters`; nothing is dropped silently. Wakeups of the reader are batched: a submit
 * wakes it only once `wakeup_bytes` are waiting (the reader also drains on a timer). */
#include "common.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by the loader. */
const volatile __u64 wakeup_bytes = 65536;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, COUNTER_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* Watched cgroup ids (the roots of watched subtrees). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u8);
} watched SEC(".maps");

/* The loader bumps generation[0] whenever `watched` changes, which invalidates every
 * cached verdict at once without walking the cache. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} generation SEC(".maps");

struct verdict {
	__u64 generation;
	__u64 watched;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct verdict);
} verdicts SEC(".maps");

/* Occurrences of each (cgroup, kind, target) sent once; the reader reads the counts. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct dedupe_key);
	__type(value, __u64);
} dedupe SEC(".maps");

/* Per-CPU scratch for a record built before we know whether it is new. */
struct scratch {
	union {
		struct exec_event exec;
		struct open_event open;
	};
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

static __always_inline bool watched_cgroup(__u64 cgroup_id)
{
	__u32 zero = 0;
	__u64 *gen = bpf_map_lookup_elem(&generation, &zero);
	__u64 current = gen ? *gen : 0;
	struct verdict *cached = bpf_map_lookup_elem(&verdicts, &cgroup_id);
	if (cached && cached->generation == current)
		return cached->watched != 0;
	struct verdict fresh = {
		.generation = current,
		.watched = nearest_listed_cgroup(&watched, cgroup_id),
	};
	bpf_map_update_elem(&verdicts, &cgroup_id, &fresh, BPF_ANY);
	return fresh.watched != 0;
}

/* True when this (cgroup, kind, target) was sent before; then it is only counted. */
static __always_inline bool seen_before(__u64 cgroup_id, __u32 kind, __u64 target_hash)
{
	struct dedupe_key key = {.cgroup_id = cgroup_id, .target_hash = target_hash, .kind = kind};
	__u64 *seen = bpf_map_lookup_elem(&dedupe, &key);
	if (seen) {
		__sync_fetch_and_add(seen, 1);
		count(&counters, COUNTER_DEDUPED);
		return true;
	}
	__u64 one = 1;
	long err = bpf_map_update_elem(&dedupe, &key, &one, BPF_NOEXIST);
	if (err == -17 /* EEXIST: another CPU sent it first */) {
		seen = bpf_map_lookup_elem(&dedupe, &key);
		if (seen)
			__sync_fetch_and_add(seen, 1);
		count(&counters, COUNTER_DEDUPED);
		return true;
	}
	if (err)
		count(&counters, COUNTER_DEDUPE_FULL);
	return false;
}

static __always_inline __u64 submit_flags(void)
{
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP
									     : BPF_RB_NO_WAKEUP;
}

static __always_inline void *reserve(__u32 size)
{
	void *record = bpf_ringbuf_reserve(&events, size, 0);
	if (!record)
		count(&counters, COUNTER_RESERVE_FAILED);
	return record;
}

static __always_inline void submit(void *record)
{
	bpf_ringbuf_submit(record, submit_flags());
	count(&counters, COUNTER_EMITTED);
}

static __always_inline void fill_header(struct event_header *h, __u64 cgroup_id, __u16 kind,
					__u16 size)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct task_struct *parent = 0;
	__u32 ppid = 0;
	READ_KERNEL(parent, task->real_parent);
	if (parent)
		READ_KERNEL(ppid, parent->tgid);
	h->boot_ns = bpf_ktime_get_boot_ns();
	h->cgroup_id = cgroup_id;
	h->pid = pid_tgid >> 32;
	h->tid = (__u32)pid_tgid;
	h->ppid = ppid;
	h->uid = (__u32)bpf_get_current_uid_gid();
	h->kind = kind;
	h->size = size;
	h->result = 0;
	bpf_get_current_comm(h->comm, sizeof(h->comm));
}

/* Whether the new program's stdin and stdout are pipes or sockets: how an MCP client
 * runs a stdio server (Python's subprocess pipes, Node's socketpairs), whatever the
 * server's command line says. */
static __always_inline __u32 stdio_flags(struct task_struct *task)
{
	struct files_struct *files = 0;
	struct fdtable *fdt = 0;
	struct file **fds = 0;
	unsigned int max_fds = 0;
	READ_KERNEL(files, task->files);
	if (files)
		READ_KERNEL(fdt, files->fdt);
	if (fdt) {
		READ_KERNEL(max_fds, fdt->max_fds);
		READ_KERNEL(fds, fdt->fd);
	}
	if (!fds || max_fds < 2)
		return 0;
	__u32 flags = 0;
	for (int fd = 0; fd < 2; fd++) {
		struct file *file = 0;
		struct inode *inode = 0;
		umode_t mode = 0;
		bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]);
		if (file)
			READ_KERNEL(inode, file->f_inode);
		if (inode)
			READ_KERNEL(mode, inode->i_mode);
		__u32 type = mode & 0170000;
		if (type == 0010000 /* S_IFIFO */ || type == 0140000 /* S_IFSOCK */)
			flags |= fd == 0 ? EXEC_STDIN_PIPE : EXEC_STDOUT_PIPE;
	}
	return flags;
}

SEC("tracepoint/sched/sched_process_exec")
int on_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	__u64 cgroup_id = bpf_get_current_cgroup_id();
	if (!watched_cgroup(cgroup_id))
		return 0;
	__u32 zero = 0;
	struct scratch *s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return 0;
	struct exec_event *e = &s->exec;
	fill_header(&e->h, cgroup_id, KIND_EXEC, sizeof(*e));

	__u32 filename_offset = ctx->__data_loc_filename & 0xFFFF;
	if (bpf_probe_read_kernel_str(e->filename, sizeof(e->filename),
				      (void *)ctx + filename_offset) < 0) {
		e->filename[0] = 0;
		count(&counters, COUNTER_READ_FAILED);
	}

	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct mm_struct *mm = 0;
	unsigned long arg_start = 0, arg_end = 0;
	READ_KERNEL(mm, task->mm);
	if (mm) {
		READ_KERNEL(arg_start, mm->arg_start);
		READ_KERNEL(arg_end, mm->arg_end);
	}
	__u64 len = arg_end > arg_start ? arg_end - arg_start : 0;
	e->flags = (len > ARGS_LEN ? EXEC_ARGS_TRUNCATED : 0) | stdio_flags(task);
	if (len > ARGS_LEN)
		len = ARGS_LEN;
	e->args_len = 0;
	if (len > 0) {
		/* Two reads so the verifier sees each size bounded by the buffer. */
		long err = len == ARGS_LEN
				   ? bpf_probe_read_user(e->args, ARGS_LEN, (void *)arg_start)
				   : bpf_probe_read_user(e->args, len & (ARGS_LEN - 1), (void *)arg_start);
		if (err == 0)
			e->args_len = len;
		else
			count(&counters, COUNTER_READ_FAILED);
	}

	__u64 hash = fnv1a_str(e->filename, PATH_LEN, FNV_OFFSET);
	__u32 args_len = e->args_len;
	for (__u32 i = 0; i < ARGS_LEN; i++) {
		if (i >= args_len)
			break;
		hash ^= (__u8)e->args[i];
		hash *= 0x100000001b3ULL;
	}
	if (seen_before(cgroup_id, KIND_EXEC, hash))
		return 0;

	struct exec_event *out = reserve(sizeof(*out));
	if (!out)
		return 0;
	__builtin_memcpy(out, e, sizeof(*out));
	submit(out);
	return 0;
}

SEC("tracepoint/sched/sched_process_exit")
int on_exit(void *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	if ((pid_tgid >> 32) != (__u32)pid_tgid)
		return 0; /* a thread, not the process */
	__u64 cgroup_id = bpf_get_current_cgroup_id();
	if (!watched_cgroup(cgroup_id))
		return 0;
	struct exit_event *e = reserve(sizeof(*e));
	if (!e)
		return 0;
	fill_header(&e->h, cgroup_id, KIND_EXIT, sizeof(*e));
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	int exit_code = 0;
	READ_KERNEL(exit_code, task->exit_code);
	e->h.result = exit_code;
	submit(e);
	return 0;
}

SEC("tracepoint/sched/sched_process_fork")
int on_fork(struct trace_event_raw_sched_process_fork *ctx)
{
	__u64 cgroup_id = bpf_get_current_cgroup_id();
	if (!watched_cgroup(cgroup_id))
		return 0;
	struct fork_event *e = reserve(sizeof(*e));
	if (!e)
		return 0;
	fill_header(&e->h, cgroup_id, KIND_FORK, sizeof(*e));
	e->child_pid = ctx->child_pid;
	e->_pad = 0;
	submit(e);
	return 0;
}

/* One hook per open, at exit: the path is read when the kernel has faulted its page in
 * (reading at entry fails for 1-3% of paths), and the arguments are still in the
 * registers saved at entry, so no entry program is needed to keep them — which spares
 * every syscall of every process the entry tracepoint's dispatch. */
SEC("tracepoint/syscalls/sys_exit_openat")
int on_exit_openat(struct trace_event_raw_sys_exit *ctx)
{
	long ret = ctx->ret;
	/* Failed lookups are the noise of every import system; refusals are kept. */
	if (ret < 0 && ret != -13 /* EACCES */ && ret != -1 /* EPERM */)
		return 0;
	__u64 cgroup_id = bpf_get_current_cgroup_id();
	if (!watched_cgroup(cgroup_id))
		return 0;
	/* openat(dfd, filename, flags, mode): x86-64 passes them in di, si, dx, r10. */
	struct pt_regs *regs = bpf_task_pt_regs(bpf_get_current_task_btf());
	unsigned long filename_arg = 0, flags_arg = 0;
	READ_KERNEL(filename_arg, regs->si);
	READ_KERNEL(flags_arg, regs->dx);
	const char *filename = (const char *)filename_arg;
	__u32 flags = (__u32)flags_arg;

	__u32 zero = 0;
	struct scratch *s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return 0;
	struct open_event *e = &s->open;
	int read = bpf_probe_read_user_str(e->path, sizeof(e->path), filename);
	if (read < 0)
		e->path[0] = 0;
	/* Reads and writes of one file are different behavior; so is being refused. */
	__u64 hash = fnv1a_str(e->path, PATH_LEN, FNV_OFFSET);
	hash ^= (flags & 3) | (ret < 0 ? 0x100 : 0);
	hash *= 0x100000001b3ULL;
	/* A repeat costs only the path and the count: the header is filled for new ones. */
	if (seen_before(cgroup_id, KIND_OPEN, hash))
		return 0;
	if (read < 0)
		count(&counters, COUNTER_READ_FAILED);
	fill_header(&e->h, cgroup_id, KIND_OPEN, sizeof(*e));
	e->h.result = (__s32)ret;
	e->flags = flags;
	e->_pad = 0;
	struct open_event *out = reserve(sizeof(*out));
	if (!out)
		return 0;
	__builtin_memcpy(out, e, sizeof(*out));
	submit(out);
	return 0;
}

static __always_inline void emit_connect(__u64 cgroup_id, __u16 kind, __u16 family, __u16 port,
					 __u16 sock_type, const __u8 *addr16)
{
	struct connect_event draft = {};
	draft.family = family;
	draft.port = port;
	draft.sock_type = sock_type;
	__builtin_memcpy(draft.addr, addr16, 16);
	__u64 hash = fnv1a_bytes((const __u8 *)&draft.family, 24, FNV_OFFSET);
	if (seen_before(cgroup_id, kind, hash))
		return;
	struct connect_event *e = reserve(sizeof(*e));
	if (!e)
		return;
	fill_header(&e->h, cgroup_id, kind, sizeof(*e));
	e->family = family;
	e->port = port;
	e->sock_type = sock_type;
	e->verdict = 1;
	e->enforcing = 0;
	__builtin_memcpy(e->addr, addr16, 16);
	submit(e);
}

static __always_inline void v4_mapped(__u8 *out, const __u8 *v4)
{
	__builtin_memset(out, 0, 10);
	out[10] = 0xff;
	out[11] = 0xff;
	out[12] = v4[0];
	out[13] = v4[1];
	out[14] = v4[2];
	out[15] = v4[3];
}

/* TCP connects, v4 and v6, as the kernel moves the socket to SYN_SENT in the connecting
 * task's context. */
SEC("tracepoint/sock/inet_sock_set_state")
int on_inet_sock_set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	if (ctx->protocol != IPPROTO_TCP || ctx->oldstate != TCP_CLOSE || ctx->newstate != TCP_SYN_SENT)
		return 0;
	__u64 cgroup_id = bpf_get_current_cgroup_id();
	if (!watched_cgroup(cgroup_id))
		return 0;
	/* The verifier allows only fixed-offset loads from a tracepoint context; copy the
	 * address arrays out first. */
	__u8 addr[16];
	__u16 family = ctx->family;
	__u16 port = ctx->dport;
	if (family == 2 /* AF_INET */) {
		__u8 v4[4];
		bpf_probe_read_kernel(v4, sizeof(v4), ctx->daddr);
		v4_mapped(addr, v4);
	} else {
		bpf_probe_read_kernel(addr, sizeof(addr), ctx->daddr_v6);
	}
	emit_connect(cgroup_id, KIND_TCP_CONNECT, family, port, 1 /* SOCK_STREAM */, addr);
	return 0;
}

/* UDP (and other non-TCP) destinations, from cgroup hooks on the topmost watched cgroups
 * rather than a syscall tracepoint: `connect` of a datagram socket (how most resolvers
 * and QUIC clients talk) and `sendmsg`/`sendto` with an address on an unconnected one.
 * They run only for the watched cgroups' sockets, and cost nothing elsewhere; a repeat
 * is counted in the dedupe map like any behavior. TCP is reported by the state change
 * above, with its real outcome. They always let the call go on. */
static __always_inline int observe_datagram4(struct bpf_sock_addr *ctx, __u16 kind)
{
	if (ctx->type == 1 /* SOCK_STREAM */)
		return 1;
	__u32 ip4 = ctx->user_ip4; /* network order */
	__u8 addr[16];
	v4_mapped(addr, (const __u8 *)&ip4);
	emit_connect(bpf_get_current_cgroup_id(), kind, 2,
		     __builtin_bswap16((__u16)ctx->user_port), ctx->type, addr);
	return 1;
}

static __always_inline int observe_datagram6(struct bpf_sock_addr *ctx, __u16 kind)
{
	if (ctx->type == 1 /* SOCK_STREAM */)
		return 1;
	__u32 ip6[4];
	ip6[0] = ctx->user_ip6[0];
	ip6[1] = ctx->user_ip6[1];
	ip6[2] = ctx->user_ip6[2];
	ip6[3] = ctx->user_ip6[3];
	emit_connect(bpf_get_current_cgroup_id(), kind, 10,
		     __builtin_bswap16((__u16)ctx->user_port), ctx->type, (const __u8 *)ip6);
	return 1;
}

SEC("cgroup/connect4")
int observe_connect4(struct bpf_sock_addr *ctx) { return observe_datagram4(ctx, KIND_CONNECT); }

SEC("cgroup/connect6")
int observe_connect6(struct bpf_sock_addr *ctx) { return observe_datagram6(ctx, KIND_CONNECT); }

/* A sendto on an unconnected socket is its own kind: a server's replies go to whoever
 * asked, which is no destination the agent chose. */
SEC("cgroup/sendmsg4")
int observe_sendmsg4(struct bpf_sock_addr *ctx) { return observe_datagram4(ctx, KIND_SENDTO); }

SEC("cgroup/sendmsg6")
int observe_sendmsg6(struct bpf_sock_addr *ctx) { return observe_datagram6(ctx, KIND_SENDTO); }

/* DNS over UDP, from the packets of the watched cgroups' sockets: these programs are
 * attached to the topmost watched cgroups too (so they never run for anyone else), and cost
 * one header read per packet that is not DNS. The names an agent looks up, and the
 * addresses it is told, are what turn a connect to 203.0.113.7:443 into one to
 * api.openai.com. DNS over TCP and over HTTPS are not seen. */
static __always_inline int dns_packet(struct __sk_buff *skb, bool egress)
{
	__u8 first = 0;
	if (bpf_skb_load_bytes(skb, 0, &first, 1) < 0)
		return 1;
	__u8 addr[16];
	__u16 family;
	__u32 l4;
	if ((first >> 4) == 4) {
		struct iphdr ip;
		if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)) < 0)
			return 1;
		/* A fragment's payload is not a whole message; the first one is only part of it. */
		if (ip.protocol != IPPROTO_UDP || (ip.frag_off & __builtin_bswap16(0x3fff)))
			return 1;
		l4 = (__u32)(first & 0x0f) * 4;
		family = 2;
		v4_mapped(addr, (const __u8 *)(egress ? &ip.daddr : &ip.saddr));
	} else if ((first >> 4) == 6) {
		struct ipv6hdr ip6;
		if (bpf_skb_load_bytes(skb, 0, &ip6, sizeof(ip6)) < 0)
			return 1;
		if (ip6.nexthdr != IPPROTO_UDP)
			return 1;
		l4 = sizeof(ip6);
		family = 10;
		__builtin_memcpy(addr, egress ? (const void *)&ip6.daddr : (const void *)&ip6.saddr, 16);
	} else {
		return 1;
	}
	struct udphdr udp;
	if (bpf_skb_load_bytes(skb, l4, &udp, sizeof(udp)) < 0)
		return 1;
	__u16 port = __builtin_bswap16(egress ? udp.dest : udp.source);
	if (port != 53)
		return 1;
	__u32 offset = l4 + sizeof(udp);
	__u32 len = skb->len > offset ? skb->len - offset : 0;
	if (len < 12) /* shorter than a DNS header: not a message */
		return 1;
	struct dns_event *e = reserve(sizeof(*e));
	if (!e)
		return 1;
	if (egress) {
		fill_header(&e->h, bpf_skb_cgroup_id(skb), KIND_DNS, sizeof(*e));
	} else {
		__builtin_memset(&e->h, 0, sizeof(e->h));
		e->h.boot_ns = bpf_ktime_get_boot_ns();
		e->h.cgroup_id = bpf_skb_cgroup_id(skb);
		e->h.kind = KIND_DNS;
		e->h.size = sizeof(*e);
	}
	e->family = family;
	e->port = port;
	e->client_port = __builtin_bswap16(egress ? udp.source : udp.dest);
	__builtin_memset(e->_pad, 0, sizeof(e->_pad));
	e->answer = !egress;
	e->truncated = len > DNS_LEN;
	__builtin_memcpy(e->addr, addr, 16);
	/* Sizes the verifier can bound: the whole buffer, or 1..DNS_LEN by mask (len is at
	 * least 12 here, so the mask changes nothing). */
	__u32 copy = DNS_LEN;
	long err;
	if (len >= DNS_LEN) {
		err = bpf_skb_load_bytes(skb, offset, e->message, DNS_LEN);
	} else {
		copy = ((len - 1) & (DNS_LEN - 1)) + 1;
		err = bpf_skb_load_bytes(skb, offset, e->message, copy);
	}
	if (err < 0) {
		e->len = 0;
		count(&counters, COUNTER_READ_FAILED);
	} else {
		e->len = copy;
	}
	submit(e);
	return 1;
}

SEC("cgroup_skb/egress")
int dns_egress(struct __sk_buff *skb)
{
	return dns_packet(skb, true);
}

SEC("cgroup_skb/ingress")
int dns_ingress(struct __sk_buff *skb)
{
	return dns_packet(skb, false);
}

/* Syscall recording, for seccomp envelopes: one bit per syscall number per cgroup. Off
 * unless the loader attaches `on_sys_enter` (it runs on every syscall of the node). Sets
 * come in two epochs: the reader flips `syscall_epoch`, then reads and deletes the sets
 * of the old one, so each reading is what was used since the last. */
#define SYSCALL_WORDS 8 /* 512 numbers: x86_64's all stay below */

struct syscall_key {
	__u64 cgroup_id;
	__u32 epoch;
	__u32 _pad;
};

struct syscall_set {
	__u64 bits[SYSCALL_WORDS];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, struct syscall_key);
	__type(value, struct syscall_set);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} syscall_sets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} syscall_epoch SEC(".maps");

/* What was not recorded, by why (indexes in events.h: SYSCALL_COUNTER_*). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SYSCALL_COUNTER_MAX);
	__type(key, __u32);
	__type(value, __u64);
} syscall_counters SEC(".maps");

#define TS_COMPAT 0x0002 /* arch/x86/include/asm/thread_info.h: a 32-bit syscall */

SEC("raw_tracepoint/sys_enter")
int on_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 cgroup_id = bpf_get_current_cgroup_id();
	if (!watched_cgroup(cgroup_id))
		return 0;
	/* args[] is a flexible array: read it as plain words, not through a CO-RE field
	 * relocation (one past a zero-length array is no field to relocate). */
	const __u64 *args = (const __u64 *)ctx;
	__s64 nr = (__s64)args[1];
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u32 status = 0;
	READ_KERNEL(status, task->thread_info.status);
	/* ia32 numbers mean other calls; x32's carry bit 30 and land past 512. */
	if ((status & TS_COMPAT) || nr < 0 || nr >= SYSCALL_WORDS * 64) {
		count(&syscall_counters, SYSCALL_COUNTER_OTHER_ABI);
		return 0;
	}
	__u32 zero = 0;
	__u32 *epoch = bpf_map_lookup_elem(&syscall_epoch, &zero);
	struct syscall_key key = {.cgroup_id = cgroup_id, .epoch = epoch ? *epoch : 0};
	struct syscall_set *set = bpf_map_lookup_elem(&syscall_sets, &key);
	if (!set) {
		struct syscall_set empty = {};
		bpf_map_update_elem(&syscall_sets, &key, &empty, BPF_NOEXIST);
		set = bpf_map_lookup_elem(&syscall_sets, &key);
		if (!set) {
			count(&syscall_counters, SYSCALL_COUNTER_SETS_FULL);
			return 0;
		}
	}
	__u32 word = ((__u32)nr >> 6) & (SYSCALL_WORDS - 1);
	__u64 bit = 1ULL << ((__u32)nr & 63);
	/* Read first: once a set is complete, recording costs no writes to shared lines. */
	if (!(set->bits[word] & bit))
		__sync_fetch_and_or(&set->bits[word], bit);
	return 0;
}
