//! Syscall recording, for seccomp envelopes: the kernel keeps a bit per syscall number per
//! cgroup (`on_sys_enter` in `bpf/probe.bpf.c`); the daemon reads the sets each report
//! period and writes one event per cgroup and syscall used in it.

use normalizer::syscalls::RECORDED;

/// `struct syscall_key` of `bpf/probe.bpf.c`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SyscallKey {
    pub cgroup_id: u64,
    pub epoch: u32,
    pub pad: u32,
}

// SAFETY: plain integers, no padding (8 + 4 + 4), every bit pattern valid.
unsafe impl aya::Pod for SyscallKey {}

/// `struct syscall_set`: bit `n` set when syscall `n` was entered.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyscallSet {
    pub bits: [u64; (RECORDED / 64) as usize],
}

// SAFETY: an array of u64, every bit pattern valid.
unsafe impl aya::Pod for SyscallSet {}

impl SyscallSet {
    pub fn insert(&mut self, nr: u32) {
        if nr < RECORDED {
            self.bits[(nr / 64) as usize] |= 1 << (nr % 64);
        }
    }

    pub fn union(&mut self, other: &SyscallSet) {
        for (mine, theirs) in self.bits.iter_mut().zip(other.bits) {
            *mine |= theirs;
        }
    }

    /// The syscall numbers in the set, ascending.
    pub fn numbers(&self) -> impl Iterator<Item = u32> + '_ {
        (0..RECORDED).filter(|nr| self.bits[(nr / 64) as usize] & (1 << (nr % 64)) != 0)
    }
}

/// What recording could not record, summed over CPUs (`enum syscall_counter`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SyscallCounters {
    /// 32-bit (ia32 or x32) syscalls of watched processes: not recorded, and a profile
    /// for the x86_64 ABI refuses them.
    pub other_abi: u64,
    /// Syscalls of a cgroup that found no room for its set: not recorded.
    pub sets_full: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_lists_its_numbers_in_order_and_ignores_what_it_cannot_hold() {
        let mut set = SyscallSet::default();
        for nr in [257, 0, 63, 64, 511, 512, 99_999] {
            set.insert(nr);
        }
        let mut other = SyscallSet::default();
        other.insert(1);
        set.union(&other);
        assert_eq!(set.numbers().collect::<Vec<_>>(), [0, 1, 63, 64, 257, 511]);
    }
}
