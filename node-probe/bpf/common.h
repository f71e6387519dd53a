/* What both programs share: cgroup watching (whole subtrees), counters, hashing. */
#pragma once
#include "vmlinux.h"
#include "helpers.h"
#include "events.h"

#define MAX_CGROUP_DEPTH 32

static __always_inline void count(void *counters, __u32 index)
{
	__u64 *value = bpf_map_lookup_elem(counters, &index);
	if (value)
		__sync_fetch_and_add(value, 1);
}

/* FNV-1a over a NUL-terminated buffer of at most `max` bytes. */
static __always_inline __u64 fnv1a_str(const char *buf, __u32 max, __u64 hash)
{
	for (__u32 i = 0; i < max; i++) {
		char c = buf[i];
		if (c == 0)
			break;
		hash ^= (__u8)c;
		hash *= 0x100000001b3ULL;
	}
	return hash;
}

static __always_inline __u64 fnv1a_bytes(const __u8 *buf, __u32 len, __u64 hash)
{
	for (__u32 i = 0; i < len; i++) {
		hash ^= buf[i];
		hash *= 0x100000001b3ULL;
	}
	return hash;
}

#define FNV_OFFSET 0xcbf29ce484222325ULL

/* The first watched cgroup among the current task's cgroup and its ancestors (nearest
 * first), or 0. `policies` maps a cgroup id to anything: membership is what counts. */
static __always_inline __u64 nearest_listed_cgroup(void *policies, __u64 cgroup_id)
{
	if (bpf_map_lookup_elem(policies, &cgroup_id))
		return cgroup_id;
	/* Ancestor levels count from the root (level 0), so walk from the deepest level up:
	 * a nested policy overrides its parent's. */
	__u64 found = 0;
	for (int level = 0; level < MAX_CGROUP_DEPTH; level++) {
		__u64 ancestor = bpf_get_current_ancestor_cgroup_id(level);
		if (ancestor == 0 || ancestor == cgroup_id)
			break;
		if (bpf_map_lookup_elem(policies, &ancestor))
			found = ancestor;
	}
	return found;
}
