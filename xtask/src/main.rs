//! `cargo xtask run | test | db`: set up everything Teamroom needs on a fresh
//! machine (toolchain pieces, PostgreSQL, npm packages, Chromium), then run
//! or test it.

mod bench_load;
mod bench_start;
mod bench_ui;
mod bench_wasm;
mod drill;
#[path = "../../server/src/mail_sink_process.rs"]
mod mail_sink_process;
mod page_apps;
mod postgres;
mod protocol;
mod python;
mod scim_check;
mod tools;

use mail_sink_process::{SinkOutput, SinkProcess};
use std::{
    path::{Path, PathBuf},
    process::{Command, ExitCode},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use postgres::Cluster;

const USAGE: &str = "usage:
  cargo xtask run                 build and serve at http://127.0.0.1:3000 (own PostgreSQL unless DATABASE_URL is set)
  cargo xtask test [--no-e2e | --e2e-only | --protocol-only] [--no-protocol] [--no-drill] [-- <cargo test args>]
                                  every test, on a throwaway database; after the Rust tests (unless
                                  --no-drill or --e2e-only) the drills, then (unless --no-protocol or
                                  --e2e-only) schemathesis against the live REST API
  cargo xtask drill               two server processes on one database, a PostgreSQL restart mid-traffic,
                                  an SMTP server refusing one address (own PostgreSQL on port 54331)
  cargo xtask db [stop]           start (or stop) the private PostgreSQL and print its DATABASE_URL
  cargo xtask sqlx-prepare        regenerate .sqlx/ (compile-time query data) after changing a query
  cargo xtask seed --members N    add a realistic workspace of N members to the private database
  cargo xtask bench members       Team page benchmark at 100,000 and 1,000,000 members (throwaway database)
  cargo xtask bench import        CSV import of 10,000 rows (throwaway database)
  cargo xtask bench sign-in-storm 200 concurrent sign-ins while a signed-in reader loads the Team list
  cargo xtask bench accounts      the Owner's Accounts tab at 100,000 members (throwaway database)
  cargo xtask bench api           the REST API's member list at 1,000,000 members (BENCH_SIZES to change)
  cargo xtask bench load [--no-build]
                                  wrk at 50 connections on the Team list, the member card and /healthz,
                                  and the server's memory during a 1,000,000-row CSV export
  cargo xtask bench ui [--no-build]
                                  Chromium on a 1,000,000-member Team page: last keystroke to rows,
                                  a filter change and \"Load more\" (p50, p95)
  cargo xtask bench start [--no-build]
                                  Chromium at 4x CPU slowdown: main-thread blocking while sign in,
                                  the Kiosk and Team start, against the page with its code refused
  cargo xtask scim-check [--base http://127.0.0.1:3000] --token TOKEN
                                  scim2-tester against a running server's /scim/v2 (token from Settings)";

pub type Result<T> = std::result::Result<T, String>;

/// The release site as every command builds it: one wasm chunk per page
/// (`lazy_pages!` in `app`), `.br`/`.gz` files beside each file for the
/// server to send as they are, content-hashed names (Cargo.toml).
pub const SITE_BUILD: [&str; 5] = ["leptos", "build", "--release", "--split", "--precompress"];

/// Builds the release site: the whole app (`SITE_BUILD`), then the apps of
/// one page beside it (`page_apps`).
pub fn build_site(root: &Path) -> Result<()> {
    run_command(
        tools::cargo(root).args(SITE_BUILD),
        "cargo leptos build --release --split --precompress",
    )?;
    page_apps::build(root)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.first().map(String::as_str) {
        Some("run") => run(),
        Some("test") => test(&args[1..]),
        Some("db") => db(&args[1..]),
        Some("sqlx-prepare") => sqlx_prepare(),
        Some("seed") => seed(&args[1..]),
        Some("drill") => drill::command(&workspace_root(), &args[1..]),
        Some("scim-check") => scim_check::command(&workspace_root(), &args[1..]),
        Some("bench") if args.get(1).map(String::as_str) == Some("wasm") => {
            bench_wasm::command(&workspace_root(), &args[2..])
        }
        Some("bench") if args.get(1).map(String::as_str) == Some("ui") => {
            bench_ui::command(&workspace_root(), &args[2..])
        }
        Some("bench") if args.get(1).map(String::as_str) == Some("start") => {
            bench_start::command(&workspace_root(), &args[2..])
        }
        Some("bench") if args.get(1).map(String::as_str) == Some("load") => {
            bench_load::command(&workspace_root(), &args[2..])
        }
        Some("bench") if args.get(1).map(String::as_str) == Some("members") => bench("members"),
        Some("bench") if args.get(1).map(String::as_str) == Some("import") => bench("import"),
        Some("bench") if args.get(1).map(String::as_str) == Some("accounts") => bench("accounts"),
        Some("bench") if args.get(1).map(String::as_str) == Some("api") => bench("api"),
        Some("bench") if args.get(1).map(String::as_str) == Some("sign-in-storm") => {
            bench("sign_in_storm")
        }
        _ => Err(USAGE.to_owned()),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

pub fn workspace_root() -> PathBuf {
    // `cargo run` sets CARGO_MANIFEST_DIR for the running binary too. Prefer
    // it to the compile-time value: with a shared CARGO_TARGET_DIR (CI's
    // cache) the binary may have been built from another clone's path.
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

pub fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|dir| {
            if dir.is_absolute() {
                dir
            } else {
                root.join(dir)
            }
        })
        .unwrap_or_else(|| root.join("target"))
}

/// Runs a command to completion, streaming its output; fails on non-zero.
pub fn run_command(command: &mut Command, what: &str) -> Result<()> {
    let status = command
        .status()
        .map_err(|e| format!("could not start {what}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({status})"))
    }
}

/// Set once Ctrl-C or SIGTERM arrives.
fn interrupted_flag() -> Result<Arc<AtomicBool>> {
    let flag = Arc::new(AtomicBool::new(false));
    let handler_flag = flag.clone();
    ctrlc::set_handler(move || handler_flag.store(true, Ordering::SeqCst))
        .map_err(|e| format!("cannot install the Ctrl-C handler: {e}"))?;
    Ok(flag)
}

fn database(root: &Path) -> Result<(String, Option<Cluster>)> {
    if let Ok(url) = std::env::var("DATABASE_URL") {
        println!("xtask: using DATABASE_URL from the environment");
        return Ok((url, None));
    }
    let cluster = Cluster::private(root)?;
    let url = cluster.url("app");
    Ok((url, Some(cluster)))
}

/// The local SMTP catcher for `run` and the end2end tests, echoing its
/// lines ("mail to ...: subject" and the links).
fn start_mail_sink(server: &Path, port: u16, dir: &Path) -> Result<SinkProcess> {
    SinkProcess::start(server, port, dir, &[], SinkOutput::Echo)
}

/// The release server on 127.0.0.1:3000 serving the built site, as
/// `cargo leptos end-to-end` would start it; stopped on drop.
struct SiteUnderTest {
    child: std::process::Child,
}

impl SiteUnderTest {
    const PORT: u16 = 3000;

    fn start(root: &Path, server: &Path, env: &[(&str, &str)]) -> Result<Self> {
        // A server left running on the port (a manual run) would be tested
        // instead of this build, with another database.
        if std::net::TcpStream::connect(("127.0.0.1", Self::PORT)).is_ok() {
            return Err(format!(
                "port {} is taken: stop the server running there first",
                Self::PORT
            ));
        }
        let mut serve = Command::new(server);
        serve
            .current_dir(root)
            .env("LEPTOS_SITE_ROOT", "target/site")
            .env("LEPTOS_SITE_PKG_DIR", "pkg")
            .env("LEPTOS_OUTPUT_NAME", "teamroom")
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{}", Self::PORT))
            .env("LEPTOS_HASH_FILES", "true");
        for (name, value) in env {
            serve.env(name, value);
        }
        let child = serve
            .spawn()
            .map_err(|e| format!("could not start the server: {e}"))?;
        // Dropped (and so stopped) when it never becomes healthy.
        let site = Self { child };
        protocol::wait_until_healthy(Self::PORT)?;
        Ok(site)
    }
}

impl Drop for SiteUnderTest {
    fn drop(&mut self) {
        tools::terminate(&mut self.child);
    }
}

fn run() -> Result<()> {
    let root = workspace_root();
    let interrupted = interrupted_flag()?;
    tools::ensure_build_tools(&root)?;
    let (database_url, cluster) = database(&root)?;
    let outcome = (|| {
        build_site(&root)?;
        let server = target_dir(&root).join("release").join("server");
        let with_env = |command: &mut Command| {
            command
                .current_dir(&root)
                .env("DATABASE_URL", &database_url)
                .env("LEPTOS_SITE_ROOT", "target/site")
                .env("LEPTOS_SITE_PKG_DIR", "pkg")
                .env("LEPTOS_OUTPUT_NAME", "teamroom")
                .env("LEPTOS_SITE_ADDR", "127.0.0.1:3000")
                // cargo-leptos wrote hash.txt next to the binary.
                .env("LEPTOS_HASH_FILES", "true")
                // Links in mail are built from it, never from a request header.
                .env(
                    "PUBLIC_URL",
                    std::env::var("PUBLIC_URL")
                        .unwrap_or_else(|_| "http://127.0.0.1:3000".to_owned()),
                );
        };
        let mut migrate = Command::new(&server);
        with_env(migrate.arg("migrate"));
        run_command(&mut migrate, "server migrate")?;
        let mut seed = Command::new(&server);
        with_env(seed.arg("seed-demo"));
        run_command(&mut seed, "server seed-demo")?;

        // Without SMTP_URL, mail goes to a local catcher that prints each
        // message's links here and keeps the files in .data/mail/.
        // Port 2525 when it is free; any port otherwise (a second checkout
        // running at the same time).
        let sink = match std::env::var("SMTP_URL") {
            Ok(_) => None,
            Err(_) => {
                let dir = root.join(".data").join("mail");
                Some(
                    start_mail_sink(&server, 2525, &dir)
                        .or_else(|_| start_mail_sink(&server, 0, &dir))?,
                )
            }
        };
        let mut serve = Command::new(&server);
        with_env(&mut serve);
        if let Some(sink) = &sink {
            serve.env("SMTP_URL", sink.url());
            println!(
                "Mail goes to a local catcher: messages are printed here and saved in .data/mail/"
            );
        }
        let mut child = serve
            .spawn()
            .map_err(|e| format!("could not start the server: {e}"))?;
        println!("\nTeamroom is at http://127.0.0.1:3000 (Ctrl-C stops it)\n");
        loop {
            if interrupted.load(Ordering::SeqCst) {
                tools::terminate(&mut child);
                return Ok(());
            }
            if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
                return if status.success() {
                    Ok(())
                } else {
                    Err(format!("the server stopped ({status})"))
                };
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    })();
    if let Some(cluster) = cluster {
        cluster.stop();
    }
    outcome
}

fn test(args: &[String]) -> Result<()> {
    let root = workspace_root();
    let protocol_only = args.iter().any(|a| a == "--protocol-only");
    let no_e2e = protocol_only || args.iter().any(|a| a == "--no-e2e");
    let e2e_only = args.iter().any(|a| a == "--e2e-only");
    let no_protocol = args.iter().any(|a| a == "--no-protocol");
    let no_drill = args.iter().any(|a| a == "--no-drill");
    // After `--`: cargo test's arguments, or with --e2e-only Playwright's
    // (a spec file, `-g "a title"`, `--repeat-each=3`).
    let cargo_test_args: Vec<&String> = args.iter().skip_while(|a| *a != "--").skip(1).collect();
    let started = Instant::now();
    let _interrupted = interrupted_flag()?;

    tools::ensure_build_tools(&root)?;
    if !no_e2e {
        tools::ensure_browser_tools(&root)?;
    }
    let throwaway = postgres::Throwaway::start(&root)?;
    let mut timings = Vec::new();
    let outcome = (|| {
        if !e2e_only && !protocol_only {
            let phase = Instant::now();
            let url = throwaway.fresh_database("teamroom_test")?;
            // `frontend` is the wasm entry point only (no tests); building it
            // alongside `server` would unify the `hydrate` and `ssr` features.
            run_command(
                tools::cargo(&root)
                    .args(["test", "--workspace", "--exclude", "frontend"])
                    .args(&cargo_test_args)
                    .env("DATABASE_URL", &url),
                "cargo test",
            )?;
            timings.push(format!("cargo test {}s", phase.elapsed().as_secs()));
            if !no_drill {
                // The server binary the integration tests just built, on a
                // cluster of the drill's own (it restarts PostgreSQL).
                let phase = Instant::now();
                drill::command(&root, &[])?;
                timings.push(format!("drills {}s", phase.elapsed().as_secs()));
            }
        }
        if !e2e_only && !no_protocol {
            let phase = Instant::now();
            protocol::schemathesis(&root, &throwaway)?;
            timings.push(format!("schemathesis {}s", phase.elapsed().as_secs()));
        }
        if !no_e2e {
            let phase = Instant::now();
            let url = throwaway.fresh_database("teamroom_e2e")?;
            // Built first so the mail catcher can start from the same binary
            // before the server under test does.
            build_site(&root)?;
            let mail_dir =
                std::env::temp_dir().join(format!("teamroom-e2e-mail-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&mail_dir);
            let server = target_dir(&root).join("release").join("server");
            let sink = start_mail_sink(&server, 0, &mail_dir)?;
            // The site just built is served as is: `cargo leptos end-to-end`
            // would run the whole front build (wasm-opt on every chunk) again.
            let site = SiteUnderTest::start(
                &root,
                &server,
                &[
                    ("DATABASE_URL", url.as_str()),
                    ("SMTP_URL", sink.url().as_str()),
                    ("MAIL_RETRY_BASE_SECONDS", "1"),
                    ("PUBLIC_URL", "http://127.0.0.1:3000"),
                    // Every browser test comes from 127.0.0.1 and signs up
                    // people by the hundred: one client address's limits
                    // would refuse them (the integration tests check them).
                    ("SIGN_UPS_PER_IP_PER_HOUR", "100000"),
                    ("SIGN_INS_PER_IP_PER_MINUTE", "100000"),
                ],
            )?;
            let outcome = run_command(
                Command::new("npx")
                    .args(["playwright", "test"])
                    .args(if e2e_only { &cargo_test_args[..] } else { &[] })
                    .current_dir(root.join("end2end"))
                    .env("DATABASE_URL", &url)
                    .env("MAIL_SINK_DIR", &mail_dir)
                    .env("CARGO_TARGET_DIR", target_dir(&root)),
                "end2end (npx playwright test)",
            );
            drop(site);
            drop(sink);
            let _ = std::fs::remove_dir_all(&mail_dir);
            outcome?;
            timings.push(format!("end2end {}s", phase.elapsed().as_secs()));
        }
        Ok(())
    })();
    throwaway.stop();
    timings.push(format!("total {}s", started.elapsed().as_secs()));
    println!("xtask: {}", timings.join(", "));
    outcome
}

fn db(args: &[String]) -> Result<()> {
    let root = workspace_root();
    if args.first().map(String::as_str) == Some("stop") {
        Cluster::stop_private(&root)
    } else {
        let cluster = Cluster::private(&root)?;
        println!("DATABASE_URL='{}'", cluster.url("app"));
        Ok(())
    }
}

/// Migrates a scratch database on the private cluster and records every
/// query's types in `.sqlx/`, which offline builds check against.
fn sqlx_prepare() -> Result<()> {
    let root = workspace_root();
    tools::ensure_sqlx_cli()?;
    let cluster = Cluster::private(&root)?;
    let throwaway = postgres::Throwaway::on_server(cluster.url("postgres"));
    let outcome = (|| {
        let url = throwaway.fresh_database("sqlx_prepare")?;
        run_command(
            tools::cargo(&root)
                .args(["sqlx", "migrate", "run", "--source", "migrations"])
                .env("DATABASE_URL", &url),
            "cargo sqlx migrate run",
        )?;
        run_command(
            tools::cargo(&root)
                .args(["sqlx", "prepare", "--workspace", "--"])
                .args(["-p", "app", "-p", "server", "--all-targets"])
                .env("DATABASE_URL", &url),
            "cargo sqlx prepare",
        )
    })();
    throwaway.stop();
    cluster.stop();
    outcome
}

/// `cargo xtask seed --members N [...]`: the server's `seed-members` on the
/// private cluster (or DATABASE_URL), built in release mode.
fn seed(args: &[String]) -> Result<()> {
    let root = workspace_root();
    if !args.iter().any(|a| a == "--members") {
        return Err(
            "usage: cargo xtask seed --members N [--name NAME] [--tag TAG] [--password PW]".into(),
        );
    }
    let (database_url, _cluster) = database(&root)?;
    run_command(
        tools::cargo(&root)
            .args([
                "run",
                "--release",
                "--quiet",
                "--package",
                "server",
                "--",
                "seed-members",
            ])
            .args(args)
            .env("DATABASE_URL", &database_url),
        "server seed-members",
    )
}

/// `cargo xtask bench members|import`: runs `server/benches/<name>.rs` against
/// a fresh database on a throwaway cluster; it prints its table.
fn bench(name: &str) -> Result<()> {
    let root = workspace_root();
    tools::ensure_build_tools(&root)?;
    let throwaway = postgres::Throwaway::start(&root)?;
    let outcome = (|| {
        let url = throwaway.fresh_database("teamroom_bench")?;
        run_command(
            tools::cargo(&root)
                .args(["bench", "--package", "server", "--bench", name])
                .env("DATABASE_URL", &url),
            "the benchmark",
        )
    })();
    throwaway.stop();
    outcome
}
