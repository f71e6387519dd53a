//! The REST APIs of Google Cloud and Azure, read with one HTTP client: bearer tokens from
//! the providers' own auth crates, retries with backoff on throttling and on the errors the
//! providers document as transient, every call counted, and the same record / replay as
//! the AWS SDK's (`exchanges.jsonl`), so a scan can run offline from a recording.
//!
//! A recorded call is keyed by the service it was made to (a name the connector gives, not
//! the host, so a recording made against a test server replays anywhere), method, path,
//! query and body. Tokens are never recorded; environment values and secrets in answers
//! are replaced, instructions kept only as digests.

use crate::recording::{EXCHANGES, redact_rest_answer as redact};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// reqwest is built without a TLS crypto provider of its own (one provider, ring, for the
/// whole binary: the AWS SDK's client uses it too); this makes it the process default.
pub fn use_ring_for_tls() {
    // Fails only when a provider is already installed, which is the goal.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Where a bearer token comes from: the provider's auth crate, for an audience (a Google
/// OAuth scope, an Entra `…/.default` scope).
#[async_trait::async_trait]
pub trait Bearer: Send + Sync {
    async fn token(&self, audience: &str) -> Result<String, crate::ConnectorError>;
    /// Which credential answered, for the scan summary (never the secret).
    fn describe(&self) -> String;
}

/// Errors of one call; the connectors turn them into named failures and read on.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RestError {
    #[error("{call}: {status} {message}")]
    Status {
        call: String,
        status: u16,
        message: String,
    },
    #[error("{call}: {reason}")]
    Transport { call: String, reason: String },
    #[error("{call}: no token: {reason}")]
    Token { call: String, reason: String },
    #[error("{call}: the answer is not the JSON the API documents: {reason}")]
    Parse { call: String, reason: String },
    #[error("{call}: the recording has no answer for it")]
    NotRecorded { call: String },
}

impl RestError {
    pub fn status(&self) -> Option<u16> {
        match self {
            RestError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// One recorded answer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CallKey {
    pub service: String,
    pub method: String,
    pub path: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub query: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub body: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Exchange {
    #[serde(flatten)]
    call: CallKey,
    status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retry_after: Option<String>,
    answer: String,
}

/// Errors opening a recording.
#[derive(Debug, thiserror::Error)]
pub enum RecordingError {
    #[error("cannot read the recording {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} line {line} is not a recorded exchange: {source}")]
    Line {
        path: PathBuf,
        line: usize,
        source: serde_json::Error,
    },
    #[error("cannot record into {path}: {source}")]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl From<RecordingError> for crate::ConnectorError {
    fn from(e: RecordingError) -> Self {
        let class = match e {
            RecordingError::Line { .. } => crate::FailureClass::Malformed,
            RecordingError::Read { .. } | RecordingError::Create { .. } => crate::FailureClass::Io,
        };
        crate::ConnectorError::from_text(class, &e.to_string())
    }
}

/// Where answers come from.
#[derive(Clone)]
pub enum RestWire {
    Live(Arc<dyn Bearer>),
    /// Live, every answer also appended to the recording.
    Record(Arc<dyn Bearer>, Arc<Mutex<std::fs::File>>),
    /// From a recording, in the order each call was answered live; the last answer of a
    /// call repeats.
    Replay(Arc<Mutex<HashMap<CallKey, VecDeque<Exchange>>>>),
}

impl RestWire {
    pub fn record(bearer: Arc<dyn Bearer>, dir: &Path) -> Result<RestWire, RecordingError> {
        let path = dir.join(EXCHANGES);
        let create = |source| RecordingError::Create {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(create)?;
        // A recording already there is replaced, not extended: its answers are of another
        // moment.
        let file = std::fs::File::create(&path).map_err(create)?;
        Ok(RestWire::Record(bearer, Arc::new(Mutex::new(file))))
    }

    pub fn replay(dir: &Path) -> Result<RestWire, RecordingError> {
        let path = dir.join(EXCHANGES);
        let text = std::fs::read_to_string(&path).map_err(|source| RecordingError::Read {
            path: path.clone(),
            source,
        })?;
        let mut answers: HashMap<CallKey, VecDeque<Exchange>> = HashMap::new();
        for (i, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let exchange: Exchange =
                serde_json::from_str(line).map_err(|source| RecordingError::Line {
                    path: path.clone(),
                    line: i + 1,
                    source,
                })?;
            answers
                .entry(exchange.call.clone())
                .or_default()
                .push_back(exchange);
        }
        Ok(RestWire::Replay(Arc::new(Mutex::new(answers))))
    }

    fn bearer(&self) -> Option<&Arc<dyn Bearer>> {
        match self {
            RestWire::Live(b) | RestWire::Record(b, _) => Some(b),
            RestWire::Replay(_) => None,
        }
    }
}

/// A call to make: the service names it in recordings and messages (`aiplatform`,
/// `cloudresourcemanager`, `arm`, `foundry ACCOUNT`).
pub struct Call<'a> {
    pub service: &'a str,
    pub method: reqwest::Method,
    pub url: url::Url,
    pub audience: &'a str,
    pub body: Option<serde_json::Value>,
}

impl<'a> Call<'a> {
    pub fn get(service: &'a str, url: url::Url, audience: &'a str) -> Call<'a> {
        Call {
            service,
            method: reqwest::Method::GET,
            url,
            audience,
            body: None,
        }
    }

    pub fn post(
        service: &'a str,
        url: url::Url,
        audience: &'a str,
        body: serde_json::Value,
    ) -> Call<'a> {
        Call {
            method: reqwest::Method::POST,
            body: Some(body),
            ..Call::get(service, url, audience)
        }
    }

    fn key(&self) -> CallKey {
        CallKey {
            service: self.service.to_string(),
            method: self.method.to_string(),
            path: self.url.path().to_string(),
            query: timeless_query(self.url.query().unwrap_or_default()),
            body: self.body.as_ref().map(timeless).unwrap_or_default(),
        }
    }

    /// How the call reads in a failure: service, method and path (no host, no token).
    pub fn describe(&self) -> String {
        let mut text = format!("{} {} {}", self.service, self.method, self.url.path());
        if let Some(q) = self.url.query() {
            text.push('?');
            text.push_str(q);
        }
        text
    }
}

/// A request body as recordings know it: instants in a `filter` (a Logging API window,
/// which depends on when the scan runs) are left out, so that a recording answers a scan
/// at any later time. What a window leaves out is then checked on the answer.
fn timeless(body: &serde_json::Value) -> String {
    let Some(filter) = body.get("filter").and_then(serde_json::Value::as_str) else {
        return body.to_string();
    };
    let mut body = body.clone();
    body["filter"] = serde_json::Value::String(without_instants(filter, '"'));
    body.to_string()
}

/// A query as recordings know it: instants in an ARM `$filter` (an Activity Log window)
/// are left out. Other queries are kept as sent.
fn timeless_query(query: &str) -> String {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| {
            let v = if k == "$filter" {
                without_instants(&v, '\'')
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    let changed = url::form_urlencoded::parse(query.as_bytes())
        .zip(&pairs)
        .any(|((_, was), (_, now))| was != now.as_str());
    if !changed {
        return query.to_string();
    }
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// `text` with every `quote`d RFC 3339 instant replaced by `…`.
fn without_instants(text: &str, quote: char) -> String {
    let parts: Vec<&str> = text.split(quote).collect();
    parts
        .iter()
        .enumerate()
        .map(|(i, part)| {
            // Odd parts are quoted.
            if i % 2 == 1 && normalizer::Timestamp::parse_rfc3339(part).is_ok() {
                "…"
            } else {
                part
            }
        })
        .collect::<Vec<_>>()
        .join(&quote.to_string())
}

/// The client every Google Cloud and Azure read goes through.
#[derive(Clone)]
pub struct RestClient {
    http: reqwest::Client,
    wire: RestWire,
    max_attempts: u32,
    /// First backoff; doubled on each retry, at most 20 s, or what `Retry-After` asks.
    backoff: Duration,
    calls: Arc<AtomicU64>,
}

/// Statuses the providers document as transient: throttling and unavailability.
fn retryable(status: u16) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504)
}

impl RestClient {
    pub fn new(wire: RestWire, max_attempts: u32) -> Result<RestClient, crate::ConnectorError> {
        use_ring_for_tls();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("agentward/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                let detail = error_chain(&e);
                crate::ConnectorError::failed(
                    crate::FailureClass::Io,
                    "cannot build the HTTP client",
                    detail,
                )
            })?;
        Ok(RestClient {
            http,
            wire,
            max_attempts: max_attempts.max(1),
            backoff: Duration::from_millis(250),
            calls: Arc::new(AtomicU64::new(0)),
        })
    }

    /// Requests sent (retries included), or answered from the recording.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    pub fn is_replay(&self) -> bool {
        matches!(self.wire, RestWire::Replay(_))
    }

    /// The time a read's windows are measured from: `now`, which a recording keeps, so
    /// that replaying it later asks for the same windows and keeps the same runs.
    pub fn clock(&self, now: normalizer::Timestamp) -> normalizer::Timestamp {
        let key = CallKey {
            service: "clock".into(),
            method: "NOW".into(),
            path: String::new(),
            query: String::new(),
            body: String::new(),
        };
        match &self.wire {
            RestWire::Live(_) => now,
            RestWire::Record(_, file) => {
                let exchange = Exchange {
                    call: key,
                    status: 200,
                    retry_after: None,
                    answer: now.millis().to_string(),
                };
                if let Ok(line) = serde_json::to_string(&exchange) {
                    let mut file = file.lock().unwrap_or_else(|e| e.into_inner());
                    // A recording without its clock still replays, measured from the
                    // time of the replay.
                    let _ = writeln!(file, "{line}");
                }
                now
            }
            RestWire::Replay(answers) => {
                let answers = answers.lock().unwrap_or_else(|e| e.into_inner());
                answers
                    .get(&key)
                    .and_then(|q| q.front())
                    .and_then(|e| e.answer.parse::<i64>().ok())
                    .map(normalizer::Timestamp)
                    .unwrap_or(now)
            }
        }
    }

    /// Which credential the client uses, for the summary.
    pub fn credential(&self) -> String {
        match self.wire.bearer() {
            Some(b) => b.describe(),
            None => "none (replaying a recording)".into(),
        }
    }

    /// The answer as JSON; a non-2xx answer is an error carrying the provider's message.
    pub async fn json(&self, call: Call<'_>) -> Result<serde_json::Value, RestError> {
        let text = self.text(&call).await?;
        serde_json::from_str(&text).map_err(|e| RestError::Parse {
            call: call.describe(),
            reason: e.to_string(),
        })
    }

    /// The answer's body as text (a requirements file read from Cloud Storage).
    pub async fn text(&self, call: &Call<'_>) -> Result<String, RestError> {
        let key = call.key();
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.calls.fetch_add(1, Ordering::Relaxed);
            let (status, retry_after, answer) = match &self.wire {
                RestWire::Replay(answers) => {
                    let found = {
                        let mut answers = answers.lock().unwrap_or_else(|e| e.into_inner());
                        answers.get_mut(&key).and_then(|queue| {
                            if queue.len() > 1 {
                                queue.pop_front()
                            } else {
                                queue.front().cloned()
                            }
                        })
                    };
                    let Some(e) = found else {
                        return Err(RestError::NotRecorded {
                            call: call.describe(),
                        });
                    };
                    (e.status, e.retry_after, e.answer)
                }
                RestWire::Live(bearer) | RestWire::Record(bearer, _) => {
                    let (status, retry_after, answer) = self.send(call, bearer.as_ref()).await?;
                    if let RestWire::Record(_, file) = &self.wire {
                        let exchange = Exchange {
                            call: key.clone(),
                            status,
                            retry_after: retry_after.clone(),
                            answer: redact(&answer),
                        };
                        let line = serde_json::to_string(&exchange).unwrap_or_default();
                        let mut file = file.lock().unwrap_or_else(|e| e.into_inner());
                        writeln!(file, "{line}").map_err(|e| RestError::Transport {
                            call: call.describe(),
                            reason: format!("cannot write the recording: {e}"),
                        })?;
                    }
                    (status, retry_after, answer)
                }
            };
            if (200..300).contains(&status) {
                return Ok(answer);
            }
            if retryable(status) && attempt < self.max_attempts {
                if !self.is_replay() {
                    tokio::time::sleep(self.wait(attempt, retry_after.as_deref())).await;
                }
                continue;
            }
            return Err(RestError::Status {
                call: call.describe(),
                status,
                message: error_message(&answer),
            });
        }
    }

    fn wait(&self, attempt: u32, retry_after: Option<&str>) -> Duration {
        let asked = retry_after
            .and_then(|r| r.trim().parse::<u64>().ok())
            .map(|s| Duration::from_secs(s.min(60)));
        let doubled = self
            .backoff
            .saturating_mul(1 << (attempt - 1).min(7))
            .min(Duration::from_secs(20));
        asked.unwrap_or(doubled)
    }

    async fn send(
        &self,
        call: &Call<'_>,
        bearer: &dyn Bearer,
    ) -> Result<(u16, Option<String>, String), RestError> {
        let token = bearer
            .token(call.audience)
            .await
            .map_err(|e| RestError::Token {
                call: call.describe(),
                reason: e.to_string(),
            })?;
        let mut request = self
            .http
            .request(call.method.clone(), call.url.clone())
            .bearer_auth(token);
        if let Some(body) = &call.body {
            request = request.json(body);
        }
        let transport = |e: reqwest::Error| RestError::Transport {
            call: call.describe(),
            reason: error_chain(&e),
        };
        let response = request.send().await.map_err(transport)?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let answer = response.text().await.map_err(transport)?;
        Ok((status, retry_after, answer))
    }
}

/// An error with its causes (connection refused, certificate unknown …).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let cause = s.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
        source = s.source();
    }
    text
}

/// The provider's own message: Google `{"error":{"code","message","status"}}`, Azure
/// `{"error":{"code","message"}}`; otherwise the start of the body.
fn error_message(answer: &str) -> String {
    let parsed: Option<serde_json::Value> = serde_json::from_str(answer).ok();
    let error = parsed.as_ref().and_then(|v| v.get("error"));
    match error {
        Some(e) => {
            let code = e.get("status").or_else(|| e.get("code")).map(|c| {
                c.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| c.to_string())
            });
            let message = e
                .get("message")
                .and_then(|m| m.as_str())
                .or_else(|| e.as_str())
                .unwrap_or("");
            match code {
                Some(code) => format!("{code}: {message}"),
                None => message.to_string(),
            }
        }
        None => answer.chars().take(200).collect(),
    }
}

/// Runs `work` for every item with at most `limit` at once, keeping the items' order.
pub async fn bounded<T, F, R>(items: Vec<T>, limit: usize, work: impl Fn(T) -> F) -> Vec<R>
where
    F: std::future::Future<Output = R>,
{
    use futures::StreamExt;
    futures::stream::iter(items.into_iter().map(work))
        .buffered(limit.max(1))
        .collect()
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recording::digest_of;

    #[test]
    fn recordings_keep_no_environment_value_and_only_digests_of_instructions() {
        let answer = r#"{"spec":{"deploymentSpec":{"env":[{"name":"API_BASE","value":"https://x"},{"name":"GOOGLE_CLOUD_AGENT_ENGINE_ENABLE_TELEMETRY","value":"true"}],"secretEnv":[{"name":"TOKEN","secretRef":{"secret":"tok","version":"3"}}]}},"displayName":"a","instructions":"be nice","definition":{"environment_variables":{"DB":"hunter2"}},"labels":{"value":"kept"}}"#;
        let kept = redact(answer);
        assert!(
            !kept.contains("https://x") && !kept.contains("hunter2") && !kept.contains("be nice"),
            "{kept}"
        );
        let v: serde_json::Value = serde_json::from_str(&kept).unwrap();
        assert_eq!(v["spec"]["deploymentSpec"]["env"][0]["name"], "API_BASE");
        // Telemetry switches are no secret, and coverage depends on them.
        assert_eq!(v["spec"]["deploymentSpec"]["env"][1]["value"], "true");
        assert_eq!(
            digest_of(v["instructions"].as_str().unwrap()),
            digest_of("be nice")
        );
        // A `value` that is not an environment value stays: only env entries are secrets.
        assert_eq!(v["labels"]["value"], "kept");
        assert_eq!(v["displayName"], "a");
    }

    #[test]
    fn recordings_match_log_windows_of_any_time_and_other_calls_exactly() {
        let at = |q: &str| timeless_query(q);
        let window = |from: &str| {
            url::form_urlencoded::Serializer::new(String::new())
                .append_pair("api-version", "2015-04-01")
                .append_pair("$filter", &format!("eventTimestamp ge '{from}' and resourceProvider eq 'Microsoft.CognitiveServices'"))
                .finish()
        };
        assert_eq!(
            at(&window("2026-11-01T00:00:00Z")),
            at(&window("2026-11-20T08:00:00.5Z"))
        );
        assert!(at(&window("2026-11-01T00:00:00Z")).contains("resourceProvider"));
        // A filter without instants, and any other query, stay exactly as sent.
        let plain = "api-version=2022-04-01&%24filter=principalId+eq+%27b2%27";
        assert_eq!(at(plain), plain);
        assert_eq!(at("pageSize=100&pageToken=x"), "pageSize=100&pageToken=x");
        let body = |from: &str| serde_json::json!({"filter": format!("receiveTimestamp>=\"{from}\" AND x=\"y\""), "pageSize": 1000});
        assert_eq!(
            timeless(&body("2026-11-01T00:00:00Z")),
            timeless(&body("2026-12-01T00:00:00Z"))
        );
        assert!(timeless(&body("2026-11-01T00:00:00Z")).contains("x=\\\"y\\\""));
    }

    #[test]
    fn provider_error_messages_are_read_from_either_shape() {
        assert_eq!(
            error_message(
                r#"{"error":{"code":403,"message":"denied","status":"PERMISSION_DENIED"}}"#
            ),
            "PERMISSION_DENIED: denied"
        );
        assert_eq!(
            error_message(r#"{"error":{"code":"AuthorizationFailed","message":"no"}}"#),
            "AuthorizationFailed: no"
        );
        assert_eq!(
            error_message("<html>bad gateway</html>"),
            "<html>bad gateway</html>"
        );
    }
}
