//! `cargo xtask bench wasm`: what the browser downloads for each page.
//!
//! Builds the release site exactly as the tests and `run` do (`--split
//! --precompress`, hashed names), then adds up, per route, the files a
//! browser fetches before the page is interactive: the shared core (the
//! main wasm, its JS glue, the split loader, the stylesheet) and the page's
//! own chunk with every shared chunk it needs (`__wasm_split_manifest.json`).
//! Sizes are the files cargo-leptos wrote, which the server sends as they
//! are: raw, `.gz` and `.br`.

use std::{
    fs,
    path::{Path, PathBuf},
};

use crate::{run_command, tools, Result};

/// Brotli bytes a phone may fetch before a public page is interactive.
const PUBLIC_TARGET_BYTES: u64 = 250_000;
/// The same for the signed-in Team page.
const TEAM_TARGET_BYTES: u64 = 450_000;

/// The routes the issue names first, then every other page.
const ROUTES: &[(&str, &str)] = &[
    ("sign in", "sign_in_route"),
    ("accept invitation", "accept_invite_route"),
    ("Kiosk", "kiosk_route"),
    ("Team", "team_route"),
    ("member card", "member_route"),
    ("sign up", "sign_up_route"),
    ("forgot password", "forgot_password_route"),
    ("two-factor", "two_factor_route"),
    ("reset password", "reset_password_route"),
    ("confirm address", "verify_email_route"),
    ("email change", "email_change_route"),
    ("home", "home_route"),
    ("new workspace", "new_workspace_route"),
    ("import", "import_route"),
    ("groups", "groups_route"),
    ("projects", "projects_route"),
    ("time", "time_route"),
    ("reports", "reports_route"),
    ("audit", "audit_route"),
    ("profile", "profile_route"),
    ("accounts", "accounts_route"),
    ("settings", "settings_route"),
];

#[derive(Clone, Copy, Default)]
struct Sizes {
    files: u64,
    raw: u64,
    gzip: u64,
    brotli: u64,
}

impl std::ops::Add for Sizes {
    type Output = Sizes;
    fn add(self, other: Sizes) -> Sizes {
        Sizes {
            files: self.files + other.files,
            raw: self.raw + other.raw,
            gzip: self.gzip + other.gzip,
            brotli: self.brotli + other.brotli,
        }
    }
}

pub fn command(root: &Path) -> Result<()> {
    tools::ensure_build_tools(root)?;
    run_command(
        tools::cargo(root).args(crate::SITE_BUILD),
        "cargo leptos build --release --split --precompress",
    )?;
    let pkg = root.join("target").join("site").join("pkg");
    let files: Vec<String> = fs::read_dir(&pkg)
        .map_err(|error| format!("reading {}: {error}", pkg.display()))?
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| entry.file_name().into_string().ok())
        .collect();

    let core_parts = [
        ("main wasm", named(&files, "teamroom.", ".wasm")?),
        ("JS glue", named(&files, "teamroom.", ".js")?),
        ("split loader", named(&files, "__wasm_split.", ".js")?),
        ("stylesheet", named(&files, "teamroom.", ".css")?),
    ];
    println!("\nShared core (every page):\n");
    println!("| file | raw | gzip | brotli |");
    println!("|---|---:|---:|---:|");
    let mut core = Sizes::default();
    for (label, file) in &core_parts {
        let sizes = sizes_of(&pkg, file)?;
        println!(
            "| {label} (`{file}`) | {} | {} | {} |",
            kb(sizes.raw),
            kb(sizes.gzip),
            kb(sizes.brotli)
        );
        core = core + sizes;
    }

    let manifest_file = named(&files, "__wasm_split_manifest.", ".json")?;
    let manifest = parse_manifest(
        &fs::read_to_string(pkg.join(&manifest_file))
            .map_err(|error| format!("reading {manifest_file}: {error}"))?,
    )?;

    println!("\nPer page, before it is interactive (core + the page's chunks):\n");
    println!("| page | files | raw | gzip | brotli | target (brotli) |");
    println!("|---|---:|---:|---:|---:|---|");
    for (label, route) in ROUTES {
        let prefix = format!("__{route}_view_");
        let Some((key, chunks)) = manifest.iter().find(|(key, _)| key.starts_with(&prefix)) else {
            return Err(format!(
                "no split for {route} in {manifest_file}: is it a lazy route?"
            ));
        };
        let mut total = core + sizes_of(&pkg, &named(&files, &format!("split_{key}."), ".wasm")?)?;
        for chunk in chunks {
            total = total + sizes_of(&pkg, &named(&files, &format!("{chunk}."), ".wasm")?)?;
        }
        let target = match *route {
            "sign_in_route" | "accept_invite_route" | "kiosk_route" => Some(PUBLIC_TARGET_BYTES),
            "team_route" => Some(TEAM_TARGET_BYTES),
            _ => None,
        };
        let verdict = match target {
            Some(limit) if total.brotli <= limit => format!("<= {} met", kb(limit)),
            Some(limit) => format!("<= {} MISSED", kb(limit)),
            None => String::new(),
        };
        println!(
            "| {label} | {} | {} | {} | {} | {verdict} |",
            total.files,
            kb(total.raw),
            kb(total.gzip),
            kb(total.brotli)
        );
    }
    Ok(())
}

fn kb(bytes: u64) -> String {
    format!("{:.1} KB", bytes as f64 / 1000.0)
}

/// The one file in `pkg` named `<prefix><hash><suffix>` (or without a hash).
fn named(files: &[String], prefix: &str, suffix: &str) -> Result<String> {
    let found: Vec<&String> = files
        .iter()
        .filter(|name| name.starts_with(prefix) && name.ends_with(suffix))
        .filter(|name| !name[prefix.len()..name.len() - suffix.len()].contains('.'))
        .collect();
    match found.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(format!("no {prefix}*{suffix} in target/site/pkg")),
        _ => Err(format!(
            "several {prefix}*{suffix} in target/site/pkg: rebuild"
        )),
    }
}

fn sizes_of(pkg: &Path, file: &str) -> Result<Sizes> {
    let size = |path: PathBuf| {
        fs::metadata(&path)
            .map(|meta| meta.len())
            .map_err(|error| format!("{}: {error} (built with --precompress?)", path.display()))
    };
    Ok(Sizes {
        files: 1,
        raw: size(pkg.join(file))?,
        gzip: size(pkg.join(format!("{file}.gz")))?,
        brotli: size(pkg.join(format!("{file}.br")))?,
    })
}

/// `{"split name": ["chunk_1", ...], ...}`: the only shape the manifest has,
/// read without a JSON crate (xtask stays std-only to compile fast).
fn parse_manifest(text: &str) -> Result<Vec<(String, Vec<String>)>> {
    let mut entries: Vec<(String, Vec<String>)> = Vec::new();
    let mut in_list = false;
    let mut rest = text;
    while let Some(at) = rest.find(['"', '[', ']']) {
        let symbol = rest.as_bytes()[at];
        rest = &rest[at + 1..];
        match symbol {
            b'[' => in_list = true,
            b']' => in_list = false,
            _ => {
                let end = rest.find('"').ok_or("unterminated string in manifest")?;
                let value = rest[..end].to_owned();
                rest = &rest[end + 1..];
                if in_list {
                    entries
                        .last_mut()
                        .ok_or("a chunk before any split in manifest")?
                        .1
                        .push(value);
                } else {
                    entries.push((value, Vec::new()));
                }
            }
        }
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_manifest_shape_cargo_leptos_writes() {
        let entries = parse_manifest(
            r#"{"__team_route_view_1":["chunk_2","chunk_9"],"__home_route_view_1":[]}"#,
        )
        .expect("parses");
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].0, "__team_route_view_1");
        assert_eq!(entries[0].1, vec!["chunk_2", "chunk_9"]);
        assert!(entries[1].1.is_empty());
    }

    #[test]
    fn a_hashed_name_is_found_and_a_longer_one_is_not_confused_with_it() {
        let files = vec![
            "teamroom.abc.wasm".to_owned(),
            "teamroom.abc.wasm.br".to_owned(),
            "chunk_1.x.wasm".to_owned(),
            "chunk_11.y.wasm".to_owned(),
        ];
        assert_eq!(
            named(&files, "teamroom.", ".wasm").expect("one"),
            "teamroom.abc.wasm"
        );
        assert_eq!(
            named(&files, "chunk_1.", ".wasm").expect("one"),
            "chunk_1.x.wasm"
        );
    }
}
