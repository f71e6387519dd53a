//! The probe's output: JSON-lines files of [`SpoolRecord`]s, written whole (to a temporary
//! name, synced, then renamed), so a scan reading the spool never sees half a file.
//! Layout: `<spool>/<YYYY-MM-DD>/<host>-<first record ms>-<seq>.jsonl.gz` (gzip: the
//! records of one behavior repeat their agent, workload and paths, and compress ~15×).

use crate::ProbeError;
use normalizer::Timestamp;
use normalizer::node::SpoolRecord;
use std::io::Write;
use std::path::{Path, PathBuf};

pub struct SpoolWriter {
    dir: PathBuf,
    host: String,
    buffer: Vec<u8>,
    records: usize,
    first: Option<Timestamp>,
    seq: u64,
    /// Files written so far.
    pub files: u64,
    /// Records written so far.
    pub written: u64,
}

impl SpoolWriter {
    pub fn new(dir: &Path, host: &str) -> Result<SpoolWriter, ProbeError> {
        std::fs::create_dir_all(dir).map_err(|e| ProbeError::Io {
            what: format!("creating spool directory {}", dir.display()),
            source: e,
        })?;
        Ok(SpoolWriter {
            dir: dir.to_path_buf(),
            host: sanitize(host),
            buffer: Vec::new(),
            records: 0,
            first: None,
            seq: 0,
            files: 0,
            written: 0,
        })
    }

    pub fn push(&mut self, record: &SpoolRecord, time: Timestamp) {
        self.first.get_or_insert(time);
        // Our own types into memory: serialization cannot fail.
        if serde_json::to_writer(&mut self.buffer, record).is_ok() {
            self.buffer.push(b'\n');
            self.records += 1;
        }
    }

    pub fn pending(&self) -> usize {
        self.records
    }

    /// Writes what was pushed since the last flush as one file; nothing when empty.
    pub fn flush(&mut self) -> Result<Option<PathBuf>, ProbeError> {
        let Some(first) = self.first.take() else {
            return Ok(None);
        };
        let day = self.dir.join(first.utc_date());
        let io = |what: String| move |source| ProbeError::Io { what, source };
        std::fs::create_dir_all(&day).map_err(io(format!("creating {}", day.display())))?;
        self.seq += 1;
        let name = format!("{}-{}-{:06}.jsonl.gz", self.host, first.millis(), self.seq);
        let path = day.join(&name);
        let tmp = day.join(format!(".{name}.tmp"));
        let file =
            std::fs::File::create(&tmp).map_err(io(format!("creating {}", tmp.display())))?;
        let mut gz = flate2::write::GzEncoder::new(file, flate2::Compression::default());
        gz.write_all(&self.buffer)
            .and_then(|()| gz.finish())
            .and_then(|file| file.sync_all())
            .map_err(io(format!("writing {}", tmp.display())))?;
        std::fs::rename(&tmp, &path).map_err(io(format!("renaming {}", tmp.display())))?;
        self.written += self.records as u64;
        self.files += 1;
        self.buffer.clear();
        self.records = 0;
        Ok(Some(path))
    }
}

fn sanitize(host: &str) -> String {
    host.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_appear_whole_and_by_day() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = SpoolWriter::new(dir.path(), "node/1").unwrap();
        assert_eq!(spool.flush().unwrap(), None, "nothing pushed, no file");
        let record = SpoolRecord::Loss {
            host: "node-1".into(),
            from: Timestamp(0),
            to: Timestamp(1000),
            lost: 3,
            agents: vec![],
        };
        spool.push(&record, Timestamp(1_763_769_600_000));
        spool.push(&record, Timestamp(1_763_769_601_000));
        let path = spool.flush().unwrap().unwrap();
        assert!(path.starts_with(dir.path().join("2025-11-22")));
        assert!(
            path.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("node_1-1763769600000-")
        );
        let mut text = String::new();
        std::io::Read::read_to_string(
            &mut flate2::read::GzDecoder::new(std::fs::File::open(&path).unwrap()),
            &mut text,
        )
        .unwrap();
        assert_eq!(text.lines().count(), 2);
        let back: SpoolRecord = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(back, record);
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
        assert_eq!((spool.files, spool.written), (1, 2));
    }
}
