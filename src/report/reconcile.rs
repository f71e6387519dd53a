//! Declared against observed: unused excess, inherited overreach, and what could not be
//! judged.

use std::fmt::Write;

pub fn reconcile_table(
    results: &[normalizer::reconcile::Reconciliation],
    names: &std::collections::BTreeMap<String, String>,
) -> String {
    use normalizer::reconcile::Axis;
    let mut out = String::new();
    for r in results {
        let key = r.agent.key();
        let _ = writeln!(
            out,
            "{key}  \"{}\"",
            names
                .get(&key)
                .map(String::as_str)
                .unwrap_or("(name not seen)")
        );
        let _ = writeln!(
            out,
            "  observed {} days ({} → {}); roles: {}",
            r.observed_days,
            r.observed_from.map(|t| t.utc_date()).unwrap_or_default(),
            r.observed_until.map(|t| t.utc_date()).unwrap_or_default(),
            if r.roles.is_empty() {
                "none seen".to_string()
            } else {
                r.roles.join(", ")
            }
        );
        if let Some(why) = &r.unused_not_judged {
            let _ = writeln!(out, "  unused excess not judged: {why}");
        }
        for axis in [Axis::UnusedExcess, Axis::InheritedOverreach] {
            let items: Vec<_> = r.items.iter().filter(|i| i.axis == axis).collect();
            let _ = writeln!(out, "  {} ({}):", axis.label().to_uppercase(), items.len());
            for i in items {
                let _ = writeln!(out, "    - {}", i.title);
                let _ = writeln!(out, "      {}", i.subject);
                for e in &i.evidence {
                    let _ = writeln!(out, "      · {e}");
                }
                if let Some(p) = &i.proof {
                    let _ = writeln!(out, "      {p}");
                }
            }
        }
        if !r.notes.is_empty() {
            let _ = writeln!(out, "  not judged:");
            for n in &r.notes {
                let _ = writeln!(out, "    - {n}");
            }
        }
    }
    out
}
