//! A local HTTP/1.1 server for provider REST APIs (Google Cloud, Azure): the test decides
//! every answer from the request, shaped like the published API reference, and every
//! request is kept with its headers, so tests can check what the client sent (bearer
//! token, api-version, page tokens, retries).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// The path as sent (percent-encoding kept), without the query.
    pub path: String,
    pub query: String,
    /// Lower-case names.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// A query parameter, percent-decoded.
    pub fn param(&self, name: &str) -> Option<String> {
        url::form_urlencoded::parse(self.query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn json(body: serde_json::Value) -> Reply {
        Reply {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string(),
        }
    }

    pub fn text(body: &str) -> Reply {
        Reply {
            status: 200,
            headers: vec![("content-type".into(), "text/plain".into())],
            body: body.to_string(),
        }
    }

    /// Google's error shape: `{"error": {"code", "message", "status"}}`.
    pub fn google_error(code: u16, status: &str, message: &str) -> Reply {
        Reply {
            status: code,
            ..Reply::json(serde_json::json!({
                "error": {"code": code, "message": message, "status": status}
            }))
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }
}

pub type Route = dyn Fn(&Request) -> Reply + Send + Sync;

pub struct SpecServer {
    pub port: u16,
    pub seen: Arc<Mutex<Vec<Request>>>,
}

impl SpecServer {
    /// Starts on a free loopback port; it lives as long as the test process.
    pub fn start(route: Arc<Route>) -> SpecServer {
        listen(move |stream, seen| serve_stream(stream, &*route, seen))
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn requests(&self) -> Vec<Request> {
        self.seen.lock().unwrap().clone()
    }

    pub fn requests_to(&self, method: &str, path: &str) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == method && r.path == path)
            .collect()
    }

    pub fn forget(&self) {
        self.seen.lock().unwrap().clear();
    }
}

impl SpecServer {
    /// The same server behind TLS with the test certificate for 127.0.0.1 (issued by
    /// `tests/data/test-ca.pem`, which clients must trust: `SSL_CERT_FILE`).
    pub fn start_tls(route: Arc<Route>) -> SpecServer {
        let data = crate::common::repo_root().join("tests/data");
        let certs: Vec<rustls::pki_types::CertificateDer<'static>> =
            rustls::pki_types::pem::PemObject::pem_file_iter(data.join("test-server.pem"))
                .unwrap()
                .map(|c| c.unwrap())
                .collect();
        let key = <rustls::pki_types::PrivateKeyDer<'static> as rustls::pki_types::pem::PemObject>::from_pem_file(
            data.join("test-server.key"),
        )
        .unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = Arc::new(
            rustls::ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(certs, key)
                .unwrap(),
        );
        listen(move |stream, seen| {
            let Ok(connection) = rustls::ServerConnection::new(config.clone()) else {
                return;
            };
            serve_stream(rustls::StreamOwned::new(connection, stream), &*route, seen);
        })
    }

    pub fn https_url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }
}

fn read_request(reader: &mut impl BufRead) -> Option<Request> {
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
    let mut parts = head.split(' ');
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    Some(Request {
        method,
        path: path.to_string(),
        query: query.to_string(),
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// Accepts connections on a free loopback port, each served on its own thread.
fn listen(
    connection: impl Fn(TcpStream, &Mutex<Vec<Request>>) + Send + Sync + 'static,
) -> SpecServer {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let kept = seen.clone();
    let connection = Arc::new(connection);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let (connection, kept) = (connection.clone(), kept.clone());
            std::thread::spawn(move || connection(stream, &kept));
        }
    });
    SpecServer { port, seen }
}

/// One connection, plain or TLS: requests are read and answered in turn.
fn serve_stream(stream: impl Read + Write, route: &Route, seen: &Mutex<Vec<Request>>) {
    let mut reader = BufReader::new(stream);
    while let Some(request) = read_request(&mut reader) {
        seen.lock().unwrap().push(request.clone());
        let reply = route(&request);
        let mut head = format!(
            "HTTP/1.1 {} X\r\ncontent-length: {}\r\n",
            reply.status,
            reply.body.len()
        );
        for (name, value) in &reply.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        // One write: a head and body sent apart wait on the peer's delayed ACK (Nagle).
        let mut response = head.into_bytes();
        response.extend_from_slice(reply.body.as_bytes());
        let writer = reader.get_mut();
        if writer.write_all(&response).is_err() || writer.flush().is_err() {
            return;
        }
    }
}
