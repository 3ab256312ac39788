//! `cargo xtask bench wasm`: what the browser downloads for each page.
//!
//! Builds the release site exactly as the tests and `run` do (`--split
//! --precompress`, hashed names), then adds up, per route, the files a
//! browser fetches before the page is interactive: the shared core (the
//! main wasm, its JS glue, the split loader, the stylesheet) and the page's
//! own chunk with every shared chunk it needs (`__wasm_split_manifest.json`);
//! for sign in, an invitation and the Kiosk, opened cold, their own app
//! (`app::page_apps`) and the stylesheet.
//! Sizes are the files cargo-leptos wrote, which the server sends as they
//! are: raw, `.gz` and `.br`.

use std::{
    collections::BTreeSet,
    fs,
    path::{Path, PathBuf},
};

use crate::{tools, Result};

/// Brotli bytes a phone may fetch before a public page is interactive.
const PUBLIC_TARGET_BYTES: u64 = 250_000;
/// The same for the signed-in Team page.
const TEAM_TARGET_BYTES: u64 = 450_000;

/// The pages the issue names first, then the two groups of pages that share
/// a split (`page_group!` in `app/src/lib.rs`), each by the start of its
/// split's name in the manifest.
const ROUTES: &[(&str, &str)] = &[
    ("sign in, in the whole app (core + split)", SIGN_IN_SPLIT),
    (
        "accept invitation, in the whole app (core + split)",
        INVITE_SPLIT,
    ),
    ("Kiosk, in the whole app (core + split)", KIOSK_SPLIT),
    ("Team", TEAM_SPLIT),
    ("member card", MEMBER_SPLIT),
    (
        "any other signed-in page (Time, Reports, Settings, ...)",
        SIGNED_IN_GROUP_SPLIT,
    ),
    (
        "any other signed-out page (sign up, reset, two-factor, ...)",
        "signed_out_page_",
    ),
];

/// The pages that run an app of their own when opened (`app::page_apps`),
/// by the start of its files' names (`xtask/src/page_apps.rs`). Reached by a
/// link from another page, they run in the whole app (the rows below).
const PAGE_APP_ROUTES: &[(&str, &str)] = &[
    ("sign in", "sign-in-app"),
    ("accept invitation", "invitation-app"),
    ("Kiosk", "kiosk-app"),
];

const SIGN_IN_SPLIT: &str = "__sign_in_route_view_";
const INVITE_SPLIT: &str = "__accept_invite_route_view_";
const KIOSK_SPLIT: &str = "__kiosk_route_view_";
/// The Team page is in the signed-in frame's split (`FramePart` in
/// `app::App`).
const TEAM_SPLIT: &str = FRAME_SPLIT;
const MEMBER_SPLIT: &str = "__member_route_view_";
const SIGNED_IN_GROUP_SPLIT: &str = "signed_in_page_";

/// The Team page's dialogs, bulk bar and row menus
/// (`app::pages::team_on_demand`), fetched when the page is first used.
const TEAM_ON_DEMAND_SPLIT: &str = "team_on_demand_";

/// The signed-in frame's split: the pages inside it load it too.
const FRAME_SPLIT: &str = "signed_in_frame_";

/// The splits of the pages inside the signed-in frame.
const SIGNED_IN_SPLITS: &[&str] = &[TEAM_SPLIT, MEMBER_SPLIT, SIGNED_IN_GROUP_SPLIT];

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

/// `--no-build` reads the site the last build left (after `cargo xtask test`).
pub fn command(root: &Path, args: &[String]) -> Result<()> {
    if !args.iter().any(|arg| arg == "--no-build") {
        tools::ensure_build_tools(root)?;
        crate::build_site(root)?;
    }
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

    println!(
        "\nPer page, before it is interactive (core + the page's split and chunks; \
         a signed-in page also needs the signed-in frame's):\n"
    );
    println!("| page | files | raw | gzip | brotli | target (brotli) |");
    println!("|---|---:|---:|---:|---:|---|");
    let split_of = |prefix: &str| -> Result<&Vec<String>> {
        manifest
            .iter()
            .find(|(key, _)| key.starts_with(prefix))
            .map(|(_, modules)| modules)
            .ok_or_else(|| format!("no split named {prefix}... in {manifest_file}"))
    };
    let frame = split_of(FRAME_SPLIT)?;
    let stylesheet = sizes_of(&pkg, &named(&files, "teamroom.", ".css")?)?;
    // The pages opened cold run an app of their own (`app::page_apps`): its
    // script, its wasm and the stylesheet.
    for (label, app) in PAGE_APP_ROUTES {
        let mut total = stylesheet;
        for suffix in [".wasm", ".js"] {
            total = total + sizes_of(&pkg, &named(&files, &format!("{app}."), suffix)?)?;
        }
        println!(
            "| {label}, its own app | {} | {} | {} | {} | {} |",
            total.files,
            kb(total.raw),
            kb(total.gzip),
            kb(total.brotli),
            verdict(total.brotli, PUBLIC_TARGET_BYTES)
        );
    }
    let size_of_modules = |modules: &BTreeSet<&String>| -> Result<Sizes> {
        let mut total = Sizes::default();
        for module in modules {
            // With hashed names the manifest already names the hashed file.
            let exact = format!("{module}.wasm");
            let file = if files.contains(&exact) {
                exact
            } else {
                named(&files, &format!("{module}."), ".wasm")?
            };
            total = total + sizes_of(&pkg, &file)?;
        }
        Ok(total)
    };
    let mut team_modules = BTreeSet::new();
    for (label, route) in ROUTES {
        // A split's list names its own module and every chunk it needs; a
        // file the frame and the page share is fetched once.
        let mut modules: BTreeSet<&String> = split_of(route)?.iter().collect();
        if SIGNED_IN_SPLITS.contains(route) {
            modules.extend(frame);
        }
        if *route == TEAM_SPLIT {
            team_modules = modules.clone();
        }
        let total = core + size_of_modules(&modules)?;
        // Sign in, an invitation and the Kiosk have none here: opened cold
        // they run their own app (the rows above, which the target is for);
        // these bytes are for reaching them by a link from inside the whole
        // app, whose core is then already there.
        let target = (*route == TEAM_SPLIT).then_some(TEAM_TARGET_BYTES);
        let verdict = target
            .map(|limit| verdict(total.brotli, limit))
            .unwrap_or_default();
        println!(
            "| {label} | {} | {} | {} | {} | {verdict} |",
            total.files,
            kb(total.raw),
            kb(total.gzip),
            kb(total.brotli)
        );
    }
    // What the Team page fetches later, at the first mouse move, touch or
    // key: the files of its on-demand split it did not already have.
    let later: BTreeSet<&String> = split_of(TEAM_ON_DEMAND_SPLIT)?
        .iter()
        .filter(|module| !team_modules.contains(module))
        .collect();
    let later_sizes = size_of_modules(&later)?;
    println!(
        "| Team, later: its dialogs, bulk bar and row menus | {} | {} | {} | {} | fetched on first use |",
        later_sizes.files,
        kb(later_sizes.raw),
        kb(later_sizes.gzip),
        kb(later_sizes.brotli)
    );
    contributors(root)
}

/// Items of the split-off main module that are not shipped: the names
/// (wasm-opt strips them), wasm-bindgen's own section and its `describe`
/// functions (wasm-bindgen runs them to learn the types, then drops them).
fn shipped(name: &str) -> bool {
    !(name.starts_with("custom section")
        || name.contains("subsection")
        || name.contains("__wbindgen_describe"))
}

/// What takes the room in the shared core, by crate and by item. twiggy
/// reads the main module as cargo-leptos split it off
/// (`frontend_split.wasm`), before wasm-bindgen and `wasm-opt -Oz`, which
/// strip the names: the bytes are before optimisation, so the shares are
/// what carries over to the shipped file, not the bytes.
fn contributors(root: &Path) -> Result<()> {
    tools::ensure_twiggy()?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let module = target.join("front/wasm32-unknown-unknown/wasm-release/frontend_split.wasm");
    let output = std::process::Command::new("twiggy")
        .args(["top", "-n", "1000000", "-f", "csv"])
        .arg(&module)
        .output()
        .map_err(|error| format!("running twiggy: {error}"))?;
    if !output.status.success() {
        return Err(format!(
            "twiggy top {} failed: {}",
            module.display(),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let items: Vec<(String, u64)> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields = csv_fields(line);
            Some((fields.first()?.clone(), fields.get(1)?.parse().ok()?))
        })
        .filter(|(name, _)| shipped(name) && !name.starts_with('Σ') && !name.starts_with("..."))
        .collect();
    let total: u64 = items.iter().map(|(_, size)| size).sum();
    let share = |size: u64| format!("{:.1} %", size as f64 * 100.0 / total.max(1) as f64);
    let mut by_crate: Vec<(String, u64)> = Vec::new();
    for (name, size) in &items {
        let owner = crate_of(name);
        match by_crate.iter_mut().find(|(known, _)| *known == owner) {
            Some((_, sum)) => *sum += size,
            None => by_crate.push((owner, *size)),
        }
    }
    by_crate.sort_by_key(|(_, size)| std::cmp::Reverse(*size));
    println!(
        "\nWhat takes the room in the shared core (twiggy on `frontend_split.wasm`, \
         {} of code and data before wasm-opt; a generic function counts for the crate \
         named first in its path, e.g. `<T as tachys::...>` for tachys):\n",
        kb(total)
    );
    println!("| crate | share | bytes before wasm-opt |");
    println!("|---|---:|---:|");
    for (owner, size) in by_crate.iter().take(15) {
        println!("| {owner} | {} | {} |", share(*size), kb(*size));
    }
    println!("\nLargest single items:\n");
    println!("| item | share | bytes before wasm-opt |");
    println!("|---|---:|---:|");
    for (name, size) in items.iter().take(10) {
        let short: String = name.chars().take(110).collect();
        println!(
            "| `{}` | {} | {} |",
            short.replace('|', "\\|"),
            share(*size),
            kb(*size)
        );
    }
    Ok(())
}

/// The fields of one CSV line as twiggy writes it (RFC 4180 quoting).
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                if let Some(field) = fields.last_mut() {
                    field.push('"');
                }
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(String::new()),
            (c, _) => {
                if let Some(field) = fields.last_mut() {
                    field.push(c);
                }
            }
        }
    }
    fields
}

/// The crate an item belongs to: the first lower-case path segment
/// followed by `::` (a hash in brackets after it is skipped), so
/// `core[c593...]::num::flt2dec` is core and `<&mut serde_json::de::...`
/// is serde_json. Sections, data and tables have no path.
fn crate_of(name: &str) -> String {
    let bytes = name.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let starts_word = i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        if starts_word && (bytes[i].is_ascii_lowercase() || bytes[i] == b'_') {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            let word = &name[start..i];
            let mut rest = &name[i..];
            if rest.starts_with('[') {
                rest = rest.find(']').map_or("", |end| &rest[end + 1..]);
            }
            if rest.starts_with("::") && !matches!(word, "impl" | "dyn" | "mut" | "as") {
                return word.to_owned();
            }
        } else {
            i += 1;
        }
    }
    if name.starts_with("data segment") || name.starts_with("elem[") || name.contains("table") {
        "(data and tables)".to_owned()
    } else {
        "(no path)".to_owned()
    }
}

fn kb(bytes: u64) -> String {
    format!("{:.1} KB", bytes as f64 / 1000.0)
}

/// The one file in `pkg` named `<prefix><hash><suffix>` (or without a hash).
fn verdict(brotli: u64, limit: u64) -> String {
    if brotli <= limit {
        format!("<= {} met", kb(limit))
    } else {
        format!("<= {} MISSED", kb(limit))
    }
}

fn named(files: &[String], prefix: &str, suffix: &str) -> Result<String> {
    let found: Vec<&String> = files
        .iter()
        .filter(|name| {
            name.strip_prefix(prefix)
                .and_then(|rest| rest.strip_suffix(suffix))
                .is_some_and(|hash| !hash.contains('.'))
        })
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
    fn measures_every_page_app_that_is_built() {
        let measured: Vec<&str> = PAGE_APP_ROUTES.iter().map(|(_, app)| *app).collect();
        assert_eq!(measured, crate::page_apps::PAGE_APPS);
    }

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
    fn an_item_belongs_to_the_crate_named_first_in_its_path() {
        use super::crate_of;
        assert_eq!(
            crate_of("core[c5930c85a12de822]::num::flt2dec::strategy::dragon::format_shortest"),
            "core"
        );
        assert_eq!(
            crate_of(
                "<T as tachys::view::any_view::IntoAny>::into_any::hydrate_async::{{closure}}::h1"
            ),
            "tachys"
        );
        assert_eq!(crate_of("<&mut serde_json::de::Deserializer<R> as serde_core::de::Deserializer>::deserialize_struct"), "serde_json");
        assert_eq!(crate_of("app::pages::team::TeamPage"), "app");
        assert_eq!(crate_of("data segment \".rodata\""), "(data and tables)");
        assert_eq!(crate_of("code[123]"), "(no path)");
    }

    #[test]
    fn csv_fields_keep_quoted_commas_and_quotes() {
        assert_eq!(
            super::csv_fields("\"\"\"function names\"\" subsection\",1736988,41.6,,"),
            vec!["\"function names\" subsection", "1736988", "41.6", "", ""]
        );
        assert_eq!(
            super::csv_fields("\"<A, B as x::Y>::f\",12,0.1,,")[..2],
            ["<A, B as x::Y>::f", "12"]
        );
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
