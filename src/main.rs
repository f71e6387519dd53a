//! agentward: see what your AI agents really are and really do, and prove it.
//!
//! The binary wires sources (connectors) through the model (normalizer) into the store,
//! and prints what a person needs: summaries, inventory, events, coverage, audit checks.

mod audit;
mod behavior;
mod config;
mod cursor;
mod layout;
mod pipeline;
mod probe_cmd;
mod report;
mod store;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};
use config::{ApiWire, Config};
use connectors::location::LocationSpec;
use futures::TryStreamExt;
use normalizer::Timestamp;
use normalizer::inventory::InventoryHistory;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "agentward",
    version,
    about = "Runtime security for AI agents: runtime inventory, behavior, telemetry coverage and a verifiable audit trail",
    long_about = "agentward reads what your agents' platforms record and describe (CloudTrail and Bedrock logs, the \
                  AWS, Google Cloud and Azure agent APIs, its own node probe's spool), normalizes it into \
                  per-agent events (OCSF 1.8), a runtime-derived inventory (CycloneDX 1.6) and a coverage matrix \
                  that says, layer by layer, what can and cannot be seen and why. Everything is kept in one store \
                  (a local directory by default, or s3://) with a hash-chained audit trail.\n\n\
                  Exit codes: 0 success; 1 error (bad config, unreadable store, audit chain broken); \
                  2 partial scan (a source or some of its files failed: named in the summary)."
)]
struct Cli {
    /// Configuration file (TOML): the store and the sources to scan. Relative paths in it
    /// are resolved against its directory.
    #[arg(
        long,
        global = true,
        default_value = "agentward.toml",
        env = "AGENTWARD_CONFIG"
    )]
    config: PathBuf,
    /// Use this store instead of the configuration's (a directory, file:// or s3:// URL).
    #[arg(long, global = true, env = "AGENTWARD_STORE")]
    store: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum InventoryFormat {
    Table,
    Json,
    Cyclonedx,
}

#[derive(Clone, Copy, ValueEnum)]
enum EventsFormat {
    Table,
    Ocsf,
}

#[derive(Clone, Copy, ValueEnum)]
enum FindingsFormat {
    Table,
    Json,
    Ocsf,
}

#[derive(Clone, Copy, ValueEnum)]
enum TextOrJson {
    Table,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Scan every configured source into the store, then print what was found. Rescanning
    /// is idempotent: files already scanned are not read again; an interrupted scan resumes.
    Scan {
        #[arg(long, value_enum, default_value = "table")]
        format: TextOrJson,
        /// Answer every API source's calls (aws-api, gcp-api) from a recording made by
        /// `agentward record` (DIR/<source name>/) instead of the provider: offline,
        /// through the same parsing.
        #[arg(long, value_name = "DIR")]
        replay: Option<PathBuf>,
    },
    /// A live scan that also writes every API answer of the API sources (aws-api,
    /// gcp-api) to DIR/<source name>/exchanges.jsonl (credentials, secrets and environment
    /// values replaced, instructions and prompt templates kept as digests), for
    /// `scan --replay DIR` offline or by an auditor.
    Record {
        /// The recording directory (created; a recording already there is replaced).
        dir: PathBuf,
        #[arg(long, value_enum, default_value = "table")]
        format: TextOrJson,
    },
    /// The runtime-derived inventory (AI-BOM) of every known agent, with where each field
    /// came from.
    Inventory {
        /// Show the inventory as it was at this time (RFC 3339 or YYYY-MM-DD), and what
        /// changed after it; default: now.
        #[arg(long)]
        at: Option<String>,
        #[arg(long, value_enum, default_value = "table")]
        format: InventoryFormat,
    },
    /// Normalized events from the store, in time order (one day is held in memory at a time).
    Events {
        /// Only this agent (its key, as `inventory` and `coverage` print it), or `unattributed`.
        #[arg(long)]
        agent: Option<String>,
        /// Only events at or after this time (RFC 3339 or YYYY-MM-DD).
        #[arg(long)]
        since: Option<String>,
        /// Only events before this time (RFC 3339 or YYYY-MM-DD).
        #[arg(long)]
        until: Option<String>,
        /// Only this layer: kernel, network, prompt, tool_invocation, identity_api, control.
        #[arg(long)]
        layer: Option<String>,
        #[arg(long, value_enum, default_value = "table")]
        format: EventsFormat,
    },
    /// What agentward can see of each agent, layer by layer, and for each gap why not and
    /// how to close it.
    Coverage {
        #[arg(long, value_enum, default_value = "table")]
        format: TextOrJson,
    },
    /// Findings as of the last scan: telemetry coverage gaps (each with how to close it),
    /// drift to review, declared-vs-observed items, and live versions open to prompt
    /// injection (no guardrail, or one without a prompt-attack filter).
    Findings {
        #[arg(long, value_enum, default_value = "table")]
        format: FindingsFormat,
    },
    /// Records that could not be read, each with its reason, where it was and its first bytes.
    Quarantine {
        /// Only this source (its name in the config).
        #[arg(long)]
        source: Option<String>,
    },
    /// Behavioral baselines: what each agent normally does (its envelope) and whether it
    /// has stopped doing new things (convergence).
    Baseline {
        #[command(subcommand)]
        command: BaselineCommand,
    },
    /// Departures from each agent's baseline over a period, each classified from three
    /// signals: a deploy shortly before it, whether it persisted or burst, and whether its
    /// volume stayed inside the envelope. `evolution` (deployed, persistent, within bounds)
    /// is absorbed into the baseline; `risky drift` and `unclassified` are findings.
    Drift {
        /// Length of the period judged, in days.
        #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=3650))]
        days: u32,
        /// End of the period (RFC 3339 or YYYY-MM-DD); default: each agent's newest event.
        #[arg(long)]
        until: Option<String>,
        /// Only this agent: its key, id or name.
        #[arg(long)]
        agent: Option<String>,
        /// Also list evolutions (absorbed departures); by default they are only counted.
        #[arg(long)]
        all: bool,
        #[arg(long, value_enum, default_value = "table")]
        format: TextOrJson,
    },
    /// Declared vs observed, per agent: *unused excess* (granted by a role's policies or a
    /// declared tool, never exercised over a long enough window) and *inherited overreach*
    /// (behavior allowed only through wildcards, AWS-managed policies or a role shared with
    /// another agent). Every item carries its evidence.
    Reconcile {
        /// Only this agent: its key, id or name.
        #[arg(long)]
        agent: Option<String>,
        /// Days an agent must have been observed before a grant can be called unused.
        #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=3650))]
        min_days: u32,
        #[arg(long, value_enum, default_value = "table")]
        format: TextOrJson,
    },
    /// Accept a drift episode after review (e.g. a one-off export someone asked for): it is
    /// no longer a finding, its windows count in the agent's envelope, and the decision,
    /// who made it and why go into the audit trail.
    Accept {
        /// The episode's uid, as `agentward drift --format json` prints it
        /// (agentward:drift:AGENT_KEY:YYYY-MM-DD).
        episode: String,
        /// Why it is acceptable: kept in the audit trail.
        #[arg(long)]
        reason: String,
        /// Who accepts it; default: $USER.
        #[arg(long, env = "USER", default_value = "unknown")]
        by: String,
    },
    /// Two agents' envelopes side by side: every action, model and role either was seen
    /// doing, with counts and median per active window, and which of the two does it.
    Envelopes {
        /// First agent: key, id or name.
        a: String,
        /// Second agent: key, id or name.
        b: String,
        #[arg(long, value_enum, default_value = "table")]
        format: TextOrJson,
    },
    /// The tamper-evident audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// The node probe: watch self-hosted agents from the kernel (eBPF), write what they
    /// do to a spool a scan reads, and enforce egress allowlists.
    Probe {
        #[command(subcommand)]
        command: Box<probe_cmd::ProbeCommand>,
    },
}

#[derive(Subcommand)]
enum BaselineCommand {
    /// An agent's envelope (actions, resources, models with volumes per window), its
    /// deploys and its convergence series; without AGENT, one line per agent.
    Show {
        /// The agent: its key, id or name.
        agent: Option<String>,
        #[arg(long, value_enum, default_value = "table")]
        format: TextOrJson,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check every row's hash and link; exit 1 if any row was changed, removed or reordered.
    Verify {
        /// Head hash recorded elsewhere earlier (e.g. printed by a previous verify); catches
        /// a cut-off tail.
        #[arg(long)]
        expect_head: Option<String>,
    },
}

fn print_events(
    out: &mut impl Write,
    format: EventsFormat,
    events: &mut Vec<(i64, serde_json::Value, Vec<u8>)>,
) -> std::io::Result<()> {
    events.sort_by_key(|(t, _, _)| *t);
    for (_, record, line) in events.drain(..) {
        match format {
            EventsFormat::Table => writeln!(out, "{}", report::event_row(&record))?,
            EventsFormat::Ocsf => {
                out.write_all(&line)?;
                out.write_all(b"\n")?;
            }
        }
    }
    Ok(())
}

/// The store and its behavior analysis, for the read-only behavior commands.
async fn open_analysis(cli: &Cli) -> anyhow::Result<(store::Store, behavior::Analysis)> {
    let config = load_config(cli, false)?;
    let store = pipeline::open_existing_store(&config)?;
    let analysis = behavior::Analysis::load(&store, false, &config).await?;
    Ok((store, analysis))
}

/// The agent `--agent` names, if given.
fn only_agent(
    analysis: &behavior::Analysis,
    agent: Option<&str>,
) -> anyhow::Result<Option<normalizer::AgentRef>> {
    agent
        .map(|a| resolve_agent(analysis, a).map(|b| b.agent.clone()))
        .transpose()
}

/// The baseline of the agent a user named by key, id or name.
fn resolve_agent<'a>(
    analysis: &'a behavior::Analysis,
    wanted: &str,
) -> anyhow::Result<&'a normalizer::baseline::Baseline> {
    behavior::resolve(&analysis.rollup, &analysis.names, wanted).map_err(|e| anyhow::anyhow!(e))
}

/// The first `n` stored events of an episode's agent and window whose action is one of
/// its departures: the evidence a reviewer starts from.
async fn sample_events(
    store: &store::Store,
    episode: &normalizer::drift::Episode,
    n: usize,
) -> anyhow::Result<Vec<serde_json::Value>> {
    use normalizer::baseline::{Behavior, generalize};
    // What a matching event must show: an action (on a resource, when the departure names
    // one), a model, or a role acted as.
    let mut actions: Vec<(&str, Option<&str>)> = Vec::new();
    let (mut models, mut roles) = (BTreeSet::new(), BTreeSet::new());
    for d in &episode.departures {
        match d.behavior() {
            Behavior::Action { action } => actions.push((action, None)),
            Behavior::ActionOn { action, resource }
            | Behavior::ActionAs {
                action, resource, ..
            } => actions.push((action, Some(resource))),
            Behavior::Model { model } => {
                models.insert(model.as_str());
            }
            Behavior::Role { role } => {
                roles.insert(role.as_str());
            }
        }
    }
    let prefix = format!(
        "events/date={}/agent={}",
        episode.window_start.utc_date(),
        episode.agent.key()
    );
    let mut found: Vec<(i64, serde_json::Value)> = Vec::new();
    for name in store.list(&prefix).await? {
        let bytes = store.get(&name).await?.unwrap_or_default();
        for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let record: serde_json::Value = serde_json::from_slice(line)
                .with_context(|| format!("corrupt event line in {name}"))?;
            let ours = &record["unmapped"]["agentward"];
            let action = ours["action"].as_str().unwrap_or_default();
            let mut resources: Vec<String> = record["resources"]
                .as_array()
                .map(|r| {
                    r.iter()
                        .filter_map(|x| x["uid"].as_str())
                        .map(generalize)
                        .collect()
                })
                .unwrap_or_default();
            // A probe's record keeps its target with agentward's fields.
            resources.extend(ours["target"].as_str().map(generalize));
            let hit = actions
                .iter()
                .any(|(a, r)| *a == action && r.is_none_or(|r| resources.iter().any(|x| x == r)))
                || record["ai_model"]["uid"]
                    .as_str()
                    .is_some_and(|m| models.contains(m))
                || record["actor"]["session"]["issuer"]
                    .as_str()
                    .is_some_and(|i| roles.contains(normalizer::identity::role_key(i).as_str()));
            if hit {
                found.push((record["time"].as_i64().unwrap_or_default(), record));
            }
        }
    }
    found.sort_by_key(|(t, _)| *t);
    Ok(found.into_iter().take(n).map(|(_, r)| r).collect())
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_env("AGENTWARD_LOG").unwrap_or_else(|_| EnvFilter::new("warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::io::stderr().is_terminal() {
        builder.compact().init();
    } else {
        builder.json().init();
    }
}

fn parse_time(text: &str) -> anyhow::Result<Timestamp> {
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
fn load_config(cli: &Cli, needs_sources: bool) -> anyhow::Result<Config> {
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
    }
    Ok(config)
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let mut stdout = std::io::stdout().lock();
    match &cli.command {
        Command::Scan { .. } | Command::Record { .. } => {
            let mut config = load_config(&cli, true)?;
            let (format, wire) = match &cli.command {
                Command::Scan { format, replay } => (*format, replay.clone().map(ApiWire::Replay)),
                Command::Record { format, dir } => (*format, Some(ApiWire::Record(dir.clone()))),
                _ => unreachable!("matched above"),
            };
            if let Some(wire) = wire {
                let api_sources: Vec<&mut config::SourceConfig> = config
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
                TextOrJson::Json => {
                    writeln!(stdout, "{}", serde_json::to_string_pretty(&summary)?)?
                }
            }
            return Ok(if summary.complete {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            });
        }
        Command::Inventory { at, format } => {
            let config = load_config(&cli, false)?;
            let store = pipeline::open_existing_store(&config)?;
            let history = store
                .latest::<InventoryHistory>(layout::INVENTORY_DIR)
                .await?
                .map(|(_, h)| h)
                .unwrap_or_default();
            let at_given = at.is_some();
            let at = match at {
                Some(t) => parse_time(t)?,
                None => pipeline::now(),
            };
            let snapshot = history.snapshot_at(at);
            match format {
                InventoryFormat::Table => {
                    write!(stdout, "{}", report::inventory_table(&snapshot))?;
                    if history.observations.is_empty() {
                        writeln!(
                            stdout,
                            "the store has no inventory yet: run `agentward scan` first"
                        )?;
                    }
                    if at_given {
                        write!(stdout, "{}", report::changes_since(at, &history))?;
                    }
                }
                InventoryFormat::Json => {
                    writeln!(stdout, "{}", serde_json::to_string_pretty(&snapshot)?)?
                }
                InventoryFormat::Cyclonedx => writeln!(
                    stdout,
                    "{}",
                    serde_json::to_string_pretty(&normalizer::cyclonedx::snapshot_to_cyclonedx(
                        &snapshot,
                        env!("CARGO_PKG_VERSION")
                    ))?
                )?,
            }
        }
        Command::Events {
            agent,
            since,
            until,
            layer,
            format,
        } => {
            let config = load_config(&cli, false)?;
            let store = pipeline::open_existing_store(&config)?;
            let since = since.as_deref().map(parse_time).transpose()?;
            let until = until.as_deref().map(parse_time).transpose()?;
            let layer = match layer {
                Some(l) => Some(
                    normalizer::Layer::parse(l).with_context(|| format!("unknown layer {l:?}"))?,
                ),
                None => None,
            };
            let mut objects: Vec<object_store::ObjectMeta> = store
                .at
                .store
                .list(Some(&store.path("events")))
                .try_collect()
                .await?;
            objects.sort_by(|a, b| a.location.cmp(&b.location));
            // Partitions come in date order; within a day, events are put in time order.
            let mut day = String::new();
            let mut pending: Vec<(i64, serde_json::Value, Vec<u8>)> = Vec::new();
            for meta in objects {
                let rel = store.at.relative(&meta.location);
                if !rel.ends_with(".ocsf.jsonl") {
                    continue;
                }
                let mut parts = rel.split('/');
                let (Some(_), Some(date), Some(agent_part)) =
                    (parts.next(), parts.next(), parts.next())
                else {
                    continue;
                };
                let date = date.trim_start_matches("date=");
                if since.is_some_and(|s| date < s.utc_date().as_str())
                    || until.is_some_and(|u| date > u.utc_date().as_str())
                    || agent
                        .as_ref()
                        .is_some_and(|a| agent_part.trim_start_matches("agent=") != a)
                {
                    continue;
                }
                if date != day {
                    print_events(&mut stdout, *format, &mut pending)?;
                    day = date.to_string();
                }
                let bytes = store.get_path(&meta.location).await?.unwrap_or_default();
                for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                    let record: serde_json::Value = serde_json::from_slice(line)
                        .with_context(|| format!("corrupt event line in {rel}"))?;
                    let t = record["time"].as_i64().unwrap_or_default();
                    if since.is_some_and(|s| t < s.millis())
                        || until.is_some_and(|u| t >= u.millis())
                    {
                        continue;
                    }
                    if layer.is_some() && normalizer::ocsf::layer_of(&record) != layer {
                        continue;
                    }
                    pending.push((t, record, line.to_vec()));
                }
            }
            print_events(&mut stdout, *format, &mut pending)?;
        }
        Command::Findings { format } => {
            let config = load_config(&cli, false)?;
            let store = pipeline::open_existing_store(&config)?;
            match format {
                FindingsFormat::Ocsf => stdout
                    .write_all(&store.get(layout::FINDINGS_OCSF).await?.unwrap_or_default())?,
                FindingsFormat::Json | FindingsFormat::Table => {
                    let findings: Vec<normalizer::Finding> = store
                        .get_json(layout::FINDINGS_DOC)
                        .await?
                        .unwrap_or_default();
                    if matches!(format, FindingsFormat::Json) {
                        writeln!(stdout, "{}", serde_json::to_string_pretty(&findings)?)?;
                    } else {
                        write!(stdout, "{}", report::findings_table(&findings))?;
                    }
                }
            }
        }
        Command::Quarantine { source } => {
            let config = load_config(&cli, false)?;
            let store = pipeline::open_existing_store(&config)?;
            let prefix = match source {
                Some(s) => format!("quarantine/{s}"),
                None => "quarantine".to_string(),
            };
            let mut rows = 0u64;
            for name in store.list(&prefix).await? {
                let bytes = store.get(&name).await?.unwrap_or_default();
                for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                    let row: serde_json::Value = serde_json::from_slice(line)
                        .with_context(|| format!("corrupt quarantine row in {name}"))?;
                    rows += 1;
                    writeln!(stdout, "{}", report::quarantine_row(&row))?;
                }
            }
            writeln!(stdout, "{rows} quarantined")?;
        }
        Command::Coverage { format } => {
            let config = load_config(&cli, false)?;
            let store = pipeline::open_existing_store(&config)?;
            let coverage: Vec<normalizer::Coverage> = store
                .get_json(layout::COVERAGE_DOC)
                .await?
                .unwrap_or_default();
            match format {
                TextOrJson::Table => write!(stdout, "{}", report::coverage_table(&coverage))?,
                TextOrJson::Json => {
                    writeln!(stdout, "{}", serde_json::to_string_pretty(&coverage)?)?
                }
            }
        }
        Command::Baseline {
            command: BaselineCommand::Show { agent, format },
        } => {
            let (_, analysis) = open_analysis(&cli).await?;
            let names = &analysis.names;
            let chosen: Vec<&normalizer::baseline::Baseline> = match agent {
                Some(a) => vec![resolve_agent(&analysis, a)?],
                None => analysis.rollup.agents.values().collect(),
            };
            match format {
                TextOrJson::Json => {
                    let docs: Vec<serde_json::Value> = chosen
                        .iter()
                        .map(|b| {
                            let key = b.agent.key();
                            serde_json::json!({
                                "agent": b.agent,
                                "name": names.get(&key),
                                "state": b.state(),
                                "class": analysis.classes.get(&key),
                                "track": analysis.tracks.get(&key),
                                "convergence": b.convergence(),
                                "baseline": b,
                            })
                        })
                        .collect();
                    writeln!(stdout, "{}", serde_json::to_string_pretty(&docs)?)?;
                }
                TextOrJson::Table if agent.is_some() => {
                    for b in &chosen {
                        write!(stdout, "{}", report::baseline_detail(b, &analysis))?;
                    }
                }
                TextOrJson::Table => {
                    write!(stdout, "{}", report::baseline_list(&chosen, &analysis))?;
                    if chosen.is_empty() {
                        writeln!(stdout, "no baselines yet: run `agentward scan` first")?;
                    }
                }
            }
            if !analysis.missing_parts.is_empty() {
                let warning = format!(
                    "incomplete: {} scanned log files have no baseline part (first: {}); rescan them",
                    analysis.missing_parts.len(),
                    analysis.missing_parts[0]
                );
                // JSON on stdout stays parseable; the warning goes beside it.
                match format {
                    TextOrJson::Json => eprintln!("{warning}"),
                    TextOrJson::Table => writeln!(stdout, "{warning}")?,
                }
            }
        }
        Command::Drift {
            days,
            until,
            agent,
            all,
            format,
        } => {
            let (store, analysis) = open_analysis(&cli).await?;
            let names = &analysis.names;
            let only = only_agent(&analysis, agent.as_deref())?;
            let until = until.as_deref().map(parse_time).transpose()?;
            let episodes = analysis.episodes(
                Some(i64::from(*days) * Timestamp::MS_PER_DAY),
                until,
                only.as_ref(),
            );
            match format {
                TextOrJson::Json => {
                    writeln!(stdout, "{}", serde_json::to_string_pretty(&episodes)?)?
                }
                TextOrJson::Table => {
                    let mut samples = BTreeMap::new();
                    for e in episodes.iter().filter(|e| {
                        *all || (e.class != normalizer::drift::DriftClass::Evolution && !e.accepted)
                    }) {
                        samples.insert(e.uid.clone(), sample_events(&store, e, 3).await?);
                    }
                    write!(
                        stdout,
                        "{}",
                        report::drift_table(&episodes, names, &samples, *days, *all)
                    )?;
                }
            }
        }
        Command::Reconcile {
            agent,
            min_days,
            format,
        } => {
            let (_, analysis) = open_analysis(&cli).await?;
            let names = &analysis.names;
            let only = only_agent(&analysis, agent.as_deref())?;
            let settings = normalizer::reconcile::ReconcileConfig {
                min_observed_days: i64::from(*min_days),
            };
            let results = analysis.reconciliations(&settings, only.as_ref());
            match format {
                TextOrJson::Json => {
                    writeln!(stdout, "{}", serde_json::to_string_pretty(&results)?)?
                }
                TextOrJson::Table => {
                    write!(stdout, "{}", report::reconcile_table(&results, names))?;
                    if results.is_empty() {
                        writeln!(stdout, "no baselines yet: run `agentward scan` first")?;
                    }
                }
            }
        }
        Command::Accept {
            episode,
            reason,
            by,
        } => {
            if reason.trim().is_empty() {
                bail!(
                    "--reason must say why the episode is acceptable: it goes into the audit trail"
                );
            }
            let (store, analysis) = open_analysis(&cli).await?;
            // Any episode on record, not just the default period's.
            let episodes = analysis.episodes(Some(3650 * Timestamp::MS_PER_DAY), None, None);
            let Some(found) = episodes.iter().find(|e| &e.uid == episode) else {
                let open: Vec<&str> = episodes
                    .iter()
                    .filter(|e| e.class != normalizer::drift::DriftClass::Evolution)
                    .map(|e| e.uid.as_str())
                    .collect();
                bail!(
                    "no drift episode {episode:?}; episodes to review: {}",
                    if open.is_empty() {
                        "none".to_string()
                    } else {
                        open.join(", ")
                    }
                );
            };
            if found.class == normalizer::drift::DriftClass::Evolution {
                bail!("{episode} is an evolution: it is already part of the baseline");
            }
            if let Some(previous) = analysis.acceptances.episodes.get(episode) {
                writeln!(
                    stdout,
                    "{episode} was already accepted by {} at {}: {}",
                    previous.by, previous.time, previous.reason
                )?;
                return Ok(ExitCode::SUCCESS);
            }
            let now = pipeline::now();
            let acceptance = behavior::Acceptance {
                time: now,
                by: by.clone(),
                reason: reason.clone(),
                class: found.class.label().to_string(),
            };
            let mine = behavior::Acceptances {
                episodes: BTreeMap::from([(episode.clone(), acceptance)]),
            };
            store
                .commit(
                    behavior::ACCEPTED_DIR,
                    mine,
                    None,
                    behavior::Acceptances::merge,
                )
                .await?;
            audit::append(
                &store,
                vec![normalizer::audit::AuditEntry {
                    time: now,
                    kind: "drift-accepted".into(),
                    subject: Some(found.agent.key()),
                    summary: format!("{} on {} accepted by {by}: {reason}", found.class.label(), found.window_start.utc_date()),
                    evidence: serde_json::json!({
                        "episode": episode,
                        "explanation": found.explanation,
                        "departures": found.departures.iter().map(|d| d.describe()).collect::<Vec<_>>(),
                    }),
                }],
            )
            .await?;
            writeln!(
                stdout,
                "accepted {episode} ({}); the next scan drops its finding",
                found.class.label()
            )?;
        }
        Command::Envelopes { a, b, format } => {
            let (_, analysis) = open_analysis(&cli).await?;
            let (left, right) = (resolve_agent(&analysis, a)?, resolve_agent(&analysis, b)?);
            let rows = behavior::compare_envelopes(left, right);
            match format {
                TextOrJson::Json => writeln!(
                    stdout,
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "a": left.agent, "b": right.agent, "behaviors": rows,
                    }))?
                )?,
                TextOrJson::Table => write!(
                    stdout,
                    "{}",
                    report::envelopes_table(left, right, &rows, &analysis)
                )?,
            }
        }
        Command::Probe { command } => {
            probe_cmd::run(command, &mut stdout).await?;
        }
        Command::Audit {
            command: AuditCommand::Verify { expect_head },
        } => {
            let config = load_config(&cli, false)?;
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
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// glibc gives every thread that allocates its own arena and keeps what is freed there; with
/// the parser and writer threads passing buffers between them, peak memory grew with the
/// length of a scan (33 MiB at 1M records, 88 MiB at 10M). Two arenas keep it flat.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn limit_malloc_arenas() {
    // SAFETY: mallopt only changes allocator tuning; it is called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn limit_malloc_arenas() {}

fn main() -> ExitCode {
    limit_malloc_arenas();
    init_logging();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        // A reader that stops early (`| head`) is not an error.
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}
