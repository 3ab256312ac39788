//! A member's profile in a workspace: working days, daily capacity,
//! billing rate. Parsed in the browser as typed and again on the server.

use serde::{Deserialize, Serialize};

/// Daily capacity, in minutes (0 to 24 hours).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capacity(u16);

impl Capacity {
    /// Hours as `8`, `7.5` or `7:30`.
    pub fn parse(input: &str) -> Result<Self, String> {
        let text = input.trim();
        let wrong = || "Enter hours like 8, 7.5 or 7:30.".to_owned();
        if text.is_empty() {
            return Err("Enter the hours a day they usually work (0 to 24).".into());
        }
        let minutes: i64 = if let Some((hours, minutes)) = text.split_once(':') {
            let hours: i64 = digits(hours).ok_or_else(wrong)?;
            let minutes: i64 = digits(minutes).filter(|m| *m < 60).ok_or_else(wrong)?;
            hours * 60 + minutes
        } else {
            let negative = text.starts_with('-');
            let unsigned = text.trim_start_matches('-');
            let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
            let whole: i64 = if whole.is_empty() {
                Some(0)
            } else {
                digits(whole)
            }
            .ok_or_else(wrong)?;
            if fraction.len() > 2 || !fraction.chars().all(|c| c.is_ascii_digit()) {
                return Err(wrong());
            }
            let hundredths: i64 = format!("{fraction:0<2}").parse().map_err(|_| wrong())?;
            let minutes = whole * 60 + hundredths * 60 / 100;
            if negative {
                -minutes
            } else {
                minutes
            }
        };
        if !(0..=24 * 60).contains(&minutes) {
            return Err("Capacity is between 0 and 24 hours a day.".into());
        }
        Ok(Self(minutes as u16))
    }

    pub fn from_minutes(minutes: i32) -> Self {
        Self(minutes.clamp(0, 24 * 60) as u16)
    }

    pub fn minutes(self) -> i32 {
        i32::from(self.0)
    }

    /// `7.5` or `8`, as the field shows it.
    pub fn hours_text(self) -> String {
        let hours = f64::from(self.0) / 60.0;
        let text = format!("{hours:.2}");
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

/// Up to 6 digits, nothing else (no signs, exponents or blanks).
fn digits(text: &str) -> Option<i64> {
    (!text.is_empty() && text.len() <= 6 && text.chars().all(|c| c.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

/// Currencies a billing rate can be in.
pub const CURRENCIES: [&str; 16] = [
    "USD", "EUR", "GBP", "CHF", "CAD", "AUD", "NZD", "JPY", "SEK", "NOK", "DKK", "PLN", "CZK",
    "INR", "BRL", "ZAR",
];

/// Largest rate accepted: a billion a hour is a typo.
const MAX_RATE_CENTS: i64 = 100_000_000_000;

/// An hourly billing rate: a non-negative amount with at most two decimals,
/// in a known currency. No rate at all is `None`, from an empty amount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingRate {
    cents: i64,
    currency: String,
}

impl BillingRate {
    pub fn parse(amount: &str, currency: &str) -> Result<Option<Self>, String> {
        let text = amount.trim().replace(',', ".");
        if text.is_empty() {
            return Ok(None);
        }
        let wrong = || "Enter an amount like 45 or 45.50.".to_owned();
        if text.starts_with('-') {
            return Err("A billing rate cannot be negative.".into());
        }
        let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
        let all_digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) || fraction.len() > 2 {
            return Err(wrong());
        }
        let whole: i64 = whole
            .parse()
            .ok()
            .filter(|w: &i64| *w <= MAX_RATE_CENTS / 100)
            .ok_or_else(|| "That rate is too large.".to_owned())?;
        let cents = whole * 100
            + format!("{fraction:0<2}")
                .parse::<i64>()
                .map_err(|_| wrong())?;
        if cents > MAX_RATE_CENTS {
            return Err("That rate is too large.".into());
        }
        let currency = currency.trim().to_uppercase();
        if !CURRENCIES.contains(&currency.as_str()) {
            return Err("Choose a currency from the list.".into());
        }
        Ok(Some(Self { cents, currency }))
    }

    pub fn from_parts(cents: i64, currency: &str) -> Self {
        Self {
            cents,
            currency: currency.to_owned(),
        }
    }

    pub fn cents(&self) -> i64 {
        self.cents
    }

    pub fn currency(&self) -> &str {
        &self.currency
    }

    /// `45.50`, as the field shows it.
    pub fn amount_text(&self) -> String {
        format!("{}.{:02}", self.cents / 100, self.cents % 100)
    }
}

/// Days of the week someone works, Monday first, as a 7-bit set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkingDays(u8);

impl WorkingDays {
    pub const NAMES: [&'static str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

    pub fn from_bits(bits: i16) -> Self {
        Self((bits & 0x7f) as u8)
    }

    /// From the ISO numbers (1 = Monday) of the ticked days.
    pub fn from_days(days: &[u8]) -> Result<Self, String> {
        if days.len() > 7 {
            return Err("Pick days of the week.".into());
        }
        let mut bits = 0u8;
        for day in days {
            if !(1..=7).contains(day) {
                return Err("Pick days of the week.".into());
            }
            bits |= 1 << (day - 1);
        }
        Ok(Self(bits))
    }

    pub fn bits(self) -> i16 {
        i16::from(self.0)
    }

    pub fn has(self, iso_day: u8) -> bool {
        (1..=7).contains(&iso_day) && self.0 & (1 << (iso_day - 1)) != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacity_is_zero_to_twenty_four_hours() {
        assert_eq!(Capacity::parse("8").unwrap().minutes(), 480);
        assert_eq!(Capacity::parse("7.5").unwrap().minutes(), 450);
        assert_eq!(Capacity::parse("7:30").unwrap().minutes(), 450);
        assert_eq!(Capacity::parse("0").unwrap().minutes(), 0);
        assert_eq!(Capacity::parse("24").unwrap().minutes(), 1440);
        assert!(Capacity::parse("25")
            .unwrap_err()
            .contains("between 0 and 24"));
        assert!(Capacity::parse("-1")
            .unwrap_err()
            .contains("between 0 and 24"));
        assert!(Capacity::parse("abc").unwrap_err().contains("like 8"));
        assert!(Capacity::parse("1e3").unwrap_err().contains("like 8"));
        assert!(Capacity::parse("7:75").is_err());
        assert_eq!(Capacity::parse("7.5").unwrap().hours_text(), "7.5");
        assert_eq!(Capacity::from_minutes(480).hours_text(), "8");
    }

    #[test]
    fn billing_rates_are_money() {
        let rate = BillingRate::parse("45.5", "eur").unwrap().unwrap();
        assert_eq!((rate.cents(), rate.currency()), (4550, "EUR"));
        assert_eq!(rate.amount_text(), "45.50");
        assert_eq!(BillingRate::parse("", "USD").unwrap(), None);
        assert!(BillingRate::parse("1e309", "USD")
            .unwrap_err()
            .contains("like 45"));
        assert!(BillingRate::parse("abc", "USD")
            .unwrap_err()
            .contains("like 45"));
        assert!(BillingRate::parse("-3", "USD")
            .unwrap_err()
            .contains("negative"));
        assert!(BillingRate::parse("12.345", "USD").is_err());
        assert!(BillingRate::parse("99999999999999999999", "USD")
            .unwrap_err()
            .contains("too large"));
        assert!(BillingRate::parse("10", "XXX")
            .unwrap_err()
            .contains("currency"));
        assert_eq!(
            BillingRate::parse("10,25", "GBP").unwrap().unwrap().cents(),
            1025
        );
    }

    #[test]
    fn working_days_are_a_set_of_weekdays() {
        let days = WorkingDays::from_days(&[1, 2, 3, 4, 5]).unwrap();
        assert_eq!(days.bits(), 31);
        assert!(days.has(1) && days.has(5) && !days.has(6));
        assert!(WorkingDays::from_days(&[8]).is_err());
        assert_eq!(WorkingDays::from_bits(127).bits(), 127);
    }
}
