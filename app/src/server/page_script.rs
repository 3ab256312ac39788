//! How a page starts its app. Not Leptos's `HydrationScripts`: that puts
//! a preload of the core and of every one of the page's wasm files in the
//! head, and on a slow phone link those (up to 600 KB) share the connection
//! with the stylesheet the first paint waits for. Here the page paints
//! first, from the server's HTML and its stylesheet alone; in the next task
//! the script adds the same hints (core, loader, the page's files from the
//! build's manifest, so they download in parallel rather than after the
//! core) and hydrates. A hint costs a slow phone's main thread a few ms
//! (Team's 77 took 100-380 ms in one task at 4x CPU slowdown), so they go
//! five to a task; once the app runs, it fetches what is left itself (a
//! hint after its fetch would be a second request). A hidden tab starts at
//! once (it paints nothing), and the pages opened from a mail start when
//! the browser is idle. A second after the script runs it starts
//! regardless, should no frame come.

use std::sync::OnceLock;

use leptos::config::LeptosOptions;

use super::chunk_warmup;
use crate::page_apps::PageApp;

/// The script's function; the call with the values follows it.
const FUNCTION: &str = "((js, wasm, loader, files, idle) => { \
const hint = (rel, href) => { const link = document.createElement('link'); link.rel = rel; link.href = href; \
if (rel === 'preload') { link.as = 'fetch'; link.type = 'application/wasm'; } \
link.crossOrigin = 'anonymous'; document.head.append(link); }; \
let started = false; let running = false; \
const start = () => { if (started) return; started = true; hint('preload', wasm); if (loader) hint('modulepreload', loader); \
import(js).then((app) => app.default({ module_or_path: wasm }).then(() => { running = true; app.hydrate(); })); \
const rest = files.slice(); \
const more = () => { if (running) return; rest.splice(0, 5).forEach((file) => hint('preload', file)); if (rest.length > 0) setTimeout(more, 0); }; \
more(); }; \
if (idle && 'requestIdleCallback' in window) requestIdleCallback(start, { timeout: 2000 }); \
else if (document.visibilityState === 'hidden') start(); \
else { requestAnimationFrame(() => setTimeout(start, 0)); setTimeout(start, 1000); } })";

/// The names cargo-leptos gave the core's files: with a content hash when
/// it hashes files (read from the hash file it writes beside the server
/// binary, as Leptos's own components do).
struct CoreFiles {
    js: String,
    wasm: String,
    loader: Option<String>,
}

fn core_files(options: &LeptosOptions) -> &'static CoreFiles {
    static NAMED: OnceLock<CoreFiles> = OnceLock::new();
    NAMED.get_or_init(|| {
        let hashes = if options.hash_files {
            std::env::current_exe()
                .ok()
                .and_then(|exe| exe.parent().map(|dir| dir.join(options.hash_file.as_ref())))
                .and_then(|file| std::fs::read_to_string(file).ok())
                .unwrap_or_default()
        } else {
            String::new()
        };
        core_files_from(
            &options.output_name,
            &options.site_pkg_dir,
            &hashes,
            std::option_env!("LEPTOS_OUTPUT_NAME").is_some(),
        )
    })
}

fn core_files_from(
    output: &str,
    pkg: &str,
    hashes: &str,
    named_by_cargo_leptos: bool,
) -> CoreFiles {
    let hash_of = |kind: &str| {
        hashes.lines().find_map(|line| {
            let (file, hash) = line.split_once(':')?;
            (file.trim() == kind).then(|| hash.trim().to_owned())
        })
    };
    let with_hash = |name: &str, kind: &str| match hash_of(kind) {
        Some(hash) => format!("{name}.{hash}"),
        None => name.to_owned(),
    };
    // Without cargo-leptos (a plain wasm-bindgen build) the wasm is `_bg`.
    let wasm = if hash_of("wasm").is_some() || named_by_cargo_leptos {
        with_hash(output, "wasm")
    } else {
        format!("{output}_bg")
    };
    CoreFiles {
        js: format!("/{pkg}/{}.js", with_hash(output, "js")),
        wasm: format!("/{pkg}/{wasm}.wasm"),
        loader: hash_of("split").map(|hash| format!("/{pkg}/__wasm_split.{hash}.js")),
    }
}

/// A page app's files (`crate::page_apps`), as `cargo xtask` wrote them:
/// `<name>.<hash>.js` and `<name>.<hash>.wasm` under the site's `pkg`.
#[derive(Debug, PartialEq, Eq)]
pub struct PageAppFiles {
    pub js: String,
    pub wasm: String,
}

/// The files of `app`, when the build made them (a plain `cargo leptos
/// build` does not: every page then runs the whole app). Looked up once.
pub fn page_app_files(options: &LeptosOptions, app: PageApp) -> Option<&'static PageAppFiles> {
    static FOUND: OnceLock<Vec<(PageApp, PageAppFiles)>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            let directory = std::path::Path::new(options.site_root.as_ref())
                .join(options.site_pkg_dir.as_ref());
            let names: Vec<String> = std::fs::read_dir(directory)
                .map(|entries| {
                    entries
                        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
                        .collect()
                })
                .unwrap_or_default();
            PageApp::ALL
                .into_iter()
                .filter_map(|app| {
                    Some((app, page_app_files_in(&names, &options.site_pkg_dir, app)?))
                })
                .collect()
        })
        .iter()
        .find_map(|(found, files)| (*found == app).then_some(files))
}

fn page_app_files_in(names: &[String], pkg: &str, app: PageApp) -> Option<PageAppFiles> {
    let named = |extension: &str| {
        names
            .iter()
            .find(|name| {
                name.strip_prefix(app.name())
                    .and_then(|rest| rest.strip_prefix('.'))
                    .and_then(|rest| rest.strip_suffix(extension))
                    .is_some_and(|hash| !hash.is_empty() && !hash.contains('.'))
            })
            .map(|name| format!("/{pkg}/{name}"))
    };
    Some(PageAppFiles {
        js: named(".js")?,
        wasm: named(".wasm")?,
    })
}

/// The script for a page running its own app: no split loader, no chunks.
pub fn script_of_page_app(files: &PageAppFiles, when_idle: bool) -> String {
    let core = CoreFiles {
        js: files.js.clone(),
        wasm: files.wasm.clone(),
        loader: None,
    };
    script_with(&core, &[], when_idle)
}

/// The addresses of the whole app's shared core (script, wasm, split
/// loader): a page app fetches them early for the page that comes next.
pub fn core_addresses(options: &LeptosOptions) -> Vec<String> {
    let core = core_files(options);
    let mut addresses = vec![core.js.clone(), core.wasm.clone()];
    addresses.extend(core.loader.clone());
    addresses
}

/// The script for the page at `path`. `when_idle`: start when the browser
/// is idle rather than right after the first paint.
pub fn script(options: &LeptosOptions, path: &str, when_idle: bool) -> String {
    let files = chunk_warmup::files_of_page(&options.site_root, &options.site_pkg_dir, path);
    script_with(core_files(options), &files, when_idle)
}

fn script_with(core: &CoreFiles, files: &[String], when_idle: bool) -> String {
    // The values are ours (names from the build), never from the request;
    // JSON-quoted all the same.
    format!(
        "{FUNCTION}({}, {}, {}, {}, {when_idle});",
        json(&core.js),
        json(&core.wasm),
        json(&core.loader),
        json(files),
    )
}

fn json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names_come_from_the_hash_file() {
        let core = core_files_from(
            "teamroom",
            "pkg",
            "js: J1\nwasm: W2\ncss: C3\nmanifest: M4\nsplit: S5\n",
            true,
        );
        assert_eq!(core.js, "/pkg/teamroom.J1.js");
        assert_eq!(core.wasm, "/pkg/teamroom.W2.wasm");
        assert_eq!(core.loader.as_deref(), Some("/pkg/__wasm_split.S5.js"));
    }

    #[test]
    fn without_hashes_the_names_are_plain() {
        let core = core_files_from("teamroom", "pkg", "", true);
        assert_eq!(core.js, "/pkg/teamroom.js");
        assert_eq!(core.wasm, "/pkg/teamroom.wasm");
        assert!(core.loader.is_none());
        assert_eq!(
            core_files_from("teamroom", "pkg", "", false).wasm,
            "/pkg/teamroom_bg.wasm"
        );
    }

    /// The page's address picks a table entry and nothing else: a crafted
    /// path cannot end the inline script or add to it.
    #[test]
    fn a_crafted_path_never_reaches_the_script() {
        let options = LeptosOptions::builder().output_name("teamroom").build();
        for path in [
            "/invite/</script><script>alert(1)</script>",
            "/team/members/\");alert(1);//",
        ] {
            let page = script(&options, path, false);
            assert!(!page.contains("alert"), "{page}");
            assert!(!page.contains("</"), "{page}");
        }
    }

    #[test]
    fn a_page_app_is_found_by_its_name_and_one_hash() {
        let names: Vec<String> = [
            "sign-in-app.AbC_1.js",
            "sign-in-app.AbC_1.js.br",
            "sign-in-app.XyZ-2.wasm",
            "sign-in-app.XyZ-2.wasm.gz",
            "kiosk-app.K.js",
            "teamroom.T.wasm",
        ]
        .map(str::to_owned)
        .to_vec();
        assert_eq!(
            page_app_files_in(&names, "pkg", PageApp::SignIn),
            Some(PageAppFiles {
                js: "/pkg/sign-in-app.AbC_1.js".to_owned(),
                wasm: "/pkg/sign-in-app.XyZ-2.wasm".to_owned(),
            })
        );
        // Its wasm is missing: the page runs the whole app.
        assert_eq!(page_app_files_in(&names, "pkg", PageApp::Kiosk), None);
        assert_eq!(
            page_app_files_in(&names, "pkg", PageApp::AcceptInvite),
            None
        );
        let script = script_of_page_app(
            &PageAppFiles {
                js: "/pkg/kiosk-app.K.js".to_owned(),
                wasm: "/pkg/kiosk-app.W.wasm".to_owned(),
            },
            false,
        );
        assert!(script
            .ends_with(r#"})("/pkg/kiosk-app.K.js", "/pkg/kiosk-app.W.wasm", null, [], false);"#));
    }

    #[test]
    fn the_values_are_filled_in_once_and_quoted() {
        let core = core_files_from("teamroom", "pkg", "js: J\nwasm: W\nsplit: S", true);
        let script = script_with(&core, &["/pkg/chunk_1.A.wasm".to_owned()], false);
        assert!(script.ends_with(
            r#"})("/pkg/teamroom.J.js", "/pkg/teamroom.W.wasm", "/pkg/__wasm_split.S.js", ["/pkg/chunk_1.A.wasm"], false);"#
        ));
        assert!(script.starts_with("((js, wasm, loader, files, idle) => {"));
        // An inline script must not be able to end early.
        assert!(!script.contains("</"));
    }
}
