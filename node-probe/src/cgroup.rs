//! cgroup v2 on this machine: where it is mounted, a cgroup's id (the kernel's id is the
//! directory's inode number), and the way back from an id to its path.

use crate::ProbeError;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Where the cgroup v2 hierarchy is mounted: `/sys/fs/cgroup` on a unified host,
/// `/sys/fs/cgroup/unified` on a hybrid one.
pub fn cgroup2_root() -> Result<PathBuf, ProbeError> {
    let mountinfo =
        std::fs::read_to_string("/proc/self/mountinfo").map_err(|e| ProbeError::Io {
            what: "reading /proc/self/mountinfo".into(),
            source: e,
        })?;
    cgroup2_mount_in(&mountinfo).ok_or(ProbeError::NoCgroup2)
}

fn cgroup2_mount_in(mountinfo: &str) -> Option<PathBuf> {
    mountinfo.lines().find_map(|line| {
        // `... mount-point options - fstype source super-options`
        let (left, right) = line.split_once(" - ")?;
        let fstype = right.split_whitespace().next()?;
        let mount_point = left.split_whitespace().nth(4)?;
        (fstype == "cgroup2").then(|| PathBuf::from(mount_point))
    })
}

/// The id the kernel gives a cgroup (what `bpf_get_current_cgroup_id` returns).
pub fn cgroup_id(path: &Path) -> Result<u64, ProbeError> {
    let meta = std::fs::metadata(path).map_err(|e| ProbeError::Io {
        what: format!("reading cgroup {}", path.display()),
        source: e,
    })?;
    if !path.join("cgroup.procs").exists() {
        return Err(ProbeError::NotACgroup(path.to_path_buf()));
    }
    Ok(meta.ino())
}

/// The path of the cgroup with this id under `root`, relative to it (`/` for the root),
/// or `None` when it no longer exists.
pub fn cgroup_path(root: &Path, id: u64) -> Option<String> {
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(meta) = std::fs::metadata(&dir) else {
            continue;
        };
        if meta.ino() == id {
            let relative = dir.strip_prefix(root).ok()?;
            return Some(format!("/{}", relative.display()));
        }
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(entry.path());
            }
        }
    }
    None
}

/// Mounts a pseudo filesystem (tracefs for tracepoints, bpffs for pins) at its usual
/// place when nothing is mounted there yet, as bpftool and systemd do on a fresh host.
pub fn ensure_mounted(fstype: &str, target: &Path) -> Result<(), ProbeError> {
    let mountinfo =
        std::fs::read_to_string("/proc/self/mountinfo").map_err(|e| ProbeError::Io {
            what: "reading /proc/self/mountinfo".into(),
            source: e,
        })?;
    let mounted = mountinfo.lines().any(|line| {
        line.split_once(" - ").is_some_and(|(left, right)| {
            right.split_whitespace().next() == Some(fstype)
                && left.split_whitespace().nth(4) == target.to_str()
        })
    });
    if mounted {
        return Ok(());
    }
    let io = |source: std::io::Error| ProbeError::Io {
        what: format!("mounting {fstype} at {}", target.display()),
        source,
    };
    std::fs::create_dir_all(target).map_err(io)?;
    let c = |s: &str| std::ffi::CString::new(s).expect("no NUL in mount arguments");
    let (source, kind) = (c(fstype), c(fstype));
    let dir = c(target.to_str().expect("mount targets are UTF-8 paths"));
    // SAFETY: every pointer is a valid NUL-terminated string that outlives the call.
    let rc = unsafe {
        libc::mount(
            source.as_ptr(),
            dir.as_ptr(),
            kind.as_ptr(),
            0,
            std::ptr::null(),
        )
    };
    if rc != 0 {
        return Err(io(std::io::Error::last_os_error()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_cgroup2_mount_on_hybrid_and_unified_hosts() {
        let hybrid = "30 25 0:26 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755\n\
                      35 30 0:31 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
        assert_eq!(
            cgroup2_mount_in(hybrid),
            Some(PathBuf::from("/sys/fs/cgroup/unified"))
        );
        let unified = "31 24 0:27 / /sys/fs/cgroup rw,nosuid shared:9 - cgroup2 cgroup2 rw\n";
        assert_eq!(
            cgroup2_mount_in(unified),
            Some(PathBuf::from("/sys/fs/cgroup"))
        );
        assert_eq!(
            cgroup2_mount_in("22 1 0:21 / /proc rw - proc proc rw\n"),
            None
        );
    }
}
