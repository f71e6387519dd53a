/* The records the probe programs send to userspace. node-probe/src/wire.rs decodes the same
 * layout; every field is fixed-size and little-endian (the host's order: the reader runs
 * on the same machine). Change one side, change the other and the layout test. */
#pragma once

#define PATH_LEN 256
#define ARGS_LEN 512
#define COMM_LEN 16
#define DNS_LEN 512

enum event_kind {
	KIND_EXEC = 1,
	KIND_EXIT = 2,
	KIND_FORK = 3,
	KIND_OPEN = 4,
	KIND_TCP_CONNECT = 5,
	KIND_CONNECT = 6,
	KIND_EGRESS = 7,
	KIND_DNS = 8,
	KIND_SENDTO = 9, /* a datagram sent with an address on an unconnected socket */
};

/* Per-CPU counters, by index. */
enum counter {
	COUNTER_EMITTED = 0,
	COUNTER_RESERVE_FAILED = 1, /* ring full: the event is lost */
	COUNTER_DEDUPED = 2,        /* counted in the dedupe map instead of sent */
	COUNTER_DEDUPE_FULL = 3,    /* could not remember a new key: sent, not deduped */
	COUNTER_READ_FAILED = 4,    /* a path or address could not be read: sent without it */
	COUNTER_MAX = 5,
};

/* Syscall recording's own counters (a map apart: the counters above are pinned with the
 * egress maps, and their size is part of that pin). */
enum syscall_counter {
	SYSCALL_COUNTER_OTHER_ABI = 0, /* a 32-bit (ia32 or x32) syscall: not recorded */
	SYSCALL_COUNTER_SETS_FULL = 1, /* no room for a new cgroup's set: not recorded */
	SYSCALL_COUNTER_MAX = 2,
};

struct event_header {
	__u64 boot_ns;
	__u64 cgroup_id;
	__u32 pid;
	__u32 tid;
	__u32 ppid;
	__u32 uid;
	__u16 kind;
	__u16 size;
	__s32 result;
	char comm[COMM_LEN];
};

/* exec_event.flags */
#define EXEC_ARGS_TRUNCATED 1 /* the command line was longer than ARGS_LEN */
#define EXEC_STDIN_PIPE 2     /* fd 0 is a pipe or a socket, as a stdio server's is */
#define EXEC_STDOUT_PIPE 4    /* fd 1 is a pipe or a socket */

struct exec_event {
	struct event_header h;
	__u32 args_len;
	__u32 flags;
	char filename[PATH_LEN];
	char args[ARGS_LEN];
};

struct exit_event {
	struct event_header h;
};

struct fork_event {
	struct event_header h;
	__u32 child_pid;
	__u32 _pad;
};

struct open_event {
	struct event_header h;
	__u32 flags;
	__u32 _pad;
	char path[PATH_LEN];
};

/* Addresses are always 16 bytes: IPv4 as v4-mapped IPv6 (::ffff:a.b.c.d). */
struct connect_event {
	struct event_header h;
	__u16 family;
	__u16 port;
	__u16 sock_type;
	__u8 verdict; /* egress only: 1 allowed, 0 denied */
	__u8 enforcing;
	__u8 addr[16];
};

/* One DNS message over UDP between a watched cgroup's socket and a resolver, as the
 * packet carried it (the reader parses it). Queries are sent from the sending task's
 * context; answers arrive in softirq, so their pid, uid and comm are 0. */
struct dns_event {
	struct event_header h;
	__u16 family;
	__u16 port;        /* the resolver's */
	__u16 client_port; /* the watched socket's: pairs an answer with its query */
	__u8 answer;       /* 0 a query the socket sent, 1 a message it received */
	__u8 truncated;    /* the message was longer than DNS_LEN */
	__u16 len;         /* bytes of `message` filled */
	__u16 _pad[3];     /* to 8 bytes, as the record is padded anyway */
	__u8 addr[16];     /* the resolver's, v4-mapped for IPv4 */
	__u8 message[DNS_LEN];
};

struct dedupe_key {
	__u64 cgroup_id;
	__u64 target_hash;
	__u32 kind;
	__u32 _pad;
};
