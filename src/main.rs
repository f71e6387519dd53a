//! agentward: see what your AI agents really are and really do, and prove it.
//!
//! The binary wires sources (connectors) through the model (normalizer) into the store,
//! and prints what a person needs: summaries, inventory, events, coverage, audit checks.

mod audit;
mod behavior;
mod commands;
mod config;
mod cursor;
mod layout;
mod pipeline;
mod probe_cmd;
mod report;
mod store;

use clap::{Parser, Subcommand, ValueEnum};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "agentward",
    version,
    about = "Runtime security for AI agents: runtime inventory, behavior, telemetry coverage and a verifiable audit trail",
    long_about = "agentward reads what your agents' platforms record and describe (CloudTrail and Bedrock logs, the \
                  AWS, Google Cloud and Azure agent APIs, its own node probe's spool), normalizes it into \
                  per-agent events (OCSF 1.8), a runtime-derived inventory (CycloneDX 1.6) and a coverage matrix \
                  that says, layer by layer, what can and cannot be seen and why. Everything is kept in one store \
                  (a local directory by default, or s3://) with a hash-chained audit trail.\n\n\
                  Exit codes: 0 success; 1 error (bad config, unreadable store, audit chain broken); \
                  2 partial scan (a source or some of its files failed: named in the summary)."
)]
struct Cli {
    /// Configuration file (TOML): the store and the sources to scan. Relative paths in it
    /// are resolved against its directory.
    #[arg(
        long,
        global = true,
        default_value = "agentward.toml",
        env = "AGENTWARD_CONFIG"
    )]
    config: PathBuf,
    /// Use this store instead of the configuration's (a directory, file:// or s3:// URL).
    #[arg(long, global = true, env = "AGENTWARD_STORE")]
    store: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum InventoryFormat {
    Table,
    Json,
    Cyclonedx,
}

#[derive(Clone, Copy, ValueEnum)]
enum EventsFormat {
    Table,
    Ocsf,
}

#[derive(Clone, Copy, ValueEnum)]
enum FindingsFormat {
    Table,
    Json,
    Ocsf,
}

#[derive(Clone, Copy, ValueEnum)]
enum TextOrJson {
    Table,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum RecommendFormat {
    Md,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Scan every configured source into the store, then print what was found. Rescanning
    /// is idempotent: files already scanned are not read again; an interrupted scan resumes.
    Scan {
        #[arg(long, value_enum, default_value = "table")]
        format: TextOrJson,
        /// Answer every API source's calls (aws-api, gcp-api) from a recording made by
        /// `agentward record` (DIR/<source name>/) instead of the provider: offline,
        /// through the same parsing.
        #[arg(long, value_name = "DIR")]
        replay: Option<PathBuf>,
    },
    /// A live scan that also writes every API answer of the API sources (aws-api,
    /// gcp-api) to DIR/<source name>/exchanges.jsonl (credentials, secrets and environment
    /// values replaced, instructions and prompt templates kept as digests), for
    /// `scan --replay DIR` offline or by an auditor.
    Record {
        /// The recording directory (created; a recording already there is replaced).
        dir: PathBuf,
        #[arg(long, value_enum, default_value = "table")]
        format: TextOrJson,
    },
    /// The runtime-derived inventory (AI-BOM) of every known agent, with where each field
    /// came from.
    Inventory {
        /// Show the inventory as it was at this time (RFC 3339 or YYYY-MM-DD), and what
        /// changed after it; default: now.
        #[arg(long)]
        at: Option<String>,
        #[arg(long, value_enum, default_value = "table")]
        format: InventoryFormat,
    },
    /// Normalized events from the store, in time order (one day is held in memory at a time).
    Events {
        /// Only this agent (its key, as `inventory` and `coverage` print it), or `unattributed`.
        #[arg(long)]
        agent: Option<String>,
        /// Only events at or after this time (RFC 3339 or YYYY-MM-DD).
        #[arg(long)]
        since: Option<String>,
        /// Only events before this time (RFC 3339 or YYYY-MM-DD).
        #[arg(long)]
        until: Option<String>,
        /// Only this layer: kernel, network, prompt, tool_invocation, identity_api, control.
        #[arg(long)]
        layer: Option<String>,
        #[arg(long, value_enum, default_value = "table")]
        format: EventsFormat,
    },
    /// What agentward can see of each agent, layer by layer, and for each gap why not and
    /// how to close it.
    Coverage {
        #[arg(long, value_enum, default_value = "table")]
        format: TextOrJson,
    },
    /// Findings as of the last scan: telemetry coverage gaps (each with how to close it),
    /// drift to review, declared-vs-observed items, and live versions open to prompt
    /// injection (no guardrail, or one without a prompt-attack filter).
    Findings {
        #[arg(long, value_enum, default_value = "table")]
        format: FindingsFormat,
    },
    /// Records that could not be read, each with its reason, where it was and its first bytes.
    Quarantine {
        /// Only this source (its name in the config).
        #[arg(long)]
        source: Option<String>,
    },
    /// Behavioral baselines: what each agent normally does (its envelope) and whether it
    /// has stopped doing new things (convergence).
    Baseline {
        #[command(subcommand)]
        command: BaselineCommand,
    },
    /// Departures from each agent's baseline over a period, each classified from three
    /// signals: a deploy shortly before it, whether it persisted or burst, and whether its
    /// volume stayed inside the envelope. `evolution` (deployed, persistent, within bounds)
    /// is absorbed into the baseline; `risky drift` and `unclassified` are findings.
    Drift {
        /// Length of the period judged, in days.
        #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=3650))]
        days: u32,
        /// End of the period (RFC 3339 or YYYY-MM-DD); default: each agent's newest event.
        #[arg(long)]
        until: Option<String>,
        /// Only this agent: its key, id or name.
        #[arg(long)]
        agent: Option<String>,
        /// Also list evolutions (absorbed departures); by default they are only counted.
        #[arg(long)]
        all: bool,
        #[arg(long, value_enum, default_value = "table")]
        format: TextOrJson,
    },
    /// Declared vs observed, per agent: *unused excess* (granted by a role's policies or a
    /// declared tool, never exercised over a long enough window) and *inherited overreach*
    /// (behavior allowed only through wildcards, AWS-managed policies or a role shared with
    /// another agent). Every item carries its evidence.
    Reconcile {
        /// Only this agent: its key, id or name.
        #[arg(long)]
        agent: Option<String>,
        /// Days an agent must have been observed before a grant can be called unused.
        #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=3650))]
        min_days: u32,
        #[arg(long, value_enum, default_value = "table")]
        format: TextOrJson,
    },
    /// Accept a drift episode after review (e.g. a one-off export someone asked for): it is
    /// no longer a finding, its windows count in the agent's envelope, and the decision,
    /// who made it and why go into the audit trail.
    Accept {
        /// The episode's uid, as `agentward drift --format json` prints it
        /// (agentward:drift:AGENT_KEY:YYYY-MM-DD).
        episode: String,
        /// Why it is acceptable: kept in the audit trail.
        #[arg(long)]
        reason: String,
        /// Who accepts it; default: $USER.
        #[arg(long, env = "USER", default_value = "unknown")]
        by: String,
    },
    /// Two agents' envelopes side by side: every action, model and role either was seen
    /// doing, with counts and median per active window, and which of the two does it.
    Envelopes {
        /// First agent: key, id or name.
        a: String,
        /// Second agent: key, id or name.
        b: String,
        #[arg(long, value_enum, default_value = "table")]
        format: TextOrJson,
    },
    /// Least-privilege IAM per agent, from what it was observed doing: for every role it
    /// acts as, what it is granted now against the policy its calls need (each statement
    /// traced to its calls, first and last seen, the log files, and whether it was seen in
    /// every window (steady), several (recurring) or one (review)); what goes (unused excess,
    /// proven or unverified) and what is narrowed (inherited overreach); its trust policy
    /// pinned to the agent with aws:SourceArn; its size against IAM's limits; and the blast
    /// radius: every observed call replayed against the proposal (goal 0). Exit 2 when a
    /// proposal would deny an observed call.
    Recommend {
        /// Only this agent: its key, id or name.
        #[arg(long)]
        agent: Option<String>,
        #[arg(long, value_enum, default_value = "md")]
        format: RecommendFormat,
    },
    /// Write what `recommend` proposes as files to apply or review, per agent under
    /// DIR/<agent key>/: aws/<role>.policy.json, aws/<role>.tf (aws_iam_policy and its
    /// attachment), aws/<role>.trust.json (the pinned trust policy), aws/<function>.resource-policy.json,
    /// and recommendation.json with every trace; for an agent the node probe watched,
    /// egress.allow (for `probe run --allow-from`). DIR/agentward-artifacts.json lists every
    /// file with its SHA-256 (also recorded in the audit trail); a file a previous run listed
    /// and this one does not write is removed. Exit 2 when a proposal would deny an
    /// observed call.
    Artifacts {
        /// Only this agent: its key, id or name.
        #[arg(long)]
        agent: Option<String>,
        /// The directory to write into (created; agentward's files already there are
        /// replaced, other files left alone).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// A probe-watched Deployment's pod selector, as `kubectl get deploy NAME -o
        /// jsonpath='{.spec.selector.matchLabels}'` shows it: with it, k8s/networkpolicy.yaml
        /// and k8s/cilium-networkpolicy.yaml are written for that agent (the probe does not
        /// record labels, and agentward does not guess them). AGENT is its key, id or name.
        /// Repeatable.
        #[arg(long = "selector", value_name = "AGENT=KEY=VALUE[,KEY=VALUE]")]
        selectors: Vec<String>,
    },
    /// The tamper-evident audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// The node probe: watch self-hosted agents from the kernel (eBPF), write what they
    /// do to a spool a scan reads, and enforce egress allowlists.
    Probe {
        #[command(subcommand)]
        command: Box<probe_cmd::ProbeCommand>,
    },
}

#[derive(Subcommand)]
enum BaselineCommand {
    /// An agent's envelope (actions, resources, models with volumes per window), its
    /// deploys and its convergence series; without AGENT, one line per agent.
    Show {
        /// The agent: its key, id or name.
        agent: Option<String>,
        #[arg(long, value_enum, default_value = "table")]
        format: TextOrJson,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check every row's hash and link; exit 1 if any row was changed, removed or reordered.
    Verify {
        /// Head hash recorded elsewhere earlier (e.g. printed by a previous verify); catches
        /// a cut-off tail.
        #[arg(long)]
        expect_head: Option<String>,
    },
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_env("AGENTWARD_LOG").unwrap_or_else(|_| EnvFilter::new("warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::io::stderr().is_terminal() {
        builder.compact().init();
    } else {
        builder.json().init();
    }
}

/// glibc gives every thread that allocates its own arena and keeps what is freed there; with
/// the parser and writer threads passing buffers between them, peak memory grew with the
/// length of a scan (33 MiB at 1M records, 88 MiB at 10M). Two arenas keep it flat.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn limit_malloc_arenas() {
    // SAFETY: mallopt only changes allocator tuning; it is called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn limit_malloc_arenas() {}

fn main() -> ExitCode {
    limit_malloc_arenas();
    init_logging();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(code) => code,
        // A reader that stops early (`| head`) is not an error.
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}
