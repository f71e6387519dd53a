//! The raw floor of CloudTrail ingest: gzip inflate + `serde_json` parse of every log file,
//! nothing else, on one thread. `agentward scan` is compared against this by
//! scripts/bench-ingest.
//!
//!     cargo bench --bench raw_floor -- CORPUS_DIR

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, out);
        } else if p.to_string_lossy().ends_with(".json.gz") {
            out.push(p);
        }
    }
}

fn main() {
    let dir = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .expect("usage: raw_floor CORPUS_DIR");
    let mut paths = Vec::new();
    files(Path::new(&dir), &mut paths);
    paths.sort();
    let start = Instant::now();
    let (mut records, mut bytes) = (0u64, 0u64);
    let mut buf = Vec::new();
    for p in &paths {
        buf.clear();
        flate2::read::MultiGzDecoder::new(std::fs::File::open(p).unwrap())
            .read_to_end(&mut buf)
            .unwrap();
        bytes += buf.len() as u64;
        let v: serde_json::Value = serde_json::from_slice(&buf).unwrap();
        records += v["Records"].as_array().map_or(0, |a| a.len() as u64);
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{{\"files\":{},\"records\":{records},\"uncompressed_bytes\":{bytes},\"seconds\":{secs:.3},\"records_per_s\":{:.0}}}",
        paths.len(),
        records as f64 / secs
    );
}
