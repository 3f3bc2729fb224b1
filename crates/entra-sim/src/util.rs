//! Small helpers shared by every module: time, randomness, encodings, files.

use std::io::Write;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use ring::rand::SecureRandom;

tokio::task_local! {
    /// The simulated clock offset (seconds) of the simulator serving the
    /// current request; set around every request by the app's clock layer.
    static CLOCK_OFFSET: i64;
}

/// Runs `f` with "now" shifted by `offset_secs` for every [`unix_now`] /
/// [`unix_now_ms`] call made while it runs (the request's own task only).
pub async fn with_clock_offset<F: std::future::Future>(offset_secs: i64, f: F) -> F::Output {
    CLOCK_OFFSET.scope(offset_secs, f).await
}

/// The simulated clock offset in effect here: the serving simulator's during
/// a request, 0 outside one (startup, certificates, log lines).
pub fn clock_offset() -> i64 {
    CLOCK_OFFSET.try_with(|o| *o).unwrap_or(0)
}

/// Seconds since the Unix epoch, by the wall clock.
pub fn wall_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Seconds since the Unix epoch, simulated: the wall clock plus the clock
/// offset (`PATCH /__sim/clock`), so every expiry check sees the same shifted
/// time. Saturates instead of wrapping.
pub fn unix_now() -> u64 {
    wall_now().saturating_add_signed(clock_offset())
}

/// Milliseconds since the Unix epoch, simulated like [`unix_now`].
pub fn unix_now_ms() -> u64 {
    let wall = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    wall.saturating_add_signed(clock_offset().saturating_mul(1000))
}

/// (year, month, day) of a Unix time, proleptic Gregorian (Howard Hinnant's
/// civil_from_days), so no date crate is needed for a handful of timestamps.
pub fn civil_from_unix(secs: u64) -> (i64, u32, u32) {
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// ISO 8601 UTC timestamp as Graph writes them: `2026-05-01T12:34:56Z`.
pub fn iso8601(secs: u64) -> String {
    let (y, m, d) = civil_from_unix(secs);
    let rem = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// Cryptographically random bytes. ring's system RNG only fails when the OS
/// has no entropy source at all, which is not a state the simulator can serve in.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    if ring::rand::SystemRandom::new().fill(&mut buf).is_err() {
        // Fall back to a time-derived value rather than panic in a request;
        // this path is unreachable on Linux.
        let t = unix_now_ms().to_le_bytes();
        for (i, b) in buf.iter_mut().enumerate() {
            *b = t[i % 8] ^ (i as u8);
        }
    }
    buf
}

pub fn random_hex(bytes: usize) -> String {
    random_bytes(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A random RFC 4122 version-4 UUID in its lowercase hyphenated form.
pub fn random_uuid() -> String {
    let mut b = random_bytes(16);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

pub fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes base64url, tolerating padding and the standard alphabet, because
/// browsers and scripts in the wild send all of them.
pub fn b64url_decode(s: &str) -> Option<Vec<u8>> {
    let cleaned: String = s
        .trim()
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect();
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cleaned.as_bytes())
        .ok()
}

pub fn b64std(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn sha256(data: &[u8]) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, data)
        .as_ref()
        .to_vec()
}

/// Writes a file so readers never see it half written: temp file, optional
/// fsync (for keys; the tenant state is rewritten too often to pay for it), rename.
pub fn write_atomic(path: &Path, data: &[u8], sync: bool) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let tmp = dir.join(format!(".{name}.{}.tmp", random_hex(6)));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(data)?;
        if sync {
            f.sync_all()?;
        }
    }
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// HTML-escapes text for element content and double-quoted attributes.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Serialises a value as JSON that is safe inside an inline `<script>`: the
/// characters that could end the script element or open a comment are escaped.
pub fn json_for_script(v: &serde_json::Value) -> String {
    v.to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

/// Percent-encodes one URL query component.
pub fn urlenc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Unix time in milliseconds (fractional) from the real clock, never the
/// simulated one: for measuring, not for expiry.
pub fn wall_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_unix(0), (1970, 1, 1));
        assert_eq!(civil_from_unix(951_782_400), (2000, 2, 29));
        assert_eq!(iso8601(1_700_000_000), "2023-11-14T22:13:20Z");
    }

    #[tokio::test]
    async fn clock_offset_shifts_now_inside_its_scope_only() {
        let wall = wall_now();
        assert!(unix_now() - wall <= 1);
        let shifted = with_clock_offset(3600, async { unix_now() }).await;
        assert!(shifted >= wall + 3600 && shifted <= wall + 3601);
        let back = with_clock_offset(-60, async { unix_now_ms() }).await;
        assert!(back / 1000 + 60 >= wall && back / 1000 + 59 <= wall + 1);
        assert_eq!(with_clock_offset(i64::MIN, async { unix_now() }).await, 0);
        assert_eq!(clock_offset(), 0);
    }

    #[test]
    fn uuid_shape() {
        let u = random_uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
    }

    #[test]
    fn b64url_tolerant() {
        assert_eq!(b64url_decode("aGk="), Some(b"hi".to_vec()));
        assert_eq!(b64url_decode("-_8"), b64url_decode("+/8="));
        assert_eq!(b64url_decode("!!"), None);
    }
}
