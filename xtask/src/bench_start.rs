//! `cargo xtask bench start`: how long the sign-in page, the Kiosk and the
//! signed-in Team page keep Chromium's main thread busy while they start,
//! at 4x CPU slowdown (`CPU_SLOWDOWN`), 10 cold loads each (`LOADS`), on a
//! workspace of 1,000 members (`BENCH_MEMBERS`: Team shows its first 50).
//! The floor is the sign-in page with its code refused. The browser side
//! is `end2end/bench-start.mjs`; it prints the table.

use std::{net::SocketAddr, path::Path, process::Command};

use crate::{bench_load, postgres, run_command, target_dir, tools, Result, SITE_BUILD};

const TAG: &str = "startbench";

pub fn command(root: &Path, args: &[String]) -> Result<()> {
    let members = std::env::var("BENCH_MEMBERS")
        .ok()
        .and_then(|value| value.replace('_', "").parse::<u64>().ok())
        .unwrap_or(1_000);
    tools::ensure_build_tools(root)?;
    tools::ensure_browser_tools(root)?;
    if !args.iter().any(|arg| arg == "--no-build") {
        run_command(
            tools::cargo(root).args(SITE_BUILD),
            "cargo leptos build --release --split --precompress",
        )?;
    }
    let server = target_dir(root).join("release").join("server");
    if !server.is_file() || !root.join("target/site/pkg").is_dir() {
        return Err("no release site: run without --no-build".into());
    }
    let throwaway = postgres::Throwaway::start(root)?;
    let outcome = (|| {
        let url = throwaway.fresh_database("teamroom_start_bench")?;
        bench_load::seed(&server, &url, members, TAG, "Start bench")?;
        let address: SocketAddr = ([127, 0, 0, 1], bench_load::free_port()?).into();
        let mut child = bench_load::start_server(root, &server, &url, address)?;
        println!("xtask: {members} members; loading pages in Chromium");
        let result = run_command(
            Command::new("node")
                .arg("bench-start.mjs")
                .current_dir(root.join("end2end"))
                .env("BASE_URL", format!("http://{address}"))
                .env("EMAIL", format!("admin@{TAG}.example.test"))
                .env("PASSWORD", bench_load::PASSWORD),
            "node bench-start.mjs",
        );
        tools::terminate(&mut child);
        result
    })();
    throwaway.stop();
    outcome
}
