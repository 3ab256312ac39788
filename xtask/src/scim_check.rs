//! `cargo xtask scim-check --base URL --token TOKEN`: runs scim2-tester
//! (through the `scim2-cli` PyPI package, command `scim2 test`) against
//! `<base>/scim/v2` of a server that is already running, with a SCIM token
//! made on its Settings page. Fails on any check that does not succeed.
//! The tool is installed into `.data/venv-scim` (a Python virtual
//! environment) the first time, pinned, so runs are repeatable.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use crate::{run_command, Result};

/// The pinned `scim2-cli`; it brings scim2-tester with it.
pub const SCIM2_CLI: &str = "scim2-cli==0.6.0";

fn venv_dir(root: &Path) -> PathBuf {
    root.join(".data").join("venv-scim")
}

/// The `scim2` command, installing the virtual environment when missing
/// (or when it holds another version).
fn ensure_scim2(root: &Path) -> Result<PathBuf> {
    let venv = venv_dir(root);
    let bin = venv.join("bin");
    let scim2 = bin.join("scim2");
    let pinned = SCIM2_CLI.trim_start_matches("scim2-cli==");
    let installed = Command::new(bin.join("pip"))
        .args(["show", "scim2-cli"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .is_some_and(|text| {
            text.lines()
                .any(|l| l.trim() == format!("Version: {pinned}"))
        });
    if scim2.exists() && installed {
        return Ok(scim2);
    }
    if !bin.join("python").exists() {
        eprintln!("xtask: creating {}", venv.display());
        if let Some(parent) = venv.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("could not create {}: {e}", parent.display()))?;
        }
        run_command(
            Command::new("python3").arg("-m").arg("venv").arg(&venv),
            "python3 -m venv (on Debian: apt-get install python3-venv)",
        )?;
    }
    eprintln!("xtask: installing {SCIM2_CLI}");
    run_command(
        Command::new(bin.join("pip")).args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            SCIM2_CLI,
        ]),
        "pip install scim2-cli",
    )?;
    if !scim2.exists() {
        return Err(format!("{SCIM2_CLI} installed no `scim2` command"));
    }
    Ok(scim2)
}

/// Runs every scim2-tester check against `<base_url>/scim/v2` with `token`
/// as the bearer token (passed in the environment, not on the command
/// line, so other users of the machine cannot read it).
pub fn run(root: &Path, base_url: &str, token: &str) -> Result<()> {
    let scim2 = ensure_scim2(root)?;
    let url = format!("{}/scim/v2", base_url.trim_end_matches('/'));
    eprintln!("xtask: scim2-tester on {url}");
    run_command(
        Command::new(scim2)
            .args(["--url", &url, "test"])
            .env("SCIM_CLI_HEADERS", format!("Authorization: Bearer {token}")),
        "scim2-tester (scim2 test)",
    )
}

/// `cargo xtask scim-check --base URL --token TOKEN`.
pub fn command(root: &Path, args: &[String]) -> Result<()> {
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let base = value("--base").unwrap_or_else(|| "http://127.0.0.1:3000".to_owned());
    let token = value("--token")
        .or_else(|| std::env::var("SCIM_TOKEN").ok())
        .ok_or("give the SCIM token: --token TOKEN (made on the Settings page) or SCIM_TOKEN")?;
    run(root, &base, &token)
}
