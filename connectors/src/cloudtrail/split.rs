//! Splits a CloudTrail log file (`{"Records":[ … ]}`) into its records without parsing
//! them, reading as it goes: memory is bounded by the largest record kept (`max_record`),
//! never by the file. Records are cut by bracket depth, so a record that is not valid JSON
//! or not UTF-8 inside still comes out alone and can be quarantined without losing its
//! neighbours.

use std::io::{self, Read};

/// What the splitter yields, in file order.
#[derive(Debug)]
pub enum Piece<'a> {
    Record {
        index: u64,
        bytes: &'a [u8],
    },
    /// A record larger than the limit: skipped with its size and first bytes kept.
    Oversized {
        index: u64,
        size: u64,
        head: Vec<u8>,
    },
    /// An element of `Records` that is not an object.
    NotAnObject {
        index: u64,
        bytes: &'a [u8],
    },
}

#[derive(Debug, thiserror::Error)]
pub enum SplitError {
    #[error("not a CloudTrail log file: {reason}")]
    NotCloudTrail { reason: String },
    #[error("file ends inside record {index} after {bytes} bytes of it (truncated file)")]
    Truncated { index: u64, bytes: u64 },
    #[error("JSON syntax error at byte {offset}: {reason}")]
    Syntax { offset: u64, reason: String },
    #[error("read failed at byte {offset}: {source}")]
    Io { offset: u64, source: io::Error },
}

const HEAD_BYTES: usize = 512;

enum State {
    Start,
    TopLevel { records_seen: bool },
    InRecords,
    Done,
}

pub struct Splitter<R> {
    reader: R,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    /// Bytes of the file that precede `buf[0]`: for error offsets.
    consumed: u64,
    eof: bool,
    max_record: usize,
    index: u64,
    state: State,
}

impl<R: Read> Splitter<R> {
    pub fn new(reader: R, max_record: usize) -> Self {
        Splitter {
            reader,
            buf: vec![0; 256 * 1024],
            pos: 0,
            end: 0,
            consumed: 0,
            eof: false,
            max_record,
            index: 0,
            state: State::Start,
        }
    }

    /// Records yielded or skipped so far.
    pub fn records_seen(&self) -> u64 {
        self.index
    }

    fn offset(&self) -> u64 {
        self.consumed + self.pos as u64
    }

    /// Moves `buf[keep_from..end]` to the front and reads more; returns how far data moved
    /// and whether anything new arrived.
    fn refill(&mut self, keep_from: usize) -> Result<(usize, bool), SplitError> {
        if self.eof {
            return Ok((0, false));
        }
        if keep_from > 0 {
            self.buf.copy_within(keep_from..self.end, 0);
            self.consumed += keep_from as u64;
            self.end -= keep_from;
            self.pos -= keep_from;
        }
        if self.end == self.buf.len() {
            let grown = (self.buf.len() * 2)
                .min(self.max_record + 64 * 1024)
                .max(self.buf.len() + 64 * 1024);
            self.buf.resize(grown, 0);
        }
        loop {
            match self.reader.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok((keep_from, false));
                }
                Ok(n) => {
                    self.end += n;
                    return Ok((keep_from, true));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(SplitError::Io {
                        offset: self.offset(),
                        source,
                    });
                }
            }
        }
    }

    /// Next byte that is not white space, without consuming it; `None` at end of file.
    fn peek_non_ws(&mut self) -> Result<Option<u8>, SplitError> {
        loop {
            while self.pos < self.end {
                let b = self.buf[self.pos];
                if matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
                    self.pos += 1;
                } else {
                    return Ok(Some(b));
                }
            }
            let keep = self.pos;
            if !self.refill(keep)?.1 {
                return Ok(None);
            }
        }
    }

    fn syntax(&self, reason: impl Into<String>) -> SplitError {
        SplitError::Syntax {
            offset: self.offset(),
            reason: reason.into(),
        }
    }

    fn expect(&mut self, want: u8, what: &str) -> Result<(), SplitError> {
        match self.peek_non_ws()? {
            Some(b) if b == want => {
                self.pos += 1;
                Ok(())
            }
            Some(b) => Err(self.syntax(format!("expected {what}, found {:?}", b as char))),
            None => Err(self.syntax(format!("expected {what}, found end of file"))),
        }
    }

    /// Scans one JSON value starting at `pos`. When `keep` is set and the value fits in
    /// `max_record`, returns its span in `buf`; otherwise returns its size only.
    fn scan_value(&mut self, keep: bool) -> Result<Scanned, SplitError> {
        let began = self.offset();
        let mut start = self.pos;
        let mut keeping = keep;
        let mut head = Vec::new();
        let scalar = !matches!(self.buf[self.pos], b'{' | b'[' | b'"');
        let mut depth: u32 = 0;
        let mut in_string = false;
        'value: loop {
            while self.pos < self.end {
                if in_string {
                    match memchr::memchr2(b'"', b'\\', &self.buf[self.pos..self.end]) {
                        Some(i) => {
                            let at = self.pos + i;
                            if self.buf[at] == b'\\' {
                                if at + 1 >= self.end {
                                    // The escaped byte comes with the next read.
                                    self.pos = at;
                                    break;
                                }
                                self.pos = at + 2;
                            } else {
                                self.pos = at + 1;
                                in_string = false;
                                if depth == 0 {
                                    break 'value;
                                }
                            }
                        }
                        None => self.pos = self.end,
                    }
                    continue;
                }
                let b = self.buf[self.pos];
                if scalar {
                    if matches!(b, b',' | b']' | b'}' | b' ' | b'\n' | b'\r' | b'\t') {
                        break 'value;
                    }
                    self.pos += 1;
                    continue;
                }
                self.pos += 1;
                match b {
                    b'"' => in_string = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            break 'value;
                        }
                    }
                    _ => {}
                }
            }
            if keeping && self.end - start > self.max_record {
                head = self.buf[start..start + HEAD_BYTES].to_vec();
                keeping = false;
            }
            let keep_from = if keeping { start } else { self.pos };
            let (shift, more) = self.refill(keep_from)?;
            if keeping {
                start -= shift;
            }
            if !more {
                if scalar && !in_string {
                    break 'value;
                }
                return Err(SplitError::Truncated {
                    index: self.index,
                    bytes: self.consumed + self.end as u64 - began,
                });
            }
        }
        if keeping && self.pos - start > self.max_record {
            head = self.buf[start..start + HEAD_BYTES].to_vec();
            keeping = false;
        }
        Ok(if keeping {
            Scanned::Kept {
                start,
                end: self.pos,
            }
        } else {
            Scanned::Skipped {
                size: self.offset() - began,
                head,
            }
        })
    }

    fn read_key(&mut self) -> Result<Vec<u8>, SplitError> {
        match self.peek_non_ws()? {
            Some(b'"') => {}
            Some(b) => {
                return Err(self.syntax(format!("expected an object key, found {:?}", b as char)));
            }
            None => return Err(self.syntax("expected an object key, found end of file")),
        }
        match self.scan_value(true)? {
            Scanned::Kept { start, end } => Ok(self.buf[start + 1..end - 1].to_vec()),
            Scanned::Skipped { .. } => Err(self.syntax("object key larger than the record limit")),
        }
    }

    /// The next record, or `None` when the file is done.
    pub fn next_piece(&mut self) -> Result<Option<Piece<'_>>, SplitError> {
        loop {
            match self.state {
                State::Done => return Ok(None),
                State::Start => {
                    match self.peek_non_ws()? {
                        Some(b'{') => self.pos += 1,
                        Some(_) => {
                            return Err(SplitError::NotCloudTrail {
                                reason: "the file is not a JSON object".into(),
                            });
                        }
                        None => {
                            return Err(SplitError::NotCloudTrail {
                                reason: "the file is empty".into(),
                            });
                        }
                    }
                    self.state = State::TopLevel {
                        records_seen: false,
                    };
                }
                State::TopLevel { records_seen } => {
                    match self.peek_non_ws()? {
                        Some(b'}') => {
                            self.pos += 1;
                            if !records_seen {
                                return Err(SplitError::NotCloudTrail {
                                    reason: "the object has no \"Records\" array".into(),
                                });
                            }
                            if self.peek_non_ws()?.is_some() {
                                return Err(self.syntax("data after the end of the log object"));
                            }
                            self.state = State::Done;
                            continue;
                        }
                        Some(b',') => {
                            self.pos += 1;
                            continue;
                        }
                        Some(_) => {}
                        None => return Err(self.syntax("file ends inside the log object")),
                    }
                    let key = self.read_key()?;
                    self.expect(b':', "':'")?;
                    if key == b"Records" {
                        self.expect(b'[', "'[' opening the Records array")?;
                        self.state = State::InRecords;
                    } else {
                        if self.peek_non_ws()?.is_none() {
                            return Err(self.syntax("file ends inside the log object"));
                        }
                        self.scan_value(false)?;
                    }
                    if let State::TopLevel { .. } = self.state {
                        self.state = State::TopLevel { records_seen };
                    }
                }
                State::InRecords => {
                    let Some(b) = self.peek_non_ws()? else {
                        return Err(SplitError::Truncated {
                            index: self.index,
                            bytes: 0,
                        });
                    };
                    if b == b']' {
                        self.pos += 1;
                        self.state = State::TopLevel { records_seen: true };
                        continue;
                    }
                    if self.index > 0 {
                        if b != b',' {
                            let index = self.index;
                            return Err(self.syntax(format!(
                                "expected ',' or ']' after record {}, found {:?}",
                                index - 1,
                                b as char
                            )));
                        }
                        self.pos += 1;
                        if self.peek_non_ws()?.is_none() {
                            return Err(SplitError::Truncated {
                                index: self.index,
                                bytes: 0,
                            });
                        }
                    }
                    let index = self.index;
                    let is_object = self.buf[self.pos] == b'{';
                    let scanned = self.scan_value(true)?;
                    self.index += 1;
                    return Ok(Some(match scanned {
                        Scanned::Kept { start, end } if is_object => Piece::Record {
                            index,
                            bytes: &self.buf[start..end],
                        },
                        Scanned::Kept { start, end } => Piece::NotAnObject {
                            index,
                            bytes: &self.buf[start..end],
                        },
                        Scanned::Skipped { size, head } => Piece::Oversized { index, size, head },
                    }));
                }
            }
        }
    }
}

enum Scanned {
    Kept { start: usize, end: usize },
    Skipped { size: u64, head: Vec<u8> },
}
