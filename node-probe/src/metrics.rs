//! `probe run --metrics ADDR`: the probe's counters in the Prometheus text exposition
//! format (0.0.4) at `GET /metrics`, so the fleet's loss and drop rates can be alerted on
//! where the rest of the node is watched. The numbers are the ones the status file holds,
//! refreshed at every spool flush.

use crate::daemon::Status;
use std::fmt::Write;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The longest request head read; a scrape is one short line and a few headers.
const MAX_REQUEST: usize = 8 * 1024;

/// The status as Prometheus metrics, every series labelled with the host.
pub fn render(status: &Status) -> String {
    let host = escape(&status.host);
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, value: u64| {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        let _ = writeln!(out, "{name}{{host=\"{host}\"}} {value}");
    };
    let c = &status.counters;
    metric(
        "agentward_probe_up",
        "gauge",
        "1 while the probe runs, 0 once it has stopped.",
        u64::from(status.running),
    );
    metric(
        "agentward_probe_watched_cgroups",
        "gauge",
        "cgroup subtrees the probe watches.",
        status.watched.len() as u64,
    );
    metric(
        "agentward_probe_events_emitted_total",
        "counter",
        "Events the eBPF programs sent to the probe.",
        c.emitted,
    );
    metric(
        "agentward_probe_events_lost_total",
        "counter",
        "Events lost because the ring buffer was full (each is reported in the spool as a loss).",
        c.lost,
    );
    metric(
        "agentward_probe_events_deduped_total",
        "counter",
        "Repeats counted in the kernel instead of sent.",
        c.deduped,
    );
    metric(
        "agentward_probe_dedupe_full_total",
        "counter",
        "Events sent without being remembered for dedupe (the dedupe map was full).",
        c.dedupe_full,
    );
    metric(
        "agentward_probe_read_failed_total",
        "counter",
        "Events sent without the path or address the kernel could not read.",
        c.read_failed,
    );
    metric(
        "agentward_probe_undecodable_total",
        "counter",
        "Records that reached the probe but could not be decoded (counted as lost).",
        status.undecodable,
    );
    metric(
        "agentward_probe_spool_records_total",
        "counter",
        "Records written to the spool.",
        status.records,
    );
    metric(
        "agentward_probe_spool_files_total",
        "counter",
        "Spool files written.",
        status.files,
    );
    if let Some(e) = &status.egress_counters {
        metric(
            "agentward_probe_egress_decisions_total",
            "counter",
            "Egress decisions (allowed, denied or would-be denied) the cgroup programs reported.",
            e.emitted,
        );
        metric(
            "agentward_probe_egress_decisions_lost_total",
            "counter",
            "Egress decisions lost because their ring buffer was full.",
            e.lost,
        );
    }
    if let Some(s) = &status.syscall_counters {
        metric(
            "agentward_probe_syscalls_other_abi_total",
            "counter",
            "32-bit (ia32, x32) syscalls of watched processes: not recorded, and refused by an x86_64 profile.",
            s.other_abi,
        );
        metric(
            "agentward_probe_syscalls_unrecorded_total",
            "counter",
            "Syscalls of cgroups the kernel's syscall sets had no room for (counted as lost).",
            s.sets_full,
        );
    }
    let _ = writeln!(
        out,
        "# HELP agentward_probe_last_update_timestamp_seconds When the counters were last read.\n# TYPE agentward_probe_last_update_timestamp_seconds gauge\nagentward_probe_last_update_timestamp_seconds{{host=\"{host}\"}} {}",
        status.updated.millis() as f64 / 1000.0
    );
    out
}

/// A label value with `\`, `"` and newlines escaped, as the format requires.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Answers scrapes until the task is dropped: `GET /metrics` gets the latest status,
/// anything else 404 (or 405 for another method).
pub async fn serve(
    listener: tokio::net::TcpListener,
    latest: tokio::sync::watch::Receiver<Status>,
) {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            continue;
        };
        let latest = latest.clone();
        tokio::spawn(async move {
            let mut head = Vec::with_capacity(512);
            let mut buf = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_REQUEST {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            let line = String::from_utf8_lossy(&head);
            let mut parts = line.split_whitespace();
            let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            let path = target.split('?').next().unwrap_or("");
            let (status, kind, body) = match (method, path) {
                ("GET", "/metrics") => (
                    "200 OK",
                    "text/plain; version=0.0.4; charset=utf-8",
                    render(&latest.borrow()),
                ),
                (_, "/metrics") => ("405 Method Not Allowed", "text/plain", "GET only\n".into()),
                _ => (
                    "404 Not Found",
                    "text/plain",
                    "the probe's metrics are at /metrics\n".into(),
                ),
            };
            let response = format!(
                "HTTP/1.1 {status}\r\ncontent-type: {kind}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes()).await;
            let _ = stream.shutdown().await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::Counters;
    use normalizer::Timestamp;

    fn status() -> Status {
        Status {
            host: "node-\"a\"".into(),
            started: Timestamp(1_000),
            updated: Timestamp(12_500),
            running: true,
            programs: Vec::new(),
            watched: Vec::new(),
            counters: Counters {
                emitted: 42,
                lost: 3,
                deduped: 7,
                dedupe_full: 0,
                read_failed: 1,
            },
            egress_counters: None,
            records: 40,
            files: 2,
            undecodable: 0,
            egress: Vec::new(),
            syscall_counters: None,
            kubernetes_api: None,
        }
    }

    #[test]
    fn every_counter_is_a_series_with_help_and_type() {
        let text = render(&status());
        for (name, value) in [
            ("agentward_probe_up", "1"),
            ("agentward_probe_events_emitted_total", "42"),
            ("agentward_probe_events_lost_total", "3"),
            ("agentward_probe_events_deduped_total", "7"),
            ("agentward_probe_read_failed_total", "1"),
            ("agentward_probe_spool_records_total", "40"),
            ("agentward_probe_last_update_timestamp_seconds", "12.5"),
        ] {
            assert!(
                text.contains(&format!("{name}{{host=\"node-\\\"a\\\"\"}} {value}\n")),
                "{name} {value} in\n{text}"
            );
            assert!(text.contains(&format!("# TYPE {name} ")), "{name}");
        }
        assert!(
            !text.contains("egress"),
            "no egress series without an egress policy"
        );
        // Every sample line is NAME{LABELS} VALUE: what a scraper parses.
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (series, value) = line.rsplit_once(' ').unwrap();
            assert!(series.ends_with('}'), "{line}");
            assert!(value.parse::<f64>().is_ok(), "{line}");
        }
    }
}
