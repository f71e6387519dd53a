//! The coverage matrix: each agent's layers, what is seen and why not.

use normalizer::Coverage;
use std::fmt::Write;

pub(super) fn coverage_lines(out: &mut String, coverage: &[Coverage], indent: &str) {
    for c in coverage {
        let _ = writeln!(
            out,
            "{indent}{:<16} {:<21} {}",
            c.layer.as_str(),
            c.status.label(),
            c.status.explanation()
        );
    }
}

pub fn coverage_table(coverage: &[Coverage]) -> String {
    let mut out = String::new();
    let mut current: Option<String> = None;
    for c in coverage {
        let key = c.agent.key();
        if current.as_deref() != Some(key.as_str()) {
            let _ = writeln!(out, "{key}");
            current = Some(key);
        }
        coverage_lines(&mut out, std::slice::from_ref(c), "  ");
    }
    if coverage.is_empty() {
        out.push_str("no agents known yet: run `agentward scan` first\n");
    }
    out
}
