//! `audit verify`: the hash chain checked row by row.

use super::load_config;
use crate::{Cli, audit, pipeline};
use std::io::Write;
use std::process::ExitCode;

pub async fn audit_verify(
    cli: &Cli,
    expect_head: &Option<String>,
    stdout: &mut impl Write,
) -> anyhow::Result<ExitCode> {
    let config = load_config(cli, false)?;
    let store = pipeline::open_existing_store(&config)?;
    let verdict = audit::verify(&store, expect_head.as_deref()).await?;
    if verdict.is_intact() {
        writeln!(
            stdout,
            "audit trail intact: {} rows, head {}",
            verdict.rows, verdict.head
        )?;
    } else {
        writeln!(
            stdout,
            "audit trail BROKEN: {} problems in {} rows",
            verdict.problems.len(),
            verdict.rows
        )?;
        for p in &verdict.problems {
            writeln!(stdout, "  {}", serde_json::to_string(p)?)?;
        }
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
