//! The TOML configuration: where state is stored and which sources to scan. Mistakes are
//! reported with the line they are on.

use connectors::location::LocationSpec;
use connectors::source::PullLimits;
use miette::{Diagnostic, NamedSource, SourceSpan};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use toml::Spanned;

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    #[diagnostic(
        code(agentward::config::read),
        help("pass the file with --config FILE")
    )]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    #[diagnostic(transparent)]
    Invalid(Box<InvalidConfig>),
}

#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("invalid config: {message}")]
#[diagnostic(code(agentward::config::invalid))]
pub struct InvalidConfig {
    pub message: String,
    #[source_code]
    src: NamedSource<String>,
    #[label("here")]
    pub span: Option<SourceSpan>,
    #[help]
    pub help: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    store: Option<LocationSpec>,
    #[serde(default)]
    source: Vec<Spanned<RawSource>>,
    #[serde(default)]
    agent: Vec<Spanned<RawAgent>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAgent {
    /// The agent's key, id or name.
    #[serde(rename = "match")]
    matcher: String,
    #[serde(default)]
    track: Option<Spanned<String>>,
    #[serde(default)]
    staging_store: Option<String>,
    #[serde(default)]
    staging_agent: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    name: Spanned<String>,
    kind: Spanned<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    endpoint: Option<String>,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    allow_http: bool,
    #[serde(default)]
    max_record_bytes: Option<usize>,
    /// For invocation logs: what is kept of prompt text.
    #[serde(default)]
    prompt_text: Option<Spanned<String>>,
    /// For provider APIs: attempts per call (adaptive backoff between them).
    #[serde(default)]
    max_attempts: Option<u32>,
    /// For provider APIs: agents read at once.
    #[serde(default)]
    concurrency: Option<usize>,
    /// For provider APIs: every region to read (instead of `region`).
    #[serde(default)]
    regions: Option<Vec<String>>,
    /// For provider APIs: answer every call from this recording instead of AWS.
    #[serde(default)]
    replay: Option<String>,
    /// For gcp-api: the projects to read (ids).
    #[serde(default)]
    projects: Option<Vec<String>>,
    /// For gcp-api: the locations to read in every project.
    #[serde(default)]
    locations: Option<Vec<String>>,
    /// For azure-api: the subscriptions to read (ids).
    #[serde(default)]
    subscriptions: Option<Vec<String>>,
    /// For gcp-api: also read the projects' Cloud Audit Logs through the Logging API.
    #[serde(default)]
    logging_api: Option<bool>,
    /// For gcp-api with logging_api: how many days back the first read goes.
    #[serde(default)]
    logging_days: Option<u32>,
    /// For gcp-api with logging_api: pages of entries read per project and scan.
    #[serde(default)]
    logging_max_pages: Option<u32>,
    /// For azure-api: which Entra ID credential to use.
    #[serde(default)]
    credential: Option<Spanned<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    CloudTrail,
    /// Amazon Bedrock model invocation logs delivered to S3.
    InvocationLogs(connectors::invocation::PromptText),
    /// AWS APIs read with the SDK (IAM today): the declared side as it is now.
    AwsApi {
        max_attempts: u32,
        /// Agents read at once.
        concurrency: usize,
    },
    /// A node probe's spool (`agentward probe run --spool DIR`): self-hosted agents.
    ProbeSpool,
    /// Cloud Audit Logs a Cloud Logging sink exported to Cloud Storage (or copied to a
    /// directory): calls on and by Vertex AI agents.
    GcpAuditLogs,
    /// Resource logs (Audit, RequestResponse) of AI Foundry accounts a diagnostic setting
    /// archives to a storage account (or copied to a directory).
    AzureDiagnosticLogs,
    /// Google Cloud APIs (Vertex AI Agent Engine, IAM policies) read with Application
    /// Default Credentials.
    GcpApi {
        max_attempts: u32,
        /// Projects read at once.
        concurrency: usize,
        /// Also read the projects' Cloud Audit Logs through the Logging API (`entries.list`)
        /// into the store, scanned as the gcp-audit-logs source `NAME.logs`.
        logging: Option<connectors::gcp::logging::PullLimits>,
    },
    /// Azure Resource Manager and Foundry projects' data planes (AI Foundry agents) read
    /// with an Entra ID credential.
    AzureApi {
        max_attempts: u32,
        /// Accounts read at once.
        concurrency: usize,
        credential: connectors::azure::CredentialKind,
        /// Also read the Activity Log and the classic agents' run steps into the store,
        /// scanned as the source `NAME.logs`.
        logging: Option<connectors::gcp::logging::PullLimits>,
    },
    /// What an azure-api source read of the Activity Log and run steps (never configured:
    /// added for an azure-api source with `logging_api = true`).
    AzureLogs,
}

impl SourceKind {
    /// Sources that call a provider's API (and can be recorded and replayed).
    pub fn is_api(&self) -> bool {
        matches!(
            self,
            SourceKind::AwsApi { .. } | SourceKind::GcpApi { .. } | SourceKind::AzureApi { .. }
        )
    }

    /// How much of its logs an API source reads through the API, when it does.
    pub fn logging(&self) -> Option<connectors::gcp::logging::PullLimits> {
        match self {
            SourceKind::GcpApi { logging, .. } | SourceKind::AzureApi { logging, .. } => *logging,
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct SourceConfig {
    pub name: String,
    pub kind: SourceKind,
    pub location: LocationSpec,
    pub max_record_bytes: usize,
    /// API sources: where the API answers come from or go.
    pub wire: ApiWire,
    /// API sources: the regions (AWS) or locations (Google Cloud) to read; empty means the
    /// one region of `location`.
    pub regions: Vec<String>,
    /// gcp-api sources: the projects to read.
    pub projects: Vec<String>,
    /// azure-api sources: the subscriptions to read.
    pub subscriptions: Vec<String>,
    /// A log source whose objects an API source reads into the store (its name): the
    /// source's directory inside the store may not exist before the first read.
    pub pulled_by: Option<String>,
}

pub use connectors::source::ApiWire;

/// How an agent's behavior is judged.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "track", rename_all = "kebab-case")]
pub enum Track {
    /// The default: the baseline is learned in production (after a learning period).
    ObserveInProduction,
    /// For agents too costly to learn on in production: the baseline comes from a staging
    /// scan and departures are judged from the first day.
    PreEnforced {
        /// Directory (relative to the config file) or URL of the staging scan's store.
        staging_store: String,
        /// The agent in the staging store (key, id or name).
        staging_agent: String,
    },
}

/// Settings for the agents a `[[agent]]` entry matches.
#[derive(Debug, Clone)]
pub struct AgentSettings {
    /// Key, id or name.
    pub matcher: String,
    pub track: Track,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// Directory relative paths in the file are resolved against.
    pub base_dir: PathBuf,
    pub store: LocationSpec,
    pub sources: Vec<SourceConfig>,
    pub agents: Vec<AgentSettings>,
}

const DEFAULT_STORE: &str = ".agentward";
const DEFAULT_LOGGING_DAYS: u32 = 7;
const MAX_LOGGING_DAYS: u32 = 400;
const MAX_AZURE_LOGGING_DAYS: u32 = 90;
const DEFAULT_LOGGING_PAGES: u32 = 20;

pub use connectors::source::pulled_source_name;

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let base_dir = if base_dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            base_dir
        };
        Config::parse(&text, &path.display().to_string(), base_dir)
    }

    pub fn parse(text: &str, name: &str, base_dir: PathBuf) -> Result<Config, ConfigError> {
        let file = ConfigFile { name, text };
        let raw: RawConfig = toml::from_str(text)
            .map_err(|e| file.invalid(e.message().to_string(), e.span(), None))?;
        let mut sources = Vec::new();
        for s in raw.source {
            let source = file.source(s, &base_dir, &sources)?;
            sources.push(source);
        }
        let agents = raw
            .agent
            .into_iter()
            .map(|a| file.agent(a))
            .collect::<Result<Vec<_>, _>>()?;
        let store = raw.store.unwrap_or_else(|| LocationSpec {
            url: DEFAULT_STORE.into(),
            ..LocationSpec::default()
        });
        file.add_pulled(&mut sources, &store)?;
        Ok(Config {
            base_dir,
            store,
            sources,
            agents,
        })
    }
}

/// The configuration file being read, for errors that point into it.
struct ConfigFile<'a> {
    name: &'a str,
    text: &'a str,
}

type Span = std::ops::Range<usize>;
/// An API source's projects, locations (`None`: not a gcp-api source) and subscriptions.
type Scopes = (Vec<String>, Option<Vec<String>>, Vec<String>);

impl ConfigFile<'_> {
    fn invalid(&self, message: String, span: Option<Span>, help: Option<String>) -> ConfigError {
        ConfigError::Invalid(Box::new(InvalidConfig {
            message,
            src: NamedSource::new(self.name, self.text.to_string()),
            span: span.map(|r| SourceSpan::from(r.start..r.end)),
            help,
        }))
    }

    /// One `[[source]]`, checked field by field; `taken`: the sources before it.
    fn source(
        &self,
        s: Spanned<RawSource>,
        base_dir: &Path,
        taken: &[SourceConfig],
    ) -> Result<SourceConfig, ConfigError> {
        let span = s.span();
        let s = s.into_inner();
        let logging = self.logging(&s, &span)?;
        let kind = self.kind(&s, logging)?;
        let url = match (&kind, s.url.clone()) {
            (SourceKind::AwsApi { .. }, url) => url.unwrap_or_else(|| "aws:".into()),
            (SourceKind::GcpApi { .. }, url) => url.unwrap_or_else(|| "gcp:".into()),
            (SourceKind::AzureApi { .. }, url) => url.unwrap_or_else(|| "azure:".into()),
            (_, Some(url)) => url,
            (_, None) => {
                return Err(self.invalid(
                    format!(
                        "source {:?} needs a url (a directory, file://, s3://, gs:// or az:// URL of its logs)",
                        s.name.get_ref()
                    ),
                    Some(span),
                    None,
                ));
            }
        };
        let wire = match (&kind, s.replay.clone()) {
            (_, None) => ApiWire::Live,
            (kind, Some(dir)) if kind.is_api() => ApiWire::Replay(base_dir.join(dir)),
            (_, Some(_)) => {
                return Err(self.invalid(
                    "replay applies to API sources only (aws-api, gcp-api, azure-api)".into(),
                    Some(span.clone()),
                    None,
                ));
            }
        };
        let (projects, locations, subscriptions) = self.scopes(&s, &kind, &span)?;
        self.logging_applies(&s, &kind, &span)?;
        let regions = self.regions(&s, &kind, &span, locations)?;
        self.api_settings_apply(&s, &kind, &span)?;
        let name = self.name(&s, taken)?;
        if s.max_record_bytes == Some(0) {
            return Err(self.invalid("max_record_bytes must be positive".into(), Some(span), None));
        }
        Ok(SourceConfig {
            name,
            kind,
            location: LocationSpec {
                url,
                endpoint: s.endpoint.clone(),
                region: s.region.clone(),
                allow_http: s.allow_http,
            },
            max_record_bytes: s
                .max_record_bytes
                .unwrap_or(connectors::records::DEFAULT_MAX_RECORD_BYTES),
            wire,
            regions,
            projects,
            subscriptions,
            pulled_by: None,
        })
    }

    /// `logging_api` and how much it reads.
    fn logging(&self, s: &RawSource, span: &Span) -> Result<Option<PullLimits>, ConfigError> {
        Ok(match s.logging_api {
            Some(true) => {
                let days = s.logging_days.unwrap_or(DEFAULT_LOGGING_DAYS);
                if !(1..=MAX_LOGGING_DAYS).contains(&days) {
                    return Err(self.invalid(
                        format!("logging_days = {days} is out of range"),
                        Some(span.clone()),
                        Some(format!(
                            "1 to {MAX_LOGGING_DAYS} (Admin Activity logs are kept 400 days, Data Access logs 30 by default)"
                        )),
                    ));
                }
                let max_pages = s.logging_max_pages.unwrap_or(DEFAULT_LOGGING_PAGES);
                if max_pages == 0 {
                    return Err(self.invalid(
                        "logging_max_pages must be at least 1".into(),
                        Some(span.clone()),
                        None,
                    ));
                }
                Some(PullLimits { days, max_pages })
            }
            Some(false) | None => None,
        })
    }

    fn kind(&self, s: &RawSource, logging: Option<PullLimits>) -> Result<SourceKind, ConfigError> {
        Ok(match s.kind.get_ref().as_str() {
            "cloudtrail" => SourceKind::CloudTrail,
            "bedrock-invocation-logs" => {
                let policy = match &s.prompt_text {
                    None => connectors::invocation::PromptText::default(),
                    Some(p) => connectors::invocation::PromptText::parse(p.get_ref())
                        .ok_or_else(|| {
                            self.invalid(
                                format!("unknown prompt_text {:?}", p.get_ref()),
                                Some(p.span()),
                                Some("prompt_text: \"redacted\" (default: digests and a masked excerpt), \"hash\" (digests only) or \"full\"".into()),
                            )
                        })?,
                };
                SourceKind::InvocationLogs(policy)
            }
            "probe-spool" => SourceKind::ProbeSpool,
            "gcp-audit-logs" => SourceKind::GcpAuditLogs,
            "azure-diagnostic-logs" => SourceKind::AzureDiagnosticLogs,
            "aws-api" => SourceKind::AwsApi {
                max_attempts: s.max_attempts.unwrap_or(3),
                concurrency: s.concurrency.unwrap_or(8),
            },
            "gcp-api" => SourceKind::GcpApi {
                max_attempts: s.max_attempts.unwrap_or(5),
                concurrency: s.concurrency.unwrap_or(4),
                logging,
            },
            "azure-api" => SourceKind::AzureApi {
                max_attempts: s.max_attempts.unwrap_or(5),
                concurrency: s.concurrency.unwrap_or(4),
                logging,
                credential: match &s.credential {
                    None => connectors::azure::CredentialKind::Auto,
                    Some(c) => connectors::azure::CredentialKind::parse(c.get_ref())
                        .ok_or_else(|| {
                            self.invalid(
                                format!("unknown credential {:?}", c.get_ref()),
                                Some(c.span()),
                                Some("credential: \"auto\" (default), \"client-secret\", \"workload-identity\", \"managed-identity\" or \"azure-cli\"".into()),
                            )
                        })?,
                },
            },
            other => {
                return Err(self.invalid(
                    format!("unknown source kind {other:?}"),
                    Some(s.kind.span()),
                    Some(
                        "supported kinds: cloudtrail, bedrock-invocation-logs, gcp-audit-logs, azure-diagnostic-logs, aws-api, gcp-api, azure-api, probe-spool".into(),
                    ),
                ));
            }
        })
    }

    /// The projects, locations and subscriptions an API source reads.
    fn scopes(&self, s: &RawSource, kind: &SourceKind, span: &Span) -> Result<Scopes, ConfigError> {
        let projects = match (kind, s.projects.clone()) {
            (SourceKind::GcpApi { .. }, Some(list)) => {
                self.list_of(span, "projects", list, "[\"acme-agents-prod\"]")?
            }
            (SourceKind::GcpApi { .. }, None) => {
                return Err(self.invalid(
                    format!("gcp-api source {:?} names no projects", s.name.get_ref()),
                    Some(span.clone()),
                    Some(
                        "projects = [\"PROJECT_ID\", …]: every project whose agents to read".into(),
                    ),
                ));
            }
            (_, None) => Vec::new(),
            (_, Some(_)) => {
                return Err(self.invalid(
                    "projects applies to gcp-api sources only".into(),
                    Some(span.clone()),
                    None,
                ));
            }
        };
        let locations = match (kind, s.locations.clone()) {
            (SourceKind::GcpApi { .. }, Some(list)) => Some(self.list_of(
                span,
                "locations",
                list,
                "[\"us-central1\", \"europe-west4\"]",
            )?),
            (SourceKind::GcpApi { .. }, None) => Some(vec!["us-central1".to_string()]),
            (_, None) => None,
            (_, Some(_)) => {
                return Err(self.invalid(
                    "locations applies to gcp-api sources only".into(),
                    Some(span.clone()),
                    None,
                ));
            }
        };
        let subscriptions = match (kind, s.subscriptions.clone()) {
            (SourceKind::AzureApi { .. }, Some(list)) => self.list_of(
                span,
                "subscriptions",
                list,
                "[\"00000000-0000-0000-0000-000000000000\"]",
            )?,
            (SourceKind::AzureApi { .. }, None) => {
                return Err(self.invalid(
                    format!("azure-api source {:?} names no subscriptions", s.name.get_ref()),
                    Some(span.clone()),
                    Some("subscriptions = [\"SUBSCRIPTION_ID\", …]: every subscription whose Foundry accounts to read".into()),
                ));
            }
            (_, None) => Vec::new(),
            (_, Some(_)) => {
                return Err(self.invalid(
                    "subscriptions applies to azure-api sources only".into(),
                    Some(span.clone()),
                    None,
                ));
            }
        };
        Ok((projects, locations, subscriptions))
    }

    fn list_of(
        &self,
        span: &Span,
        what: &str,
        mut list: Vec<String>,
        example: &str,
    ) -> Result<Vec<String>, ConfigError> {
        if list.is_empty() || list.iter().any(|r| r.trim().is_empty()) {
            return Err(self.invalid(
                format!("{what} must list at least one, none of them empty"),
                Some(span.clone()),
                Some(format!("e.g. {what} = {example}")),
            ));
        }
        list.sort();
        list.dedup();
        Ok(list)
    }

    /// The logging settings apply only where logs are read through an API.
    fn logging_applies(
        &self,
        s: &RawSource,
        kind: &SourceKind,
        span: &Span,
    ) -> Result<(), ConfigError> {
        if let SourceKind::AzureApi {
            logging: Some(limits),
            ..
        } = *kind
            && limits.days > MAX_AZURE_LOGGING_DAYS
        {
            return Err(self.invalid(
                format!(
                    "logging_days = {} is out of range for an azure-api source",
                    limits.days
                ),
                Some(span.clone()),
                Some(format!(
                    "1 to {MAX_AZURE_LOGGING_DAYS}: the Activity Log keeps 90 days"
                )),
            ));
        }
        if (s.logging_days.is_some() || s.logging_max_pages.is_some()) && kind.logging().is_none() {
            return Err(self.invalid(
                "logging_days and logging_max_pages apply to gcp-api and azure-api sources with logging_api = true".into(),
                Some(span.clone()),
                None,
            ));
        }
        if s.logging_api.is_some()
            && !matches!(
                *kind,
                SourceKind::GcpApi { .. } | SourceKind::AzureApi { .. }
            )
        {
            return Err(self.invalid(
                "logging_api applies to gcp-api and azure-api sources only".into(),
                Some(span.clone()),
                Some("for audit logs a sink exports to Cloud Storage, add a source of kind = \"gcp-audit-logs\"".into()),
            ));
        }
        if s.credential.is_some() && !matches!(kind, SourceKind::AzureApi { .. }) {
            return Err(self.invalid(
                "credential applies to azure-api sources only".into(),
                s.credential.as_ref().map(|c| c.span()),
                None,
            ));
        }
        Ok(())
    }

    fn regions(
        &self,
        s: &RawSource,
        kind: &SourceKind,
        span: &Span,
        locations: Option<Vec<String>>,
    ) -> Result<Vec<String>, ConfigError> {
        Ok(match (kind, s.regions.clone()) {
            (SourceKind::AzureApi { .. }, Some(_)) => {
                return Err(self.invalid(
                    "an azure-api source reads every region of its subscriptions; regions do not apply".into(),
                    Some(span.clone()),
                    None,
                ));
            }
            (SourceKind::GcpApi { .. }, Some(_)) => {
                return Err(self.invalid(
                    "a gcp-api source reads locations, not regions".into(),
                    Some(span.clone()),
                    Some("locations = [\"us-central1\"]".into()),
                ));
            }
            (_, None) => locations.unwrap_or_default(),
            (SourceKind::AwsApi { .. }, Some(list)) => {
                if s.region.is_some() {
                    return Err(self.invalid(
                        "give either region or regions, not both".into(),
                        Some(span.clone()),
                        None,
                    ));
                }
                if list.is_empty() || list.iter().any(|r| r.trim().is_empty()) {
                    return Err(self.invalid(
                        "regions must list at least one region, none of them empty".into(),
                        Some(span.clone()),
                        Some("e.g. regions = [\"us-east-1\", \"eu-west-1\"]".into()),
                    ));
                }
                let mut list = list;
                list.dedup();
                list
            }
            (_, Some(_)) => {
                return Err(self.invalid(
                    "regions applies to aws-api sources only".into(),
                    Some(span.clone()),
                    None,
                ));
            }
        })
    }

    /// Attempts, concurrency and prompt text apply where they mean something.
    fn api_settings_apply(
        &self,
        s: &RawSource,
        kind: &SourceKind,
        span: &Span,
    ) -> Result<(), ConfigError> {
        if s.concurrency == Some(0) {
            return Err(self.invalid(
                "concurrency must be at least 1".into(),
                Some(span.clone()),
                None,
            ));
        }
        if (s.max_attempts.is_some() || s.concurrency.is_some()) && !kind.is_api() {
            return Err(self.invalid(
                "max_attempts and concurrency apply to API sources only (aws-api, gcp-api, azure-api)".into(),
                Some(span.clone()),
                None,
            ));
        }
        if let (SourceKind::CloudTrail, Some(p)) = (kind, &s.prompt_text) {
            return Err(self.invalid(
                "prompt_text applies to bedrock-invocation-logs sources only".into(),
                Some(p.span()),
                None,
            ));
        }
        Ok(())
    }

    /// The source's name: well formed, and not taken.
    fn name(&self, s: &RawSource, taken: &[SourceConfig]) -> Result<String, ConfigError> {
        let name = s.name.get_ref().clone();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(self.invalid(
                format!(
                    "source name {name:?} must be non-empty and use only letters, digits, '-', '_', '.'"
                ),
                Some(s.name.span()),
                None,
            ));
        }
        if taken.iter().any(|x| x.name == name) {
            return Err(self.invalid(
                format!("source name {name:?} is used twice"),
                Some(s.name.span()),
                Some("every source needs its own name: cursors are kept per name".into()),
            ));
        }
        Ok(name)
    }

    fn agent(&self, a: Spanned<RawAgent>) -> Result<AgentSettings, ConfigError> {
        let span = a.span();
        let a = a.into_inner();
        let track = match a.track.as_ref().map(|t| t.get_ref().as_str()) {
            None | Some("observe-in-production") => {
                if a.staging_store.is_some() || a.staging_agent.is_some() {
                    return Err(self.invalid(
                        format!(
                            "agent {:?}: staging_store and staging_agent only apply to track = \"pre-enforced\"",
                            a.matcher
                        ),
                        Some(span),
                        None,
                    ));
                }
                Track::ObserveInProduction
            }
            Some("pre-enforced") => {
                let Some(staging) = a.staging_store else {
                    return Err(self.invalid(
                        format!("agent {:?} is pre-enforced but names no staging_store", a.matcher),
                        Some(span),
                        Some("staging_store = the store (directory or URL) of the staging scan its baseline comes from".into()),
                    ));
                };
                Track::PreEnforced {
                    staging_store: staging,
                    staging_agent: a.staging_agent.unwrap_or_else(|| a.matcher.clone()),
                }
            }
            Some(other) => {
                return Err(self.invalid(
                    format!("unknown track {other:?}"),
                    a.track.as_ref().map(|t| t.span()),
                    Some("tracks: observe-in-production (default), pre-enforced".into()),
                ));
            }
        };
        Ok(AgentSettings {
            matcher: a.matcher,
            track,
        })
    }

    /// What an API source reads of its logs is kept in the store and scanned from there
    /// like an export: one more source each.
    fn add_pulled(
        &self,
        sources: &mut Vec<SourceConfig>,
        store: &LocationSpec,
    ) -> Result<(), ConfigError> {
        let pulled: Vec<SourceConfig> = sources
            .iter()
            .filter(|s| s.kind.logging().is_some())
            .map(|api| SourceConfig {
                name: pulled_source_name(&api.name),
                kind: match api.kind {
                    SourceKind::AzureApi { .. } => SourceKind::AzureLogs,
                    _ => SourceKind::GcpAuditLogs,
                },
                location: pulled_location(store, &api.name),
                max_record_bytes: api.max_record_bytes,
                wire: ApiWire::Live,
                regions: Vec::new(),
                projects: Vec::new(),
                subscriptions: Vec::new(),
                pulled_by: Some(api.name.clone()),
            })
            .collect();
        for p in pulled {
            if sources.iter().any(|s| s.name == p.name) {
                return Err(self.invalid(
                    format!(
                        "source name {:?} is taken by the logs the source {:?} reads",
                        p.name,
                        p.pulled_by.as_deref().unwrap_or_default()
                    ),
                    None,
                    Some("rename the other source".into()),
                ));
            }
            sources.push(p);
        }
        Ok(())
    }
}

/// Points the sources that scan what API sources pulled at `store`: a store given on
/// the command line holds them, not the configuration's.
pub fn move_pulled_to(sources: &mut [SourceConfig], store: &LocationSpec) {
    for s in sources {
        if let Some(api) = s.pulled_by.clone() {
            s.location = pulled_location(store, &api);
        }
    }
}

/// Where in `store` what the API source `api` pulled of its logs is kept, as a location.
fn pulled_location(store: &LocationSpec, api: &str) -> LocationSpec {
    LocationSpec {
        url: format!(
            "{}/{}",
            store.url.trim_end_matches('/'),
            crate::layout::pulled_dir(api)
        ),
        ..store.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, "agentward.toml", PathBuf::from("."))
    }

    #[test]
    fn errors_point_at_the_offending_line() {
        let text = "[store]\nurl = \".agentward\"\n\n[[source]]\nname = \"trail\"\nkind = \"cloudtrial\"\nurl = \"logs\"\n";
        let Err(ConfigError::Invalid(e)) = parse(text) else {
            panic!("accepted a bad kind")
        };
        assert!(e.message.contains("cloudtrial"));
        let offset = e.span.unwrap().offset();
        let line_of = |t: &str, offset: usize| t[..offset].matches('\n').count() + 1;
        assert_eq!(line_of(text, offset), 6, "span should be on line 6");
        assert_eq!(
            e.help.as_deref(),
            Some(
                "supported kinds: cloudtrail, bedrock-invocation-logs, gcp-audit-logs, azure-diagnostic-logs, aws-api, gcp-api, azure-api, probe-spool"
            )
        );

        let Err(ConfigError::Invalid(e)) = parse("[store]\nurll = \"x\"\n") else {
            panic!("accepted unknown key")
        };
        assert_eq!(
            line_of("[store]\nurll = \"x\"\n", e.span.unwrap().offset()),
            2
        );
    }

    #[test]
    fn prompt_text_is_checked_and_only_for_invocation_logs() {
        let inv = |extra: &str| {
            parse(&format!(
                "[[source]]\nname = \"inv\"\nkind = \"bedrock-invocation-logs\"\nurl = \"x\"\n{extra}"
            ))
        };
        assert!(matches!(
            inv("").unwrap().sources[0].kind,
            SourceKind::InvocationLogs(connectors::invocation::PromptText::Redacted)
        ));
        assert!(matches!(
            inv("prompt_text = \"full\"\n").unwrap().sources[0].kind,
            SourceKind::InvocationLogs(connectors::invocation::PromptText::Full)
        ));
        let Err(ConfigError::Invalid(e)) = inv("prompt_text = \"everything\"\n") else {
            panic!("accepted an unknown prompt_text")
        };
        assert!(e.message.contains("everything"));
        let Err(ConfigError::Invalid(e)) = parse(
            "[[source]]\nname = \"t\"\nkind = \"cloudtrail\"\nurl = \"x\"\nprompt_text = \"full\"\n",
        ) else {
            panic!("accepted prompt_text on a CloudTrail source")
        };
        assert!(e.message.contains("bedrock-invocation-logs sources only"));
    }

    #[test]
    fn api_settings_are_checked_and_only_for_api_sources() {
        let api = |extra: &str| {
            parse(&format!(
                "[[source]]\nname = \"aws\"\nkind = \"aws-api\"\n{extra}"
            ))
        };
        let ok =
            api("regions = [\"us-east-1\", \"eu-west-1\"]\nreplay = \"rec\"\nconcurrency = 4\n")
                .unwrap();
        assert_eq!(ok.sources[0].regions, ["us-east-1", "eu-west-1"]);
        assert!(matches!(
            ok.sources[0].kind,
            SourceKind::AwsApi { concurrency: 4, .. }
        ));
        assert!(matches!(&ok.sources[0].wire, ApiWire::Replay(dir) if dir.ends_with("rec")));
        for (extra, says) in [
            (
                "region = \"us-east-1\"\nregions = [\"eu-west-1\"]\n",
                "either region or regions",
            ),
            ("regions = []\n", "at least one region"),
            ("concurrency = 0\n", "at least 1"),
        ] {
            let Err(ConfigError::Invalid(e)) = api(extra) else {
                panic!("accepted {extra:?}")
            };
            assert!(e.message.contains(says), "{extra:?}: {}", e.message);
        }
        for extra in [
            "regions = [\"us-east-1\"]\n",
            "replay = \"rec\"\n",
            "concurrency = 2\n",
        ] {
            let Err(ConfigError::Invalid(e)) = parse(&format!(
                "[[source]]\nname = \"t\"\nkind = \"cloudtrail\"\nurl = \"x\"\n{extra}"
            )) else {
                panic!("accepted {extra:?} on a CloudTrail source")
            };
            assert!(e.message.contains("sources only"), "{}", e.message);
        }
    }

    #[test]
    fn azure_sources_need_subscriptions_and_a_known_credential() {
        let azure = |extra: &str| {
            parse(&format!(
                "[[source]]\nname = \"foundry\"\nkind = \"azure-api\"\n{extra}"
            ))
        };
        let ok = azure("subscriptions = [\"s1\"]\ncredential = \"managed-identity\"\n").unwrap();
        assert_eq!(ok.sources[0].subscriptions, ["s1"]);
        assert!(matches!(
            ok.sources[0].kind,
            SourceKind::AzureApi {
                credential: connectors::azure::CredentialKind::ManagedIdentity,
                ..
            }
        ));
        for (extra, says) in [
            ("", "names no subscriptions"),
            (
                "subscriptions = [\"s1\"]\ncredential = \"password\"\n",
                "unknown credential",
            ),
            (
                "subscriptions = [\"s1\"]\nregions = [\"eastus\"]\n",
                "regions do not apply",
            ),
        ] {
            let Err(ConfigError::Invalid(e)) = azure(extra) else {
                panic!("accepted {extra:?}")
            };
            assert!(e.message.contains(says), "{extra:?}: {}", e.message);
        }
    }

    /// A store given on the command line holds what the API sources pull: the sources
    /// that scan it move with it, and the others stay where they are.
    #[test]
    fn pulled_logs_are_scanned_from_the_store_in_use() {
        let mut config = parse(
            "[store]\nurl = \"configured\"\n\n[[source]]\nname = \"vertex\"\nkind = \"gcp-api\"\nprojects = [\"a\"]\nlogging_api = true\n\n[[source]]\nname = \"trail\"\nkind = \"cloudtrail\"\nurl = \"logs\"\n",
        )
        .unwrap();
        let pulled = |c: &Config| {
            c.sources
                .iter()
                .find(|s| s.pulled_by.as_deref() == Some("vertex"))
                .map(|s| s.location.url.clone())
                .unwrap()
        };
        assert!(
            pulled(&config).ends_with("configured/pulled/vertex"),
            "{}",
            pulled(&config)
        );
        let trail = config
            .sources
            .iter()
            .find(|s| s.name == "trail")
            .unwrap()
            .location
            .url
            .clone();
        let other = LocationSpec {
            url: "/elsewhere".into(),
            ..LocationSpec::default()
        };
        move_pulled_to(&mut config.sources, &other);
        assert_eq!(pulled(&config), "/elsewhere/pulled/vertex");
        let after = config.sources.iter().find(|s| s.name == "trail").unwrap();
        assert_eq!(after.location.url, trail);
    }

    #[test]
    fn gcp_sources_need_projects_and_default_to_one_location() {
        let gcp = |extra: &str| {
            parse(&format!(
                "[[source]]\nname = \"vertex\"\nkind = \"gcp-api\"\n{extra}"
            ))
        };
        let ok = gcp("projects = [\"b\", \"a\", \"a\"]\n").unwrap();
        assert_eq!(ok.sources[0].projects, ["a", "b"]);
        assert_eq!(ok.sources[0].regions, ["us-central1"]);
        assert!(ok.sources[0].kind.is_api());
        let two =
            gcp("projects = [\"a\"]\nlocations = [\"europe-west4\", \"us-central1\"]\n").unwrap();
        assert_eq!(two.sources[0].regions, ["europe-west4", "us-central1"]);
        for (extra, says) in [
            ("", "names no projects"),
            ("projects = []\n", "projects must list at least one"),
            (
                "projects = [\"a\"]\nlocations = [\" \"]\n",
                "locations must list at least one",
            ),
            (
                "projects = [\"a\"]\nregions = [\"us-east-1\"]\n",
                "locations, not regions",
            ),
            (
                "projects = [\"a\"]\nlogging_api = true\nlogging_days = 401\n",
                "logging_days = 401 is out of range",
            ),
            (
                "projects = [\"a\"]\nlogging_api = true\nlogging_max_pages = 0\n",
                "logging_max_pages must be at least 1",
            ),
            (
                "projects = [\"a\"]\nlogging_days = 3\n",
                "with logging_api = true",
            ),
        ] {
            let Err(ConfigError::Invalid(e)) = gcp(extra) else {
                panic!("accepted {extra:?}")
            };
            assert!(e.message.contains(says), "{extra:?}: {}", e.message);
        }
        let Err(ConfigError::Invalid(e)) = parse(
            "[[source]]\nname = \"t\"\nkind = \"cloudtrail\"\nurl = \"x\"\nprojects = [\"a\"]\n",
        ) else {
            panic!("accepted projects on a CloudTrail source")
        };
        assert!(e.message.contains("gcp-api sources only"), "{}", e.message);

        // What the Logging API gives is kept in the store and scanned as a source of its own.
        let pulling = parse(
            "[store]\nurl = \"s3://acme-sec/agentward/\"\nendpoint = \"http://127.0.0.1:9000\"\n\n[[source]]\nname = \"vertex\"\nkind = \"gcp-api\"\nprojects = [\"a\"]\nlogging_api = true\n",
        )
        .unwrap();
        assert_eq!(
            pulling.sources[0].kind,
            SourceKind::GcpApi {
                max_attempts: 5,
                concurrency: 4,
                logging: Some(connectors::gcp::logging::PullLimits {
                    days: 7,
                    max_pages: 20
                }),
            }
        );
        let pulled = &pulling.sources[1];
        assert_eq!(pulled.name, "vertex.logs");
        assert_eq!(pulled.kind, SourceKind::GcpAuditLogs);
        assert_eq!(pulled.location.url, "s3://acme-sec/agentward/pulled/vertex");
        assert_eq!(
            pulled.location.endpoint.as_deref(),
            Some("http://127.0.0.1:9000")
        );
        assert_eq!(pulled.pulled_by.as_deref(), Some("vertex"));
        let Err(ConfigError::Invalid(e)) = parse(
            "[[source]]\nname = \"vertex\"\nkind = \"gcp-api\"\nprojects = [\"a\"]\nlogging_api = true\n\n[[source]]\nname = \"vertex.logs\"\nkind = \"cloudtrail\"\nurl = \"x\"\n",
        ) else {
            panic!("accepted a name the pulled logs need")
        };
        assert!(e.message.contains("is taken"), "{}", e.message);
    }

    #[test]
    fn agent_tracks_are_checked() {
        let ok = parse("[[agent]]\nmatch = \"payments\"\ntrack = \"pre-enforced\"\nstaging_store = \"../staging\"\n").unwrap();
        assert!(
            matches!(&ok.agents[0].track, Track::PreEnforced { staging_agent, .. } if staging_agent == "payments")
        );
        let Err(ConfigError::Invalid(e)) =
            parse("[[agent]]\nmatch = \"payments\"\ntrack = \"pre-enforced\"\n")
        else {
            panic!("accepted a pre-enforced agent without a staging store")
        };
        assert!(e.message.contains("no staging_store"), "{}", e.message);
        let Err(ConfigError::Invalid(e)) = parse("[[agent]]\nmatch = \"x\"\ntrack = \"strict\"\n")
        else {
            panic!("accepted an unknown track")
        };
        assert!(e.message.contains("unknown track"));
        assert_eq!(parse("").unwrap().agents.len(), 0);
    }

    #[test]
    fn duplicate_source_names_are_refused_and_store_defaults_locally() {
        let dup = "[[source]]\nname = \"a\"\nkind = \"cloudtrail\"\nurl = \"x\"\n[[source]]\nname = \"a\"\nkind = \"cloudtrail\"\nurl = \"y\"\n";
        assert!(matches!(parse(dup), Err(ConfigError::Invalid(e)) if e.message.contains("twice")));
        let ok = parse("[[source]]\nname = \"a\"\nkind = \"cloudtrail\"\nurl = \"x\"\n").unwrap();
        assert_eq!(ok.store.url, ".agentward");
        assert_eq!(
            ok.sources[0].max_record_bytes,
            connectors::records::DEFAULT_MAX_RECORD_BYTES
        );
    }
}
