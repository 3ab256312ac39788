//! The protocol phase of `cargo xtask test`: the real server on a free
//! port against a throwaway database with the demo data, checked from the
//! outside by schemathesis against its own OpenAPI document with an Owner's
//! API key. Any failure of its default checks fails the test command.

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use crate::{postgres::Throwaway, python, run_command, target_dir, tools, Result};

/// Pinned so a new release cannot change what passes.
pub const SCHEMATHESIS: &str = "schemathesis==4.32.5";
/// Examples per operation: enough to find wrong statuses and schemas, and
/// the phase stays around a minute.
const MAX_EXAMPLES: &str = "20";
/// The account the key is made for (`server seed-demo`).
const DEMO_OWNER: &str = "owner@demo.teamroom.test";

/// A server started for the checks, stopped on drop.
pub struct LiveServer {
    child: Child,
    pub base: String,
    pub log: PathBuf,
    pub database_url: String,
}

impl Drop for LiveServer {
    fn drop(&mut self) {
        tools::terminate(&mut self.child);
    }
}

/// Builds the server (debug, like the tests), migrates and seeds a fresh
/// database and serves it on a free port. Its output goes to a log file
/// under `.data/`, shown when a check fails.
pub fn start_server(
    root: &Path,
    throwaway: &Throwaway,
    name: &str,
) -> Result<(LiveServer, String)> {
    let url = throwaway.fresh_database(name)?;
    run_command(
        tools::cargo(root).args(["build", "--package", "server", "--bin", "server"]),
        "cargo build --package server",
    )?;
    let server = target_dir(root).join("debug").join("server");
    let port = free_port()?;
    let base = format!("http://127.0.0.1:{port}");
    let with_env = |command: &mut Command| {
        command
            .current_dir(root)
            .env("DATABASE_URL", &url)
            .env("LEPTOS_OUTPUT_NAME", "teamroom")
            .env("LEPTOS_SITE_ROOT", "target/site")
            .env("LEPTOS_SITE_PKG_DIR", "pkg")
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("PUBLIC_URL", &base)
            // The checker sends thousands of requests with one key.
            .env("API_REQUESTS_PER_KEY_PER_MINUTE", "1000000")
            .env("RUST_LOG", "warn");
    };
    let mut seed = Command::new(&server);
    with_env(seed.arg("seed-demo").stdout(Stdio::null()));
    run_command(&mut seed, "server seed-demo")?;
    let mut key = Command::new(&server);
    with_env(key.args([
        "api-key",
        "--email",
        DEMO_OWNER,
        "--name",
        "Protocol checks",
    ]));
    let output = key
        .output()
        .map_err(|e| format!("could not run server api-key: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "server api-key failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let secret = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let log = root.join(".data").join(format!("{name}-server.log"));
    std::fs::create_dir_all(root.join(".data")).map_err(|e| e.to_string())?;
    let log_file = std::fs::File::create(&log).map_err(|e| e.to_string())?;
    let log_err = log_file.try_clone().map_err(|e| e.to_string())?;
    let mut serve = Command::new(&server);
    with_env(&mut serve);
    let child = serve
        .stdout(log_file)
        .stderr(log_err)
        .spawn()
        .map_err(|e| format!("could not start the server: {e}"))?;
    let live = LiveServer {
        child,
        base,
        log,
        database_url: url.clone(),
    };
    wait_until_healthy(port)?;
    Ok((live, secret))
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

/// `GET /healthz` answers 200, within a minute.
pub fn wait_until_healthy(port: u16) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let request = "GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
            let mut answer = String::new();
            if stream.write_all(request.as_bytes()).is_ok()
                && stream.read_to_string(&mut answer).is_ok()
                && answer.starts_with("HTTP/1.")
                && answer.split(' ').nth(1) == Some("200")
            {
                return Ok(());
            }
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    Err(format!("the server on port {port} did not become healthy"))
}

/// The REST API against its OpenAPI document, then SCIM against
/// scim2-tester, on one live server.
pub fn schemathesis(root: &Path, throwaway: &Throwaway) -> Result<()> {
    let tool = python::ensure_python_tool(root, SCHEMATHESIS, "schemathesis")?;
    let (server, key) = start_server(root, throwaway, "teamroom_protocol")?;
    let report = root.join(".data").join("schemathesis-report");
    let outcome = run_command(
        Command::new(&tool)
            // It keeps its example database (.hypothesis) in the working directory.
            .current_dir(root.join(".data"))
            .arg("run")
            .arg(format!("{}/api/v1/openapi.json", server.base))
            .args(["--header", &format!("Authorization: Bearer {key}")])
            .args(["--max-examples", MAX_EXAMPLES])
            .args(["--seed", "1"])
            .arg("--no-color")
            .arg("--report-dir")
            .arg(&report),
        "schemathesis on /api/v1/openapi.json",
    );
    if outcome.is_err() {
        println!(
            "xtask: the server's log is in {}; schemathesis' report in {}",
            server.log.display(),
            report.display()
        );
        drop(server);
        return outcome;
    }
    let scim = scim_token(root, &server)
        .and_then(|token| crate::scim_check::run(root, &server.base, &token));
    if scim.is_err() {
        println!("xtask: the server's log is in {}", server.log.display());
    }
    drop(server);
    scim
}

/// A SCIM token for the demo Owner's workspace, made by `server scim-token`
/// against the live server's database.
fn scim_token(root: &Path, server: &LiveServer) -> Result<String> {
    let binary = target_dir(root).join("debug").join("server");
    let output = Command::new(binary)
        .current_dir(root)
        .env("DATABASE_URL", &server.database_url)
        .env("LEPTOS_OUTPUT_NAME", "teamroom")
        .args([
            "scim-token",
            "--email",
            DEMO_OWNER,
            "--name",
            "Protocol checks",
        ])
        .output()
        .map_err(|e| format!("could not run server scim-token: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "server scim-token failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}
