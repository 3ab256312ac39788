//! The apps of one page (`app::page_apps`: sign in, an invitation, the
//! Kiosk), built beside the whole app that `cargo leptos build` makes.
//! cargo-leptos builds one wasm per site, so each page app is built here
//! the way it builds the whole one: the same `frontend` crate (with the
//! page's feature), profile, target directory and flags (so the
//! dependencies compiled for the whole app are reused), then wasm-bindgen
//! and `wasm-opt` with its arguments. `page-apps.mjs` drops the linker's
//! sections (which cargo-leptos's wasm-split step drops for the whole app),
//! then names the files by a hash of their content and writes their `.br`
//! and `.gz` beside them, as cargo-leptos does for its own files.

use std::{path::Path, process::Command};

use crate::{run_command, target_dir, tools, Result};

/// The page apps, each the `frontend` feature that builds it and the start
/// of its files' names (`app::page_apps::PageApp::name`).
pub const PAGE_APPS: [&str; 3] = ["sign-in-app", "invitation-app", "kiosk-app"];

pub fn build(root: &Path) -> Result<()> {
    let front = target_dir(root).join("front");
    let work = target_dir(root).join("page-apps");
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    let pkg = root.join("target").join("site").join("pkg");
    for name in PAGE_APPS {
        let mut cargo = tools::cargo(root);
        cargo
            .args(["build", "--package=frontend", "--lib"])
            .arg(format!("--target-dir={}", front.display()))
            .args([
                "--target=wasm32-unknown-unknown",
                "--no-default-features",
                &format!("--features={name}"),
                "--profile=wasm-release",
            ])
            // What cargo-leptos sets for its own front build
            // (`Project::to_envs`), so nothing compiled for it is compiled
            // again; `--emit-relocs` is for its wasm-split.
            .env("RUSTFLAGS", "-Clink-args=--emit-relocs")
            .env("LEPTOS_OUTPUT_NAME", "teamroom")
            .env("LEPTOS_SITE_ROOT", "target/site")
            .env("LEPTOS_SITE_PKG_DIR", "pkg")
            .env("LEPTOS_SITE_ADDR", "127.0.0.1:3000")
            .env("LEPTOS_RELOAD_PORT", "3001")
            .env("LEPTOS_LIB_DIR", "frontend")
            .env("LEPTOS_BIN_DIR", "server")
            .env("LEPTOS_JS_MINIFY", "true")
            .env("LEPTOS_HASH_FILES", "true")
            .env("LEPTOS_HASH_FILE_NAME", "hash.txt");
        run_command(&mut cargo, &format!("cargo build {name}"))?;
        let built = front
            .join("wasm32-unknown-unknown")
            .join("wasm-release")
            .join("frontend.wasm");
        let linked = work.join(format!("{name}_linked.wasm"));
        run_command(
            node(root).arg("strip").arg(&built).arg(&linked),
            &format!("stripping {name}"),
        )?;
        run_command(
            Command::new("wasm-bindgen")
                .env("PATH", tools::path_with_node_bin(root))
                .args([
                    "--target",
                    "web",
                    "--no-typescript",
                    "--out-name",
                    name,
                    "--out-dir",
                ])
                .arg(&work)
                .arg(&linked),
            &format!("wasm-bindgen {name}"),
        )?;
        let bound = work.join(format!("{name}_bg.wasm"));
        let optimised = work.join(format!("{name}.wasm"));
        // cargo-leptos's wasm-opt arguments (Cargo.toml), plus `--strip-debug`:
        // the names section, which the whole app's wasm does not carry either.
        run_command(
            Command::new("wasm-opt")
                .env("PATH", tools::path_with_node_bin(root))
                .args([
                    "-Oz",
                    "--enable-bulk-memory",
                    "--enable-nontrapping-float-to-int",
                    "--strip-producers",
                    "--strip-debug",
                ])
                .arg(&bound)
                .arg("-o")
                .arg(&optimised),
            &format!("wasm-opt {name}"),
        )?;
        run_command(
            node(root)
                .arg("publish")
                .arg(name)
                .arg(work.join(format!("{name}.js")))
                .arg(&optimised)
                .arg(&pkg),
            &format!("naming and compressing {name}"),
        )?;
    }
    Ok(())
}

/// `node xtask/page-apps.mjs`, for its steps.
fn node(root: &Path) -> Command {
    let mut command = Command::new("node");
    command
        .env("PATH", tools::path_with_node_bin(root))
        .arg(root.join("xtask").join("page-apps.mjs"));
    command
}
