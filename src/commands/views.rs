//! What the store holds, as a table or a format: inventory, events, findings, quarantine, coverage.

use super::{load_config, parse_time};
use crate::{Cli, EventsFormat, FindingsFormat, InventoryFormat, TextOrJson};
use crate::{layout, pipeline, report};
use anyhow::Context;
use futures::TryStreamExt;
use normalizer::inventory::InventoryHistory;
use std::io::Write;
use std::process::ExitCode;

pub async fn inventory(
    cli: &Cli,
    at: &Option<String>,
    format: &InventoryFormat,
    stdout: &mut impl Write,
) -> anyhow::Result<ExitCode> {
    let config = load_config(cli, false)?;
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
        InventoryFormat::Json => writeln!(stdout, "{}", serde_json::to_string_pretty(&snapshot)?)?,
        InventoryFormat::Cyclonedx => writeln!(
            stdout,
            "{}",
            serde_json::to_string_pretty(&normalizer::cyclonedx::snapshot_to_cyclonedx(
                &snapshot,
                env!("CARGO_PKG_VERSION")
            ))?
        )?,
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn events(
    cli: &Cli,
    agent: &Option<String>,
    since: &Option<String>,
    until: &Option<String>,
    layer: &Option<String>,
    format: &EventsFormat,
    stdout: &mut impl Write,
) -> anyhow::Result<ExitCode> {
    let config = load_config(cli, false)?;
    let store = pipeline::open_existing_store(&config)?;
    let since = since.as_deref().map(parse_time).transpose()?;
    let until = until.as_deref().map(parse_time).transpose()?;
    let layer = match layer {
        Some(l) => {
            Some(normalizer::Layer::parse(l).with_context(|| format!("unknown layer {l:?}"))?)
        }
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
        let (Some(_), Some(date), Some(agent_part)) = (parts.next(), parts.next(), parts.next())
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
            print_events(stdout, *format, &mut pending)?;
            day = date.to_string();
        }
        let bytes = store.get_path(&meta.location).await?.unwrap_or_default();
        for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let record: serde_json::Value = serde_json::from_slice(line)
                .with_context(|| format!("corrupt event line in {rel}"))?;
            let t = record["time"].as_i64().unwrap_or_default();
            if since.is_some_and(|s| t < s.millis()) || until.is_some_and(|u| t >= u.millis()) {
                continue;
            }
            if layer.is_some() && normalizer::ocsf::layer_of(&record) != layer {
                continue;
            }
            pending.push((t, record, line.to_vec()));
        }
    }
    print_events(stdout, *format, &mut pending)?;
    Ok(ExitCode::SUCCESS)
}

pub async fn findings(
    cli: &Cli,
    format: &FindingsFormat,
    stdout: &mut impl Write,
) -> anyhow::Result<ExitCode> {
    let config = load_config(cli, false)?;
    let store = pipeline::open_existing_store(&config)?;
    match format {
        FindingsFormat::Ocsf => {
            stdout.write_all(&store.get(layout::FINDINGS_OCSF).await?.unwrap_or_default())?
        }
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
    Ok(ExitCode::SUCCESS)
}

pub async fn quarantine(
    cli: &Cli,
    source: &Option<String>,
    stdout: &mut impl Write,
) -> anyhow::Result<ExitCode> {
    let config = load_config(cli, false)?;
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
    Ok(ExitCode::SUCCESS)
}

pub async fn coverage(
    cli: &Cli,
    format: &TextOrJson,
    stdout: &mut impl Write,
) -> anyhow::Result<ExitCode> {
    let config = load_config(cli, false)?;
    let store = pipeline::open_existing_store(&config)?;
    let coverage: Vec<normalizer::Coverage> = store
        .get_json(layout::COVERAGE_DOC)
        .await?
        .unwrap_or_default();
    match format {
        TextOrJson::Table => write!(stdout, "{}", report::coverage_table(&coverage))?,
        TextOrJson::Json => writeln!(stdout, "{}", serde_json::to_string_pretty(&coverage)?)?,
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn print_events(
    out: &mut impl Write,
    format: EventsFormat,
    events: &mut Vec<(i64, serde_json::Value, Vec<u8>)>,
) -> std::io::Result<()> {
    events.sort_by_key(|(t, _, _)| *t);
    for (_, record, line) in events.drain(..) {
        match format {
            EventsFormat::Table => writeln!(
                out,
                "{}",
                report::event_row(&normalizer::ocsf::EventFields::of(&record))
            )?,
            EventsFormat::Ocsf => {
                out.write_all(&line)?;
                out.write_all(b"\n")?;
            }
        }
    }
    Ok(())
}
