//! `cargo xtask drill`: reliability drills against real server processes
//! on a PostgreSQL cluster of the drill's own (created in a temporary
//! directory on its own port, so restarting it disturbs nobody):
//!
//! 1. two server processes on one database: a session made on one is valid
//!    on the other; 1,000 invitations sent while both mail workers run
//!    arrive exactly once; a deactivation on one ends the member's access
//!    on the other;
//! 2. an SMTP server answering `550 5.1.1` for one address: that pending
//!    member's row says delivery is failing and why; the rest are sent;
//! 3. PostgreSQL restarted mid-traffic (`pg_ctl restart -m immediate`, a
//!    crash as far as the server can tell): both servers answer again within
//!    a few seconds without being restarted, and every write they
//!    acknowledged is in the database.
//!
//! It prints a table (drill, result, numbers) and fails when a property
//! does not hold. HTTP is spoken with std alone (xtask stays small).

use std::{
    collections::HashMap,
    io::{BufRead, Read, Write},
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use crate::{
    mail_sink_process::{SinkOutput, SinkProcess},
    postgres::Cluster,
    run_command, target_dir, tools, Result,
};

/// The drill's own cluster: beside the private (54329) and test (54330) ones.
const DRILL_PORT: u16 = 54331;
const OWNER: &str = "owner@demo.teamroom.test";
const MEMBER: &str = "member@demo.teamroom.test";
const PASSWORD: &str = "teamroom demo 2026";
const INVITATIONS: usize = 1000;
/// The mail catcher answers 550 to this one.
const BOUNCE: &str = "bounce@drill.test";
const REFUSAL: &str = "550 5.1.1 mailbox unavailable";
/// Longest acceptable wait for a server to answer again after PostgreSQL is.
const RECOVERY_LIMIT: Duration = Duration::from_secs(5);

/// One line of the printed table.
struct Outcome {
    drill: &'static str,
    passed: bool,
    numbers: String,
}

pub fn command(root: &Path, _args: &[String]) -> Result<()> {
    // The debug binary `cargo xtask test` builds for the integration tests
    // (same packages and features, so nothing is rebuilt after them).
    run_command(
        tools::cargo(root).args([
            "test",
            "--workspace",
            "--exclude",
            "frontend",
            "--no-run",
            "--quiet",
        ]),
        "building the server (cargo test --no-run)",
    )?;
    let bin = target_dir(root).join("debug").join("server");
    let started = Instant::now();
    let dir = std::env::temp_dir().join(format!("teamroom-drill-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let cluster = Cluster::scratch(&dir.join("pg"), DRILL_PORT)?;
    let outcome = (|| {
        let mut results = Vec::new();
        let drills = Drills::set_up(root, &bin, &cluster, &dir)?;
        let phase = Instant::now();
        drills.two_instances(&mut results)?;
        println!(
            "xtask: two instances {:.1} s",
            phase.elapsed().as_secs_f64()
        );
        let phase = Instant::now();
        drills.refused_address(&mut results)?;
        println!(
            "xtask: refused address {:.1} s",
            phase.elapsed().as_secs_f64()
        );
        let phase = Instant::now();
        drills.database_restart(&cluster, &mut results)?;
        println!(
            "xtask: database restart {:.1} s",
            phase.elapsed().as_secs_f64()
        );
        Ok::<_, String>(results)
    })();
    cluster.stop();
    let all_passed = outcome.as_ref().is_ok_and(|r| r.iter().all(|r| r.passed));
    if all_passed {
        let _ = std::fs::remove_dir_all(&dir);
        let _ = std::fs::remove_dir_all(cluster.sock());
    } else {
        eprintln!(
            "xtask: drill files (server logs, mail, pages) kept in {}",
            dir.display()
        );
    }
    let results = outcome?;

    println!();
    println!("| Drill | Result | Numbers |");
    println!("|---|---|---|");
    for result in &results {
        println!(
            "| {} | {} | {} |",
            result.drill,
            if result.passed { "pass" } else { "FAIL" },
            result.numbers
        );
    }
    println!(
        "\nxtask: the drills took {:.0} s (after the build)",
        started.elapsed().as_secs_f64()
    );
    let failed: Vec<&str> = results
        .iter()
        .filter(|r| !r.passed)
        .map(|r| r.drill)
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("drills failed: {}", failed.join("; ")))
    }
}

struct Drills {
    a: Server,
    b: Server,
    sink: Sink,
    cluster_url: String,
    dir: PathBuf,
}

impl Drills {
    fn set_up(root: &Path, bin: &Path, cluster: &Cluster, dir: &Path) -> Result<Drills> {
        let url = cluster.url("app");
        for step in ["migrate", "seed-demo"] {
            run_command(
                Command::new(bin)
                    .arg(step)
                    .current_dir(root)
                    .env("DATABASE_URL", &url)
                    .env("LEPTOS_OUTPUT_NAME", "teamroom")
                    .env("RUST_LOG", "warn")
                    .stdout(Stdio::null()),
                &format!("server {step}"),
            )?;
        }
        // Room for every invitee (pending members take seats).
        cluster.sql(
            "app",
            "UPDATE workspaces SET seats = 100000 WHERE name = 'Demo Company'",
        )?;
        let sink = Sink::start(bin, &dir.join("mail"), BOUNCE)?;
        let (port_a, port_b) = (free_port()?, free_port()?);
        let env = |port: u16| -> Vec<(&'static str, String)> {
            vec![
                ("DATABASE_URL", url.clone()),
                ("SMTP_URL", sink.process.url()),
                ("PUBLIC_URL", format!("http://127.0.0.1:{port_a}")),
                ("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}")),
                ("LEPTOS_SITE_ROOT", "target/site".into()),
                ("LEPTOS_SITE_PKG_DIR", "pkg".into()),
                ("LEPTOS_OUTPUT_NAME", "teamroom".into()),
                ("MAIL_RETRY_BASE_SECONDS", "1".into()),
                ("MAIL_RETRY_MAX_SECONDS", "2".into()),
                // One client address and one account send everything here;
                // the limits themselves have their own integration tests.
                ("SIGN_INS_PER_IP_PER_MINUTE", "100000".into()),
                ("INVITATIONS_PER_HOUR", "1000000".into()),
                ("INVITATION_MAILS_PER_ACCOUNT_PER_HOUR", "1000000".into()),
                ("INVITATION_MAILS_PER_ACCOUNT_PER_DAY", "1000000".into()),
                // "mail sent" lines show that both workers delivered.
                ("RUST_LOG", "warn,server::mailer=debug".into()),
            ]
        };
        let a = Server::start(root, bin, port_a, &env(port_a), &dir.join("server-a.log"))?;
        let b = Server::start(root, bin, port_b, &env(port_b), &dir.join("server-b.log"))?;
        a.wait_ready()?;
        b.wait_ready()?;
        Ok(Drills {
            a,
            b,
            sink,
            cluster_url: url,
            dir: dir.to_owned(),
        })
    }

    fn two_instances(&self, results: &mut Vec<Outcome>) -> Result<()> {
        // A session made on A is valid on B.
        let mut owner = Browser::default();
        owner.sign_in(&self.a, OWNER)?;
        let me = owner.call(&self.b, "current_user", &[])?;
        results.push(Outcome {
            drill: "Two instances: a session made on A works on B",
            passed: me.status == 200 && me.body.contains("Demo Company"),
            numbers: format!("B answered {} with the Owner's workspace", me.status),
        });

        // 1,000 invitations, half through each instance, both workers on.
        let sent = Instant::now();
        let mut refused = Vec::new();
        for (server, range) in [
            (&self.a, 0..INVITATIONS / 2),
            (&self.b, INVITATIONS / 2..INVITATIONS),
        ] {
            let addresses: Vec<String> = range.map(|i| format!("inv-{i:04}@drill.test")).collect();
            let reply = owner.call(
                server,
                "invite_members",
                &[
                    ("addresses", &addresses.join("\n")),
                    ("send_email", "true"),
                    ("all_projects", "true"),
                ],
            )?;
            if reply.status != 200 {
                refused.push(format!("{}: {}", reply.status, clip(&reply.body)));
            }
        }
        let invited_in = sent.elapsed();
        let wanted = |to: &str| to.starts_with("inv-") && to.ends_with("@drill.test");
        let deadline = Instant::now() + Duration::from_secs(90);
        let mut counts = self.sink.counts(wanted);
        while counts.len() < INVITATIONS && Instant::now() < deadline && refused.is_empty() {
            std::thread::sleep(Duration::from_millis(200));
            counts = self.sink.counts(wanted);
        }
        let took = sent.elapsed();
        // A little longer: a second copy would show up now.
        std::thread::sleep(Duration::from_secs(2));
        let counts = self.sink.counts(wanted);
        let once = counts.values().filter(|n| **n == 1).count();
        let twice = counts.values().filter(|n| **n > 1).count();
        let missing = INVITATIONS - counts.len();
        let unsent = self.scalar(
            "SELECT count(*) FROM outbox WHERE recipient LIKE 'inv-%@drill.test' AND sent_at IS NULL",
        )?;
        let sent_by = |server: &Server| {
            std::fs::read_to_string(&server.log)
                .map(|log| log.lines().filter(|l| l.contains("mail sent")).count())
                .unwrap_or(0)
        };
        let (by_a, by_b) = (sent_by(&self.a), sent_by(&self.b));
        results.push(Outcome {
            drill: "Two instances: 1,000 invitations, both mail workers running",
            passed: refused.is_empty()
                && once == INVITATIONS
                && unsent == "0"
                && by_a > 0
                && by_b > 0,
            numbers: if refused.is_empty() {
                format!(
                    "{once} arrived once, {twice} more than once, {missing} missing, \
                     {unsent} unsent rows; sent by A {by_a}, by B {by_b} (every mail \
                     they delivered); 2 requests of 500 took {:.1} s, the last \
                     mail arrived after {:.1} s",
                    invited_in.as_secs_f64(),
                    took.as_secs_f64()
                )
            } else {
                format!("invitations refused: {}", refused.join("; "))
            },
        });

        // A deactivation on A ends the member's access on B.
        let mut member = Browser::default();
        member.sign_in(&self.b, MEMBER)?;
        let before = member.call(&self.b, "current_timer", &[])?.status;
        let id = self.scalar(&format!(
            "SELECT m.id FROM memberships m JOIN accounts a ON a.id = m.account_id \
              WHERE a.email = '{MEMBER}'"
        ))?;
        let deactivated = owner.call(&self.a, "deactivate_member", &[("membership_id", &id)])?;
        let after = member.call(&self.b, "current_timer", &[])?.status;
        let page = member.get(&self.b, "/team")?.status;
        results.push(Outcome {
            drill: "Two instances: a deactivation on A ends access on B",
            passed: before == 200
                && deactivated.status == 200
                && matches!(after, 401 | 403)
                && page != 200,
            numbers: format!(
                "member's next call on B: {before} before, {after} after; /team on B: {page}"
            ),
        });
        Ok(())
    }

    fn refused_address(&self, results: &mut Vec<Outcome>) -> Result<()> {
        let mut owner = Browser::default();
        owner.sign_in(&self.b, OWNER)?;
        let others = ["ok-1@drill.test", "ok-2@drill.test", "ok-3@drill.test"];
        let addresses = format!("{BOUNCE}\n{}", others.join("\n"));
        let invited = owner.call(
            &self.a,
            "invite_members",
            &[
                ("addresses", &addresses),
                ("send_email", "true"),
                ("all_projects", "true"),
            ],
        )?;
        let wanted = |to: &str| to.starts_with("ok-") && to.ends_with("@drill.test");
        let deadline = Instant::now() + Duration::from_secs(30);
        let settled_sql = format!(
            "SELECT count(*) FROM outbox WHERE recipient = '{BOUNCE}' \
              AND (cancelled_at IS NOT NULL OR last_error IS NOT NULL)"
        );
        loop {
            let done =
                self.sink.counts(wanted).len() == others.len() && self.scalar(&settled_sql)? != "0";
            if done || Instant::now() > deadline || invited.status != 200 {
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let counts = self.sink.counts(wanted);
        let sent = counts.values().filter(|n| **n == 1).count();
        let bounced = self.sink.counts(|to| to == BOUNCE).len();
        let retrying = self.scalar(&format!(
            "SELECT count(*) FROM outbox WHERE recipient = '{BOUNCE}' \
              AND sent_at IS NULL AND cancelled_at IS NULL"
        ))?;
        // The Team page as the Owner sees it on the other instance.
        let page = owner.get(&self.b, &format!("/team?status=pending&q={}", "bounce"))?;
        // Leptos marks where text nodes meet (`<!>`); a reader sees none.
        let text = page.body.replace("<!>", "").replace("<!-- -->", "");
        let on_page = page.status == 200
            && text.contains(&format!("Delivery failing: {REFUSAL}"))
            && text.contains(BOUNCE);
        let listed = owner.call(
            &self.b,
            "list_members",
            &[("view[status]", "pending"), ("view[q]", "bounce")],
        )?;
        // Kept for a look when the drill fails (the directory stays then).
        let _ = std::fs::write(self.dir.join("team-pending.html"), &page.body);
        let _ = std::fs::write(self.dir.join("list-pending.json"), &listed.body);
        let in_data = listed.status == 200
            && listed
                .body
                .contains(&format!("\"delivery_error\":\"{REFUSAL}\""));
        results.push(Outcome {
            drill: "SMTP answers 550 for one address",
            passed: invited.status == 200
                && sent == others.len()
                && bounced == 0
                && retrying == "0"
                && on_page
                && in_data,
            numbers: format!(
                "{sent}/{} others sent; the row says \"Delivery failing: {REFUSAL}\": {}; \
                 retries after the 550: {}",
                others.len(),
                if on_page && in_data { "yes" } else { "NO" },
                if retrying == "0" {
                    "none"
                } else {
                    "still queued"
                }
            ),
        });
        Ok(())
    }

    fn database_restart(&self, cluster: &Cluster, results: &mut Vec<Outcome>) -> Result<()> {
        let mut loops = Vec::new();
        let stop = Arc::new(AtomicBool::new(false));
        let log: Arc<Mutex<Vec<Attempt>>> = Arc::default();
        for (name, server) in [("a", &self.a), ("b", &self.b)] {
            let mut owner = Browser::default();
            owner.sign_in(server, OWNER)?;
            let (stop, log, address) = (stop.clone(), log.clone(), server.address.clone());
            loops.push(std::thread::spawn(move || {
                let server = Server::remote(address);
                let mut i = 0;
                while !stop.load(Ordering::SeqCst) {
                    let email = format!("rs-{name}-{i:05}@drill.test");
                    let began = Instant::now();
                    let status = owner
                        .call(
                            &server,
                            "invite_members",
                            &[
                                ("addresses", &email),
                                ("send_email", "false"),
                                ("all_projects", "true"),
                            ],
                        )
                        .map(|r| r.status)
                        .unwrap_or(0);
                    if let Ok(mut log) = log.lock() {
                        log.push(Attempt {
                            server: name,
                            email,
                            began,
                            status,
                        });
                    }
                    if status != 200 {
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    i += 1;
                }
            }));
        }
        std::thread::sleep(Duration::from_secs(2));
        let restart_began = Instant::now();
        let restarted = cluster.restart();
        let back = Instant::now();
        // Traffic goes on until both answer again (or clearly do not).
        let recovered = |log: &[Attempt], name: &str| {
            log.iter()
                .find(|a| a.server == name && a.began >= back && a.status == 200)
                .map(|a| a.began.duration_since(back))
        };
        let deadline = back + Duration::from_secs(20);
        while Instant::now() < deadline {
            let both = log
                .lock()
                .map(|log| recovered(&log, "a").is_some() && recovered(&log, "b").is_some())
                .unwrap_or(false);
            if both {
                std::thread::sleep(Duration::from_secs(1));
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        stop.store(true, Ordering::SeqCst);
        for handle in loops {
            let _ = handle.join();
        }
        restarted?;
        let log = log.lock().map_err(|_| "attempt log poisoned")?;
        // An acknowledged write answered 200 once; the first 200 after the
        // restart counts as "answers again" (its request began after PostgreSQL
        // was back).
        let acknowledged: Vec<&str> = log
            .iter()
            .filter(|a| a.status == 200)
            .map(|a| a.email.as_str())
            .collect();
        let failed = log.iter().filter(|a| a.status != 200).count();
        let stored = self.scalar(
            "SELECT string_agg(lower(invited_email), ',') FROM memberships \
              WHERE invited_email LIKE 'rs-%@drill.test'",
        )?;
        let stored: std::collections::HashSet<&str> = stored.split(',').collect();
        let lost = acknowledged.iter().filter(|e| !stored.contains(*e)).count();
        let (rec_a, rec_b) = (recovered(&log, "a"), recovered(&log, "b"));
        let seconds = |d: Option<Duration>| {
            d.map_or_else(
                || "never".to_owned(),
                |d| format!("{:.1} s", d.as_secs_f64()),
            )
        };
        let within = |d: Option<Duration>| d.is_some_and(|d| d <= RECOVERY_LIMIT);
        results.push(Outcome {
            drill: "PostgreSQL restarted mid-traffic (pg_ctl restart -m immediate)",
            passed: within(rec_a) && within(rec_b) && lost == 0 && !acknowledged.is_empty(),
            numbers: format!(
                "PostgreSQL down {:.1} s; servers answered again {} (A) and {} (B) after it was \
                 back; {} writes acknowledged, {} lost; {failed} requests failed meanwhile",
                back.duration_since(restart_began).as_secs_f64(),
                seconds(rec_a),
                seconds(rec_b),
                acknowledged.len(),
                lost
            ),
        });
        Ok(())
    }

    /// One value from the drill's database, as psql prints it.
    fn scalar(&self, sql: &str) -> Result<String> {
        let output = Command::new("psql")
            .arg(&self.cluster_url)
            .args(["-tAc", sql])
            .output()
            .map_err(|e| format!("psql: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "psql failed on {sql}: {}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }
}

struct Attempt {
    server: &'static str,
    email: String,
    began: Instant,
    status: u16,
}

fn clip(text: &str) -> String {
    text.chars().take(200).collect()
}

fn free_port() -> Result<u16> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

/// A server process (or, in a traffic thread, just its address).
struct Server {
    address: String,
    child: Option<Child>,
    log: PathBuf,
}

impl Server {
    fn start(
        root: &Path,
        bin: &Path,
        port: u16,
        env: &[(&str, String)],
        log: &Path,
    ) -> Result<Server> {
        let file = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
        let errors = file.try_clone().map_err(|e| e.to_string())?;
        let mut command = Command::new(bin);
        command.current_dir(root).stdout(file).stderr(errors);
        for (name, value) in env {
            command.env(name, value);
        }
        let child = command
            .spawn()
            .map_err(|e| format!("could not start the server: {e}"))?;
        Ok(Server {
            address: format!("127.0.0.1:{port}"),
            child: Some(child),
            log: log.to_owned(),
        })
    }

    fn remote(address: String) -> Server {
        Server {
            address,
            child: None,
            log: PathBuf::new(),
        }
    }

    fn wait_ready(&self) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if request(&self.address, "GET", "/healthz", "", None, "text/plain")
                .is_ok_and(|r| r.status == 200)
            {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Err(format!(
            "the server on {} did not start; see {}",
            self.address,
            self.log.display()
        ))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            tools::terminate(child);
        }
    }
}

/// `server mail-sink`, with its files counted per envelope recipient.
struct Sink {
    process: SinkProcess,
    dir: PathBuf,
}

impl Sink {
    fn start(bin: &Path, dir: &Path, reject: &str) -> Result<Sink> {
        Ok(Sink {
            process: SinkProcess::start(bin, 0, dir, &[reject], SinkOutput::Drain)?,
            dir: dir.to_owned(),
        })
    }

    /// Messages per recipient among those `wanted` (the sink writes the
    /// envelope recipients as the first line of each file).
    fn counts(&self, wanted: impl Fn(&str) -> bool) -> HashMap<String, usize> {
        let mut counts = HashMap::new();
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return counts;
        };
        for entry in entries.filter_map(std::result::Result::ok) {
            let path = entry.path();
            if path.extension().is_none_or(|x| x != "eml") {
                continue;
            }
            let Ok(file) = std::fs::File::open(&path) else {
                continue;
            };
            let mut first = String::new();
            let _ = std::io::BufReader::new(file).read_line(&mut first);
            let Some(list) = first.trim_end().strip_prefix("X-Envelope-To: ") else {
                continue;
            };
            for to in list.split(", ").map(str::to_lowercase) {
                if wanted(&to) {
                    *counts.entry(to).or_insert(0) += 1;
                }
            }
        }
        counts
    }
}

/// A client that keeps cookies, as a browser does.
#[derive(Default)]
struct Browser {
    cookies: HashMap<String, String>,
}

impl Browser {
    fn sign_in(&mut self, server: &Server, email: &str) -> Result<()> {
        let reply = self.call(
            server,
            "sign_in",
            &[("email", email), ("password", PASSWORD)],
        )?;
        if reply.status >= 400 || self.cookies.is_empty() {
            return Err(format!(
                "signing in as {email} on {} answered {}: {}",
                server.address,
                reply.status,
                clip(&reply.body)
            ));
        }
        Ok(())
    }

    /// A server function, called as the hydrated page does.
    fn call(&mut self, server: &Server, name: &str, form: &[(&str, &str)]) -> Result<Reply> {
        let body = form
            .iter()
            .map(|(k, v)| format!("{}={}", url_encode(k), url_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.send(
            server,
            "POST",
            &format!("/api/{name}"),
            Some(&body),
            "application/json",
        )
    }

    fn get(&mut self, server: &Server, path: &str) -> Result<Reply> {
        self.send(server, "GET", path, None, "text/html")
    }

    fn send(
        &mut self,
        server: &Server,
        method: &str,
        path: &str,
        body: Option<&str>,
        accept: &str,
    ) -> Result<Reply> {
        let cookie = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let reply = request(&server.address, method, path, &cookie, body, accept)
            .map_err(|e| format!("{method} {path} on {}: {e}", server.address))?;
        for (name, value) in &reply.headers {
            if name.eq_ignore_ascii_case("set-cookie") {
                let pair = value.split(';').next().unwrap_or_default();
                if let Some((k, v)) = pair.split_once('=') {
                    if v.is_empty() {
                        self.cookies.remove(k.trim());
                    } else {
                        self.cookies
                            .insert(k.trim().to_owned(), v.trim().to_owned());
                    }
                }
            }
        }
        Ok(reply)
    }
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// One HTTP/1.1 request on its own connection (`Connection: close`).
fn request(
    address: &str,
    method: &str,
    path: &str,
    cookie: &str,
    body: Option<&str>,
    accept: &str,
) -> std::io::Result<Reply> {
    let socket = address
        .parse()
        .map_err(|_| std::io::Error::other("bad address"))?;
    let mut stream = TcpStream::connect_timeout(&socket, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    stream.set_write_timeout(Some(Duration::from_secs(10)))?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nAccept: {accept}\r\n"
    );
    if !cookie.is_empty() {
        head.push_str(&format!("Cookie: {cookie}\r\n"));
    }
    if let Some(body) = body {
        head.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    if let Some(body) = body {
        stream.write_all(body.as_bytes())?;
    }
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no HTTP head in the answer"))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status line"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        body = dechunk(&body);
    }
    Ok(Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = data.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&data[..end]);
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let Ok(size) = usize::from_str_radix(size_text, 16) else {
            break;
        };
        if size == 0 {
            break;
        }
        let start = end + 2;
        let stop = (start + size).min(data.len());
        out.extend_from_slice(&data[start..stop]);
        data = data.get(stop + 2..).unwrap_or_default();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{dechunk, url_encode};

    #[test]
    fn decodes_chunks_and_encodes_forms() {
        assert_eq!(dechunk(b"3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n"), b"abcde");
        assert_eq!(url_encode("a b@c\n"), "a%20b%40c%0A");
    }
}
