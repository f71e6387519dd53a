//! Baselines, drift, reconciliation, acceptance and envelopes, from the store's behavior analysis.

use super::{load_config, parse_time};
use crate::{Cli, TextOrJson};
use crate::{audit, behavior, pipeline, report, store};
use anyhow::{Context, bail};
use normalizer::Timestamp;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::process::ExitCode;

pub async fn baseline_show(
    cli: &Cli,
    agent: &Option<String>,
    format: &TextOrJson,
    stdout: &mut impl Write,
) -> anyhow::Result<ExitCode> {
    let (_, analysis) = open_analysis(cli).await?;
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
    Ok(ExitCode::SUCCESS)
}

pub async fn drift(
    cli: &Cli,
    days: &u32,
    until: &Option<String>,
    agent: &Option<String>,
    all: &bool,
    format: &TextOrJson,
    stdout: &mut impl Write,
) -> anyhow::Result<ExitCode> {
    let (store, analysis) = open_analysis(cli).await?;
    let names = &analysis.names;
    let only = only_agent(&analysis, agent.as_deref())?;
    let until = until.as_deref().map(parse_time).transpose()?;
    let episodes = analysis.episodes(
        Some(i64::from(*days) * Timestamp::MS_PER_DAY),
        until,
        only.as_ref(),
    );
    match format {
        TextOrJson::Json => writeln!(stdout, "{}", serde_json::to_string_pretty(&episodes)?)?,
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
    Ok(ExitCode::SUCCESS)
}

pub async fn reconcile(
    cli: &Cli,
    agent: &Option<String>,
    min_days: &u32,
    format: &TextOrJson,
    stdout: &mut impl Write,
) -> anyhow::Result<ExitCode> {
    let (_, analysis) = open_analysis(cli).await?;
    let names = &analysis.names;
    let only = only_agent(&analysis, agent.as_deref())?;
    let settings = normalizer::reconcile::ReconcileConfig {
        min_observed_days: i64::from(*min_days),
    };
    let results = analysis.reconciliations(&settings, only.as_ref());
    match format {
        TextOrJson::Json => writeln!(stdout, "{}", serde_json::to_string_pretty(&results)?)?,
        TextOrJson::Table => {
            write!(stdout, "{}", report::reconcile_table(&results, names))?;
            if results.is_empty() {
                writeln!(stdout, "no baselines yet: run `agentward scan` first")?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn accept(
    cli: &Cli,
    episode: &String,
    reason: &String,
    by: &String,
    stdout: &mut impl Write,
) -> anyhow::Result<ExitCode> {
    if reason.trim().is_empty() {
        bail!("--reason must say why the episode is acceptable: it goes into the audit trail");
    }
    let (store, analysis) = open_analysis(cli).await?;
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
            summary: format!(
                "{} on {} accepted by {by}: {reason}",
                found.class.label(),
                found.window_start.utc_date()
            ),
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
    Ok(ExitCode::SUCCESS)
}

pub async fn envelopes(
    cli: &Cli,
    a: &str,
    b: &str,
    format: &TextOrJson,
    stdout: &mut impl Write,
) -> anyhow::Result<ExitCode> {
    let (_, analysis) = open_analysis(cli).await?;
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
    Ok(ExitCode::SUCCESS)
}

/// The store and its behavior analysis, for the read-only behavior commands.
pub(crate) async fn open_analysis(cli: &Cli) -> anyhow::Result<(store::Store, behavior::Analysis)> {
    let config = load_config(cli, false)?;
    let store = pipeline::open_existing_store(&config)?;
    let analysis = behavior::Analysis::load(&store, false, &config).await?;
    Ok((store, analysis))
}

/// The agent `--agent` names, if given.
pub(crate) fn only_agent(
    analysis: &behavior::Analysis,
    agent: Option<&str>,
) -> anyhow::Result<Option<normalizer::AgentRef>> {
    agent
        .map(|a| resolve_agent(analysis, a).map(|b| b.agent.clone()))
        .transpose()
}

/// The baseline of the agent a user named by key, id or name.
pub(crate) fn resolve_agent<'a>(
    analysis: &'a behavior::Analysis,
    wanted: &str,
) -> anyhow::Result<&'a normalizer::baseline::Baseline> {
    Ok(behavior::resolve(
        &analysis.rollup,
        &analysis.names,
        wanted,
    )?)
}

/// The first `n` stored events of an episode's agent and window whose action is one of
/// its departures: the evidence a reviewer starts from.
pub(crate) async fn sample_events(
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
