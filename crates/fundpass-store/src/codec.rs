//! Conversions between domain values and the column encodings shared by both backends:
//! BIGINT microseconds for instants, INTEGER 0/1 for flags, BLOB/BYTEA for hashes.

use fundpass_core::ports::StoreError;
use time::OffsetDateTime;

use crate::errors::bad_value;

/// Microseconds since the Unix epoch (UTC), as stored. Finer parts are dropped.
pub(crate) fn micros(at: OffsetDateTime) -> i64 {
    // Every OffsetDateTime (years ±9999) fits in i64 microseconds (±292,000 years).
    at.unix_timestamp_nanos().div_euclid(1_000) as i64
}

/// The instant stored as `micros`.
pub(crate) fn from_micros(micros: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000)
        .map_err(|_| bad_value("timestamp"))
}

/// An optional instant, as stored.
pub(crate) fn opt_micros(at: Option<OffsetDateTime>) -> Option<i64> {
    at.map(micros)
}

/// The optional instant stored as `micros`.
pub(crate) fn from_opt_micros(micros: Option<i64>) -> Result<Option<OffsetDateTime>, StoreError> {
    micros.map(from_micros).transpose()
}

/// A flag, as stored.
pub(crate) fn flag(value: bool) -> i32 {
    i32::from(value)
}

/// The flag stored as 0 or 1.
pub(crate) fn from_flag(stored: i32) -> Result<bool, StoreError> {
    match stored {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(bad_value("flag")),
    }
}

/// A 32-byte hash read from a BLOB/BYTEA column.
pub(crate) fn hash32(stored: Vec<u8>, what: &str) -> Result<[u8; 32], StoreError> {
    <[u8; 32]>::try_from(stored.as_slice()).map_err(|_| bad_value(what))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_round_trip_to_the_microsecond() {
        let at = OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_456_789).unwrap();
        let stored = micros(at);
        assert_eq!(stored, 1_700_000_000_123_456);
        assert_eq!(
            from_micros(stored).unwrap().unix_timestamp_nanos(),
            1_700_000_000_123_456_000
        );
    }

    #[test]
    fn instants_before_1970_round_down() {
        let at = OffsetDateTime::from_unix_timestamp_nanos(-1_500).unwrap();
        assert_eq!(micros(at), -2);
        assert_eq!(from_micros(-2).unwrap().unix_timestamp_nanos(), -2_000);
    }

    #[test]
    fn flags_other_than_zero_and_one_are_refused() {
        assert!(from_flag(1).unwrap());
        assert!(!from_flag(0).unwrap());
        assert!(matches!(from_flag(2), Err(StoreError::Backend(_))));
    }

    #[test]
    fn hashes_must_have_32_bytes() {
        assert_eq!(hash32(vec![7; 32], "hash").unwrap(), [7; 32]);
        assert!(hash32(vec![7; 31], "hash").is_err());
    }
}
