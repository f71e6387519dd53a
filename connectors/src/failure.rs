//! How a failed call failed, told from what the SDK or the REST client returned: the
//! error code a provider documents, else the HTTP status, else the kind of the local error.
//! The text stays what it was (the call, then the provider's words); only the class is
//! added, so a caller can retry throttling and report bad credentials apart.

use crate::rest::RestError;
use crate::{ConnectorError, FailureClass};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// Error codes AWS services document for each class (IAM and STS query errors, the JSON
/// protocols' `…Exception` names, S3's).
const AUTH_CODES: &[&str] = &[
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "InvalidSignatureException",
    "IncompleteSignature",
    "MissingAuthenticationToken",
    "InvalidAccessKeyId",
    "AuthFailure",
];
const DENIED_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedException",
];
const THROTTLED_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
];
const NOT_FOUND_CODES: &[&str] = &[
    "NoSuchEntity",
    "NoSuchBucket",
    "NoSuchKey",
    "NotFound",
    "NotFoundException",
    "ResourceNotFoundException",
    "TrailNotFoundException",
];

/// A recording replayed without an answer for a call; the replaying HTTP connector returns
/// it so the failure is classed as such, not as a network error.
#[derive(Debug, thiserror::Error)]
#[error("the recording has no answer for {0}")]
pub(crate) struct NotRecorded(pub String);

/// The class of an HTTP status a provider answered with.
fn class_of_status(status: u16) -> FailureClass {
    match status {
        401 => FailureClass::Auth,
        403 => FailureClass::Denied,
        404 | 410 => FailureClass::NotFound,
        429 => FailureClass::Throttled,
        _ => FailureClass::Refused,
    }
}

fn class_of_code(code: &str) -> Option<FailureClass> {
    let classes = [
        (AUTH_CODES, FailureClass::Auth),
        (DENIED_CODES, FailureClass::Denied),
        (THROTTLED_CODES, FailureClass::Throttled),
        (NOT_FOUND_CODES, FailureClass::NotFound),
    ];
    classes
        .iter()
        .find(|(codes, _)| codes.contains(&code))
        .map(|(_, class)| *class)
}

/// Whether anything in the error's source chain is `T`.
fn chain_has<T: std::error::Error + 'static>(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(e);
    while let Some(e) = next {
        if e.is::<T>() {
            return true;
        }
        next = e.source();
    }
    false
}

/// The class of an AWS SDK error.
pub(crate) fn class_of_sdk<E>(e: &SdkError<E, HttpResponse>) -> FailureClass
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
{
    if chain_has::<NotRecorded>(e) {
        return FailureClass::NotRecorded;
    }
    if chain_has::<aws_credential_types::provider::error::CredentialsError>(e) {
        return FailureClass::Auth;
    }
    match e {
        SdkError::ServiceError(s) => match s.err().code() {
            Some(code) => {
                class_of_code(code).unwrap_or_else(|| class_of_status(s.raw().status().as_u16()))
            }
            // An answer without an error code is one the SDK could not read.
            None => FailureClass::Malformed,
        },
        SdkError::ResponseError(_) => FailureClass::Malformed,
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => FailureClass::Io,
        _ => FailureClass::Refused,
    }
}

/// What an SDK error says: the service's code and message, or the cause of a local failure.
pub(crate) fn sdk_text<E>(e: &SdkError<E, HttpResponse>) -> String
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
{
    match e {
        SdkError::ServiceError(s) => {
            // An answer the SDK could not read carries no error code; its cause is in the
            // source chain.
            if s.err().code().is_some() {
                s.err().to_string()
            } else {
                DisplayErrorContext(s.err()).to_string()
            }
        }
        other => DisplayErrorContext(other).to_string(),
    }
}

/// A failed SDK call named `what`.
pub(crate) fn sdk_failure<E>(
    what: impl Into<String>,
    e: &SdkError<E, HttpResponse>,
) -> ConnectorError
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
{
    ConnectorError::failed(class_of_sdk(e), what, sdk_text(e))
}

/// The class of an object-store error (S3 objects read outside the SDK).
pub(crate) fn class_of_store(e: &object_store::Error) -> FailureClass {
    match e {
        object_store::Error::NotFound { .. } => FailureClass::NotFound,
        object_store::Error::PermissionDenied { .. } => FailureClass::Denied,
        object_store::Error::Unauthenticated { .. } => FailureClass::Auth,
        object_store::Error::UnknownConfigurationKey { .. } => FailureClass::Refused,
        _ => FailureClass::Io,
    }
}

impl RestError {
    pub fn class(&self) -> FailureClass {
        match self {
            RestError::Status { status, .. } => class_of_status(*status),
            RestError::Transport { .. } => FailureClass::Io,
            RestError::Token { .. } => FailureClass::Auth,
            RestError::Parse { .. } => FailureClass::Malformed,
            RestError::NotRecorded { .. } => FailureClass::NotRecorded,
        }
    }
}

impl From<RestError> for ConnectorError {
    fn from(e: RestError) -> Self {
        ConnectorError::from_text(e.class(), &e.to_string())
    }
}

/// A failed REST call within `what` (the text is `what: the call: its error`).
pub(crate) fn rest_failure(what: impl Into<String>, e: &RestError) -> ConnectorError {
    ConnectorError::failed(e.class(), what, e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_iam::operation::get_role::GetRoleError;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    fn service_error(code: Option<&str>, status: u16) -> SdkError<GetRoleError, HttpResponse> {
        let mut meta = ErrorMetadata::builder().message("m");
        if let Some(code) = code {
            meta = meta.code(code);
        }
        let raw = HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::empty());
        SdkError::service_error(GetRoleError::generic(meta.build()), raw)
    }

    #[test]
    fn sdk_errors_are_classed_by_code_then_status() {
        let cases = [
            (Some("ThrottlingException"), 400, FailureClass::Throttled),
            (Some("Throttling"), 400, FailureClass::Throttled),
            (Some("AccessDenied"), 403, FailureClass::Denied),
            (Some("ExpiredToken"), 403, FailureClass::Auth),
            (Some("InvalidClientTokenId"), 403, FailureClass::Auth),
            (Some("NoSuchEntity"), 404, FailureClass::NotFound),
            (Some("SomethingNew"), 429, FailureClass::Throttled),
            (Some("SomethingNew"), 503, FailureClass::Refused),
            (None, 200, FailureClass::Malformed),
        ];
        for (code, status, class) in cases {
            let e = service_error(code, status);
            assert_eq!(class_of_sdk(&e), class, "{code:?} {status}");
            let failure = sdk_failure("iam:GetRole r", &e);
            assert_eq!(failure.class(), class);
            assert!(
                failure.to_string().starts_with("iam:GetRole r: "),
                "{failure}"
            );
        }
    }

    #[test]
    fn rest_errors_are_classed_by_status_and_kind() {
        let status = |status| RestError::Status {
            call: "GET x".into(),
            status,
            message: "m".into(),
        };
        assert_eq!(status(401).class(), FailureClass::Auth);
        assert_eq!(status(403).class(), FailureClass::Denied);
        assert_eq!(status(404).class(), FailureClass::NotFound);
        assert_eq!(status(429).class(), FailureClass::Throttled);
        assert_eq!(status(500).class(), FailureClass::Refused);
        let parse = RestError::Parse {
            call: "GET x".into(),
            reason: "eof".into(),
        };
        let failure = rest_failure("project p: engines not listed", &parse);
        assert_eq!(failure.class(), FailureClass::Malformed);
        assert_eq!(
            failure.to_string(),
            "project p: engines not listed: GET x: the answer is not the JSON the API documents: eof"
        );
        let scoped = failure.within("us-east-1");
        assert_eq!(scoped.class(), FailureClass::Malformed);
        assert!(scoped.to_string().starts_with("us-east-1: project p: "));
    }

    /// A server on 127.0.0.1 that answers every request with `status` and `body`, as IAM
    /// would (query protocol, XML), so the real SDK parses the error it documents.
    fn answering(status: u16, body: &'static str) -> String {
        use std::io::{BufRead, BufReader, Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut length = 0;
                let mut line = String::new();
                while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                    if let Some((name, value)) = line.trim_end().split_once(':')
                        && name.eq_ignore_ascii_case("content-length")
                    {
                        length = value.trim().parse().unwrap_or(0);
                    }
                    line.clear();
                }
                let mut request = vec![0; length];
                let _ = reader.read_exact(&mut request);
                let mut stream = stream;
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\ncontent-type: text/xml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        format!("http://127.0.0.1:{port}")
    }

    async fn get_role(endpoint: String, wire: crate::aws::Wire) -> ConnectorError {
        let settings = crate::aws::ApiSettings {
            source: "t".into(),
            region: "us-east-1".into(),
            endpoint: Some(endpoint),
            max_attempts: 1,
            wire,
            concurrency: 1,
        };
        let config = crate::aws::sdk_config(&settings)
            .await
            .to_builder()
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(
                    aws_sdk_iam::config::Credentials::new("AKIDTEST", "test", None, None, "test"),
                ),
            )
            .build();
        let e = aws_sdk_iam::Client::new(&config)
            .get_role()
            .role_name("r")
            .send()
            .await
            .unwrap_err();
        sdk_failure("iam:GetRole r", &e)
    }

    fn iam_error(code: &str) -> String {
        format!(
            "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type><Code>{code}</Code><Message>said by the server</Message></Error><RequestId>1</RequestId></ErrorResponse>"
        )
    }

    #[tokio::test]
    async fn the_real_sdk_errors_of_a_call_are_classed_as_the_service_meant_them() {
        let cases = [
            (404, "NoSuchEntity", FailureClass::NotFound),
            (403, "AccessDenied", FailureClass::Denied),
            (403, "InvalidClientTokenId", FailureClass::Auth),
            (400, "Throttling", FailureClass::Throttled),
            (400, "ValidationError", FailureClass::Refused),
        ];
        for (status, code, class) in cases {
            let body: &'static str = Box::leak(iam_error(code).into_boxed_str());
            let failure = get_role(answering(status, body), crate::aws::Wire::Live).await;
            assert_eq!(failure.class(), class, "{code}: {failure}");
            let text = failure.to_string();
            assert!(
                text.starts_with("iam:GetRole r: ") && text.contains(code),
                "{text}"
            );
        }
        let garbage = get_role(answering(200, "<not xml"), crate::aws::Wire::Live).await;
        assert_eq!(garbage.class(), FailureClass::Malformed, "{garbage}");
    }

    #[tokio::test]
    async fn an_unreachable_endpoint_is_io_and_a_call_missing_from_a_recording_is_not_recorded() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", closed.local_addr().unwrap());
        drop(closed);
        let refused = get_role(endpoint, crate::aws::Wire::Live).await;
        assert_eq!(refused.class(), FailureClass::Io, "{refused}");

        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(crate::recording::EXCHANGES), "").unwrap();
        let replay = crate::aws::wire::Replay::open(dir.path()).unwrap();
        let endpoint = "http://127.0.0.1:9".to_string();
        let missing = get_role(endpoint, crate::aws::Wire::Replay(replay)).await;
        assert_eq!(missing.class(), FailureClass::NotRecorded, "{missing}");
        assert!(
            missing
                .to_string()
                .contains("the recording has no answer for iam us-east-1 POST"),
            "{missing}"
        );
    }
}
