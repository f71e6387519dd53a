//! Drift episodes over a period, with the signals each was judged on and sample events.

use super::count_of;
use super::events::event_row;
use normalizer::ocsf::EventFields;
use normalizer::thousands;
use std::fmt::Write;

fn continuity_text(c: &normalizer::drift::Continuity) -> String {
    use normalizer::drift::Continuity::*;
    match c {
        Continuous { windows_after } => {
            format!(
                "continuous (kept recurring over {} since)",
                count_of(*windows_after, "active window")
            )
        }
        Burst { windows_after } => {
            format!(
                "burst (did not persist over {} since)",
                count_of(*windows_after, "active window")
            )
        }
        TooRecent { windows_after } => {
            format!(
                "too recent to tell ({} since)",
                count_of(*windows_after, "active window")
            )
        }
    }
}

fn bounds_text(b: &normalizer::drift::Bounds) -> String {
    use normalizer::drift::Bounds::*;
    match b {
        Within => "within the volume envelope".into(),
        Outside {
            behavior,
            count,
            bound,
        } => format!(
            "OUTSIDE: {} {} in one window, bound {bound:.0} ({:.1}x)",
            behavior.describe(),
            thousands(*count),
            *count as f64 / bound
        ),
        Unknown => "unknown (not enough history to bound the volume)".into(),
    }
}

pub fn drift_table(
    episodes: &[normalizer::drift::Episode],
    names: &std::collections::BTreeMap<String, String>,
    samples: &std::collections::BTreeMap<String, Vec<serde_json::Value>>,
    days: u32,
    all: bool,
) -> String {
    use normalizer::drift::DriftClass;
    let mut out = String::new();
    let evolutions = episodes
        .iter()
        .filter(|e| e.class == DriftClass::Evolution)
        .count();
    let accepted = episodes.iter().filter(|e| e.accepted).count();
    let open = |class: fn(&DriftClass) -> bool| {
        episodes
            .iter()
            .filter(|e| !e.accepted && class(&e.class))
            .count()
    };
    let _ = writeln!(
        out,
        "{} drift episodes over {days} days: {} evolution (absorbed into the baseline), {} risky drift, {} unclassified, {accepted} accepted after review",
        episodes.len(),
        evolutions,
        open(|c| *c == DriftClass::RiskyDrift),
        open(|c| matches!(c, DriftClass::Unclassified { .. })),
    );
    for e in episodes
        .iter()
        .filter(|e| all || (e.class != DriftClass::Evolution && !e.accepted))
    {
        let key = e.agent.key();
        let _ = writeln!(
            out,
            "\n{}  {}  {key} \"{}\"",
            e.class.label().to_uppercase(),
            e.window_start.utc_date(),
            names
                .get(&key)
                .map(String::as_str)
                .unwrap_or("(name not seen)")
        );
        let _ = writeln!(out, "  uid:        {}", e.uid);
        if e.accepted {
            let _ = writeln!(
                out,
                "  ACCEPTED after review (see `agentward audit verify` and the audit trail)"
            );
        }
        let _ = writeln!(out, "  why:        {}", e.explanation);
        let _ = writeln!(
            out,
            "  deploy:     {}",
            match &e.deploy {
                Some(d) => format!(
                    "{} at {} by {}",
                    d.operation,
                    d.time,
                    d.actor.as_deref().unwrap_or("-")
                ),
                None => "none within the lookback before it".into(),
            }
        );
        let _ = writeln!(out, "  continuity: {}", continuity_text(&e.continuity));
        let _ = writeln!(out, "  bounds:     {}", bounds_text(&e.bounds));
        let _ = writeln!(out, "  departures:");
        for d in &e.departures {
            let _ = writeln!(out, "    {}", d.describe());
        }
        if let Some(rows) = samples.get(&e.uid) {
            let _ = writeln!(out, "  first events:");
            for r in rows {
                let _ = writeln!(out, "    {}", event_row(&EventFields::of(r)));
            }
        }
        let _ = writeln!(
            out,
            "  all events: agentward events --agent {key} --since {} --until {}",
            e.first, e.window_end
        );
    }
    if !all && evolutions + accepted > 0 {
        let _ = writeln!(
            out,
            "\n(--all lists the evolutions and accepted episodes too)"
        );
    }
    out
}
