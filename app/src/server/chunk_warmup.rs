//! Fetching a page's wasm chunks before it is opened, so a click does not
//! wait for them: on hover, focus or touch of a link to a signed-in page,
//! and, on the pages people sign in from (where the next page is almost
//! always the Team page inside the signed-in frame), at the first sign that
//! someone is using the page: a key, a pointer or a touch. Not at idle: a
//! visitor who only looks (or a crawler, or Lighthouse) does not download
//! the signed-in app, and the page's own files have the network to
//! themselves. The files are immutable and cached for a year, so the
//! wasm-split loader later finds them in the HTTP cache.
//!
//! The browser learns which files a page needs from the build's own
//! `__wasm_split_manifest.json` (content-hashed, cached like the chunks),
//! fetched once, at the first use or hover.

use std::{collections::HashMap, path::Path, sync::OnceLock};

use leptos::config::LeptosOptions;

/// The script, with `MANIFEST`, `PKG`, `SOON`, `FRAME`, `PAGES` and `CORE`
/// replaced. `CORE` is the whole app's shared core, on a page that runs an
/// app of its own (`crate::page_apps`): fetched with the first split. It keeps the `fetch` it found, before the stale-chunk reload
/// wraps it: a chunk gone after a deploy must not reload a page that only
/// guessed it might be needed. It does nothing when the browser asks to
/// save data.
///
/// `PAGES` is [`SIGNED_IN_PAGES`]: a link's path is matched segment by
/// segment, `:name` standing for any one segment.
const SCRIPT: &str = "((manifestUrl, pkg, soon, pages, core) => { \
if (!manifestUrl) return; \
const get = window.fetch.bind(window); \
try { performance.setResourceTimingBufferSize(5000); } catch (e) {} \
const matches = (pattern, path) => { const want = pattern.split('/'); \
const have = (path.length > 1 ? path.replace(/\\/$/, '') : path).split('/'); \
return want.length === have.length && want.every((part, i) => (part.startsWith(':') ? have[i] !== '' : part === have[i])); }; \
let manifest = null; const asked = new Set(); const fetched = new Set(); \
const saving = () => !!(navigator.connection && navigator.connection.saveData); \
const warm = async (name) => { \
if (asked.has(name) || saving()) return; asked.add(name); \
if (!manifest) manifest = get(manifestUrl).then((r) => (r.ok ? r.json() : {})).catch(() => ({})); \
const map = await manifest; \
const key = Object.keys(map).find((k) => k.startsWith(name)); \
if (!key) return; \
for (const entry of performance.getEntriesByType('resource')) fetched.add(entry.name); \
const queue = core.concat(map[key].map((file) => `${pkg}/${file}.wasm`)).map((url) => new URL(url, location.href).href).filter((url) => !fetched.has(url)); \
queue.forEach((url) => fetched.add(url)); \
const worker = async () => { for (let url; (url = queue.shift()); ) { \
await get(url, { priority: 'low' }).then((r) => r.arrayBuffer()).catch(() => {}); } }; \
await Promise.all([worker(), worker(), worker(), worker()]); }; \
const pointed = (event) => { \
const link = event.target && event.target.closest ? event.target.closest('a[href]') : null; \
if (!link || link.origin !== location.origin) return; \
for (const [pattern, name] of pages) { if (matches(pattern, link.pathname)) { warm(FRAME).then(() => warm(name)); return; } } }; \
for (const type of ['pointerover', 'focusin', 'touchstart']) document.addEventListener(type, pointed, { passive: true }); \
const used = ['keydown', 'input', 'pointerdown', 'pointerover', 'touchstart']; \
const start = () => { used.forEach((type) => removeEventListener(type, start, true)); \
soon.reduce((done, name) => done.then(() => warm(name)), Promise.resolve()); }; \
if (soon.length) used.forEach((type) => addEventListener(type, start, { capture: true, passive: true })); \
})(MANIFEST, PKG, SOON, PAGES, CORE);";

/// The signed-in frame's split (the start of its name in the manifest),
/// which holds the Team page too (`FramePart` in `App`).
const FRAME_SPLIT: &str = "signed_in_frame_";
/// A member's card's split.
const MEMBER_SPLIT: &str = "__member_route_view_";
/// The split of every other signed-in page but a member's card
/// (`page_group!` in `App`).
const SIGNED_IN_GROUP_SPLIT: &str = "signed_in_page_";

/// The pages inside the signed-in frame, as `App` routes them, and the
/// start of their split's name in the build's manifest. A test reads `App`
/// to keep the two in step.
pub const SIGNED_IN_PAGES: &[(&str, &str)] = &[
    ("/team/import", SIGNED_IN_GROUP_SPLIT),
    ("/workspaces/new", SIGNED_IN_GROUP_SPLIT),
    ("/team", FRAME_SPLIT),
    ("/team/groups", SIGNED_IN_GROUP_SPLIT),
    ("/team/projects", SIGNED_IN_GROUP_SPLIT),
    ("/team/members/:id", MEMBER_SPLIT),
    ("/time", SIGNED_IN_GROUP_SPLIT),
    ("/reports", SIGNED_IN_GROUP_SPLIT),
    ("/audit", SIGNED_IN_GROUP_SPLIT),
    ("/profile", SIGNED_IN_GROUP_SPLIT),
    ("/accounts", SIGNED_IN_GROUP_SPLIT),
    ("/settings", SIGNED_IN_GROUP_SPLIT),
];

/// The signed-out group's split (`page_group!` in `App`).
const SIGNED_OUT_GROUP_SPLIT: &str = "signed_out_page_";

/// The pages outside the signed-in frame, as `App` routes them, and the
/// start of their split's name. The same test keeps it in step with `App`.
pub const SIGNED_OUT_PAGES: &[(&str, &str)] = &[
    ("/", SIGNED_OUT_GROUP_SPLIT),
    ("/signin", "__sign_in_route_view_"),
    ("/signup", SIGNED_OUT_GROUP_SPLIT),
    ("/forgot-password", SIGNED_OUT_GROUP_SPLIT),
    ("/signin/two-factor", SIGNED_OUT_GROUP_SPLIT),
    ("/reset-password/:token", SIGNED_OUT_GROUP_SPLIT),
    ("/invite/:token", "__accept_invite_route_view_"),
    ("/verify-email/:token", SIGNED_OUT_GROUP_SPLIT),
    ("/email-change/:token", SIGNED_OUT_GROUP_SPLIT),
    ("/kiosk", "__kiosk_route_view_"),
];

/// Whether `path` is a page at `pattern` (a Leptos path: `:name` is any one
/// segment), as the warm-up script matches links. A trailing slash does not
/// count.
fn route_matches(pattern: &str, path: &str) -> bool {
    let path = match path.trim_end_matches('/') {
        "" => "/",
        trimmed => trimmed,
    };
    crate::page_apps::is_route(pattern, path)
}

/// The splits the page at `path` runs in: its own, and the signed-in
/// frame's for a page inside it (the Team page's own is the frame's).
/// None for a path no route takes.
pub fn splits_of_page(path: &str) -> Vec<&'static str> {
    if let Some((_, split)) = SIGNED_OUT_PAGES
        .iter()
        .find(|(pattern, _)| route_matches(pattern, path))
    {
        return vec![*split];
    }
    SIGNED_IN_PAGES
        .iter()
        .find(|(pattern, _)| route_matches(pattern, path))
        .map(|(_, split)| {
            let mut splits = vec![FRAME_SPLIT];
            if *split != FRAME_SPLIT {
                splits.push(*split);
            }
            splits
        })
        .unwrap_or_default()
}

/// The splits worth fetching at the first use of the page at `path`: after
/// signing in, signing up, accepting an invitation or confirming an
/// address, people land in the signed-in frame on the Team page. Nothing
/// elsewhere (the Kiosk stays the Kiosk; signed-in pages warm on hover).
pub fn splits_on_first_use(path: &str) -> &'static [&'static str] {
    const SIGNED_IN_NEXT: &[&str] = &[FRAME_SPLIT];
    const BEFORE_TEAM: &[&str] = &[
        "/",
        "/signin",
        "/signin/two-factor",
        "/signup",
        "/invite/:token",
        "/reset-password/:token",
        "/verify-email/:token",
    ];
    if BEFORE_TEAM
        .iter()
        .any(|pattern| route_matches(pattern, path))
    {
        SIGNED_IN_NEXT
    } else {
        &[]
    }
}

/// The manifest's address under `pkg_url` (e.g. `/pkg`), when the site was
/// built with `--split`. Looked up once: the files do not change while the
/// server runs.
fn manifest_url(site_root: &str, pkg_dir: &str) -> Option<&'static str> {
    static FOUND: OnceLock<Option<String>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            let directory = Path::new(site_root).join(pkg_dir);
            std::fs::read_dir(directory)
                .ok()?
                .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
                .find(|name| name.starts_with("__wasm_split_manifest.") && name.ends_with(".json"))
                .map(|name| format!("/{pkg_dir}/{name}"))
        })
        .as_deref()
}

/// The build's manifest (split name -> the `.wasm` files it needs, its own
/// included), read once; `None` without a split build.
fn manifest(site_root: &str, pkg_dir: &str) -> Option<&'static HashMap<String, Vec<String>>> {
    static READ: OnceLock<Option<HashMap<String, Vec<String>>>> = OnceLock::new();
    READ.get_or_init(|| {
        let url = manifest_url(site_root, pkg_dir)?;
        let file = Path::new(site_root).join(url.trim_start_matches('/'));
        let text = std::fs::read_to_string(file).ok()?;
        serde_json::from_str(&text).ok()
    })
    .as_ref()
}

/// The addresses of the `.wasm` files the page at `path` needs beyond the
/// shared core, each once, in the manifest's order.
pub fn files_of_page(site_root: &str, pkg_dir: &str, path: &str) -> Vec<String> {
    let Some(manifest) = manifest(site_root, pkg_dir) else {
        return Vec::new();
    };
    files_in(manifest, &format!("/{pkg_dir}"), &splits_of_page(path))
}

fn files_in(manifest: &HashMap<String, Vec<String>>, pkg: &str, splits: &[&str]) -> Vec<String> {
    let mut files: Vec<String> = Vec::new();
    for split in splits {
        // Each split is one key; its name ends in a hash of the build.
        let Some((_, needed)) = manifest.iter().find(|(key, _)| key.starts_with(split)) else {
            continue;
        };
        for file in needed {
            let url = format!("{pkg}/{file}.wasm");
            if !files.contains(&url) {
                files.push(url);
            }
        }
    }
    files
}

/// The script for the page at `path`, or `None` without a split build.
/// `on_page_app`: the page runs an app of its own, so the whole app's core
/// is warmed too.
pub fn script(options: &LeptosOptions, path: &str, on_page_app: bool) -> Option<String> {
    let manifest = manifest_url(&options.site_root, &options.site_pkg_dir)?;
    let core = if on_page_app {
        super::page_script::core_addresses(options)
    } else {
        Vec::new()
    };
    Some(script_with(
        manifest,
        &format!("/{}", options.site_pkg_dir),
        splits_on_first_use(path),
        &core,
    ))
}

fn script_with(manifest: &str, pkg: &str, soon: &[&str], core: &[String]) -> String {
    // The values are ours (file names from the build, fixed split names),
    // never from the request; JSON-quoted all the same.
    let quote = |text: &str| serde_json::to_string(text).unwrap_or_else(|_| "null".to_owned());
    let soon = serde_json::to_string(soon).unwrap_or_else(|_| "[]".to_owned());
    SCRIPT
        .replacen("MANIFEST", &quote(manifest), 1)
        .replacen("PKG", &quote(pkg), 1)
        .replacen("SOON", &soon, 1)
        .replacen("FRAME", &quote(FRAME_SPLIT), 1)
        .replacen(
            "PAGES",
            &serde_json::to_string(SIGNED_IN_PAGES).unwrap_or_else(|_| "[]".to_owned()),
            1,
        )
        .replacen(
            "CORE",
            &serde_json::to_string(core).unwrap_or_else(|_| "[]".to_owned()),
            1,
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pages_people_sign_in_from_warm_the_frame_and_the_team_page() {
        for path in [
            "/",
            "/signin",
            "/signin/",
            "/signup",
            "/signin/two-factor",
            "/invite/abc",
            "/reset-password/abc",
            "/verify-email/abc",
        ] {
            assert_eq!(splits_on_first_use(path), [FRAME_SPLIT], "{path}");
        }
    }

    #[test]
    fn the_kiosk_and_signed_in_pages_warm_nothing_on_first_use() {
        for path in [
            "/kiosk",
            "/team",
            "/time",
            "/forgot-password",
            "/signinx",
            "/team/members/4",
        ] {
            assert!(splits_on_first_use(path).is_empty(), "{path}");
        }
    }

    #[test]
    fn the_values_are_filled_in_once_and_quoted() {
        let script = script_with(
            "/pkg/__wasm_split_manifest.abc.json",
            "/pkg",
            &["team"],
            &["/pkg/teamroom.W.wasm".to_owned()],
        );
        let pages = serde_json::to_string(SIGNED_IN_PAGES).expect("pages as JSON");
        assert!(script.ends_with(&format!(
            r#"}})("/pkg/__wasm_split_manifest.abc.json", "/pkg", ["team"], {pages}, ["/pkg/teamroom.W.wasm"]);"#
        )));
        assert!(script.starts_with("((manifestUrl, pkg, soon, pages, core) => {"));
        // An inline script must not be able to end early.
        assert!(!script.contains("</"));
    }

    #[test]
    fn a_page_runs_in_its_own_split_and_a_signed_in_one_in_the_frame_too() {
        assert_eq!(splits_of_page("/signin"), ["__sign_in_route_view_"]);
        assert_eq!(splits_of_page("/signin/"), ["__sign_in_route_view_"]);
        assert_eq!(
            splits_of_page("/signin/two-factor"),
            [SIGNED_OUT_GROUP_SPLIT]
        );
        assert_eq!(
            splits_of_page("/invite/abc"),
            ["__accept_invite_route_view_"]
        );
        assert_eq!(splits_of_page("/"), [SIGNED_OUT_GROUP_SPLIT]);
        assert_eq!(splits_of_page("/team"), [FRAME_SPLIT]);
        assert_eq!(
            splits_of_page("/team/members/7"),
            [FRAME_SPLIT, MEMBER_SPLIT]
        );
        assert_eq!(
            splits_of_page("/time"),
            [FRAME_SPLIT, SIGNED_IN_GROUP_SPLIT]
        );
        for unknown in [
            "/invite",
            "/invite/",
            "/team/members",
            "/nowhere",
            "/kiosk/x",
        ] {
            assert!(splits_of_page(unknown).is_empty(), "{unknown}");
        }
    }

    #[test]
    fn a_pages_files_are_its_splits_lists_each_once() {
        let manifest: HashMap<String, Vec<String>> = serde_json::from_str(
            r#"{"signed_in_frame_ab12": ["split_f.X", "chunk_1.A", "chunk_2.B"],
                "signed_in_page_cd34": ["split_p.Y", "chunk_2.B", "chunk_3.C"],
                "__member_route_view_ef56": ["split_m.Z"]}"#,
        )
        .expect("a manifest");
        assert_eq!(
            files_in(&manifest, "/pkg", &splits_of_page("/time")),
            [
                "/pkg/split_f.X.wasm",
                "/pkg/chunk_1.A.wasm",
                "/pkg/chunk_2.B.wasm",
                "/pkg/split_p.Y.wasm",
                "/pkg/chunk_3.C.wasm"
            ]
        );
        assert_eq!(
            files_in(&manifest, "/pkg", &splits_of_page("/team")),
            [
                "/pkg/split_f.X.wasm",
                "/pkg/chunk_1.A.wasm",
                "/pkg/chunk_2.B.wasm"
            ]
        );
        assert!(files_in(&manifest, "/pkg", &splits_of_page("/signin")).is_empty());
    }

    /// `SIGNED_OUT_PAGES` names every page `App` routes outside the
    /// signed-in frame, with its split.
    #[test]
    fn the_signed_out_pages_are_the_routes_outside_the_frame() {
        let app = include_str!("../lib.rs");
        let routes = between(app, "<Routes fallback=", "</Routes>");
        let frame = between(routes, "<ParentRoute", "</ParentRoute>");
        let outside = routes.replacen(frame, "", 1);
        let grouped = grouped_pages(app, "page_group!(signed_out_page,");
        let routed = routes_with_splits(&outside, &grouped, SIGNED_OUT_GROUP_SPLIT);
        assert_eq!(grouped.len(), 7, "{grouped:?}");
        assert_eq!(routed.len(), 10, "{routed:?}");
        assert_eq!(sorted(SIGNED_OUT_PAGES), routed);
    }

    /// `SIGNED_IN_PAGES` names every page `App` puts inside the signed-in
    /// frame, with its path and its split, and nothing else.
    #[test]
    fn the_signed_in_pages_are_the_routes_inside_the_frame() {
        let app = include_str!("../lib.rs");
        let frame = between(
            app,
            "<ParentRoute path=path!(\"\") view={Lazy::<SignedInFrameRoute>",
            "</ParentRoute>",
        );
        let grouped = grouped_pages(app, "page_group!(signed_in_page,");
        let mut routed = routes_with_splits(frame, &grouped, SIGNED_IN_GROUP_SPLIT);
        // The routes `frame_routes!` puts in the frame's own split.
        let in_frame: Vec<String> = between(app, "frame_routes! {", "}")
            .lines()
            .filter_map(|line| line.trim().split(" => ").next()?.strip_suffix("Route"))
            .map(|page| format!("__{}_route_view_", snake(page)))
            .collect();
        assert_eq!(in_frame.len(), 2, "{in_frame:?}");
        for (_, split) in &mut routed {
            if in_frame.contains(split) {
                *split = FRAME_SPLIT.to_owned();
            }
        }
        routed.sort();
        assert_eq!(grouped.len(), 10, "{grouped:?}");
        assert_eq!(routed.len(), 12, "{routed:?}");
        assert_eq!(sorted(SIGNED_IN_PAGES), routed);
    }

    /// The text of `app` from `start` to just before `end`.
    fn between<'a>(app: &'a str, start: &str, end: &str) -> &'a str {
        let from = app.find(start).unwrap_or_else(|| panic!("{start} in App"));
        let to = from
            + app[from..]
                .find(end)
                .unwrap_or_else(|| panic!("{end} after it"));
        &app[from..to]
    }

    /// The pages a `page_group!` lists (`SignUp` for `SignUpRoute`).
    fn grouped_pages<'a>(app: &'a str, group: &str) -> Vec<&'a str> {
        between(app, group, "});")
            .lines()
            .filter_map(|line| line.trim().split(" => ").next()?.strip_suffix("Route"))
            .collect()
    }

    /// Each `<Route>` in `routes` with the start of its split's name: the
    /// group's when its page is in `grouped`, else its own. Sorted.
    fn routes_with_splits(
        routes: &str,
        grouped: &[&str],
        group_split: &str,
    ) -> Vec<(String, String)> {
        let mut found: Vec<(String, String)> = routes
            .lines()
            .filter_map(|line| {
                let path = line
                    .split("<Route path=path!(\"")
                    .nth(1)?
                    .split('"')
                    .next()?;
                let page = line
                    .split("Lazy::<")
                    .nth(1)?
                    .split('>')
                    .next()?
                    .strip_suffix("Route")?;
                let split = if grouped.contains(&page) {
                    group_split.to_owned()
                } else {
                    format!("__{}_route_view_", snake(page))
                };
                Some((path.to_owned(), split))
            })
            .collect();
        found.sort();
        found
    }

    fn sorted(table: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut pairs: Vec<(String, String)> = table
            .iter()
            .map(|(path, split)| ((*path).to_owned(), (*split).to_owned()))
            .collect();
        pairs.sort();
        pairs
    }

    /// `SignInPage` as its split names it: `sign_in`.
    fn snake(name: &str) -> String {
        name.chars().fold(String::new(), |mut out, letter| {
            if letter.is_uppercase() && !out.is_empty() {
                out.push('_');
            }
            out.push(letter.to_ascii_lowercase());
            out
        })
    }
}
