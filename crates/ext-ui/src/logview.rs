//! What the Show Logs page shows and exports, decided without a browser:
//! the filter by result, the search by user, the order, the table's cells and
//! the CSV and JSON exports. Pure; tested natively.

use crate::format;
use protocol::logbook::LogEntry;
use protocol::panel::Mode;
use protocol::report::JobState;

/// The stored log as entries, skipping any that do not parse (written by a
/// newer or older worker) instead of losing the whole list. Returns the
/// entries and how many were skipped.
pub fn parse_entries(raw: Vec<serde_json::Value>) -> (Vec<LogEntry>, usize) {
    let total = raw.len();
    let entries: Vec<LogEntry> = raw
        .into_iter()
        .filter_map(|v| serde_json::from_value(v).ok())
        .collect();
    let skipped = total - entries.len();
    (entries, skipped)
}

/// The "Result" filter. The `<select>` values are the [`ResultFilter::value`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResultFilter {
    #[default]
    All,
    Succeeded,
    Failed,
    Cancelled,
}

impl ResultFilter {
    /// From the `<select>` value; anything unknown shows everything.
    pub fn from_value(v: &str) -> Self {
        match v {
            "succeeded" => Self::Succeeded,
            "failed" => Self::Failed,
            "cancelled" => Self::Cancelled,
            _ => Self::All,
        }
    }

    pub fn value(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    fn admits(self, state: JobState) -> bool {
        match self {
            Self::All => true,
            Self::Succeeded => state == JobState::Succeeded,
            Self::Failed => state == JobState::Failed,
            Self::Cancelled => state == JobState::Cancelled,
        }
    }
}

/// What the administrator asked to see.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pub result: ResultFilter,
    /// Matched case-insensitively against the UPN and the display name;
    /// surrounding spaces ignored; empty matches everyone.
    pub user: String,
}

impl Query {
    pub fn matches(&self, e: &LogEntry) -> bool {
        if !self.result.admits(e.state) {
            return false;
        }
        let needle = self.user.trim().to_lowercase();
        needle.is_empty()
            || e.upn.to_lowercase().contains(&needle)
            || e.display_name.to_lowercase().contains(&needle)
    }
}

/// The entries `query` admits, newest first (by start time; entries that
/// started at the same millisecond keep the later-written one first).
/// Returns indices into `entries`, so the page can find an entry again.
pub fn visible(entries: &[LogEntry], query: &Query) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..entries.len())
        .filter(|&i| query.matches(&entries[i]))
        .collect();
    idx.sort_by(|&a, &b| {
        entries[b]
            .started_ms
            .cmp(&entries[a].started_ms)
            .then(b.cmp(&a))
    });
    idx
}

pub fn mode_text(m: Mode) -> &'static str {
    match m {
        Mode::Automatic => "Automatic",
        Mode::Manual => "Manual",
    }
}

pub fn state_text(s: JobState) -> &'static str {
    match s {
        JobState::Queued => "Queued",
        JobState::Running => "Running",
        JobState::Succeeded => "Succeeded",
        JobState::Failed => "Failed",
        JobState::Cancelled => "Cancelled",
    }
}

/// The value of `data-state` for a result, for CSS.
pub fn state_value(s: JobState) -> &'static str {
    match s {
        JobState::Queued => "queued",
        JobState::Running => "running",
        JobState::Succeeded => "succeeded",
        JobState::Failed => "failed",
        JobState::Cancelled => "cancelled",
    }
}

/// The table's last column: the key's name on success, the error code
/// otherwise, empty when neither is known.
pub fn key_or_error(e: &LogEntry) -> &str {
    if let Some(k) = e.key_name.as_deref().filter(|k| !k.is_empty()) {
        return k;
    }
    e.error.as_ref().map(|x| x.code.as_str()).unwrap_or("")
}

/// The CSV export's columns, in order (one header row, then one row per
/// entry, newest first, as the table shows them):
///
/// | column          | content                                           |
/// |-----------------|---------------------------------------------------|
/// | `requestId`     | the panel's request id                            |
/// | `startedUtc`    | ISO 8601 UTC, to the second                       |
/// | `endedUtc`      | ISO 8601 UTC, to the second                       |
/// | `durationS`     | seconds, three decimals (`4.250`)                 |
/// | `upn`           | the user's UPN                                    |
/// | `displayName`   | the user's display name                           |
/// | `mode`          | `automatic` or `manual`                           |
/// | `result`        | `succeeded`, `failed` or `cancelled`              |
/// | `keyName`       | the key's name on Security info, when registered  |
/// | `credentialId`  | base64url credential id, when known               |
/// | `errorCode`     | stable error code on failure                      |
/// | `errorMessage`  | the error in plain language                       |
/// | `errorHint`     | what to do about it                               |
/// | `lastStep`      | the name of the last step reached                 |
/// | `steps`         | every step as `name=milliseconds`, `;`-separated  |
pub const CSV_COLUMNS: &[&str] = &[
    "requestId",
    "startedUtc",
    "endedUtc",
    "durationS",
    "upn",
    "displayName",
    "mode",
    "result",
    "keyName",
    "credentialId",
    "errorCode",
    "errorMessage",
    "errorHint",
    "lastStep",
    "steps",
];

/// RFC 4180 CSV of `entries` in the given order: CRLF line ends, every field
/// quoted when it holds a comma, quote, CR or LF (quotes doubled). Starts
/// with a UTF-8 byte order mark so Excel reads non-ASCII names correctly.
///
/// Display names come from the directory and may be chosen by anyone who
/// can edit a user: a field that a spreadsheet would take for a formula
/// (starting with `=`, `+`, `-`, `@`, tab or CR) gets a leading `'`, as
/// OWASP advises against CSV injection. Doubtful for a name that really
/// starts with `-`, but safer.
pub fn to_csv<'a>(entries: impl IntoIterator<Item = &'a LogEntry>) -> String {
    let mut out = String::from("\u{feff}");
    push_row(&mut out, CSV_COLUMNS.iter().map(|c| (*c).to_string()));
    for e in entries {
        let err = e.error.as_ref();
        let steps: Vec<String> = e
            .steps
            .iter()
            .map(|s| format!("{}={}", s.step, format::span(s.started_ms, s.ended_ms)))
            .collect();
        let ms = format::span(e.started_ms, e.ended_ms);
        push_row(
            &mut out,
            [
                e.request_id.clone(),
                format::iso_utc(e.started_ms),
                format::iso_utc(e.ended_ms),
                format!("{}.{:03}", ms / 1000, ms % 1000),
                e.upn.clone(),
                e.display_name.clone(),
                mode_text(e.mode).to_lowercase(),
                state_value(e.state).to_string(),
                e.key_name.clone().unwrap_or_default(),
                e.credential_id.clone().unwrap_or_default(),
                err.map(|x| x.code.clone()).unwrap_or_default(),
                err.map(|x| x.message.clone()).unwrap_or_default(),
                err.and_then(|x| x.hint.clone()).unwrap_or_default(),
                e.steps.last().map(|s| s.step.clone()).unwrap_or_default(),
                steps.join(";"),
            ],
        );
    }
    out
}

fn push_row(out: &mut String, fields: impl IntoIterator<Item = String>) {
    for (i, f) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&csv_field(&f));
    }
    out.push_str("\r\n");
}

/// One CSV field, neutralised and quoted as [`to_csv`] describes.
pub fn csv_field(raw: &str) -> String {
    let neutral = if raw.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{raw}")
    } else {
        raw.to_string()
    };
    if neutral.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", neutral.replace('"', "\"\""))
    } else {
        neutral
    }
}

/// The JSON export: the entries exactly as stored (screenshots included),
/// in the given order, pretty-printed.
pub fn to_json<'a>(entries: impl IntoIterator<Item = &'a LogEntry>) -> String {
    let list: Vec<&LogEntry> = entries.into_iter().collect();
    serde_json::to_string_pretty(&list).unwrap_or_else(|_| "[]".to_string())
}

/// A download's file name: `passkey-logs-20261122-090503.csv`.
pub fn export_file_name(now_ms: u64, ext: &str) -> String {
    let iso = format::iso_utc(now_ms);
    let stamp: String = iso
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == 'T')
        .collect::<String>()
        .replace('T', "-");
    format!("passkey-logs-{stamp}.{ext}")
}

/// The "Export page snapshot" file of a job that did not succeed: its name
/// (`page-snapshot-<requestId>.json`) and content, the engine's fixture
/// format (`{"page", "step", "snapshot"}`), ready to drop into
/// `crates/engine/tests/fixtures/<case>/`. `None` for a success or an entry
/// without a snapshot.
pub fn page_snapshot_file(e: &LogEntry) -> Option<(String, String)> {
    if e.state == JobState::Succeeded {
        return None;
    }
    let snap = e.page_snapshot.as_ref()?;
    let json = serde_json::to_string_pretty(snap).ok()?;
    // The id comes from the panel: keep the file name to safe characters.
    let id: String = e
        .request_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    Some((format!("page-snapshot-{id}.json"), json + "\n"))
}

/// A screenshot is shown only when it is a PNG or JPEG data URL, which is
/// what `captureVisibleTab` writes; anything else in storage is ignored.
pub fn screenshot_src(e: &LogEntry) -> Option<&str> {
    e.screenshot.as_deref().filter(|s| {
        s.starts_with("data:image/png;base64,") || s.starts_with("data:image/jpeg;base64,")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::logbook::LogStep;
    use protocol::report::JobError;

    fn entry(id: &str, upn: &str, name: &str, state: JobState, started: u64) -> LogEntry {
        LogEntry {
            request_id: id.into(),
            upn: upn.into(),
            display_name: name.into(),
            mode: Mode::Automatic,
            started_ms: started,
            ended_ms: started + 4_250,
            state,
            key_name: None,
            credential_id: None,
            error: None,
            steps: vec![],
            last_page: None,
            page_snapshot: None,
            overhead_ms: vec![],
            views: 0,
            screenshot: None,
        }
    }

    fn sample() -> Vec<LogEntry> {
        vec![
            entry(
                "a",
                "adele@contoso.com",
                "Adele Vance",
                JobState::Succeeded,
                1_000,
            ),
            entry(
                "b",
                "megan@contoso.com",
                "Megan Bowen",
                JobState::Failed,
                3_000,
            ),
            entry("c", "lee@contoso.com", "Lee Gu", JobState::Cancelled, 2_000),
            entry(
                "d",
                "ADELE.admin@contoso.com",
                "Adele (admin)",
                JobState::Failed,
                3_000,
            ),
        ]
    }

    fn ids(entries: &[LogEntry], q: &Query) -> Vec<String> {
        visible(entries, q)
            .into_iter()
            .map(|i| entries[i].request_id.clone())
            .collect()
    }

    macro_rules! queries {
        ($($name:ident: ($result:expr, $user:expr) => [$($id:expr),*];)*) => {$(
            #[test]
            fn $name() {
                let q = Query { result: $result, user: $user.into() };
                let want: Vec<String> = vec![$($id.to_string()),*];
                assert_eq!(ids(&sample(), &q), want);
            }
        )*};
    }

    queries! {
        everything_newest_first_later_written_wins_ties: (ResultFilter::All, "") => ["d", "b", "c", "a"];
        only_failed: (ResultFilter::Failed, "") => ["d", "b"];
        only_succeeded: (ResultFilter::Succeeded, "") => ["a"];
        only_cancelled: (ResultFilter::Cancelled, "") => ["c"];
        search_upn_case_insensitive: (ResultFilter::All, "adele") => ["d", "a"];
        search_display_name: (ResultFilter::All, "BOWEN") => ["b"];
        search_trims_spaces: (ResultFilter::All, "  lee ") => ["c"];
        search_and_filter_combine: (ResultFilter::Failed, "adele") => ["d"];
        nothing_matches: (ResultFilter::Succeeded, "megan") => [];
    }

    #[test]
    fn filter_values_round_trip() {
        for f in [
            ResultFilter::All,
            ResultFilter::Succeeded,
            ResultFilter::Failed,
            ResultFilter::Cancelled,
        ] {
            assert_eq!(ResultFilter::from_value(f.value()), f);
        }
        assert_eq!(ResultFilter::from_value("bogus"), ResultFilter::All);
    }

    macro_rules! fields {
        ($($name:ident: $raw:expr => $want:expr;)*) => {$(
            #[test]
            fn $name() {
                assert_eq!(csv_field($raw), $want);
            }
        )*};
    }

    fields! {
        plain_stays_plain: "Adele Vance" => "Adele Vance";
        comma_is_quoted: "Vance, Adele" => "\"Vance, Adele\"";
        quotes_are_doubled: "Adele \"AV\" Vance" => "\"Adele \"\"AV\"\" Vance\"";
        newline_is_quoted: "two\nlines" => "\"two\nlines\"";
        formula_is_neutralised: "=HYPERLINK(\"x\")" => "\"'=HYPERLINK(\"\"x\"\")\"";
        at_sign_is_neutralised: "@SUM(A1)" => "'@SUM(A1)";
        // Doubtful but deliberate: a name that really starts with '-' gets the quote too.
        leading_minus_is_neutralised: "-1" => "'-1";
        markup_is_just_text: "<script>alert(1)</script>" => "<script>alert(1)</script>";
        empty_is_empty: "" => "";
    }

    #[test]
    fn csv_rows_and_columns() {
        let mut failed = entry(
            "r-1",
            "megan@contoso.com",
            "Bowen, Megan",
            JobState::Failed,
            1_795_338_303_000,
        );
        failed.error = Some(JobError {
            code: "tapNotFound".into(),
            message: "The Temporary Access Pass was not accepted".into(),
            hint: Some("Issue a new \"TAP\" and try again".into()),
        });
        failed.steps = vec![
            LogStep {
                step: "open".into(),
                started_ms: 0,
                ended_ms: 120,
                page: "blank".into(),
            },
            LogStep {
                step: "signIn.accessPass".into(),
                started_ms: 120,
                ended_ms: 2_120,
                page: "accessPass".into(),
            },
        ];
        let mut ok = entry(
            "r-2",
            "adele@contoso.com",
            "Adele Vance",
            JobState::Succeeded,
            0,
        );
        ok.key_name = Some("IDM-23456789-ABZ09A-20261122".into());
        ok.credential_id = Some("q1w2e3".into());
        ok.mode = Mode::Manual;
        let csv = to_csv([&failed, &ok]);
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(lines.len(), 4, "header, two rows, empty tail: {csv:?}");
        assert_eq!(lines[0], format!("\u{feff}{}", CSV_COLUMNS.join(",")));
        assert_eq!(
            lines[1],
            "r-1,2026-11-22T09:05:03Z,2026-11-22T09:05:07Z,4.250,megan@contoso.com,\"Bowen, Megan\",automatic,failed,,,tapNotFound,The Temporary Access Pass was not accepted,\"Issue a new \"\"TAP\"\" and try again\",signIn.accessPass,open=120;signIn.accessPass=2000"
        );
        assert_eq!(
            lines[2],
            "r-2,1970-01-01T00:00:00Z,1970-01-01T00:00:04Z,4.250,adele@contoso.com,Adele Vance,manual,succeeded,IDM-23456789-ABZ09A-20261122,q1w2e3,,,,,"
        );
        assert_eq!(lines[3], "");
    }

    #[test]
    fn json_export_round_trips() {
        let all = sample();
        let json = to_json(&all);
        let back: Vec<LogEntry> = serde_json::from_str(&json).expect("parses");
        assert_eq!(back, all);
        assert_eq!(to_json(std::iter::empty()), "[]");
    }

    #[test]
    fn key_or_error_column() {
        let mut e = entry("a", "u@x", "U", JobState::Failed, 0);
        assert_eq!(key_or_error(&e), "");
        e.error = Some(JobError {
            code: "keyLimit".into(),
            message: "m".into(),
            hint: None,
        });
        assert_eq!(key_or_error(&e), "keyLimit");
        e.key_name = Some("IDM-1".into());
        assert_eq!(key_or_error(&e), "IDM-1");
    }

    #[test]
    fn page_snapshot_file_is_the_fixture_format() {
        use protocol::actuator::{Element, Snapshot};
        use protocol::logbook::PageSnapshot;
        let mut e = entry("r/1 x", "u@x", "U", JobState::Failed, 0);
        assert_eq!(page_snapshot_file(&e), None);
        e.page_snapshot = Some(PageSnapshot {
            page: "unknown".into(),
            step: "signIn.username".into(),
            snapshot: Snapshot {
                url: "https://login.microsoftonline.com/common/login".into(),
                elements: vec![Element {
                    handle: 1,
                    tag: "button".into(),
                    text: "Next".into(),
                    ..Element::default()
                }],
                ..Snapshot::default()
            },
        });
        let (name, json) = page_snapshot_file(&e).expect("a file");
        assert_eq!(name, "page-snapshot-r_1_x.json");
        let v: serde_json::Value = serde_json::from_str(&json).expect("JSON");
        assert_eq!(v["page"], "unknown");
        assert_eq!(v["step"], "signIn.username");
        assert_eq!(v["snapshot"]["elements"][0]["text"], "Next");
        let back: PageSnapshot = serde_json::from_value(v).expect("round trip");
        assert_eq!(Some(back), e.page_snapshot);
        e.state = JobState::Succeeded;
        assert_eq!(page_snapshot_file(&e), None, "successes export nothing");
    }

    #[test]
    fn only_image_data_urls_are_shown() {
        let mut e = entry("a", "u@x", "U", JobState::Failed, 0);
        assert_eq!(screenshot_src(&e), None);
        e.screenshot = Some("data:image/png;base64,iVBORw0KGgo=".into());
        assert!(screenshot_src(&e).is_some());
        e.screenshot = Some("https://evil.example/track.png".into());
        assert_eq!(screenshot_src(&e), None);
        e.screenshot = Some("data:text/html;base64,PHNjcmlwdD4=".into());
        assert_eq!(screenshot_src(&e), None);
    }

    #[test]
    fn unreadable_entries_are_skipped_not_fatal() {
        let good =
            serde_json::to_value(entry("a", "u@x", "U", JobState::Succeeded, 0)).expect("json");
        let (entries, skipped) = parse_entries(vec![
            good,
            serde_json::json!({"requestId": 5}),
            serde_json::Value::Null,
        ]);
        assert_eq!((entries.len(), skipped), (1, 2));
    }

    #[test]
    fn file_names() {
        assert_eq!(
            export_file_name(1_795_338_303_999, "csv"),
            "passkey-logs-20261122-090503.csv"
        );
    }
}
