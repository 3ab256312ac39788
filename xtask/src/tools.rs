//! Finding and installing the tools the build and the tests need.

use std::{
    ffi::OsString,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::atomic::{AtomicBool, Ordering},
    time::{Duration, Instant},
};

use crate::{run_command, Result};

pub const CARGO_LEPTOS_VERSION: &str = "0.3.10";
pub const WASM_BINDGEN_VERSION: &str = "0.2.130";
pub const SQLX_CLI_VERSION: &str = "0.9.0";
pub const TWIGGY_VERSION: &str = "0.8.0";

/// The stdout of a command, if it ran and succeeded.
pub fn output_of(program: &str, args: &[&str]) -> Option<String> {
    let output = Command::new(program)
        .args(args)
        .stderr(Stdio::null())
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

pub fn is_root() -> bool {
    output_of("id", &["-u"]).is_some_and(|uid| uid.trim() == "0")
}

/// `end2end/node_modules/.bin` first on PATH: wasm-opt must come from the
/// npm `binaryen` package (Debian's older one breaks hydration).
pub fn path_with_node_bin(root: &Path) -> OsString {
    let mut paths = vec![root.join("end2end/node_modules/.bin")];
    if let Some(existing) = std::env::var_os("PATH") {
        paths.extend(std::env::split_paths(&existing));
    }
    std::env::join_paths(paths).unwrap_or_default()
}

pub fn cargo(root: &Path) -> Command {
    let program = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(program);
    command
        .current_dir(root)
        .env("PATH", path_with_node_bin(root));
    command
}

pub fn apt_install(packages: &[&str]) -> Result<()> {
    static UPDATED: AtomicBool = AtomicBool::new(false);
    if !is_root() {
        return Err(format!(
            "{} is missing; install it (apt-get install {}) or run as root so this command can",
            packages.join(", "),
            packages.join(" ")
        ));
    }
    if !UPDATED.swap(true, Ordering::SeqCst) {
        run_command(
            Command::new("apt-get").arg("update").arg("-q"),
            "apt-get update",
        )?;
    }
    run_command(
        Command::new("apt-get")
            .args(["install", "-y", "-q", "--no-install-recommends"])
            .args(packages)
            .env("DEBIAN_FRONTEND", "noninteractive"),
        &format!("apt-get install {}", packages.join(" ")),
    )
}

fn step(what: &str) {
    println!("xtask: {what}");
}

fn ensure_wasm_target() -> Result<()> {
    let installed = output_of("rustup", &["target", "list", "--installed"]).unwrap_or_default();
    if installed
        .lines()
        .any(|t| t.trim() == "wasm32-unknown-unknown")
    {
        return Ok(());
    }
    step("adding the wasm32-unknown-unknown target");
    run_command(
        Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]),
        "rustup target add wasm32-unknown-unknown",
    )
}

fn ensure_cargo_install(check: &[&str], version: &str, install: &[&str]) -> Result<()> {
    let (program, args) = check.split_first().ok_or("empty check command")?;
    if output_of(program, args).is_some_and(|out| out.contains(version)) {
        return Ok(());
    }
    step(&format!(
        "installing {} (once per machine; takes several minutes)",
        install.join(" ")
    ));
    run_command(
        Command::new("cargo").arg("install").args(install),
        &format!("cargo install {}", install.join(" ")),
    )
}

fn ensure_npm_packages(root: &Path) -> Result<()> {
    let dir = root.join("end2end");
    let lock = dir.join("package-lock.json");
    let stamp = dir.join("node_modules/.package-lock.json");
    let modified = |path: &PathBuf| path.metadata().and_then(|m| m.modified()).ok();
    let fresh = matches!((modified(&stamp), modified(&lock)), (Some(s), Some(l)) if s >= l);
    if fresh {
        return Ok(());
    }
    if output_of("npm", &["--version"]).is_none() {
        apt_install(&["nodejs", "npm"])?;
    }
    step("installing npm packages in end2end/ (Playwright, binaryen)");
    run_command(
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1"),
        "npm ci in end2end/",
    )
}

/// What `cargo leptos build --release` needs.
pub fn ensure_build_tools(root: &Path) -> Result<()> {
    ensure_wasm_target()?;
    ensure_cargo_install(
        &["cargo", "leptos", "--version"],
        CARGO_LEPTOS_VERSION,
        &[
            &format!("cargo-leptos@{CARGO_LEPTOS_VERSION}"),
            "--locked",
            "--features",
            "no_downloads",
        ],
    )?;
    ensure_cargo_install(
        &["wasm-bindgen", "--version"],
        WASM_BINDGEN_VERSION,
        &["wasm-bindgen-cli", "--version", WASM_BINDGEN_VERSION],
    )?;
    ensure_npm_packages(root)
}

/// Only for `cargo xtask bench wasm`'s list of what takes the room.
pub fn ensure_twiggy() -> Result<()> {
    ensure_cargo_install(
        &["twiggy", "--version"],
        TWIGGY_VERSION,
        &[&format!("twiggy@{TWIGGY_VERSION}"), "--locked"],
    )
}

/// Only for regenerating `.sqlx/`; builds and tests never need it.
pub fn ensure_sqlx_cli() -> Result<()> {
    ensure_cargo_install(
        &["cargo", "sqlx", "--version"],
        SQLX_CLI_VERSION,
        &[
            &format!("sqlx-cli@{SQLX_CLI_VERSION}"),
            "--locked",
            "--no-default-features",
            "--features",
            "postgres",
        ],
    )
}

/// What the end2end suite needs on top: Debian's Chromium.
pub fn ensure_browser_tools(_root: &Path) -> Result<()> {
    if Path::new("/usr/bin/chromium").exists() {
        return Ok(());
    }
    step("installing Chromium (Debian package)");
    apt_install(&["chromium"])
}

/// The HTTP load generator of `cargo xtask bench load`: Debian's `wrk`.
pub fn ensure_wrk() -> Result<()> {
    let on_path = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join("wrk").is_file()));
    if on_path {
        return Ok(());
    }
    step("installing wrk (Debian package)");
    apt_install(&["wrk"])
}

/// Asks a child to stop (SIGTERM), then insists after ten seconds.
pub fn terminate(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
}
