use serde::{Deserialize, Serialize};

/// Longest display name we keep. Long enough for real names, short enough
/// that a 64 KB paste is refused instead of stored.
const MAX_NAME_CHARS: usize = 100;

/// Shared rules for short human-written labels.
fn parse_label(input: &str, blank: &str, label: &str) -> Result<String, String> {
    let value = input.trim();
    if value.is_empty() {
        return Err(blank.to_owned());
    }
    if value.chars().count() > MAX_NAME_CHARS {
        return Err(format!(
            "{label} can have at most {MAX_NAME_CHARS} characters."
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(format!("{label} cannot contain control characters."));
    }
    Ok(value.to_owned())
}

/// A person's name as shown to others: trimmed, not blank, bounded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(input: &str) -> Result<Self, String> {
        parse_label(input, "Enter your name.", "Name").map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A workspace's name: same rules as a person's name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceName(String);

impl WorkspaceName {
    pub fn parse(input: &str) -> Result<Self, String> {
        parse_label(input, "Enter a workspace name.", "Workspace name").map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A group's or project's name: same rules as a person's name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelName(String);

impl LabelName {
    pub fn parse_group(input: &str) -> Result<Self, String> {
        parse_label(input, "Enter a group name.", "Group name").map(Self)
    }

    pub fn parse_project(input: &str) -> Result<Self, String> {
        parse_label(input, "Enter a project name.", "Project name").map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_keeps_unicode() {
        assert_eq!(
            DisplayName::parse("  Zoë Ångström ").unwrap().as_str(),
            "Zoë Ångström"
        );
    }

    #[test]
    fn refuses_blank_huge_and_control_characters() {
        assert_eq!(DisplayName::parse("   ").unwrap_err(), "Enter your name.");
        let huge = "x".repeat(64 * 1024);
        assert_eq!(
            DisplayName::parse(&huge).unwrap_err(),
            "Name can have at most 100 characters."
        );
        assert!(DisplayName::parse("a\u{0007}b").is_err());
        assert_eq!(
            WorkspaceName::parse("").unwrap_err(),
            "Enter a workspace name."
        );
    }
}
