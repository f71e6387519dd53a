//! Recording and replaying the AWS APIs' raw answers below the SDK, so that a scan can be
//! analysed offline or handed to an auditor and every answer still goes through the real
//! SDK's parsing. A recording is one directory holding `exchanges.jsonl`: one exchange per
//! line, keyed by what identifies the call (region and service of the signature, the
//! `x-amz-target`, method, path, query and body) — never by credentials or dates, which are
//! not kept. Secrets in answers are replaced; instructions and prompt templates are kept
//! only as their SHA-256 digest in a form the reader recognizes, so digests match a live
//! scan's.

use crate::recording::{EXCHANGES, redact_sdk_answer as redact};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::{Response, StatusCode};
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::byte_stream::ByteStream;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// What identifies one call, independent of credentials, dates and endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CallKey {
    pub region: String,
    pub service: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    pub method: String,
    pub path: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub query: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub body: String,
}

impl std::fmt::Display for CallKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} {} {}",
            self.service, self.region, self.method, self.path
        )?;
        if !self.query.is_empty() {
            write!(f, "?{}", self.query)?;
        }
        if let Some(t) = &self.target {
            write!(f, " ({t})")?;
        }
        Ok(())
    }
}

/// One recorded answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Exchange {
    #[serde(flatten)]
    pub call: CallKey,
    pub status: u16,
    /// The headers the SDK reads to tell answers apart (content type, error type).
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    pub answer: String,
}

const KEPT_HEADERS: [&str; 4] = [
    "content-type",
    "x-amzn-errortype",
    "x-amzn-query-error",
    "x-amz-request-id",
];

fn call_key(request: &HttpRequest) -> CallKey {
    // `Credential=AKID/20261122/us-east-1/bedrock/aws4_request`: region and service.
    let scope: Vec<&str> = request
        .headers()
        .get("authorization")
        .and_then(|a| a.split("Credential=").nth(1))
        .and_then(|c| c.split(',').next())
        .map(|c| c.split('/').collect())
        .unwrap_or_default();
    let uri = request.uri();
    let after_host = match uri.find("://") {
        Some(i) => &uri[i + 3..],
        None => uri,
    };
    let path_and_query = after_host
        .find('/')
        .map(|i| &after_host[i..])
        .unwrap_or("/");
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    CallKey {
        region: scope.get(2).copied().unwrap_or("unsigned").to_string(),
        service: scope.get(3).copied().unwrap_or("unsigned").to_string(),
        target: request.headers().get("x-amz-target").map(str::to_string),
        method: request.method().to_string(),
        path: path.trim_end_matches('/').to_string(),
        query: query.to_string(),
        body: request
            .body()
            .bytes()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default(),
    }
}

/// Appends every exchange of a live scan to a recording directory.
#[derive(Debug, Clone)]
pub struct Recorder {
    file: Arc<Mutex<std::fs::File>>,
}

impl Recorder {
    pub fn create(dir: &Path) -> std::io::Result<Recorder> {
        std::fs::create_dir_all(dir)?;
        // A recording is one scan: answers of an earlier one would be replayed first.
        let file = std::fs::File::create(dir.join(EXCHANGES))?;
        Ok(Recorder {
            file: Arc::new(Mutex::new(file)),
        })
    }

    fn keep(&self, exchange: &Exchange) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(exchange).map_err(std::io::Error::other)?;
        line.push(b'\n');
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        file.write_all(&line)
    }

    /// Writes down an object read outside the SDK (an API schema kept in S3), keyed as
    /// the S3 GetObject it is.
    pub fn keep_object(
        &self,
        region: &str,
        bucket: &str,
        key: &str,
        body: &str,
    ) -> std::io::Result<()> {
        self.keep(&Exchange {
            call: object_call(region, bucket, key),
            status: 200,
            headers: Vec::new(),
            answer: body.to_string(),
        })
    }

    /// The live client, with every answer written down before the SDK reads it.
    pub fn around(&self, live: SharedHttpClient) -> SharedHttpClient {
        SharedHttpClient::new(RecordingClient {
            live,
            recorder: self.clone(),
        })
    }
}

#[derive(Debug)]
struct RecordingClient {
    live: SharedHttpClient,
    recorder: Recorder,
}

impl HttpClient for RecordingClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(RecordingConnector {
            live: self.live.http_connector(settings, components),
            recorder: self.recorder.clone(),
        })
    }
}

#[derive(Debug)]
struct RecordingConnector {
    live: SharedHttpConnector,
    recorder: Recorder,
}

impl HttpConnector for RecordingConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let call = call_key(&request);
        let live = self.live.call(request);
        let recorder = self.recorder.clone();
        HttpConnectorFuture::new(async move {
            let mut response = live.await?;
            let body = std::mem::replace(response.body_mut(), SdkBody::taken());
            let bytes = ByteStream::new(body)
                .collect()
                .await
                .map_err(|e| ConnectorError::io(Box::new(e)))?
                .into_bytes();
            let headers = KEPT_HEADERS
                .iter()
                .filter_map(|h| {
                    response
                        .headers()
                        .get(*h)
                        .map(|v| (h.to_string(), v.to_string()))
                })
                .collect();
            let exchange = Exchange {
                call,
                status: response.status().as_u16(),
                headers,
                answer: redact(&String::from_utf8_lossy(&bytes)),
            };
            recorder
                .keep(&exchange)
                .map_err(|e| ConnectorError::other(Box::new(e), None))?;
            *response.body_mut() = SdkBody::from(bytes);
            Ok(response)
        })
    }
}

/// Errors reading a recording.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
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
}

/// Answers every call from a recording, in the order each call was answered live (a
/// throttle then its retry); the last answer of a call repeats.
#[derive(Debug, Clone)]
pub struct Replay {
    answers: Arc<Mutex<HashMap<CallKey, VecDeque<Exchange>>>>,
    pub exchanges: usize,
}

impl Replay {
    pub fn open(dir: &Path) -> Result<Replay, ReplayError> {
        let path = dir.join(EXCHANGES);
        let text = std::fs::read_to_string(&path).map_err(|source| ReplayError::Read {
            path: path.clone(),
            source,
        })?;
        let mut answers: HashMap<CallKey, VecDeque<Exchange>> = HashMap::new();
        let mut exchanges = 0;
        for (i, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let exchange: Exchange =
                serde_json::from_str(line).map_err(|source| ReplayError::Line {
                    path: path.clone(),
                    line: i + 1,
                    source,
                })?;
            exchanges += 1;
            answers
                .entry(exchange.call.clone())
                .or_default()
                .push_back(exchange);
        }
        Ok(Replay {
            answers: Arc::new(Mutex::new(answers)),
            exchanges,
        })
    }

    pub fn client(&self) -> SharedHttpClient {
        SharedHttpClient::new(self.clone())
    }

    /// An object read outside the SDK, as the recording kept it.
    pub fn object(&self, region: &str, bucket: &str, key: &str) -> Option<String> {
        let answers = self.answers.lock().unwrap_or_else(|e| e.into_inner());
        answers
            .get(&object_call(region, bucket, key))
            .and_then(|queue| queue.front())
            .filter(|e| e.status == 200)
            .map(|e| e.answer.clone())
    }
}

fn object_call(region: &str, bucket: &str, key: &str) -> CallKey {
    CallKey {
        region: region.to_string(),
        service: "s3".into(),
        target: None,
        method: "GET".into(),
        path: format!("/{bucket}/{key}"),
        query: String::new(),
        body: String::new(),
    }
}

impl HttpClient for Replay {
    fn http_connector(
        &self,
        _settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

impl HttpConnector for Replay {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let call = call_key(&request);
        let found = {
            let mut answers = self.answers.lock().unwrap_or_else(|e| e.into_inner());
            answers.get_mut(&call).and_then(|queue| {
                if queue.len() > 1 {
                    queue.pop_front()
                } else {
                    queue.front().cloned()
                }
            })
        };
        let Some(exchange) = found else {
            return HttpConnectorFuture::ready(Err(ConnectorError::other(
                Box::new(crate::failure::NotRecorded(call.to_string())),
                None,
            )));
        };
        let status = match StatusCode::try_from(exchange.status) {
            Ok(s) => s,
            Err(e) => {
                return HttpConnectorFuture::ready(Err(ConnectorError::other(Box::new(e), None)));
            }
        };
        let mut response = Response::new(status, SdkBody::from(exchange.answer));
        for (name, value) in exchange.headers {
            response.headers_mut().insert(name, value);
        }
        HttpConnectorFuture::ready(Ok(response))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recording::digest_of;

    #[test]
    fn redaction_replaces_secrets_and_keeps_digests_a_live_read_would_compute() {
        let answer = r#"{"agent":{"instruction":"be nice","agentName":"a"},"Environment":{"Variables":{"DB_PASSWORD":"hunter2"}},"Credentials":{"SecretAccessKey":"abc","SessionToken":"t"}}"#;
        let kept = redact(answer);
        assert!(!kept.contains("hunter2") && !kept.contains("abc") && !kept.contains("be nice"));
        let v: serde_json::Value = serde_json::from_str(&kept).unwrap();
        let instruction = v["agent"]["instruction"].as_str().unwrap();
        assert_eq!(digest_of(instruction), digest_of("be nice"));
        assert_eq!(v["agent"]["agentName"], "a");
        assert_eq!(redact("<xml>not json</xml>"), "<xml>not json</xml>");
    }
}
