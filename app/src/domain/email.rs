use serde::{Deserialize, Serialize};

/// An email address as a person typed it (surrounding spaces removed).
/// Equality of accounts is decided on the lower-cased form, see `normalized`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailAddress(String);

/// RFC 5321 limits: 254 characters in all, 64 before the `@`.
const MAX_LEN: usize = 254;
const MAX_LOCAL_LEN: usize = 64;

impl EmailAddress {
    pub fn parse(input: &str) -> Result<Self, String> {
        let value = input.trim();
        if value.is_empty() {
            return Err("Enter an email address.".into());
        }
        if value.chars().count() > MAX_LEN {
            return Err(format!(
                "An email address has at most {MAX_LEN} characters."
            ));
        }
        if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("An email address cannot contain spaces.".into());
        }
        let Some((local, domain)) = value.rsplit_once('@') else {
            return Err("An email address needs an @, like name@example.com.".into());
        };
        if local.is_empty() || local.contains('@') {
            return Err("Enter the part before the @, like name@example.com.".into());
        }
        if local.chars().count() > MAX_LOCAL_LEN {
            return Err(format!(
                "The part before the @ has at most {MAX_LOCAL_LEN} characters."
            ));
        }
        if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
            return Err(
                "The part before the @ cannot start or end with a dot, or have two dots in a row."
                    .into(),
            );
        }
        let labels: Vec<&str> = domain.split('.').collect();
        let valid_label = |label: &&str| {
            !label.is_empty()
                && label.chars().count() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        };
        if labels.len() < 2 || !labels.iter().all(valid_label) {
            return Err("Enter a domain after the @, like example.com.".into());
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form used to compare addresses: case-insensitive, as people expect.
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }
}

/// The mailbox an address delivers to, for limits on what one mailbox
/// receives: lower-cased; the domain in its ASCII form (UTS 46, as the mail
/// is sent: `ｅxample.com` and `bücher.de` are `example.com` and
/// `xn--bcher-kva.de`); the local part unquoted; a `+tag` dropped (Gmail,
/// Outlook, Fastmail, iCloud and Proton all deliver `ada+x@` to `ada@`);
/// and for Gmail the dots as well, `googlemail.com` being `gmail.com`.
/// Never used to tell accounts apart: `ada+x@` may be someone else's.
#[cfg(feature = "ssr")]
pub fn mailbox_key(address: &str) -> String {
    let lowered = address.trim().to_lowercase();
    let Some((local, domain)) = lowered.rsplit_once('@') else {
        return lowered;
    };
    let domain = idna::domain_to_ascii(domain).unwrap_or_else(|_| domain.to_owned());
    let unquoted: String = local.chars().filter(|c| !matches!(c, '"' | '\\')).collect();
    let base = unquoted
        .split_once('+')
        .map_or(unquoted.as_str(), |(base, _tag)| base);
    // An address that is all tag (`+x@`) keeps its spelling.
    let base = if base.is_empty() {
        unquoted.as_str()
    } else {
        base
    };
    match domain.as_str() {
        "gmail.com" | "googlemail.com" => format!("{}@gmail.com", base.replace('.', "")),
        _ => format!("{base}@{domain}"),
    }
}

impl std::fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_addresses_and_trims() {
        let email = EmailAddress::parse("  Ada.Lovelace+work@Example.co.uk ").unwrap();
        assert_eq!(email.as_str(), "Ada.Lovelace+work@Example.co.uk");
        assert_eq!(email.normalized(), "ada.lovelace+work@example.co.uk");
        assert!(EmailAddress::parse("josé@exämple.fr").is_ok());
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn one_mailbox_has_one_key_whatever_its_spelling() {
        for (spelled, mailbox) in [
            ("Ada@Example.com", "ada@example.com"),
            ("ada+invites@example.com", "ada@example.com"),
            ("ada+a+b@example.com", "ada@example.com"),
            ("A.D.A+x@GoogleMail.com", "ada@gmail.com"),
            ("a.da@gmail.com", "ada@gmail.com"),
            // Dots matter everywhere but Gmail.
            ("a.da@example.com", "a.da@example.com"),
            ("+only@example.com", "+only@example.com"),
            // Look-alike and international spellings of one domain, and
            // quoted local parts, as the mail server reads them.
            ("victim@\u{ff45}xample.com", "victim@example.com"),
            ("v.ictim@\u{ff47}mail.com", "victim@gmail.com"),
            ("ada@b\u{fc}cher.de", "ada@xn--bcher-kva.de"),
            ("ada@xn--bcher-kva.de", "ada@xn--bcher-kva.de"),
            ("\"victim\"@example.com", "victim@example.com"),
            ("\"v\\ictim+x\"@example.com", "victim@example.com"),
            ("no-at-sign", "no-at-sign"),
        ] {
            assert_eq!(mailbox_key(spelled), mailbox, "{spelled}");
        }
    }

    #[test]
    fn refuses_malformed_addresses_with_a_reason() {
        for bad in [
            "",
            "   ",
            "plainaddress",
            "@example.com",
            "ada@",
            "ada@example",
            "ada@@example.com",
            "ada lovelace@example.com",
            "ada@exa mple.com",
            ".ada@example.com",
            "ada..l@example.com",
            "ada@-example.com",
            "ada@example..com",
        ] {
            let err = EmailAddress::parse(bad).expect_err(bad);
            assert!(!err.is_empty());
        }
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert!(EmailAddress::parse(&long_local).is_err());
        let long = format!("a@{}.com", "b".repeat(300));
        assert!(EmailAddress::parse(&long).is_err());
    }
}
