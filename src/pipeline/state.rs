//! Coverage of every known agent: each log source's share of it read from its cursor,
//! every source's statements on the layers it can speak for, weighed by the model.

use super::context::{StoreContext, inventory_history};
use crate::cursor::{FileDone, LayerCounts, SourceCursor};
use crate::layout::{UNATTRIBUTED, cursor_dir};
use connectors::records::{Loss, Lost};
use connectors::source::{AgentView, Peers, Source, Tally};
use normalizer::coverage::Judgement;
use normalizer::inventory::{AgentInventory, InventorySnapshot};
use normalizer::{AgentRef, Coverage, Layer, Timestamp};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Serialize)]
pub struct AgentSummary {
    pub agent: AgentRef,
    pub name: Option<String>,
    pub events_by_layer: BTreeMap<Layer, u64>,
    pub coverage: Vec<Coverage>,
    /// Its class and why, once baselines exist.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class: Option<normalizer::classes::Classification>,
    /// Its observation track and how long it has been observed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub track: Option<crate::behavior::TrackState>,
}

/// A configured source with its cursor, when it keeps one.
struct Configured<'a> {
    source: &'a dyn Source,
    cursor: Option<SourceCursor>,
}

/// Coverage of every known agent, from every source's cursor and statements; and the
/// events no agent could be tied to.
pub async fn compute_state(
    ctx: &StoreContext<'_>,
    configured: &[Box<dyn Source>],
) -> Result<(Vec<AgentSummary>, u64), super::ScanError> {
    let store = ctx.store;
    let snapshot = inventory_history(store)
        .await?
        .snapshot_at(Timestamp(i64::MAX));
    let mut sources = Vec::new();
    for source in configured {
        let cursor = store
            .latest::<SourceCursor>(&cursor_dir(source.name()))
            .await?
            .map(|(_, c)| c);
        sources.push(Configured {
            source: source.as_ref(),
            cursor,
        });
    }
    let (agents, unattributed) = known_agents(&snapshot, &sources);
    let tallies: Vec<Vec<Tally>> = sources
        .iter()
        .map(|s| agents.iter().map(|(agent, _)| tally(s, agent)).collect())
        .collect();
    let events: Vec<BTreeMap<Layer, u64>> = (0..agents.len())
        .map(|i| {
            let mut all = BTreeMap::new();
            for (l, n) in tallies.iter().flat_map(|t| &t[i].seen) {
                *all.entry(*l).or_default() += n;
            }
            all
        })
        .collect();
    let said = statements(ctx, &sources, &agents, &tallies, &events).await?;
    Ok((summarize(&agents, said, events), unattributed))
}

type Known<'a> = Vec<(AgentRef, Option<&'a AgentInventory>)>;

/// Every agent the inventory or a cursor knows, with its inventory, services left out; and
/// the events no agent could be tied to.
fn known_agents<'a>(snapshot: &'a InventorySnapshot, sources: &[Configured]) -> (Known<'a>, u64) {
    let mut known: BTreeSet<AgentRef> = snapshot.agents.iter().map(|a| a.agent.clone()).collect();
    let mut unattributed = 0u64;
    for cursor in sources.iter().filter_map(|s| s.cursor.as_ref()) {
        known.extend(cursor.agents.values().cloned());
        unattributed += cursor
            .files
            .values()
            .filter_map(|done| done.agents.get(UNATTRIBUTED))
            .map(LayerCounts::total)
            .sum::<u64>();
    }
    // A gateway or a memory is a service, not an agent: it is in the inventory, and its
    // use is judged on the runtimes that make it.
    let agents = known
        .into_iter()
        .map(|agent| {
            let inventory = snapshot.agents.iter().find(|a| a.agent == agent);
            (agent, inventory)
        })
        .filter(|(_, inventory)| !inventory.is_some_and(|a| a.is_service()))
        .collect();
    (agents, unattributed)
}

/// What every source says of every agent (`agents[i]` → its statements).
async fn statements(
    ctx: &StoreContext<'_>,
    sources: &[Configured<'_>],
    agents: &Known<'_>,
    tallies: &[Vec<Tally>],
    events: &[BTreeMap<Layer, u64>],
) -> Result<Vec<Vec<Judgement>>, super::ScanError> {
    let peers = Peers(
        sources
            .iter()
            .map(|s| (s.source.kind(), s.source.name().to_string()))
            .collect(),
    );
    let mut said: Vec<Vec<Judgement>> = agents.iter().map(|_| Vec::new()).collect();
    for (s, tallies) in sources.iter().zip(tallies) {
        // A source without a cursor has no events of anyone to speak of.
        if s.source.log_format().is_some() && s.cursor.is_none() {
            continue;
        }
        let views: Vec<AgentView<'_>> = agents
            .iter()
            .zip(tallies)
            .zip(events)
            .map(|(((agent, inventory), tally), events)| AgentView {
                agent,
                inventory: *inventory,
                events,
                tally,
            })
            .collect();
        let statements = s.source.coverage(ctx, &peers, &views).await?;
        for (mine, more) in said.iter_mut().zip(statements) {
            mine.extend(more);
        }
    }
    Ok(said)
}

/// One summary per agent key, in key order, its statements weighed.
fn summarize(
    agents: &Known<'_>,
    said: Vec<Vec<Judgement>>,
    events: Vec<BTreeMap<Layer, u64>>,
) -> Vec<AgentSummary> {
    let summaries: BTreeMap<String, AgentSummary> = agents
        .iter()
        .zip(said)
        .zip(events)
        .map(|(((agent, inventory), mut said), events)| {
            if let Some(inventory) = inventory {
                let tools = events.get(&Layer::ToolInvocation).copied().unwrap_or(0);
                said.extend(normalizer::coverage::no_tools(agent, inventory, tools));
            }
            let summary = AgentSummary {
                agent: agent.clone(),
                name: inventory.and_then(|a| a.name.as_ref().map(|n| n.value.clone())),
                events_by_layer: events,
                coverage: normalizer::coverage::merge(said),
                class: None,
                track: None,
            };
            (agent.key(), summary)
        })
        .collect();
    summaries.into_values().collect()
}

/// One source's share of one agent, from its cursor: events by layer, records lost to
/// quarantine in the files that cover it, and events the source said it lost.
fn tally(s: &Configured, agent: &AgentRef) -> Tally {
    let mut tally = Tally::default();
    let (Some(cursor), Some(format)) = (&s.cursor, s.source.log_format()) else {
        return tally;
    };
    let key = agent.key();
    for (file_key, done) in &cursor.files {
        for l in done.losses.iter().filter(|l| l.agents.contains(agent)) {
            add_lost(&mut tally.reported_lost, l.lost, (l.from, l.to));
        }
        if let Some(c) = done.agents.get(&key) {
            for (l, n) in c.iter() {
                *tally.seen.entry(l).or_default() += n;
            }
        }
        tally_quarantined(&mut tally, (file_key, done), &key, format);
    }
    tally
}

fn tally_quarantined(
    tally: &mut Tally,
    (file_key, done): (&str, &FileDone),
    key: &str,
    format: &dyn connectors::source::LogFormat,
) {
    if done.counts.quarantined == 0 {
        return;
    }
    if done.agents.contains_key(key)
        && let Some(window) = format.lost_events_window(file_key)
    {
        add_lost(&mut tally.reported_lost, done.counts.quarantined, window);
    }
    if let Some((from, to)) = connectors::records::file_day(file_key) {
        let l = tally.loss.get_or_insert(Loss { lost: 0, from, to });
        l.lost += done.counts.quarantined;
        l.from = l.from.min(from);
        l.to = l.to.max(to);
    }
}

fn add_lost(total: &mut Option<Lost>, lost: u64, (from, to): (Timestamp, Timestamp)) {
    let total = total.get_or_insert(Lost {
        lost: 0,
        from,
        to,
        agents: Vec::new(),
    });
    total.lost += lost;
    total.from = total.from.min(from);
    total.to = total.to.max(to);
}
