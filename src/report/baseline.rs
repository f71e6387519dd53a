//! Baselines: what each agent normally does, its convergence, and two agents' envelopes
//! side by side.

use super::count_of;
use normalizer::thousands;
use std::fmt::Write;

/// A terminal sparkline of the convergence series: one cell per window, `·` for a window
/// without events.
fn sparkline(series: &[normalizer::baseline::WindowRate]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = series.iter().map(|w| w.rate).fold(0.0_f64, f64::max);
    series
        .iter()
        .map(|w| {
            if w.events == 0 {
                '·'
            } else if max <= 0.0 || w.rate <= 0.0 {
                BARS[0]
            } else {
                BARS[(((w.rate / max) * 7.0).round() as usize).min(7)]
            }
        })
        .collect()
}

fn state_text(state: &normalizer::baseline::BaselineState) -> String {
    use normalizer::baseline::BaselineState::*;
    match state {
        Learning { windows } => format!("learning ({windows} windows observed)"),
        Converged { since } => format!("converged since {}", since.utc_date()),
        NotConverging { windows } => {
            format!("not converging: still doing new things after {windows} windows")
        }
        TooLarge { cap, unrecorded } => format!(
            "too large: more than {cap} distinct behaviors; {} events not kept in the envelope",
            thousands(*unrecorded)
        ),
    }
}

fn observed_span(b: &normalizer::baseline::Baseline) -> String {
    match (b.first_event(), b.last_event()) {
        (Some(first), Some(last)) => format!(
            "{} → {} ({} days)",
            first.utc_date(),
            last.utc_date(),
            (last.millis() - first.millis()) / normalizer::Timestamp::MS_PER_DAY + 1
        ),
        _ => "no events".into(),
    }
}

fn track_text(analysis: &crate::behavior::Analysis, key: &str) -> String {
    use crate::config::Track;
    match analysis.tracks.get(key) {
        Some(t) => match (&t.track, &t.reference) {
            (Track::PreEnforced { .. }, Some(r)) => format!(
                "pre-enforced for {} days: judged from day one against the staging baseline of {} in {} ({} behaviors)",
                t.observed_days,
                r.agent.key(),
                r.store,
                r.baseline.distinct_behaviors()
            ),
            _ => format!("observe-in-production for {} days", t.observed_days),
        },
        None => "observe-in-production".into(),
    }
}

fn class_text(analysis: &crate::behavior::Analysis, key: &str) -> String {
    match analysis.classes.get(key) {
        Some(c) => format!("{} ({})", c.class.label(), c.reasons.join("; ")),
        None => "unknown".into(),
    }
}

pub fn baseline_list(
    baselines: &[&normalizer::baseline::Baseline],
    analysis: &crate::behavior::Analysis,
) -> String {
    let mut out = String::new();
    for b in baselines {
        let key = b.agent.key();
        let _ = writeln!(
            out,
            "{key}  \"{}\"\n    {}; {} distinct behaviors; observed {}\n    class: {}\n    track: {}",
            analysis
                .names
                .get(&key)
                .map(String::as_str)
                .unwrap_or("(name not seen)"),
            state_text(&b.state()),
            b.distinct_behaviors(),
            observed_span(b),
            analysis
                .classes
                .get(&key)
                .map_or("unknown", |c| c.class.label()),
            track_text(analysis, &key)
        );
    }
    out
}

pub fn baseline_detail(
    b: &normalizer::baseline::Baseline,
    analysis: &crate::behavior::Analysis,
) -> String {
    use normalizer::baseline::Behavior;
    let mut out = String::new();
    let key = b.agent.key();
    let _ = writeln!(
        out,
        "{key}  \"{}\"",
        analysis
            .names
            .get(&key)
            .map(String::as_str)
            .unwrap_or("(name not seen)")
    );
    let _ = writeln!(out, "  state:    {}", state_text(&b.state()));
    let _ = writeln!(out, "  observed: {}", observed_span(b));
    let _ = writeln!(out, "  class:    {}", class_text(analysis, &key));
    if let Some(c) = analysis.classes.get(&key) {
        let envelopes = analysis.class_envelopes();
        if let Some(env) = envelopes.get(&c.class) {
            let unusual = env.unusual_for(b);
            let _ = writeln!(
                out,
                "            {} in this class{}",
                count_of(env.members.len(), "agent"),
                match (env.members.len(), unusual.is_empty()) {
                    (1, _) => String::from(" (nothing to compare with)"),
                    (_, true) => String::from("; nothing it does is unusual for the class"),
                    (_, false) => format!("; only this one does: {}", unusual.join(", ")),
                }
            );
        }
    }
    let _ = writeln!(out, "  track:    {}", track_text(analysis, &key));
    let series = b.convergence();
    let _ = writeln!(
        out,
        "  convergence (share of each window's events doing something new; · = no events):"
    );
    let _ = writeln!(out, "    {}", sparkline(&series));
    if let (Some(first), Some(last)) = (series.first(), series.last()) {
        let _ = writeln!(
            out,
            "    {} rate {:.3} … {} rate {:.3}",
            first.window_start.utc_date(),
            first.rate,
            last.window_start.utc_date(),
            last.rate
        );
    }
    let deploys = b.deploys();
    let _ = writeln!(out, "  deploys: {}", deploys.len());
    for d in deploys.iter().rev().take(5) {
        let _ = writeln!(
            out,
            "    {}  {:<22} {}",
            d.time,
            d.operation,
            d.actor.as_deref().unwrap_or("-")
        );
    }
    let mut entries: Vec<_> = b.behaviors().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    let _ = writeln!(
        out,
        "  envelope: actions and models (volume per active window: median, and the bound above which it is a departure)"
    );
    let _ = writeln!(
        out,
        "    {:<58} {:>8} {:>7} {:>7} {:>8}  {:<10} {:<10}",
        "behavior", "events", "windows", "median", "bound", "first", "last"
    );
    for (behavior, seen) in entries.iter().filter(|(b, _)| b.keeps_all_windows()) {
        let counts: Vec<u64> = seen.windows.values().copied().collect();
        let (median, bound) =
            normalizer::drift::envelope(&counts, normalizer::drift::DriftConfig::default().k)
                .unwrap_or((0.0, 0.0));
        let _ = writeln!(
            out,
            "    {:<58} {:>8} {:>7} {:>7.0} {:>8.1}  {:<10} {:<10}",
            behavior.describe(),
            thousands(seen.count),
            counts.len(),
            median,
            bound,
            seen.first.utc_date(),
            seen.last.utc_date()
        );
    }
    let _ = writeln!(
        out,
        "  envelope: actions on resources (volatile path segments shown as *)"
    );
    for (behavior, seen) in entries.iter() {
        if let Behavior::ActionOn { action, resource } = behavior {
            let _ = writeln!(
                out,
                "    {:<22} {:<60} {:>8}  {} → {}",
                action,
                resource,
                thousands(seen.count),
                seen.first.utc_date(),
                seen.last.utc_date()
            );
        }
    }
    let _ = writeln!(
        out,
        "  calls per role (what reconciliation holds against the role's grants)"
    );
    for (behavior, seen) in entries.iter() {
        if let Behavior::ActionAs {
            role,
            action,
            resource,
        } = behavior
        {
            let _ = writeln!(
                out,
                "    {:<22} {:<50} as {:<40} {:>8}",
                action,
                resource,
                role,
                thousands(seen.count)
            );
        }
    }
    out
}

pub fn envelopes_table(
    a: &normalizer::baseline::Baseline,
    b: &normalizer::baseline::Baseline,
    rows: &[crate::behavior::EnvelopeRow],
    analysis: &crate::behavior::Analysis,
) -> String {
    let mut out = String::new();
    let name = |x: &normalizer::baseline::Baseline| {
        let key = x.agent.key();
        format!(
            "{key} \"{}\" ({}, {})",
            analysis
                .names
                .get(&key)
                .map(String::as_str)
                .unwrap_or("(name not seen)"),
            analysis
                .classes
                .get(&key)
                .map_or("unknown class", |c| c.class.label()),
            state_text(&x.state())
        )
    };
    let _ = writeln!(out, "A: {}", name(a));
    let _ = writeln!(out, "B: {}", name(b));
    let _ = writeln!(
        out,
        "{:<70} {:>9} {:>8}   {:>9} {:>8}   who",
        "behavior", "A events", "A med/w", "B events", "B med/w"
    );
    let cell = |s: &Option<crate::behavior::EnvelopeSide>| match s {
        Some(s) => (thousands(s.count), format!("{:.0}", s.median_per_window)),
        None => ("-".to_string(), "-".to_string()),
    };
    let (mut only_a, mut only_b) = (0, 0);
    for r in rows {
        let (ac, am) = cell(&r.a);
        let (bc, bm) = cell(&r.b);
        let who = match (&r.a, &r.b) {
            (Some(_), None) => {
                only_a += 1;
                "only A"
            }
            (None, Some(_)) => {
                only_b += 1;
                "only B"
            }
            _ => "both",
        };
        let _ = writeln!(
            out,
            "{:<70} {:>9} {:>8}   {:>9} {:>8}   {who}",
            r.behavior.describe(),
            ac,
            am,
            bc,
            bm
        );
    }
    let _ = writeln!(
        out,
        "{} behaviors: {} both, {only_a} only A, {only_b} only B",
        rows.len(),
        rows.len() - only_a - only_b
    );
    out
}
