//! How much a client may send: lists of ids and request bodies. Every list
//! argument of a server function or handler is bounded here, deduplicated,
//! and checked against the workspace before anything is built from it, so
//! no request can make the server multiply its input (500 addresses times
//! an unbounded list of groups was the attack).

/// Groups one invitation (dialog, REST, limited member) may put people in.
pub const MAX_GROUPS_PER_INVITE: usize = 100;
/// Projects one invitation may give; every invitee gets each of them.
pub const MAX_PROJECTS_PER_INVITE: usize = 100;
/// Projects one member may be given by name in one call (not "all").
pub const MAX_PROJECTS_PER_MEMBER: usize = 1000;

/// Groups one row of a CSV import may name.
pub const MAX_GROUPS_PER_ROW: usize = 20;
/// Distinct group names one CSV import (and each of its chunks) may use;
/// the missing ones are created, so this bounds what one file can add.
pub const MAX_GROUPS_PER_IMPORT: usize = 200;

/// Request body of any route not listed below: every form and server
/// function argument fits well within it.
pub const DEFAULT_BODY_BYTES: usize = 64 * 1024;
/// The invite dialog: up to 500 addresses of up to 254 characters, form
/// encoded.
pub const INVITE_BODY_BYTES: usize = 256 * 1024;
/// The CSV import (the file as JSON, then its rows in chunks): a 5 MB file
/// grows by escaping.
pub const IMPORT_BODY_BYTES: usize = super::invite::MAX_IMPORT_BYTES * 3 / 2;

/// A list of ids as the client sent it, refused when longer than `max`
/// (before any work is done on it), then sorted and without repeats.
/// `what` names the items in the message ("groups").
pub fn distinct_ids(ids: Vec<i64>, max: usize, what: &str) -> Result<Vec<i64>, String> {
    if ids.len() > max {
        return Err(format!("Choose at most {max} {what} at a time."));
    }
    let mut ids = ids;
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::distinct_ids;

    #[test]
    fn lists_are_bounded_before_they_are_deduplicated() {
        assert_eq!(distinct_ids(vec![3, 1, 3], 5, "groups"), Ok(vec![1, 3]));
        // Repeats count against the bound: the server never sorts a huge list.
        assert!(distinct_ids(vec![1; 6], 5, "groups")
            .unwrap_err()
            .contains("at most 5 groups"));
    }
}
