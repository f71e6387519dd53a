//! Each configured source as the [`Source`] of its kind: the one place a configuration
//! variant meets its connector.

use crate::config::{SourceConfig, SourceKind};
use connectors::source::{ApiSource, LogSource, Source, Step};

pub fn build(source: &SourceConfig) -> Box<dyn Source> {
    let api = |max_attempts, concurrency| ApiSource {
        name: source.name.clone(),
        wire: source.wire.clone(),
        endpoint: source.location.endpoint.clone(),
        max_attempts,
        concurrency,
    };
    let log = |kind, step, format: Box<dyn connectors::source::LogFormat>| -> Box<dyn Source> {
        Box::new(LogSource {
            name: source.name.clone(),
            kind,
            step,
            format,
        })
    };
    match source.kind {
        SourceKind::CloudTrail => log(
            connectors::cloudtrail::KIND,
            Step::AttributingLogs,
            Box::new(connectors::cloudtrail::CloudTrailFormat),
        ),
        SourceKind::InvocationLogs(policy) => log(
            connectors::invocation::KIND,
            Step::Logs,
            Box::new(connectors::invocation::InvocationFormat(policy)),
        ),
        SourceKind::ProbeSpool => log(
            connectors::probe::KIND,
            Step::Logs,
            Box::new(connectors::probe::ProbeFormat),
        ),
        SourceKind::GcpAuditLogs => log(
            connectors::gcp::audit::KIND,
            Step::Logs,
            Box::new(connectors::gcp::audit::AuditFormat),
        ),
        SourceKind::AzureDiagnosticLogs => log(
            connectors::azure::diagnostics::KIND,
            Step::Logs,
            Box::new(connectors::azure::diagnostics::DiagnosticsFormat),
        ),
        SourceKind::AzureLogs => log(
            connectors::azure::logs::KIND,
            Step::Logs,
            Box::new(connectors::azure::logs::LogsFormat),
        ),
        SourceKind::AwsApi {
            max_attempts,
            concurrency,
        } => Box::new(connectors::aws::source::AwsApiSource::new(
            api(max_attempts, concurrency),
            source.location.url.clone(),
            source.location.region.clone(),
            source.regions.clone(),
        )),
        SourceKind::GcpApi {
            max_attempts,
            concurrency,
            logging,
        } => Box::new(connectors::gcp::source::GcpApiSource::new(
            api(max_attempts, concurrency),
            connectors::gcp::GcpSettings {
                source: source.name.clone(),
                projects: source.projects.clone(),
                locations: source.regions.clone(),
                endpoint: source.location.endpoint.clone(),
                concurrency,
            },
            logging,
        )),
        SourceKind::AzureApi {
            max_attempts,
            concurrency,
            credential,
            logging,
        } => Box::new(connectors::azure::source::AzureApiSource::new(
            api(max_attempts, concurrency),
            connectors::azure::AzureSettings {
                source: source.name.clone(),
                subscriptions: source.subscriptions.clone(),
                endpoint: source.location.endpoint.clone(),
                concurrency,
            },
            credential,
            logging,
        )),
    }
}
