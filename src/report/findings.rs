//! Findings, most severe first.

use std::fmt::Write;

pub fn findings_table(findings: &[normalizer::Finding]) -> String {
    let mut out = String::new();
    let mut sorted: Vec<&normalizer::Finding> = findings.iter().collect();
    sorted.sort_by_key(|f| std::cmp::Reverse(f.severity));
    for f in sorted {
        let _ = writeln!(
            out,
            "{:<13} {}  {}",
            f.severity.caption(),
            f.agent.key(),
            f.title
        );
        let _ = writeln!(out, "              {}", f.detail);
    }
    let _ = writeln!(out, "{} findings", findings.len());
    out
}
