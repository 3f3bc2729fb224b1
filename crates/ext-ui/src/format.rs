//! Durations and timestamps as people (and spreadsheets) read them. Pure.

/// A duration in milliseconds, short and readable:
/// `850 ms`, `4.2 s`, `42 s`, `3 min 05 s`, `1 h 02 min`.
pub fn duration(ms: u64) -> String {
    if ms < 1_000 {
        return format!("{ms} ms");
    }
    if ms < 10_000 {
        // One decimal, rounded down so 9 999 ms is not shown as "10.0 s".
        return format!("{}.{} s", ms / 1_000, (ms % 1_000) / 100);
    }
    let s = ms / 1_000;
    if s < 60 {
        return format!("{s} s");
    }
    if s < 3_600 {
        return format!("{} min {:02} s", s / 60, s % 60);
    }
    format!("{} h {:02} min", s / 3_600, (s % 3_600) / 60)
}

/// The time between two timestamps; `0` when the clock went backwards
/// (entries written across a clock change).
pub fn span(started_ms: u64, ended_ms: u64) -> u64 {
    ended_ms.saturating_sub(started_ms)
}

/// Milliseconds since the Unix epoch as ISO 8601 UTC, to the second:
/// `2026-11-22T09:05:03Z`. Used where a fixed, sortable form matters (CSV,
/// the `datetime` attribute); the page shows local time.
pub fn iso_utc(ms: u64) -> String {
    let secs = ms / 1_000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = engine::naming::civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3_600,
        (rem % 3_600) / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 (UTC) of a timestamp in milliseconds.
pub fn days_since_epoch(ms: f64) -> i64 {
    (ms / 86_400_000.0).floor() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! durations {
        ($($name:ident: $ms:expr => $want:expr;)*) => {$(
            #[test]
            fn $name() {
                assert_eq!(duration($ms), $want);
            }
        )*};
    }

    durations! {
        zero: 0 => "0 ms";
        under_a_second: 850 => "850 ms";
        one_second: 1_000 => "1.0 s";
        seconds_with_a_decimal: 4_250 => "4.2 s";
        just_under_ten_rounds_down: 9_999 => "9.9 s";
        whole_seconds: 42_400 => "42 s";
        minutes_pad_seconds: 185_000 => "3 min 05 s";
        hours_pad_minutes: 3_725_000 => "1 h 02 min";
    }

    #[test]
    fn span_never_negative() {
        assert_eq!(span(10, 25), 15);
        assert_eq!(span(25, 10), 0);
    }

    #[test]
    fn iso_times() {
        assert_eq!(iso_utc(0), "1970-01-01T00:00:00Z");
        // 2026-11-22 09:05:03.999 UTC
        assert_eq!(iso_utc(1_795_338_303_999), "2026-11-22T09:05:03Z");
        assert_eq!(iso_utc(951_782_400_000), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn days() {
        assert_eq!(days_since_epoch(0.0), 0);
        assert_eq!(days_since_epoch(1_795_338_303_999.0), 20_779);
        assert_eq!(days_since_epoch(-1.0), -1);
    }
}
