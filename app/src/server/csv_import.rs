//! Reading a member CSV: header row with email, name, role, group in any
//! order; UTF-8 with or without BOM; quoted fields; `,` or `;` separated
//! (spreadsheets in many locales save with `;`). A file-level problem
//! (no header, unknown columns, too big) refuses the file; a row-level one
//! marks only that row.

use std::collections::HashMap;

use crate::domain::{
    invite::{ImportRoles, MAX_IMPORT_BYTES, MAX_IMPORT_ROWS},
    DisplayName, EmailAddress, LabelName,
};

/// One data row as written in the file, with its line number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRow {
    pub line: u64,
    pub email: String,
    pub name: String,
    pub role: String,
    pub group: String,
}

/// A row that passed every check.
#[derive(Debug, Clone)]
pub struct ParsedRow {
    pub email: EmailAddress,
    pub name: Option<DisplayName>,
    pub roles: ImportRoles,
    pub groups: Vec<LabelName>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Column {
    Email,
    Name,
    Role,
    Group,
}

fn column_of(header: &str) -> Option<Column> {
    let folded: String = header
        .trim()
        .trim_start_matches('\u{feff}')
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect();
    match folded.as_str() {
        "email" | "emailaddress" | "mail" => Some(Column::Email),
        "name" | "fullname" | "displayname" => Some(Column::Name),
        "role" | "roles" => Some(Column::Role),
        "group" | "groups" | "team" => Some(Column::Group),
        _ => None,
    }
}

/// Reads the whole file or says, in one sentence, why it cannot.
pub fn read_rows(text: &str) -> Result<Vec<RawRow>, String> {
    if text.len() > MAX_IMPORT_BYTES {
        return Err(format!(
            "The file is {:.1} MB; the limit is {} MB. Split it into smaller files.",
            text.len() as f64 / 1_048_576.0,
            MAX_IMPORT_BYTES / 1_048_576
        ));
    }
    if text.contains('\u{fffd}') {
        return Err(
            "The file is not UTF-8 text (it has characters that could not be read). \
             Save it as \"CSV UTF-8\" and try again."
                .into(),
        );
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first_line = text.lines().next().unwrap_or_default();
    if first_line.trim().is_empty() {
        return Err(
            "The file is empty. The first row must name the columns: email, name, role, group."
                .into(),
        );
    }
    let delimiter = if first_line.contains(';') && !first_line.contains(',') {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(true)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| format!("The header row could not be read: {e}."))?
        .clone();
    let mut columns: HashMap<Column, usize> = HashMap::new();
    let mut unknown = Vec::new();
    for (index, header) in headers.iter().enumerate() {
        match column_of(header) {
            Some(column) => {
                if columns.insert(column, index).is_some() {
                    return Err(format!(
                        "The column \"{}\" appears twice in the header row.",
                        header.trim()
                    ));
                }
            }
            None if header.trim().is_empty() => {}
            None => unknown.push(header.trim().to_owned()),
        }
    }
    if !columns.contains_key(&Column::Email) {
        if headers.iter().any(|h| EmailAddress::parse(h).is_ok()) {
            return Err(
                "The first row looks like data, not a header. Add a header row naming the \
                 columns: email, name, role, group."
                    .into(),
            );
        }
        return Err(format!(
            "The header row needs an email column. Found: {}. Columns can be email, name, role, group.",
            headers
                .iter()
                .map(|h| format!("\"{}\"", h.trim()))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !unknown.is_empty() {
        return Err(format!(
            "Unknown column{} {}. Columns can be email, name, role, group (in any order).",
            if unknown.len() == 1 { "" } else { "s" },
            unknown
                .iter()
                .map(|h| format!("\"{h}\""))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| format!("The file could not be read as CSV: {e}."))?;
        if record.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        if rows.len() == MAX_IMPORT_ROWS {
            return Err(format!(
                "The file has more than {MAX_IMPORT_ROWS} rows. Split it into smaller files."
            ));
        }
        let get = |column: Column| {
            columns
                .get(&column)
                .and_then(|index| record.get(*index))
                .map(|cell| cell.trim().to_owned())
                .unwrap_or_default()
        };
        rows.push(RawRow {
            line: record.position().map_or(0, |p| p.line()),
            email: get(Column::Email),
            name: get(Column::Name),
            role: get(Column::Role),
            group: get(Column::Group),
        });
    }
    if rows.is_empty() {
        return Err("The file has a header row but no people in it.".into());
    }
    Ok(rows)
}

/// Checks one row; the message says what to fix.
pub fn parse_row(row: &RawRow) -> Result<ParsedRow, String> {
    let email = EmailAddress::parse(&row.email)?;
    let name = if row.name.is_empty() {
        None
    } else {
        Some(DisplayName::parse(&row.name).map_err(|m| format!("Name: {m}"))?)
    };
    let roles = ImportRoles::parse(&row.role)?;
    let max = crate::domain::limits::MAX_GROUPS_PER_ROW;
    // Counted before any is parsed: one cell must not cost more than a row.
    if row
        .group
        .split([';', '|'])
        .filter(|part| !part.trim().is_empty())
        .nth(max)
        .is_some()
    {
        return Err(format!("Group: at most {max} groups per person."));
    }
    let mut groups: Vec<LabelName> = Vec::new();
    for part in row.group.split([';', '|']) {
        if part.trim().is_empty() {
            continue;
        }
        let group = LabelName::parse_group(part).map_err(|m| format!("Group: {m}"))?;
        if !groups
            .iter()
            .any(|g| g.as_str().to_lowercase() == group.as_str().to_lowercase())
        {
            groups.push(group);
        }
    }
    Ok(ParsedRow {
        email,
        name,
        roles,
        groups,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_in_any_order_with_bom_quotes_and_semicolons() {
        let text =
            "\u{feff}Group;Email;\"Full name\"\n\"Sales; Berlin\";ann@x.io;\"Ann, the first\"\n";
        let rows = read_rows(text).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].email, "ann@x.io");
        assert_eq!(rows[0].name, "Ann, the first");
        assert_eq!(rows[0].group, "Sales; Berlin");
        assert_eq!(rows[0].line, 2);
        let parsed = parse_row(&rows[0]).unwrap();
        assert_eq!(parsed.groups.len(), 2);
    }

    #[test]
    fn file_level_problems_are_named() {
        assert!(read_rows("ann@x.io,Ann\nbob@x.io,Bob\n")
            .unwrap_err()
            .contains("looks like data"));
        assert!(read_rows("mail address,full name,colour\n")
            .unwrap_err()
            .contains("\"colour\""));
        assert!(read_rows("name,role\nAnn,admin\n")
            .unwrap_err()
            .contains("needs an email column"));
        assert!(read_rows("email\n").unwrap_err().contains("no people"));
        assert!(read_rows("email,name\nann@x.io,Ren\u{fffd}e\n")
            .unwrap_err()
            .contains("UTF-8"));
        let big = "email\n".to_owned() + &"a@x.io\n".repeat(MAX_IMPORT_BYTES / 7 + 1);
        assert!(read_rows(&big).unwrap_err().contains("limit is 5 MB"));
        let many = "email\n".to_owned() + &"a@x.io\n".repeat(MAX_IMPORT_ROWS + 1);
        assert!(read_rows(&many)
            .unwrap_err()
            .contains("more than 10000 rows"));
    }

    #[test]
    fn row_problems_stay_on_their_row() {
        let rows = read_rows("email,role,name\nnot-an-address,,\nann@x.io,boss,\nbob@x.io,admin,=HYPERLINK(\"http://evil\")\n").unwrap();
        assert!(parse_row(&rows[0]).is_err());
        assert!(parse_row(&rows[1]).unwrap_err().contains("boss"));
        // A formula-looking name is only text: it is stored as typed and
        // neutralised where a spreadsheet could run it (the report).
        let bob = parse_row(&rows[2]).unwrap();
        assert!(bob.roles.admin);
        assert_eq!(
            crate::domain::spreadsheet_safe(bob.name.unwrap().as_str()),
            "'=HYPERLINK(\"http://evil\")"
        );
    }
}
