//! The Team page's view of the member list: search, filters and sort, as
//! they appear in the URL. Parsed by the page (to draw the controls) and by
//! the server (to build the query) from the same code.

use serde::{Deserialize, Serialize};

use crate::error::FieldErrors;

/// Rows per page of the member list.
pub const PAGE_SIZE: usize = 50;
/// Longer searches are refused with a message rather than sent to the index.
pub const MAX_SEARCH_CHARS: usize = 200;
/// Each word of a search must match; more than this many words is refused.
pub const MAX_SEARCH_WORDS: usize = 8;

/// The raw URL parameters, as strings, exactly as they arrive.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryParams {
    pub q: Option<String>,
    pub status: Option<String>,
    pub role: Option<String>,
    pub group: Option<String>,
    pub kind: Option<String>,
    pub sort: Option<String>,
    pub dir: Option<String>,
}

impl DirectoryParams {
    /// The URL keys, in the order they are printed.
    pub const KEYS: [&'static str; 7] = ["q", "status", "role", "group", "kind", "sort", "dir"];

    /// Sets one parameter by its URL key; unknown keys are ignored, as a
    /// browser ignores unknown query parameters.
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        let value = Some(value.into());
        match key {
            "q" => self.q = value,
            "status" => self.status = value,
            "role" => self.role = value,
            "group" => self.group = value,
            "kind" => self.kind = value,
            "sort" => self.sort = value,
            "dir" => self.dir = value,
            _ => {}
        }
    }

    /// `[("q", "zoe"), ("status", "all")]` -> params.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut params = Self::default();
        for (key, value) in pairs {
            params.set(key, value);
        }
        params
    }

    /// The parameters that are present, with their URL keys.
    pub fn pairs(&self) -> Vec<(&'static str, &str)> {
        let values = [
            &self.q,
            &self.status,
            &self.role,
            &self.group,
            &self.kind,
            &self.sort,
            &self.dir,
        ];
        Self::KEYS
            .into_iter()
            .zip(values)
            .filter_map(|(key, value)| value.as_deref().map(|value| (key, value)))
            .collect()
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StatusFilter {
    /// Active and pending: everyone who is, or is about to be, in.
    #[default]
    Current,
    Active,
    Pending,
    Inactive,
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RoleFilter {
    Owner,
    Admin,
    ProjectManager,
    TeamManager,
    /// No role at all: a plain member.
    Member,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KindFilter {
    Full,
    Limited,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SortKey {
    #[default]
    Name,
    Email,
    Roles,
    Groups,
    Status,
    Kind,
    LastActive,
    Added,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SortDir {
    #[default]
    Asc,
    Desc,
}

/// One `(URL value, enum, label)` table per option, so parsing, printing
/// and the filter menus cannot drift apart.
pub const STATUS_OPTIONS: &[(&str, StatusFilter, &str)] = &[
    ("current", StatusFilter::Current, "Active and pending"),
    ("active", StatusFilter::Active, "Active"),
    ("pending", StatusFilter::Pending, "Pending"),
    ("inactive", StatusFilter::Inactive, "Inactive"),
    ("all", StatusFilter::All, "All"),
];

pub const ROLE_OPTIONS: &[(&str, RoleFilter, &str)] = &[
    ("owner", RoleFilter::Owner, "Owner"),
    ("admin", RoleFilter::Admin, "Admin"),
    (
        "project_manager",
        RoleFilter::ProjectManager,
        "Project manager",
    ),
    ("team_manager", RoleFilter::TeamManager, "Team manager"),
    ("member", RoleFilter::Member, "No role"),
];

pub const KIND_OPTIONS: &[(&str, KindFilter, &str)] = &[
    ("full", KindFilter::Full, "Full"),
    ("limited", KindFilter::Limited, "Limited"),
];

pub const SORT_OPTIONS: &[(&str, SortKey, &str)] = &[
    ("name", SortKey::Name, "Name"),
    ("email", SortKey::Email, "Email"),
    ("roles", SortKey::Roles, "Roles"),
    ("groups", SortKey::Groups, "Groups"),
    ("status", SortKey::Status, "Status"),
    ("kind", SortKey::Kind, "Kind"),
    ("last_active", SortKey::LastActive, "Last active"),
    ("added", SortKey::Added, "Date added"),
];

fn lookup<T: Copy>(table: &[(&str, T, &str)], value: &str, what: &str) -> Result<T, String> {
    table
        .iter()
        .find(|(key, _, _)| *key == value)
        .map(|(_, item, _)| *item)
        .ok_or_else(|| {
            let known: Vec<&str> = table.iter().map(|(key, _, _)| *key).collect();
            let shown: String = value.chars().take(40).collect();
            format!(
                "Unknown {what} \"{shown}\". Choose one of: {}.",
                known.join(", ")
            )
        })
}

fn key_of<T: PartialEq>(table: &[(&'static str, T, &str)], item: &T) -> &'static str {
    table
        .iter()
        .find(|(_, candidate, _)| candidate == item)
        .map(|(key, _, _)| *key)
        .unwrap_or("")
}

pub fn label_of<T: PartialEq>(table: &[(&'static str, T, &'static str)], item: &T) -> &'static str {
    table
        .iter()
        .find(|(_, candidate, _)| candidate == item)
        .map(|(_, _, label)| *label)
        .unwrap_or("")
}

/// A checked view of the member list. Exists only if every part is valid.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryQuery {
    search: String,
    pub status: StatusFilter,
    pub role: Option<RoleFilter>,
    pub group: Option<i64>,
    pub kind: Option<KindFilter>,
    pub sort: SortKey,
    pub dir: SortDir,
}

impl DirectoryQuery {
    pub fn parse(params: &DirectoryParams) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let present = |value: &Option<String>| {
            value
                .as_deref()
                .map(str::trim)
                .filter(|value| !value.is_empty())
                .map(str::to_owned)
        };
        let search = params.q.as_deref().map(str::trim).unwrap_or("").to_owned();
        if search.chars().count() > MAX_SEARCH_CHARS {
            errors.add(
                "q",
                format!("Search for at most {MAX_SEARCH_CHARS} characters."),
            );
        } else if search.split_whitespace().count() > MAX_SEARCH_WORDS {
            errors.add(
                "q",
                format!("Search for at most {MAX_SEARCH_WORDS} words at a time."),
            );
        } else if search.chars().any(char::is_control) {
            errors.add("q", "Search text cannot contain control characters.");
        }
        let status = match present(&params.status) {
            Some(value) => errors
                .take("status", lookup(STATUS_OPTIONS, &value, "status"))
                .unwrap_or_default(),
            None => StatusFilter::Current,
        };
        let role = present(&params.role)
            .and_then(|value| errors.take("role", lookup(ROLE_OPTIONS, &value, "role")));
        let kind = present(&params.kind)
            .and_then(|value| errors.take("kind", lookup(KIND_OPTIONS, &value, "kind")));
        let group = present(&params.group).and_then(|value| {
            errors.take(
                "group",
                value
                    .parse::<i64>()
                    .ok()
                    .filter(|id| *id > 0)
                    .ok_or_else(|| "That group does not exist.".to_owned()),
            )
        });
        let sort = match present(&params.sort) {
            Some(value) => errors
                .take("sort", lookup(SORT_OPTIONS, &value, "sort column"))
                .unwrap_or_default(),
            None => SortKey::Name,
        };
        let dir = match present(&params.dir).as_deref() {
            None | Some("asc") => SortDir::Asc,
            Some("desc") => SortDir::Desc,
            Some(_) => {
                errors.add("dir", "Sort direction must be asc or desc.");
                SortDir::Asc
            }
        };
        if errors.is_empty() {
            Ok(Self {
                search,
                status,
                role,
                group,
                kind,
                sort,
                dir,
            })
        } else {
            Err(errors)
        }
    }

    pub fn search(&self) -> &str {
        &self.search
    }

    pub fn with_search(mut self, search: &str) -> Self {
        self.search = search.trim().to_owned();
        self
    }

    /// The words of the search; each must match somewhere in the member.
    pub fn search_words(&self) -> Vec<&str> {
        self.search.split_whitespace().collect()
    }

    /// Only the parts that differ from the default view, so a plain Team
    /// link stays `/team`.
    pub fn to_params(&self) -> DirectoryParams {
        let default = Self::default();
        DirectoryParams {
            q: (!self.search.is_empty()).then(|| self.search.clone()),
            status: (self.status != default.status)
                .then(|| key_of(STATUS_OPTIONS, &self.status).to_owned()),
            role: self.role.map(|role| key_of(ROLE_OPTIONS, &role).to_owned()),
            group: self.group.map(|id| id.to_string()),
            kind: self.kind.map(|kind| key_of(KIND_OPTIONS, &kind).to_owned()),
            sort: (self.sort != default.sort).then(|| key_of(SORT_OPTIONS, &self.sort).to_owned()),
            dir: (self.dir == SortDir::Desc).then(|| "desc".to_owned()),
        }
    }

    /// `?q=...&status=...` (empty for the default view), URL-encoded.
    pub fn to_query_string(&self) -> String {
        let pairs: Vec<String> = self
            .to_params()
            .pairs()
            .into_iter()
            .map(|(key, value)| format!("{key}={}", url_encode(value)))
            .collect();
        if pairs.is_empty() {
            String::new()
        } else {
            format!("?{}", pairs.join("&"))
        }
    }

    pub fn status_key(&self) -> &'static str {
        key_of(STATUS_OPTIONS, &self.status)
    }

    pub fn sort_key(&self) -> &'static str {
        key_of(SORT_OPTIONS, &self.sort)
    }

    pub fn role_key(&self) -> &'static str {
        self.role
            .map(|role| key_of(ROLE_OPTIONS, &role))
            .unwrap_or("")
    }

    pub fn kind_key(&self) -> &'static str {
        self.kind
            .map(|kind| key_of(KIND_OPTIONS, &kind))
            .unwrap_or("")
    }

    /// Clicking a column header: the same column flips direction, another
    /// column starts ascending (newest first for dates).
    pub fn sorted_by(&self, sort: SortKey) -> Self {
        let dir = if self.sort == sort {
            match self.dir {
                SortDir::Asc => SortDir::Desc,
                SortDir::Desc => SortDir::Asc,
            }
        } else if matches!(sort, SortKey::LastActive | SortKey::Added) {
            SortDir::Desc
        } else {
            SortDir::Asc
        };
        Self {
            sort,
            dir,
            ..self.clone()
        }
    }
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
pub fn url_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// A count next to the results: exact when it was cheap to get, otherwise
/// the planner's estimate, shown as "about".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberCount {
    pub value: i64,
    pub exact: bool,
}

impl MemberCount {
    /// "1 member", "2,345 members", "about 950,000 members".
    pub fn describe(&self) -> String {
        let noun = if self.value == 1 { "member" } else { "members" };
        if self.exact {
            format!("{} {noun}", group_thousands(self.value))
        } else {
            format!(
                "about {} {noun}",
                group_thousands(round_estimate(self.value))
            )
        }
    }
}

/// Two significant figures: an estimate should not look precise.
pub fn round_estimate(value: i64) -> i64 {
    if value < 100 {
        return value;
    }
    let magnitude = 10_i64.pow(value.ilog10() - 1);
    ((value + magnitude / 2) / magnitude) * magnitude
}

pub fn group_thousands(value: i64) -> String {
    let digits = value.unsigned_abs().to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    if value < 0 {
        format!("-{out}")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> DirectoryParams {
        DirectoryParams::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn default_view_has_an_empty_query_string() {
        let query = DirectoryQuery::parse(&DirectoryParams::default()).expect("default parses");
        assert_eq!(query.status, StatusFilter::Current);
        assert_eq!(query.to_query_string(), "");
    }

    #[test]
    fn a_view_round_trips_through_its_url() {
        let query = DirectoryQuery::parse(&params(&[
            ("q", "  zoë  o'brien 100% "),
            ("status", "inactive"),
            ("role", "team_manager"),
            ("group", "42"),
            ("kind", "limited"),
            ("sort", "last_active"),
            ("dir", "desc"),
        ]))
        .expect("valid view");
        assert_eq!(query.search(), "zoë  o'brien 100%");
        assert_eq!(query.search_words(), vec!["zoë", "o'brien", "100%"]);
        let back = DirectoryQuery::parse(&query.to_params()).expect("printed view parses");
        assert_eq!(back, query);
        assert!(query
            .to_query_string()
            .starts_with("?q=zo%C3%AB%20%20o%27brien%20100%25&status=inactive"));
    }

    #[test]
    fn unknown_values_name_the_field_and_the_choices() {
        let errors = DirectoryQuery::parse(&params(&[
            ("status", "gone"),
            ("role", "king"),
            ("group", "x1"),
            ("sort", "salary"),
            ("dir", "up"),
        ]))
        .expect_err("every part is wrong");
        assert!(errors
            .first("status")
            .is_some_and(|m| m.contains("current, active, pending, inactive, all")));
        for field in ["role", "group", "sort", "dir"] {
            assert!(errors.first(field).is_some(), "{field} has a message");
        }
    }

    #[test]
    fn oversized_searches_are_refused_with_a_reason() {
        let long = "a".repeat(10_000);
        let errors = DirectoryQuery::parse(&params(&[("q", &long)])).expect_err("too long");
        assert!(errors.first("q").is_some_and(|m| m.contains("200")));
        let many = "a b c d e f g h i";
        assert!(DirectoryQuery::parse(&params(&[("q", many)])).is_err());
        assert!(DirectoryQuery::parse(&params(&[("q", "tab\u{7}bell")])).is_err());
    }

    #[test]
    fn header_clicks_flip_direction_and_dates_start_newest_first() {
        let query = DirectoryQuery::default();
        assert_eq!(query.sorted_by(SortKey::Name).dir, SortDir::Desc);
        assert_eq!(query.sorted_by(SortKey::Email).dir, SortDir::Asc);
        assert_eq!(query.sorted_by(SortKey::LastActive).dir, SortDir::Desc);
    }

    #[test]
    fn counts_read_naturally() {
        let exact = MemberCount {
            value: 2345,
            exact: true,
        };
        assert_eq!(exact.describe(), "2,345 members");
        let one = MemberCount {
            value: 1,
            exact: true,
        };
        assert_eq!(one.describe(), "1 member");
        let about = MemberCount {
            value: 948_734,
            exact: false,
        };
        assert_eq!(about.describe(), "about 950,000 members");
        assert_eq!(round_estimate(12_345), 12_000);
        assert_eq!(round_estimate(99), 99);
    }
}

/// Where a row's search match lies when it is not in the name or email:
/// the Team list says so on the row, so a hit on "mar" that shows no "mar"
/// reads "group: Marketing" instead of looking like a wrong answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchField {
    Group,
    Manager,
}

impl MatchField {
    pub fn label(self) -> &'static str {
        match self {
            MatchField::Group => "group",
            MatchField::Manager => "manager",
        }
    }
}

/// One reason a row matched: the field, and its text cut into pieces with
/// the matched letters flagged (`true`) for `<mark>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchNote {
    pub field: MatchField,
    pub parts: Vec<(String, bool)>,
}

/// `text` cut at the first place each word occurs, ignoring case; words of
/// one or two characters only at the start of a word, as the search
/// matches them. A word found only through accent folding (the server
/// folds "jose" to match "José") leaves the text unmarked.
pub fn mark_words(text: &str, words: &[&str]) -> Vec<(String, bool)> {
    let chars: Vec<char> = text.chars().collect();
    let lower: Vec<String> = chars.iter().map(|c| c.to_lowercase().collect()).collect();
    let mut marked = vec![false; chars.len()];
    for word in words {
        let word = word.to_lowercase();
        if word.is_empty() {
            continue;
        }
        let word_start_only = word.chars().count() <= 2;
        let found = (0..chars.len()).find_map(|start| {
            if word_start_only && start > 0 && !chars[start - 1].is_whitespace() {
                return None;
            }
            let mut joined = String::new();
            for (end, piece) in lower.iter().enumerate().skip(start) {
                joined.push_str(piece);
                if joined == word {
                    return Some((start, end + 1));
                }
                if !word.starts_with(joined.as_str()) {
                    return None;
                }
            }
            None
        });
        if let Some((start, end)) = found {
            marked[start..end].iter_mut().for_each(|m| *m = true);
        }
    }
    let mut parts: Vec<(String, bool)> = Vec::new();
    for (c, is_marked) in chars.into_iter().zip(marked) {
        match parts.last_mut() {
            Some((piece, flag)) if *flag == is_marked => piece.push(c),
            _ => parts.push((c.to_string(), is_marked)),
        }
    }
    parts
}

#[cfg(test)]
mod match_tests {
    use super::*;

    fn shown(parts: &[(String, bool)]) -> String {
        parts
            .iter()
            .map(|(text, marked)| {
                if *marked {
                    format!("[{text}]")
                } else {
                    text.clone()
                }
            })
            .collect()
    }

    #[test]
    fn marks_the_first_occurrence_of_each_word_ignoring_case() {
        assert_eq!(shown(&mark_words("Marketing", &["mar"])), "[Mar]keting");
        assert_eq!(
            shown(&mark_words("Marta Lind", &["lin", "MAR"])),
            "[Mar]ta [Lin]d"
        );
        assert_eq!(shown(&mark_words("Summary", &["mar"])), "Sum[mar]y");
    }

    #[test]
    fn short_words_mark_only_word_starts() {
        assert_eq!(shown(&mark_words("Amy Ma", &["ma"])), "Amy [Ma]");
        assert_eq!(shown(&mark_words("Emma", &["ma"])), "Emma");
    }

    #[test]
    fn unfound_or_folded_words_leave_the_text_whole() {
        assert_eq!(shown(&mark_words("José Ruiz", &["jose"])), "José Ruiz");
        assert_eq!(mark_words("", &["x"]), Vec::<(String, bool)>::new());
    }
}
