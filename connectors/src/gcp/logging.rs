//! Cloud Audit Logs read through the Cloud Logging API (`entries.list`), for projects
//! without a sink to Cloud Storage. The entries read are written into the store in the
//! layout a sink uses (`PROJECT/cloudaudit.googleapis.com/LOG/YYYY/MM/DD/…json`, one
//! `LogEntry` per line), and scanned from there like an export: the same mapping,
//! cursors, quarantine and evidence pointers.
//!
//! Which entries are new is decided on `receiveTimestamp`, not `timestamp`: an entry that
//! reaches Cloud Logging late is still read by the next scan. Entries are listed in
//! `timestamp` order (the only order the API offers), so a read that runs out of pages
//! remembers where it stopped and the next read continues there within the same window.

use super::{CLOUD_PLATFORM, GcpSettings};
use crate::rest::{Call, RestClient, RestError};
use normalizer::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

/// Entries asked for per page (the API's maximum).
const PAGE_SIZE: u32 = 1000;
/// How long before a scan entries must have been received to be read by it: the Logging
/// API shows an entry shortly after it is received, so the newest moments are read again
/// by the next scan (entries seen twice are left out by their key).
const SETTLE_MS: i64 = 10 * 60 * 1000;

pub use crate::source::PullLimits;

/// Where the reading of one project's audit logs stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullState {
    /// Entries received at or after this instant are still to be read.
    pub received_from: Timestamp,
    /// A read that ran out of pages stopped at this entry `timestamp` (as Google wrote it);
    /// the next read continues there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume_at: Option<String>,
    /// Key → receive time of every entry read that was received at or after
    /// `received_from`: the next read asks for them again and leaves them out.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub seen: BTreeMap<String, Timestamp>,
}

/// What one read of a project produced.
#[derive(Debug)]
pub struct Pulled {
    /// Object key (relative to the source's pulled directory) → JSON lines.
    pub files: Vec<(String, Vec<u8>)>,
    pub entries: usize,
    /// Entries the API returned that an earlier read had already written.
    pub repeated: usize,
    pub state: PullState,
    /// Pages remained when the page budget ran out.
    pub more: bool,
}

/// The longest filter the Logging API accepts.
const MAX_FILTER_CHARS: usize = 20_000;

/// The filter: audit logs of Vertex AI calls and of calls by the engines' identities.
pub fn filter(principals: &BTreeSet<String>, state: &PullState) -> String {
    let window = format!("receiveTimestamp>=\"{}\"", state.received_from.rfc3339());
    // OR binds tighter than AND in the Logging query language: every group is bracketed.
    // Besides the audit logs, the engines' runtime lines in which ADK names the model it
    // calls (never any other line of their output).
    let build = |identities: &str| {
        format!(
            "((logName:\"cloudaudit.googleapis.com\" AND (protoPayload.serviceName=\"aiplatform.googleapis.com\" OR protoPayload.authenticationInfo.principalSubject:\"/reasoningEngines/\"{identities})) OR (resource.type=\"aiplatform.googleapis.com/ReasoningEngine\" AND textPayload:\"Sending out request, model:\")) AND {window}"
        )
    };
    let list: Vec<String> = principals.iter().map(|p| format!("\"{p}\"")).collect();
    let mut text = build(&if list.is_empty() {
        String::new()
    } else {
        format!(
            " OR protoPayload.authenticationInfo.principalEmail=({})",
            list.join(" OR ")
        )
    });
    if text.len() + 60 > MAX_FILTER_CHARS {
        // Too many identities to name: every service account's calls are read, and those
        // of no engine stay unattributed.
        text = build(" OR protoPayload.authenticationInfo.principalEmail:\"gserviceaccount.com\"");
    }
    if let Some(at) = &state.resume_at {
        text.push_str(&format!(" AND timestamp>=\"{at}\""));
    }
    text
}

/// The key an entry is known by: unique per log, timestamp and insertId.
fn entry_key(entry: &Value) -> String {
    let field = |k: &str| entry.get(k).and_then(Value::as_str).unwrap_or("");
    crate::record_uid(&[field("logName"), field("timestamp"), field("insertId")])
}

/// `projects/P/logs/cloudaudit.googleapis.com%2Fdata_access` → `cloudaudit.googleapis.com/data_access`:
/// the directory a sink files the log under.
fn log_dir(log_name: &str) -> String {
    let name = log_name.rsplit("/logs/").next().unwrap_or(log_name);
    name.replace("%2F", "/")
}

fn millis(entry: &Value, field: &str) -> Option<Timestamp> {
    entry
        .get(field)
        .and_then(Value::as_str)
        .and_then(|t| Timestamp::parse_rfc3339(t).ok())
}

/// Reads the project's new audit entries, at most `limits.max_pages` pages.
pub async fn pull(
    client: &RestClient,
    settings: &GcpSettings,
    project: &str,
    principals: &BTreeSet<String>,
    state: Option<PullState>,
    now: Timestamp,
    limits: PullLimits,
) -> Result<Pulled, RestError> {
    // Only a window that follows an earlier read is checked on the answers: a recording's
    // first window is whatever was asked when it was made.
    let resumed = state.is_some();
    let mut state = state.unwrap_or_else(|| PullState {
        received_from: Timestamp(now.millis() - i64::from(limits.days) * Timestamp::MS_PER_DAY),
        resume_at: None,
        seen: BTreeMap::new(),
    });
    let url = settings.url("logging.googleapis.com", "/v2/entries:list")?;
    let query = filter(principals, &state);
    let resume_ms = state
        .resume_at
        .as_deref()
        .and_then(|t| Timestamp::parse_rfc3339(t).ok());
    let mut token: Option<String> = None;
    let mut fresh: Vec<Value> = Vec::new();
    let mut repeated = 0;
    let mut more = false;
    for page_number in 0..limits.max_pages.max(1) {
        let mut body = json!({
            "resourceNames": [format!("projects/{project}")],
            "filter": query,
            "orderBy": "timestamp asc",
            "pageSize": PAGE_SIZE,
        });
        if let Some(t) = &token {
            body["pageToken"] = json!(t);
        }
        let page = client
            .json(Call::post("logging", url.clone(), CLOUD_PLATFORM, body))
            .await?;
        for entry in page
            .get("entries")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            // What the filter asked for, checked here too: a recording answers whatever
            // window is asked, and an entry outside it was read before.
            let received = millis(entry, "receiveTimestamp");
            if resumed
                && (received.is_some_and(|r| r < state.received_from)
                    || (resume_ms.is_some() && millis(entry, "timestamp") < resume_ms))
            {
                repeated += 1;
                continue;
            }
            let key = entry_key(entry);
            if state.seen.contains_key(&key) {
                repeated += 1;
                continue;
            }
            state.seen.insert(key, received.unwrap_or(now));
            fresh.push(kept(entry));
        }
        token = page
            .get("nextPageToken")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        if token.is_none() {
            break;
        }
        if page_number + 1 == limits.max_pages.max(1) {
            more = true;
        }
    }
    if more {
        state.resume_at = fresh
            .last()
            .and_then(|e| e.get("timestamp"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .or(state.resume_at);
    } else {
        // The whole window is read. Entries received until shortly before now are visible
        // by now; the newest moments are asked for again by the next read.
        let next = Timestamp(now.millis() - SETTLE_MS).max(state.received_from);
        state.received_from = next;
        state.resume_at = None;
        state.seen.retain(|_, received| *received >= next);
    }
    Ok(Pulled {
        entries: fresh.len(),
        files: files_of(project, &fresh),
        repeated,
        state,
        more,
    })
}

/// An entry as the store keeps it: an audit entry whole; an engine's runtime line reduced
/// to the model it names (the rest of an agent's output may hold prompts).
fn kept(entry: &Value) -> Value {
    let mut entry = entry.clone();
    let runtime = entry.pointer("/resource/type").and_then(Value::as_str)
        == Some("aiplatform.googleapis.com/ReasoningEngine")
        && entry.get("protoPayload").is_none();
    if runtime && let Some(object) = entry.as_object_mut() {
        let model = object
            .get("textPayload")
            .and_then(Value::as_str)
            .and_then(super::audit::runtime_model);
        object.remove("jsonPayload");
        match model {
            Some(m) => {
                object.insert(
                    "textPayload".into(),
                    Value::String(format!("Sending out request, model: {m}")),
                );
            }
            None => {
                object.remove("textPayload");
            }
        }
    }
    entry
}

/// The entries as a sink would have written them: per log and day, one entry per line.
/// The name is derived from the entries so that writing the same ones again replaces the
/// object instead of adding one.
fn files_of(project: &str, entries: &[Value]) -> Vec<(String, Vec<u8>)> {
    let mut groups: BTreeMap<(String, String), Vec<&Value>> = BTreeMap::new();
    for entry in entries {
        let log = log_dir(entry.get("logName").and_then(Value::as_str).unwrap_or(""));
        let day = millis(entry, "timestamp")
            .map(|t| t.utc_date().replace('-', "/"))
            .unwrap_or_else(|| "undated".into());
        groups.entry((log, day)).or_default().push(entry);
    }
    groups
        .into_iter()
        .map(|((log, day), entries)| {
            let mut digest = Sha256::new();
            let mut bytes = Vec::new();
            for e in &entries {
                digest.update(entry_key(e).as_bytes());
                // Serializing a parsed value cannot fail.
                let _ = serde_json::to_writer(&mut bytes, e);
                bytes.push(b'\n');
            }
            let first = entries
                .first()
                .and_then(|e| e.get("timestamp"))
                .and_then(Value::as_str)
                .and_then(|t| t.get(11..19))
                .unwrap_or("00:00:00")
                .replace(':', "");
            let name = format!(
                "{project}/{log}/{day}/{first}_{}.json",
                &hex::encode(digest.finalize())[..12]
            );
            (name, bytes)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_asks_for_vertex_calls_and_the_engines_identities_since_the_window() {
        let state = PullState {
            received_from: Timestamp::parse_rfc3339("2026-11-20T00:00:00Z").unwrap(),
            resume_at: Some("2026-11-20T08:00:00.123456Z".into()),
            seen: BTreeMap::new(),
        };
        let principals: BTreeSet<String> = ["a@p.iam.gserviceaccount.com".to_string()]
            .into_iter()
            .collect();
        let f = filter(&principals, &state);
        assert!(f.starts_with("((logName:\"cloudaudit.googleapis.com\" AND (protoPayload.serviceName=\"aiplatform.googleapis.com\" OR "));
        assert!(f.contains(" OR (resource.type=\"aiplatform.googleapis.com/ReasoningEngine\" AND textPayload:\"Sending out request, model:\")) AND receiveTimestamp>="));
        assert!(f.contains("principalEmail=(\"a@p.iam.gserviceaccount.com\")"));
        assert!(f.contains("receiveTimestamp>=\"2026-11-20T00:00:00Z\""));
        assert!(f.ends_with(" AND timestamp>=\"2026-11-20T08:00:00.123456Z\""));

        // Engines with their own service accounts by the thousand: named too many to fit.
        let many: BTreeSet<String> = (0..1000)
            .map(|i| format!("agent-{i}@p.iam.gserviceaccount.com"))
            .collect();
        let f = filter(&many, &state);
        assert!(f.len() < MAX_FILTER_CHARS);
        assert!(f.contains("principalEmail:\"gserviceaccount.com\""), "{f}");
    }

    #[test]
    fn entries_are_filed_per_log_and_day_like_a_sink() {
        assert_eq!(
            log_dir("projects/p/logs/cloudaudit.googleapis.com%2Fdata_access"),
            "cloudaudit.googleapis.com/data_access"
        );
        assert_eq!(
            log_dir("projects/p/logs/aiplatform.googleapis.com%2Freasoning_engine_stdout"),
            "aiplatform.googleapis.com/reasoning_engine_stdout"
        );
        let entry = |log: &str, ts: &str, id: &str| json!({"logName": format!("projects/p/logs/cloudaudit.googleapis.com%2F{log}"), "timestamp": ts, "insertId": id});
        let files = files_of(
            "p",
            &[
                entry("activity", "2026-11-20T09:30:00Z", "a"),
                entry("data_access", "2026-11-20T10:00:00Z", "b"),
                entry("data_access", "2026-11-21T01:02:03Z", "c"),
                entry("data_access", "2026-11-20T11:00:00Z", "d"),
            ],
        );
        let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names.len(), 3);
        assert!(names[0].starts_with("p/cloudaudit.googleapis.com/activity/2026/11/20/093000_"));
        assert!(names[1].starts_with("p/cloudaudit.googleapis.com/data_access/2026/11/20/100000_"));
        assert!(names[2].starts_with("p/cloudaudit.googleapis.com/data_access/2026/11/21/010203_"));
        assert_eq!(files[1].1.iter().filter(|b| **b == b'\n').count(), 2);
        // The same entries make the same object.
        assert_eq!(
            files_of("p", &[entry("activity", "2026-11-20T09:30:00Z", "a")])[0].0,
            files[0].0
        );
    }
}
