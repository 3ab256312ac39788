//! `cargo xtask bench load`: the real server under concurrent load, and its
//! memory while a million-row CSV export streams.
//!
//! Seeds, in a fresh database, a 10,000-member workspace and a
//! 1,000,000-member neighbour (the bulk seeder, `server seed-members`),
//! starts the release server binary on a free 127.0.0.1 port, signs in as
//! each workspace's Owner, then:
//! - drives the Team list's first page (`list_members`), the member card
//!   (`member_detail`, rotating through 1,000 members), the floor
//!   (`/healthz`: HTTP plus one pooled `SELECT 1`, no session) and a
//!   signed-in floor (`current_timer`: the session gate, the guard and one
//!   indexed query) with `wrk`, each for a bounded time at the same
//!   concurrency, and prints requests per second, latency quantiles and the
//!   server process's CPU time per request beside the floor's;
//! - exports the million-member workspace (`/api/members.csv?status=all`),
//!   read as fast as this process can, while sampling the server's resident
//!   memory (`/proc/<pid>/status`), and prints the baseline, the peak and
//!   the duration.
//!
//! `wrk` (Debian's package) is installed when missing. Knobs:
//! `BENCH_MEMBERS` (10000), `BENCH_EXPORT_ROWS` (1000000, 0 skips the
//! export), `BENCH_SECONDS` (10), `BENCH_CONNECTIONS` (50), `BENCH_THREADS`
//! (2, wrk's). `--no-build` runs the server binary the last release build
//! left.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    path::Path,
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use crate::{postgres, run_command, target_dir, tools, Result};

pub const PASSWORD: &str = "teamroom load bench";
const TEAM_TAG: &str = "loadteam";
const EXPORT_TAG: &str = "loadexport";
/// The export's resident-memory target.
const RSS_TARGET_MB: f64 = 150.0;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.replace('_', "").parse().ok())
        .unwrap_or(default)
}

pub fn command(root: &Path, args: &[String]) -> Result<()> {
    let members = env_number("BENCH_MEMBERS", 10_000);
    let export_rows = env_number("BENCH_EXPORT_ROWS", 1_000_000);
    let seconds = env_number("BENCH_SECONDS", 10).max(1);
    let connections = env_number("BENCH_CONNECTIONS", 50).max(1);
    let threads = env_number("BENCH_THREADS", 2).clamp(1, connections);

    tools::ensure_wrk()?;
    let server = target_dir(root).join("release").join("server");
    if !args.iter().any(|arg| arg == "--no-build") {
        // The server alone: these requests need no browser bundle.
        run_command(
            tools::cargo(root).args([
                "build",
                "--release",
                "--package",
                "server",
                "--bin",
                "server",
            ]),
            "cargo build --release --package server",
        )?;
    }
    if !server.is_file() {
        return Err(format!(
            "{} is missing: run without --no-build",
            server.display()
        ));
    }

    let throwaway = postgres::Throwaway::start(root)?;
    let outcome = (|| {
        let url = throwaway.fresh_database("teamroom_load")?;
        seed(&server, &url, members, TEAM_TAG, "Load bench")?;
        if export_rows > 0 {
            seed(&server, &url, export_rows, EXPORT_TAG, "Load bench export")?;
        }
        let port = free_port()?;
        let address: SocketAddr = ([127, 0, 0, 1], port).into();
        let mut child = start_server(root, &server, &url, address)?;
        let result = measure(
            root,
            &url,
            address,
            &child,
            Settings {
                seconds,
                connections,
                threads,
                export_rows,
                members,
            },
        );
        tools::terminate(&mut child);
        result
    })();
    throwaway.stop();
    outcome
}

struct Settings {
    seconds: u64,
    connections: u64,
    threads: u64,
    export_rows: u64,
    members: u64,
}

pub fn seed(server: &Path, url: &str, members: u64, tag: &str, name: &str) -> Result<()> {
    println!("xtask: seeding {members} members ({name})");
    run_command(
        Command::new(server)
            .args(["seed-members", "--members", &members.to_string()])
            .args(["--tag", tag, "--name", name, "--password", PASSWORD])
            .env("DATABASE_URL", url)
            .env("LEPTOS_OUTPUT_NAME", "teamroom")
            // Every seeding statement is "slow": no warning per statement.
            .env("RUST_LOG", "warn,sqlx=error"),
        "server seed-members",
    )
}

pub fn free_port() -> Result<u16> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port on 127.0.0.1: {e}"))?;
    listener
        .local_addr()
        .map(|address| address.port())
        .map_err(|e| e.to_string())
}

/// The release binary as `cargo xtask run` starts it, on `address`, its
/// log quiet but for warnings; answers once `/healthz` does.
pub fn start_server(root: &Path, server: &Path, url: &str, address: SocketAddr) -> Result<Child> {
    let mut child = Command::new(server)
        .current_dir(root)
        .env("DATABASE_URL", url)
        .env("LEPTOS_SITE_ROOT", "target/site")
        .env("LEPTOS_SITE_PKG_DIR", "pkg")
        .env("LEPTOS_OUTPUT_NAME", "teamroom")
        .env("LEPTOS_SITE_ADDR", address.to_string())
        // The release site names its files by content hash (bench ui loads pages).
        .env("LEPTOS_HASH_FILES", "true")
        .env("PUBLIC_URL", format!("http://{address}"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("could not start the server: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("the server stopped ({status})"));
        }
        if http(address, "GET", "/healthz", &[], "").is_ok_and(|answer| answer.status == 200) {
            return Ok(child);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    tools::terminate(&mut child);
    Err("the server did not answer /healthz within 60 s".into())
}

fn measure(
    root: &Path,
    url: &str,
    address: SocketAddr,
    server: &Child,
    settings: Settings,
) -> Result<()> {
    let team_cookie = sign_in(address, &format!("owner@{TEAM_TAG}.example.test"))?;
    let ids = psql_lines(
        url,
        "SELECT m.id FROM memberships m JOIN workspaces w ON w.id = m.workspace_id
          WHERE w.name = 'Load bench' ORDER BY hashint8(m.id) LIMIT 1000",
    )?;
    if ids.is_empty() {
        return Err("the seeded workspace has no members".into());
    }
    let scripts = std::env::temp_dir().join(format!("teamroom-load-{}", std::process::id()));
    std::fs::create_dir_all(&scripts).map_err(|e| format!("{}: {e}", scripts.display()))?;
    let cases = [
        Case {
            label: "floor: `GET /healthz` (no session, `SELECT 1`)".into(),
            path: "/healthz",
            script: lua_script(None, None),
        },
        Case {
            label:
                "signed-in floor: `POST /api/current_timer` (session, guard, one indexed SELECT)"
                    .into(),
            path: "/api/current_timer",
            script: lua_script(Some(&team_cookie), Some(Body::Fixed(""))),
        },
        Case {
            label: "Team list, first page (`POST /api/list_members`)".into(),
            path: "/api/list_members",
            script: lua_script(Some(&team_cookie), Some(Body::Fixed("after="))),
        },
        Case {
            label: format!(
                "member card (`POST /api/member_detail`, {} members rotating)",
                ids.len()
            ),
            path: "/api/member_detail",
            script: lua_script(Some(&team_cookie), Some(Body::MemberIds(&ids))),
        },
    ];
    let mut results = Vec::new();
    for (index, case) in cases.iter().enumerate() {
        let script = scripts.join(format!("case{index}.lua"));
        std::fs::write(&script, &case.script).map_err(|e| format!("{}: {e}", script.display()))?;
        // A short first run warms the pool, the plans and the caches.
        wrk(root, address, case.path, &script, &settings, 2)?;
        let cpu_before = cpu_seconds(server.id());
        let mut result = wrk(
            root,
            address,
            case.path,
            &script,
            &settings,
            settings.seconds,
        )?;
        let cpu = cpu_seconds(server.id())
            .zip(cpu_before)
            .map(|(after, before)| after - before);
        result.server_cpu_us = cpu.map(|seconds| seconds * 1e6 / result.requests.max(1) as f64);
        println!(
            "xtask: {}: {} requests, {:.0}/s, p99 {:.2} ms",
            case.label, result.requests, result.per_second, result.p99_ms
        );
        results.push(result);
    }
    let _ = std::fs::remove_dir_all(&scripts);

    let export = if settings.export_rows > 0 {
        let cookie = sign_in(address, &format!("owner@{EXPORT_TAG}.example.test"))?;
        Some(export_memory(address, server.id(), &cookie)?)
    } else {
        None
    };

    println!(
        "\nLoad: {} concurrent connections, {} s per case (after 2 s of warm-up), wrk {} threads, \
         {} members in the workspace{}:\n",
        settings.connections,
        settings.seconds,
        settings.threads,
        settings.members,
        if settings.export_rows > 0 {
            format!(", a {}-member neighbour", settings.export_rows)
        } else {
            String::new()
        }
    );
    println!("| endpoint | requests | req/s | p50 | p95 | p99 | max | errors | server CPU / request | req/s vs floor | p99 vs floor |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let floor = &results[0];
    for (case, result) in cases.iter().zip(&results) {
        println!(
            "| {} | {} | {:.0} | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms | {} | {} | {:.2} | {:.2} |",
            case.label,
            result.requests,
            result.per_second,
            result.p50_ms,
            result.p95_ms,
            result.p99_ms,
            result.max_ms,
            result.errors,
            result
                .server_cpu_us
                .map_or("?".to_owned(), |us| format!("{us:.0} µs")),
            result.per_second / floor.per_second,
            result.p99_ms / floor.p99_ms,
        );
    }
    if let Some(export) = export {
        let verdict = if export.peak_mb < RSS_TARGET_MB {
            "met"
        } else {
            "MISSED"
        };
        println!(
            "\nMembers CSV export of the {}-member workspace (`GET /api/members.csv?status=all`):\n",
            settings.export_rows
        );
        println!("| rows | size | duration | server RSS before | peak RSS (VmHWM) | RSS at 25 / 50 / 75 % of the file | RSS after | target |");
        println!("|---:|---:|---:|---:|---:|---|---:|---|");
        println!(
            "| {} | {:.1} MB | {:.1} s | {:.1} MB | {:.1} MB | {:.1} / {:.1} / {:.1} MB | {:.1} MB | < {RSS_TARGET_MB:.0} MB {verdict} |",
            export.rows,
            export.bytes as f64 / 1e6,
            export.duration.as_secs_f64(),
            export.before_mb,
            export.peak_mb,
            export.quarters[0],
            export.quarters[1],
            export.quarters[2],
            export.after_mb,
        );
    }
    Ok(())
}

struct Case {
    label: String,
    path: &'static str,
    script: String,
}

enum Body<'a> {
    Fixed(&'a str),
    /// `membership_id=<id>`, the next id of the list for every request.
    MemberIds(&'a [String]),
}

/// A wrk script: the session cookie, a server function's form body, and a
/// `done` that prints the numbers on one line for this command to read.
fn lua_script(cookie: Option<&str>, body: Option<Body>) -> String {
    let mut script = String::new();
    if let Some(cookie) = cookie {
        script.push_str(&format!(
            "wrk.headers[\"Cookie\"] = {}\n",
            lua_string(cookie)
        ));
    }
    match body {
        None => {}
        Some(body) => {
            script.push_str(
                "wrk.method = \"POST\"\n\
                 wrk.headers[\"Content-Type\"] = \"application/x-www-form-urlencoded\"\n\
                 wrk.headers[\"Accept\"] = \"application/json\"\n",
            );
            match body {
                Body::Fixed(text) => {
                    script.push_str(&format!("wrk.body = {}\n", lua_string(text)));
                }
                Body::MemberIds(ids) => {
                    script.push_str(&format!("local ids = {{{}}}\n", ids.join(",")));
                    script.push_str(
                        "local n = 0\n\
                         function init(args) n = math.random(#ids) end\n\
                         function request()\n\
                         \x20 n = n % #ids + 1\n\
                         \x20 return wrk.format(nil, nil, nil, \"membership_id=\" .. ids[n])\n\
                         end\n",
                    );
                }
            }
        }
    }
    script.push_str(
        "function done(summary, latency, requests)\n\
         \x20 local e = summary.errors\n\
         \x20 io.write(string.format(\"XTASK-RESULT %d %d %d %d %d %d %d %d\\n\",\n\
         \x20   summary.requests, summary.duration,\n\
         \x20   e.connect + e.read + e.write + e.status + e.timeout,\n\
         \x20   latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,\n\
         \x20   e.status))\n\
         end\n",
    );
    script
}

fn lua_string(text: &str) -> String {
    let mut quoted = String::from("\"");
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                quoted.push('\\');
                quoted.push(c);
            }
            c if c.is_ascii_graphic() || c == ' ' => quoted.push(c),
            _ => {}
        }
    }
    quoted.push('"');
    quoted
}

struct WrkResult {
    requests: u64,
    per_second: f64,
    errors: u64,
    p50_ms: f64,
    p95_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    /// The server process's own CPU time (user + system) per request;
    /// PostgreSQL's and wrk's are not in it.
    server_cpu_us: Option<f64>,
}

/// User plus system CPU time a process has used so far, in seconds.
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which may hold spaces: state is the
    // first of them, utime the 12th and stime the 13th.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    let per_second = tools::output_of("getconf", &["CLK_TCK"])
        .and_then(|text| text.trim().parse::<f64>().ok())
        .unwrap_or(100.0);
    Some(ticks / per_second)
}

fn wrk(
    root: &Path,
    address: SocketAddr,
    path: &str,
    script: &Path,
    settings: &Settings,
    seconds: u64,
) -> Result<WrkResult> {
    let output = Command::new("wrk")
        .current_dir(root)
        .arg(format!("-t{}", settings.threads))
        .arg(format!("-c{}", settings.connections))
        .arg(format!("-d{seconds}s"))
        .args(["--timeout", "10s", "-s"])
        .arg(script)
        .arg(format!("http://{address}{path}"))
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("could not run wrk: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!("wrk failed ({}): {text}", output.status));
    }
    parse_wrk(&text).ok_or_else(|| format!("wrk printed no result line:\n{text}"))
}

fn parse_wrk(text: &str) -> Option<WrkResult> {
    let line = text
        .lines()
        .find_map(|line| line.strip_prefix("XTASK-RESULT "))?;
    let numbers: Vec<u64> = line
        .split_whitespace()
        .map(|n| n.parse().ok())
        .collect::<Option<_>>()?;
    let [requests, micros, errors, p50, p95, p99, max, _status] = numbers[..] else {
        return None;
    };
    let ms = |micros: u64| micros as f64 / 1000.0;
    Some(WrkResult {
        requests,
        per_second: requests as f64 / (micros.max(1) as f64 / 1e6),
        errors,
        p50_ms: ms(p50),
        p95_ms: ms(p95),
        p99_ms: ms(p99),
        max_ms: ms(max),
        server_cpu_us: None,
    })
}

fn psql_lines(url: &str, sql: &str) -> Result<Vec<String>> {
    let output = Command::new("psql")
        .arg(url)
        .args(["-tAc", sql])
        .output()
        .map_err(|e| format!("psql: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "psql failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect())
}

/// Signs in with the seeded password; answers the `Cookie` header value
/// that carries the session.
fn sign_in(address: SocketAddr, email: &str) -> Result<String> {
    let body = format!(
        "email={}&password={}",
        form_encode(email),
        form_encode(PASSWORD)
    );
    let answer = http(
        address,
        "POST",
        "/api/sign_in",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Accept", "application/json"),
        ],
        &body,
    )?;
    if answer.status != 200 {
        return Err(format!(
            "signing in as {email} answered {}: {}",
            answer.status,
            String::from_utf8_lossy(&answer.body)
        ));
    }
    let cookies: Vec<&str> = answer
        .set_cookies
        .iter()
        .filter_map(|cookie| cookie.split(';').next())
        .map(str::trim)
        .filter(|pair| {
            pair.split_once('=')
                .is_some_and(|(_, value)| !value.is_empty())
        })
        .collect();
    if cookies.is_empty() {
        return Err(format!("signing in as {email} set no cookie"));
    }
    Ok(cookies.join("; "))
}

fn form_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

struct Answer {
    status: u16,
    set_cookies: Vec<String>,
    body: Vec<u8>,
}

/// One HTTP/1.1 request on its own connection (xtask stays std-only).
fn http(
    address: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Result<Answer> {
    let mut body_bytes = Vec::new();
    let (status, set_cookies, _) = exchange(address, method, path, headers, body, |chunk| {
        body_bytes.extend_from_slice(chunk)
    })?;
    Ok(Answer {
        status,
        set_cookies,
        body: body_bytes,
    })
}

/// Sends a request and hands the decoded body to `sink` piece by piece;
/// answers the status, the `Set-Cookie` values and whether a chunked body
/// ended with its final empty chunk (a whole file) or was cut.
fn exchange(
    address: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
    mut sink: impl FnMut(&[u8]),
) -> Result<(u16, Vec<String>, bool)> {
    let io = |e: std::io::Error| format!("{method} {path}: {e}");
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(5)).map_err(io)?;
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .map_err(io)?;
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).map_err(io)?;
    let mut reader = BufReader::with_capacity(256 * 1024, stream);
    let mut line = String::new();
    reader.read_line(&mut line).map_err(io)?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("{method} {path}: no HTTP status in {line:?}"))?;
    let mut set_cookies = Vec::new();
    let mut chunked = false;
    let mut length: Option<usize> = None;
    loop {
        line.clear();
        reader.read_line(&mut line).map_err(io)?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            let value = value.trim();
            match name.to_ascii_lowercase().as_str() {
                "set-cookie" => set_cookies.push(value.to_owned()),
                "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
                "content-length" => length = value.parse().ok(),
                _ => {}
            }
        }
    }
    let mut buffer = vec![0u8; 256 * 1024];
    if chunked {
        loop {
            line.clear();
            if reader.read_line(&mut line).map_err(io)? == 0 {
                return Ok((status, set_cookies, false));
            }
            let size_text = line.trim().split(';').next().unwrap_or("");
            let Ok(mut size) = usize::from_str_radix(size_text, 16) else {
                return Ok((status, set_cookies, false));
            };
            if size == 0 {
                return Ok((status, set_cookies, true));
            }
            while size > 0 {
                let want = size.min(buffer.len());
                let read = reader.read(&mut buffer[..want]).map_err(io)?;
                if read == 0 {
                    return Ok((status, set_cookies, false));
                }
                sink(&buffer[..read]);
                size -= read;
            }
            line.clear();
            reader.read_line(&mut line).map_err(io)?;
        }
    }
    let mut remaining = length.unwrap_or(usize::MAX);
    while remaining > 0 {
        let want = remaining.min(buffer.len());
        let read = reader.read(&mut buffer[..want]).map_err(io)?;
        if read == 0 {
            break;
        }
        sink(&buffer[..read]);
        remaining = remaining.saturating_sub(read);
    }
    Ok((status, set_cookies, length.is_none() || remaining == 0))
}

struct Export {
    rows: u64,
    bytes: u64,
    duration: Duration,
    before_mb: f64,
    peak_mb: f64,
    quarters: [f64; 3],
    after_mb: f64,
}

/// A `/proc/<pid>/status` field in MB (the kernel writes kB).
fn proc_status_mb(pid: u32, field: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(field)?.strip_prefix(':')?;
        let kb: f64 = rest.trim().trim_end_matches("kB").trim().parse().ok()?;
        Some(kb / 1024.0)
    })
}

/// Downloads the whole members CSV while a thread samples the server's
/// resident memory every 10 ms; the kernel's high-water mark (VmHWM, reset
/// first through `clear_refs`) catches any peak between two samples.
fn export_memory(address: SocketAddr, pid: u32, cookie: &str) -> Result<Export> {
    let before_mb = proc_status_mb(pid, "VmRSS").ok_or("cannot read the server's VmRSS")?;
    // "5" resets the peak resident size to the current one (Linux 4.0+).
    let reset = std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok();
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let started = Instant::now();
            let mut samples: Vec<(Duration, f64)> = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                if let Some(mb) = proc_status_mb(pid, "VmRSS") {
                    samples.push((started.elapsed(), mb));
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            samples
        })
    };
    let started = Instant::now();
    let mut rows = 0u64;
    let mut bytes = 0u64;
    let outcome = exchange(
        address,
        "GET",
        "/api/members.csv?status=all",
        &[("Cookie", cookie)],
        "",
        |chunk| {
            bytes += chunk.len() as u64;
            rows += chunk.iter().filter(|&&b| b == b'\n').count() as u64;
        },
    );
    let duration = started.elapsed();
    stop.store(true, Ordering::SeqCst);
    let samples = sampler.join().map_err(|_| "the RSS sampler panicked")?;
    let (status, _, whole) = outcome?;
    if status != 200 || !whole {
        return Err(format!(
            "the export answered {status} and {} after {rows} lines",
            if whole { "ended" } else { "was cut short" }
        ));
    }
    let sampled_peak = samples.iter().map(|(_, mb)| *mb).fold(0.0, f64::max);
    let hwm = if reset {
        proc_status_mb(pid, "VmHWM").unwrap_or(0.0)
    } else {
        0.0
    };
    let at = |fraction: f64| {
        let moment = duration.mul_f64(fraction);
        samples
            .iter()
            .find(|(when, _)| *when >= moment)
            .or(samples.last())
            .map_or(0.0, |(_, mb)| *mb)
    };
    Ok(Export {
        // The header line is not a member.
        rows: rows.saturating_sub(1),
        bytes,
        duration,
        before_mb,
        peak_mb: sampled_peak.max(hwm),
        quarters: [at(0.25), at(0.5), at(0.75)],
        after_mb: proc_status_mb(pid, "VmRSS").unwrap_or(0.0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_line_the_wrk_script_prints() {
        let result =
            parse_wrk("Running 10s test\nXTASK-RESULT 12000 10000000 0 1500 3000 4200 9000 0\n")
                .expect("parsed");
        assert_eq!(result.requests, 12000);
        assert!((result.per_second - 1200.0).abs() < 1e-6);
        assert!((result.p99_ms - 4.2).abs() < 1e-9);
        assert!(parse_wrk("Running 10s test\n").is_none());
    }

    #[test]
    fn quotes_a_cookie_for_lua() {
        assert_eq!(lua_string("a=\"b\"; c=d\\"), "\"a=\\\"b\\\"; c=d\\\\\"");
    }

    #[test]
    fn reads_this_process_resident_memory_and_cpu_time() {
        assert!(proc_status_mb(std::process::id(), "VmRSS").is_some_and(|mb| mb > 0.0));
        assert!(cpu_seconds(std::process::id()).is_some_and(|seconds| seconds >= 0.0));
    }
}
