//! Time entries and the Kiosk PIN: the rules a person's input must meet,
//! checked in the browser as they type and again on the server.

use chrono::{Datelike, NaiveDateTime};
use serde::{Deserialize, Serialize};

use crate::error::FieldErrors;

/// Longest entry a person may type in. A timer that was forgotten may run
/// longer; it is saved as it ran so someone can correct it.
pub const MAX_ENTRY_HOURS: i64 = 24;
pub const FIRST_YEAR: i32 = 2000;
pub const LAST_YEAR: i32 = 2099;
pub const MAX_DESCRIPTION_CHARS: usize = 500;

/// Start and end of an entry as typed, in the member's own zone (the
/// server turns them into UTC with the member's time zone).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryTimes {
    start: NaiveDateTime,
    end: NaiveDateTime,
}

impl EntryTimes {
    /// `start` and `end` as an `<input type="datetime-local">` gives them
    /// (`2026-11-23T09:00`, seconds optional). Errors are keyed `start` and
    /// `end`, the inputs' names.
    pub fn parse(start: &str, end: &str) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let start = errors.take("start", parse_local(start, "when it started"));
        let end = errors.take("end", parse_local(end, "when it ended"));
        let (Some(start), Some(end)) = (start, end) else {
            return Err(errors);
        };
        if end <= start {
            errors.add(
                "end",
                "It ends before it starts: the end must be after the start.",
            );
        } else if end - start > chrono::Duration::hours(MAX_ENTRY_HOURS) {
            errors.add(
                "end",
                format!(
                    "An entry can be at most {MAX_ENTRY_HOURS} hours long. Split longer work into several entries."
                ),
            );
        }
        if errors.is_empty() {
            Ok(Self { start, end })
        } else {
            Err(errors)
        }
    }

    pub fn start(&self) -> NaiveDateTime {
        self.start
    }

    pub fn end(&self) -> NaiveDateTime {
        self.end
    }
}

fn parse_local(input: &str, what: &str) -> Result<NaiveDateTime, String> {
    let input = input.trim();
    if input.is_empty() {
        return Err(format!("Enter {what}."));
    }
    let parsed = NaiveDateTime::parse_from_str(input, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(input, "%Y-%m-%dT%H:%M:%S"))
        .or_else(|_| NaiveDateTime::parse_from_str(input, "%Y-%m-%d %H:%M"))
        .map_err(|_| "Enter a date and time like 2026-11-23 09:00.".to_owned())?;
    check_year(parsed)?;
    Ok(parsed)
}

/// Entries live between 2000 and 2099: a typo like 9999 gets a message
/// instead of an entry nobody will ever find.
pub fn check_year(at: NaiveDateTime) -> Result<(), String> {
    if (FIRST_YEAR..=LAST_YEAR).contains(&at.year()) {
        Ok(())
    } else {
        Err(format!(
            "Dates must be between {FIRST_YEAR} and {LAST_YEAR}."
        ))
    }
}

/// What the entry was about: trimmed, may be empty, bounded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Description(String);

impl Description {
    pub fn parse(input: &str) -> Result<Self, String> {
        let value = input.trim();
        if value.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err(format!(
                "A description can have at most {MAX_DESCRIPTION_CHARS} characters."
            ));
        }
        if value.chars().any(char::is_control) {
            return Err("A description cannot contain control characters.".into());
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A Kiosk PIN: 4 to 6 digits.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KioskPin(String);

impl std::fmt::Debug for KioskPin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KioskPin(****)")
    }
}

impl KioskPin {
    pub const MIN_DIGITS: usize = 4;
    pub const MAX_DIGITS: usize = 6;

    pub fn parse(input: &str) -> Result<Self, String> {
        let value = input.trim();
        if value.is_empty() {
            return Err("Enter a PIN of 4 to 6 digits.".into());
        }
        if !value.chars().all(|c| c.is_ascii_digit()) {
            return Err("A PIN is digits only (0-9).".into());
        }
        if !(Self::MIN_DIGITS..=Self::MAX_DIGITS).contains(&value.len()) {
            return Err(format!(
                "A PIN has 4 to 6 digits; this one has {}.",
                value.len()
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// First day of a member's week, ISO numbered (1 = Monday .. 7 = Sunday).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeekStart(u8);

impl WeekStart {
    pub const NAMES: [&'static str; 7] = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];

    pub fn parse(input: &str) -> Result<Self, String> {
        match input.trim().parse::<u8>() {
            Ok(day @ 1..=7) => Ok(Self(day)),
            _ => Err("Choose the day your week starts on.".into()),
        }
    }

    pub fn from_iso(day: i16) -> Self {
        Self(
            u8::try_from(day)
                .ok()
                .filter(|d| (1..=7).contains(d))
                .unwrap_or(1),
        )
    }

    pub fn iso(self) -> u8 {
        self.0
    }

    pub fn name(self) -> &'static str {
        Self::NAMES[usize::from(self.0 - 1)]
    }

    pub fn weekday(self) -> chrono::Weekday {
        match self.0 {
            2 => chrono::Weekday::Tue,
            3 => chrono::Weekday::Wed,
            4 => chrono::Weekday::Thu,
            5 => chrono::Weekday::Fri,
            6 => chrono::Weekday::Sat,
            7 => chrono::Weekday::Sun,
            _ => chrono::Weekday::Mon,
        }
    }
}

/// Longest range a summary report covers.
pub const MAX_REPORT_DAYS: i64 = 366 * 3;

/// A report's first and last day (inclusive), in the viewer's zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateRange {
    first: chrono::NaiveDate,
    last: chrono::NaiveDate,
}

impl DateRange {
    /// Dates as `<input type="date">` gives them. Errors keyed `from`, `to`.
    pub fn parse(from: &str, to: &str) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let first = errors.take("from", parse_date(from, "the first day"));
        let last = errors.take("to", parse_date(to, "the last day"));
        let (Some(first), Some(last)) = (first, last) else {
            return Err(errors);
        };
        if last < first {
            errors.add("to", "The last day is before the first day.");
        } else if (last - first).num_days() >= MAX_REPORT_DAYS {
            errors.add("to", "A report covers at most three years.");
        }
        if errors.is_empty() {
            Ok(Self { first, last })
        } else {
            Err(errors)
        }
    }

    pub fn first(&self) -> chrono::NaiveDate {
        self.first
    }

    pub fn last(&self) -> chrono::NaiveDate {
        self.last
    }
}

fn parse_date(input: &str, what: &str) -> Result<chrono::NaiveDate, String> {
    let input = input.trim();
    if input.is_empty() {
        return Err(format!("Enter {what}."));
    }
    let date = chrono::NaiveDate::parse_from_str(input, "%Y-%m-%d")
        .map_err(|_| "Enter a date like 2026-11-23.".to_owned())?;
    check_year(date.and_time(chrono::NaiveTime::MIN))?;
    Ok(date)
}

/// `1:05:09` for a running timer.
pub fn clock(seconds: i64) -> String {
    let seconds = seconds.max(0);
    format!(
        "{}:{:02}:{:02}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

/// `7:30` (hours and minutes, rounded down) for totals.
pub fn hours_minutes(seconds: i64) -> String {
    let minutes = seconds.max(0) / 60;
    format!("{}:{:02}", minutes / 60, minutes % 60)
}

/// `7.50` decimal hours, for CSV.
pub fn decimal_hours(seconds: i64) -> String {
    format!("{:.2}", seconds.max(0) as f64 / 3600.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(errors: &FieldErrors, field: &str) -> String {
        errors.first(field).unwrap_or_default().to_owned()
    }

    #[test]
    fn an_entry_within_a_day_parses() {
        let times = EntryTimes::parse("2026-11-23T09:00", "2026-11-23T17:30").unwrap();
        assert_eq!((times.end() - times.start()).num_minutes(), 510);
        // Overnight is fine as long as the end is after the start.
        assert!(EntryTimes::parse("2026-11-23T22:00", "2026-11-24T02:00").is_ok());
        assert!(EntryTimes::parse("2026-11-23T09:00:00", "2026-11-24T09:00:00").is_ok());
    }

    #[test]
    fn an_entry_that_ends_before_it_starts_is_refused() {
        let errors = EntryTimes::parse("2026-11-23T17:00", "2026-11-23T09:00").unwrap_err();
        assert!(message(&errors, "end").contains("ends before it starts"));
        let errors = EntryTimes::parse("2026-11-23T09:00", "2026-11-23T09:00").unwrap_err();
        assert!(message(&errors, "end").contains("after the start"));
    }

    #[test]
    fn an_entry_longer_than_a_day_is_refused() {
        let errors = EntryTimes::parse("2026-11-23T09:00", "2026-11-24T09:01").unwrap_err();
        assert!(message(&errors, "end").contains("at most 24 hours"));
    }

    #[test]
    fn the_year_9999_and_garbage_are_refused() {
        let errors = EntryTimes::parse("9999-01-01T09:00", "9999-01-01T10:00").unwrap_err();
        assert!(message(&errors, "start").contains("between 2000 and 2099"));
        assert!(message(&errors, "end").contains("between 2000 and 2099"));
        let errors = EntryTimes::parse("yesterday", "").unwrap_err();
        assert!(message(&errors, "start").contains("like 2026-11-23"));
        assert_eq!(message(&errors, "end"), "Enter when it ended.");
    }

    #[test]
    fn pins_are_four_to_six_digits() {
        assert!(KioskPin::parse("1234").is_ok());
        assert!(KioskPin::parse(" 123456 ").is_ok());
        assert!(KioskPin::parse("12a4").unwrap_err().contains("digits only"));
        assert!(KioskPin::parse("abcd").unwrap_err().contains("digits only"));
        assert!(KioskPin::parse("123")
            .unwrap_err()
            .contains("this one has 3"));
        assert!(KioskPin::parse("1234567").unwrap_err().contains("has 7"));
        assert!(KioskPin::parse("").unwrap_err().contains("Enter a PIN"));
        // Full-width digits are not ASCII digits.
        assert!(KioskPin::parse("１２３４").is_err());
        assert_eq!(
            format!("{:?}", KioskPin::parse("1234").unwrap()),
            "KioskPin(****)"
        );
    }

    #[test]
    fn descriptions_are_bounded() {
        assert_eq!(
            Description::parse("  Design review ").unwrap().as_str(),
            "Design review"
        );
        assert!(Description::parse(&"x".repeat(501)).is_err());
        assert!(Description::parse("a\u{0}b").is_err());
    }

    #[test]
    fn report_ranges_are_ordered_and_bounded() {
        let range = DateRange::parse("2026-11-01", "2026-11-30").unwrap();
        assert_eq!((range.last() - range.first()).num_days(), 29);
        let errors = DateRange::parse("2026-11-30", "2026-11-01").unwrap_err();
        assert!(message(&errors, "to").contains("before the first day"));
        let errors = DateRange::parse("2020-01-01", "2026-01-01").unwrap_err();
        assert!(message(&errors, "to").contains("three years"));
        let errors = DateRange::parse("9999-01-01", "nope").unwrap_err();
        assert!(message(&errors, "from").contains("between 2000 and 2099"));
        assert!(message(&errors, "to").contains("like 2026-11-23"));
    }

    #[test]
    fn week_start_and_durations() {
        assert_eq!(WeekStart::parse("7").unwrap().name(), "Sunday");
        assert!(WeekStart::parse("0").is_err());
        assert_eq!(WeekStart::from_iso(9).iso(), 1);
        assert_eq!(clock(3909), "1:05:09");
        assert_eq!(hours_minutes(27_000 + 59), "7:30");
        assert_eq!(decimal_hours(27_000), "7.50");
    }
}
