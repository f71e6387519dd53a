//! Stored events and quarantined records, one line each.

use normalizer::ocsf::EventFields;

/// One stored event as a table row.
pub fn event_row(e: &EventFields<'_>) -> String {
    format!(
        "{}  {:<15} {:<40} {:<7} {:<28} {}  {}",
        e.time,
        e.layer.unwrap_or("-"),
        e.action.unwrap_or("-"),
        e.status.unwrap_or("-"),
        e.agent_key.unwrap_or("unattributed"),
        e.actor.unwrap_or("-"),
        e.target.unwrap_or("-")
    )
}

/// One quarantined record: where it was, why, and how it began.
pub fn quarantine_row(row: &serde_json::Value) -> String {
    let place = match row["index"].as_u64() {
        Some(i) => format!("{} #{i}", row["object"].as_str().unwrap_or("?")),
        None => format!(
            "{} (the file itself)",
            row["object"].as_str().unwrap_or("?")
        ),
    };
    let excerpt: String = row["excerpt"]
        .as_str()
        .unwrap_or("")
        .chars()
        .take(80)
        .collect();
    format!(
        "{}: {place}: {} ({} bytes){}",
        row["source"].as_str().unwrap_or("?"),
        row["reason"].as_str().unwrap_or("?"),
        row["size"].as_u64().unwrap_or(0),
        if excerpt.is_empty() {
            String::new()
        } else {
            format!("\n    starts: {excerpt:?}")
        }
    )
}
