//! An HTTP front for moto: operations moto does not implement are answered by the test in
//! the AWS API model's wire format (so the real SDK parses them), everything else goes to
//! moto. moto's bedrock-agent answers carry epoch-second numbers where the API model has
//! ISO 8601 `date-time` strings; those numbers are rewritten so the SDK can read them.
//! Every request is kept, so tests can check what the client sent (page tokens, retries).

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// One request as the front received it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    /// The path without the query and without a trailing slash.
    pub path: String,
    pub query: String,
    pub body: Value,
    pub signed: bool,
}

/// What the test answers: status, `x-amzn-errortype` for errors, and the body as sent.
pub struct Answer {
    pub status: u16,
    pub error_type: Option<&'static str>,
    pub body: String,
}

impl Answer {
    pub fn json(body: Value) -> Option<Answer> {
        Some(Answer {
            status: 200,
            error_type: None,
            body: body.to_string(),
        })
    }

    pub fn error(status: u16, error_type: &'static str, message: &str) -> Option<Answer> {
        Some(Answer {
            status,
            error_type: Some(error_type),
            body: serde_json::json!({ "message": message }).to_string(),
        })
    }
}

/// Decides the answer for a request, or `None` to hand it to moto.
pub type Route = dyn Fn(&Seen) -> Option<Answer> + Send + Sync;

pub struct Front {
    pub port: u16,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl Front {
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The requests received so far whose path is `path`.
    pub fn requests_to(&self, method: &str, path: &str) -> Vec<Seen> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.method == method && s.path == path)
            .cloned()
            .collect()
    }
}

/// Starts the front on a free loopback port; it lives as long as the test process.
pub fn front(moto_port: u16, route: Arc<Route>) -> Front {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let kept = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let route = route.clone();
            let kept = kept.clone();
            std::thread::spawn(move || serve_connection(stream, moto_port, &*route, &kept));
        }
    });
    Front { port, seen }
}

struct Request {
    head: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut head = String::new();
    if reader.read_line(&mut head).ok()? == 0 {
        return None;
    }
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        head: head.trim_end().to_string(),
        headers,
        body,
    })
}

fn serve_connection(stream: TcpStream, moto_port: u16, route: &Route, seen: &Mutex<Vec<Seen>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    while let Some(request) = read_request(&mut reader) {
        let mut parts = request.head.split(' ');
        let method = parts.next().unwrap_or_default().to_string();
        let target = parts.next().unwrap_or_default().to_string();
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        let request_seen = Seen {
            method,
            path: path.trim_end_matches('/').to_string(),
            query: query.to_string(),
            body: serde_json::from_slice(&request.body).unwrap_or(Value::Null),
            signed: request.headers.iter().any(|(n, v)| {
                n == "authorization" && v.starts_with("AWS4-HMAC-SHA256 Credential=")
            }),
        };
        seen.lock().unwrap().push(request_seen.clone());
        let answer = route(&request_seen).unwrap_or_else(|| forward(&request, moto_port));
        let mut response = format!(
            "HTTP/1.1 {} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
            answer.status,
            answer.body.len()
        );
        if let Some(t) = answer.error_type {
            response.push_str(&format!("x-amzn-errortype: {t}\r\n"));
        }
        response.push_str("\r\n");
        if writer.write_all(response.as_bytes()).is_err()
            || writer.write_all(answer.body.as_bytes()).is_err()
        {
            return;
        }
    }
}

/// Sends the request to moto as it came and returns moto's answer with its timestamps in
/// the model's format.
fn forward(request: &Request, moto_port: u16) -> Answer {
    let mut moto = TcpStream::connect(("127.0.0.1", moto_port)).expect("moto listens");
    // The model's request URIs end in `/` (`/agents/{agentId}/`) and moto reads ids by
    // position from that form, as botocore sends it; the Rust SDK leaves the slash out.
    let mut head = request.head.splitn(3, ' ');
    let (method, target, version) = (
        head.next().unwrap_or_default(),
        head.next().unwrap_or_default(),
        head.next().unwrap_or_default(),
    );
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    // The model's knowledge-base URIs end in `/` only for the collection
    // (`/knowledgebases/`), not for one knowledge base.
    let slashed = path.starts_with("/agents") || path == "/knowledgebases";
    let slash = if path.ends_with('/') || !slashed {
        ""
    } else {
        "/"
    };
    let query = if query.is_empty() {
        String::new()
    } else {
        format!("?{query}")
    };
    let mut out = format!("{method} {path}{slash}{query} {version}\r\n");
    for (name, value) in &request.headers {
        if name != "connection" {
            out.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    out.push_str("connection: close\r\n\r\n");
    moto.write_all(out.as_bytes()).unwrap();
    moto.write_all(&request.body).unwrap();
    let mut raw = Vec::new();
    moto.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(502);
    let body = match serde_json::from_str::<Value>(body) {
        Ok(mut v) => {
            iso_timestamps(&mut v);
            v.to_string()
        }
        Err(_) => body.to_string(),
    };
    Answer {
        status,
        error_type: None,
        body,
    }
}

const TIMESTAMP_FIELDS: [&str; 4] = ["createdAt", "updatedAt", "preparedAt", "lastUpdatedAt"];

fn iso_timestamps(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, field) in map.iter_mut() {
                if let (true, Some(secs)) = (TIMESTAMP_FIELDS.contains(&k.as_str()), field.as_f64())
                {
                    *field = Value::String(iso8601(secs));
                } else {
                    iso_timestamps(field);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(iso_timestamps),
        _ => {}
    }
}

/// Epoch seconds as the `date-time` form the bedrock-agent model uses.
pub fn iso8601(secs: f64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos((secs * 1e9) as i128).unwrap();
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// The segments of a path, for matching `/agents/{id}/agentversions/{v}/…`.
pub fn segments(path: &str) -> Vec<&str> {
    path.split('/').filter(|s| !s.is_empty()).collect()
}

/// Splits `items` into pages of `per_page` the way list operations do: the page the
/// request's `nextToken` names (`page-N`), and the token of the next one.
pub fn page(items: &[Value], per_page: usize, request: &Seen) -> (Vec<Value>, Option<String>) {
    let index: usize = request.body["nextToken"]
        .as_str()
        .and_then(|t| t.strip_prefix("page-"))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let start = index * per_page;
    let chunk: Vec<Value> = items.iter().skip(start).take(per_page).cloned().collect();
    let next = (start + per_page < items.len()).then(|| format!("page-{}", index + 1));
    (chunk, next)
}
