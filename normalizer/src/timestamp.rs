use crate::ModelError;
use serde::{Deserialize, Serialize};
use std::fmt;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A point in time as milliseconds since the Unix epoch (UTC): the unit OCSF uses, cheap
/// to compare and to store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub const MS_PER_DAY: i64 = 86_400_000;

    pub fn parse_rfc3339(text: &str) -> Result<Self, ModelError> {
        let parsed =
            OffsetDateTime::parse(text, &Rfc3339).map_err(|e| ModelError::BadTimestamp {
                text: text.to_string(),
                reason: e.to_string(),
            })?;
        Ok(Self((parsed.unix_timestamp_nanos() / 1_000_000) as i64))
    }

    pub fn millis(self) -> i64 {
        self.0
    }

    fn to_datetime(self) -> Result<OffsetDateTime, ModelError> {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000_000)
            .map_err(|_| ModelError::TimestampOutOfRange { millis: self.0 })
    }

    /// `YYYY-MM-DD` of the UTC day this instant falls in: the event partition key.
    pub fn utc_date(self) -> String {
        match self.to_datetime() {
            Ok(dt) => format!(
                "{:04}-{:02}-{:02}",
                dt.year(),
                u8::from(dt.month()),
                dt.day()
            ),
            Err(_) => "invalid-date".to_string(),
        }
    }

    pub fn rfc3339(self) -> String {
        self.to_datetime()
            .ok()
            .and_then(|dt| dt.format(&Rfc3339).ok())
            .unwrap_or_else(|| format!("{}ms", self.0))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rfc3339())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_rfc3339_and_partitions_by_utc_day() {
        let t = Timestamp::parse_rfc3339("2026-10-06T23:59:59Z").unwrap();
        assert_eq!(t.rfc3339(), "2026-10-06T23:59:59Z");
        assert_eq!(t.utc_date(), "2026-10-06");
        let offset = Timestamp::parse_rfc3339("2026-10-07T01:00:00+02:00").unwrap();
        assert_eq!(offset.utc_date(), "2026-10-06");
        assert!(Timestamp::parse_rfc3339("yesterday").is_err());
    }
}
