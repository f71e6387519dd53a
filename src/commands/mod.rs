//! The commands, one function each; `run` picks the one the command line names.

mod audit;
mod behavior;
mod enforce;
mod scan;
mod views;

use crate::config::Config;
use crate::{AuditCommand, BaselineCommand, Cli, Command};
use anyhow::Context;
use connectors::location::LocationSpec;
use normalizer::Timestamp;
use std::path::PathBuf;
use std::process::ExitCode;

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let stdout = &mut std::io::stdout().lock();
    match &cli.command {
        Command::Scan { .. } | Command::Record { .. } => scan::scan(&cli, stdout).await,
        Command::Inventory { at, format } => views::inventory(&cli, at, format, stdout).await,
        Command::Events {
            agent,
            since,
            until,
            layer,
            format,
        } => views::events(&cli, agent, since, until, layer, format, stdout).await,
        Command::Findings { format } => views::findings(&cli, format, stdout).await,
        Command::Quarantine { source } => views::quarantine(&cli, source, stdout).await,
        Command::Coverage { format } => views::coverage(&cli, format, stdout).await,
        Command::Baseline {
            command: BaselineCommand::Show { agent, format },
        } => behavior::baseline_show(&cli, agent, format, stdout).await,
        Command::Drift {
            days,
            until,
            agent,
            all,
            format,
        } => behavior::drift(&cli, days, until, agent, all, format, stdout).await,
        Command::Reconcile {
            agent,
            min_days,
            format,
        } => behavior::reconcile(&cli, agent, min_days, format, stdout).await,
        Command::Accept {
            episode,
            reason,
            by,
        } => behavior::accept(&cli, episode, reason, by, stdout).await,
        Command::Envelopes { a, b, format } => {
            behavior::envelopes(&cli, a, b, format, stdout).await
        }
        Command::Recommend { agent, format } => {
            enforce::recommend_cmd(&cli, agent, format, stdout).await
        }
        Command::Artifacts {
            agent,
            out,
            selectors,
        } => enforce::artifacts_cmd(&cli, agent, out, selectors, stdout).await,
        Command::Probe { command } => {
            crate::probe_cmd::run(command, stdout).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit {
            command: AuditCommand::Verify { expect_head },
        } => audit::audit_verify(&cli, expect_head, stdout).await,
    }
}

pub(crate) fn parse_time(text: &str) -> anyhow::Result<Timestamp> {
    let full = if text.len() == 10 {
        format!("{text}T00:00:00Z")
    } else {
        text.to_string()
    };
    Timestamp::parse_rfc3339(&full).with_context(|| {
        format!("{text:?}: expected RFC 3339 (2026-11-17T14:32:00Z) or YYYY-MM-DD")
    })
}

/// The configuration, or for read-only commands just the store given with --store.
pub(crate) fn load_config(cli: &Cli, needs_sources: bool) -> anyhow::Result<Config> {
    if let Some(store) = &cli.store
        && !needs_sources
    {
        return Ok(Config {
            base_dir: PathBuf::from("."),
            store: LocationSpec {
                url: store.clone(),
                ..LocationSpec::default()
            },
            sources: Vec::new(),
            agents: Vec::new(),
        });
    }
    let mut config =
        Config::load(&cli.config).map_err(|e| anyhow::anyhow!("{:?}", miette::Report::new(e)))?;
    if let Some(store) = &cli.store {
        config.store = LocationSpec {
            url: store.clone(),
            ..LocationSpec::default()
        };
        // A --store path on the command line is relative to where the user is.
        if !store.contains("://") {
            config.store.url = std::env::current_dir()?.join(store).display().to_string();
        }
        crate::config::move_pulled_to(&mut config.sources, &config.store);
    }
    Ok(config)
}
