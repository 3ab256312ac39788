//! `cargo xtask bench ui`: keystroke to rendered rows on the Team page in
//! Chromium, on a 1,000,000-member workspace (`BENCH_MEMBERS`), 100
//! searches (`SEARCHES`), 20 filter changes and 20 "Load more" clicks. The
//! browser side is `end2end/bench-ui.mjs`; it prints the table.

use std::{net::SocketAddr, path::Path, process::Command};

use crate::{bench_load, postgres, run_command, target_dir, tools, Result};

pub fn command(root: &Path, args: &[String]) -> Result<()> {
    in_browser(
        root,
        args,
        &BrowserBench {
            tag: "uibench",
            name: "UI bench",
            members: 1_000_000,
            script: "bench-ui.mjs",
            doing: "typing in Chromium",
        },
    )
}

/// A benchmark whose browser side is a node script in `end2end/`.
pub struct BrowserBench {
    /// The seeded workspace's tag (its admin is `admin@{tag}.example.test`).
    pub tag: &'static str,
    pub name: &'static str,
    /// Members seeded unless `BENCH_MEMBERS` says otherwise.
    pub members: u64,
    pub script: &'static str,
    /// What the script does, for the progress line.
    pub doing: &'static str,
}

/// Builds the release site (unless `--no-build`), seeds a throwaway
/// database, starts the server on a free port and runs the script against
/// it (BASE_URL, EMAIL, PASSWORD).
pub fn in_browser(root: &Path, args: &[String], bench: &BrowserBench) -> Result<()> {
    let members = std::env::var("BENCH_MEMBERS")
        .ok()
        .and_then(|value| value.replace('_', "").parse::<u64>().ok())
        .unwrap_or(bench.members);
    tools::ensure_build_tools(root)?;
    tools::ensure_browser_tools(root)?;
    if !args.iter().any(|arg| arg == "--no-build") {
        crate::build_site(root)?;
    }
    let server = target_dir(root).join("release").join("server");
    if !server.is_file() || !root.join("target/site/pkg").is_dir() {
        return Err("no release site: run without --no-build".into());
    }
    let throwaway = postgres::Throwaway::start(root)?;
    let outcome = (|| {
        let url = throwaway.fresh_database(&format!("teamroom_{}", bench.tag))?;
        bench_load::seed(&server, &url, members, bench.tag, bench.name)?;
        let address: SocketAddr = ([127, 0, 0, 1], bench_load::free_port()?).into();
        let mut child = bench_load::start_server(root, &server, &url, address)?;
        println!("xtask: {members} members; {}", bench.doing);
        let result = run_command(
            Command::new("node")
                .arg(bench.script)
                .current_dir(root.join("end2end"))
                .env("BASE_URL", format!("http://{address}"))
                .env("EMAIL", format!("admin@{}.example.test", bench.tag))
                .env("PASSWORD", bench_load::PASSWORD),
            &format!("node {}", bench.script),
        );
        tools::terminate(&mut child);
        result
    })();
    throwaway.stop();
    outcome
}
