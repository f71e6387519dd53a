//! `scan` and `record`: every source into the store, and what the scan found.

use super::load_config;
use crate::config::{ApiWire, SourceConfig};
use crate::{Cli, Command, TextOrJson, pipeline, report};
use anyhow::bail;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

pub async fn scan(cli: &Cli, stdout: &mut impl Write) -> anyhow::Result<ExitCode> {
    let mut config = load_config(cli, true)?;
    let (format, wire) = match &cli.command {
        Command::Scan { format, replay } => (*format, replay.clone().map(ApiWire::Replay)),
        Command::Record { format, dir } => (*format, Some(ApiWire::Record(dir.clone()))),
        _ => unreachable!("matched above"),
    };
    if let Some(wire) = wire {
        let api_sources: Vec<&mut SourceConfig> = config
            .sources
            .iter_mut()
            .filter(|s| s.kind.is_api())
            .collect();
        if api_sources.is_empty() {
            bail!(
                "{} configures no API source (aws-api, gcp-api, azure-api): there is nothing to record or replay",
                cli.config.display()
            );
        }
        // Each source records to / replays from its own subdirectory.
        for source in api_sources {
            source.wire = match &wire {
                ApiWire::Record(dir) => ApiWire::Record(dir.join(&source.name)),
                ApiWire::Replay(dir) => ApiWire::Replay(dir.join(&source.name)),
                ApiWire::Live => ApiWire::Live,
            };
        }
    }
    if config.sources.is_empty() {
        bail!(
            "{} configures no [[source]]: nothing to scan",
            cli.config.display()
        );
    }
    let summary = pipeline::run(&config, std::io::stderr().is_terminal()).await?;
    match format {
        TextOrJson::Table => write!(stdout, "{}", report::scan_summary(&summary))?,
        TextOrJson::Json => writeln!(stdout, "{}", serde_json::to_string_pretty(&summary)?)?,
    }
    Ok(if summary.complete {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}
