//! Runs the iam-simulate oracle (`iam-simulate.cjs`, installed in `dir` by scripts/test) as
//! its own process: cases in as JSON lines, one answer a line out. Shared by the
//! differential test and the benchmark; never part of the library.

use std::io::Write;
use std::process::{Command, Stdio};

pub fn run_oracle(dir: &std::ffi::OsStr, input: String) -> String {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oracle/iam-simulate.cjs");
    let mut child = Command::new("node")
        .arg(script)
        .env("AGENTWARD_IAM_SIMULATE", dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node runs (scripts/test needs Node.js for the IAM oracle)");
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()).unwrap());
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(out.status.success(), "the oracle failed");
    String::from_utf8(out.stdout).unwrap()
}
