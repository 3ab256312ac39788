//! `cargo xtask scim-check --base URL --token TOKEN`: runs scim2-tester
//! (through the `scim2-cli` PyPI package, command `scim2 test`) against
//! `<base>/scim/v2` of a server that is already running, with a SCIM token
//! made on its Settings page. Fails on any check that does not succeed.
//! The tool is installed into `.data/venv` (the protocol checks' Python
//! virtual environment, `python::ensure_python_tool`) the first time,
//! pinned, so runs are repeatable.

use std::{path::Path, process::Command};

use crate::{run_command, Result};

/// The pinned `scim2-cli`; it brings scim2-tester with it.
pub const SCIM2_CLI: &str = "scim2-cli==0.6.0";

/// Runs every scim2-tester check against `<base_url>/scim/v2` with `token`
/// as the bearer token (passed in the environment, not on the command
/// line, so other users of the machine cannot read it).
pub fn run(root: &Path, base_url: &str, token: &str) -> Result<()> {
    let scim2 = crate::python::ensure_python_tool(root, SCIM2_CLI, "scim2")?;
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
