//! A cgroup of the test's own, and the rule for machines that cannot load BPF.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Stdio};

/// True when this process may load eBPF programs. When it may not, the test says so on
/// stderr and is skipped, unless AGENTWARD_REQUIRE_KERNEL is set: then it fails.
pub fn kernel_available(test: &str) -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc_geteuid() } == 0;
    if root {
        return true;
    }
    let reason = "not root: loading eBPF programs needs CAP_BPF and CAP_PERFMON";
    if std::env::var_os("AGENTWARD_REQUIRE_KERNEL").is_some() {
        panic!("{test}: {reason}, and AGENTWARD_REQUIRE_KERNEL is set");
    }
    eprintln!("SKIPPED {test}: {reason} (set AGENTWARD_REQUIRE_KERNEL=1 to make this a failure)");
    false
}

unsafe extern "C" {
    #[link_name = "geteuid"]
    fn libc_geteuid() -> u32;
}

/// A cgroup v2 directory made for one test and removed after it (its processes are
/// killed first).
pub struct TestCgroup {
    pub path: PathBuf,
    pub id: u64,
}

impl TestCgroup {
    pub fn new(name: &str) -> TestCgroup {
        let root = node_probe::cgroup::cgroup2_root().expect("cgroup v2 is mounted");
        let path = root.join(format!("agentward-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir(&path);
        std::fs::create_dir(&path).expect("creating a test cgroup");
        let id = node_probe::cgroup::cgroup_id(&path).unwrap();
        TestCgroup { path, id }
    }

    /// A child cgroup inside this one.
    pub fn child(&self, name: &str) -> TestCgroup {
        let path = self.path.join(name);
        std::fs::create_dir(&path).expect("creating a child cgroup");
        let id = node_probe::cgroup::cgroup_id(&path).unwrap();
        TestCgroup { path, id }
    }

    /// Runs `program args` inside this cgroup (it moves itself in before exec) and
    /// waits for it; returns its exit status and stderr.
    pub fn run(&self, program: &str, args: &[&str]) -> (std::process::ExitStatus, String) {
        let output = self
            .command(program, args)
            .output()
            .expect("running in the cgroup");
        (
            output.status,
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    pub fn command(&self, program: &str, args: &[&str]) -> Command {
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(format!(
                "echo $$ > {}/cgroup.procs && exec \"$0\" \"$@\"",
                self.path.display()
            ))
            .arg(program)
            .args(args)
            .stdin(Stdio::null());
        command
    }
}

impl Drop for TestCgroup {
    fn drop(&mut self) {
        if let Ok(procs) = std::fs::read_to_string(self.path.join("cgroup.procs")) {
            for pid in procs.split_whitespace() {
                let _ = Command::new("kill").args(["-9", pid]).status();
            }
        }
        for _ in 0..50 {
            // Children first: rmdir of a cgroup with children fails.
            if let Ok(entries) = std::fs::read_dir(&self.path) {
                for entry in entries.flatten() {
                    if entry.file_type().is_ok_and(|t| t.is_dir()) {
                        let _ = std::fs::remove_dir(entry.path());
                    }
                }
            }
            if std::fs::remove_dir(&self.path).is_ok() || !self.path.exists() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

/// The real Python interpreter (`python3` may be a pyenv shim that forks on its way).
pub fn python() -> String {
    let output = Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .expect("python3 runs");
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

/// The Python of the venv that scripts/test makes for the agent tests (with the MCP SDK,
/// mcp-server-time and openai from PyPI), from AGENTWARD_AGENT_PYTHON. Without it the
/// test is skipped, loudly, or fails under AGENTWARD_REQUIRE_KERNEL.
pub fn agent_python(test: &str) -> Option<String> {
    match std::env::var("AGENTWARD_AGENT_PYTHON") {
        Ok(p) if std::path::Path::new(&p).exists() => Some(p),
        _ => {
            let reason = "AGENTWARD_AGENT_PYTHON is not set to the agent venv's python (scripts/test makes it)";
            if std::env::var_os("AGENTWARD_REQUIRE_KERNEL").is_some() {
                panic!("{test}: {reason}");
            }
            eprintln!("SKIPPED {test}: {reason}");
            None
        }
    }
}
