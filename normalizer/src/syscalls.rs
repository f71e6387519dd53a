//! Syscall numbers and names (x86_64), as the probe records them and seccomp profiles name
//! them. The probe sees numbers; a number this table has no name for is kept as
//! `syscall_N`, which [`number`] reads back, so nothing recorded is lost in the naming.

#[rustfmt::skip]
mod table {
    include!("syscalls_x86_64.rs");
}

/// The syscall numbers the probe records per cgroup (a bit each): x86_64 numbers stay
/// below 512; the x32 ABI's have bit 30 set and are counted apart, never recorded.
pub const RECORDED: u32 = 512;

/// The name of x86_64 syscall `nr`, or `syscall_N` when the table has none.
pub fn name(nr: u32) -> String {
    match table::NAMES.get(nr as usize) {
        Some(name) if !name.is_empty() => (*name).to_string(),
        _ => format!("syscall_{nr}"),
    }
}

/// Whether the table names `nr` (a seccomp profile can only list named syscalls).
pub fn is_named(nr: u32) -> bool {
    table::NAMES.get(nr as usize).is_some_and(|n| !n.is_empty())
}

/// The number of a syscall by name (`syscall_N` included), or `None`.
pub fn number(name: &str) -> Option<u32> {
    if let Some(n) = name.strip_prefix("syscall_") {
        return n.parse().ok().filter(|n| *n < RECORDED);
    }
    table::NAMES
        .iter()
        .position(|n| *n == name)
        .map(|nr| nr as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers_round_trip_with_holes_kept_as_numbers() {
        assert_eq!(name(0), "read");
        assert_eq!(name(59), "execve");
        assert_eq!(name(435), "clone3");
        assert_eq!(number("openat"), Some(257));
        // 335..423 are unassigned on x86_64.
        assert!(!is_named(400));
        assert_eq!(name(400), "syscall_400");
        assert_eq!(number("syscall_400"), Some(400));
        assert_eq!(number("syscall_4000"), None);
        assert_eq!(number("no_such_call"), None);
    }
}
