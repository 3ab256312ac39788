//! A private PostgreSQL cluster for `run`, a throwaway one for `test`.

use std::{
    cell::RefCell,
    path::{Path, PathBuf},
    process::Command,
};

use crate::{run_command, tools, Result};

const PRIVATE_PORT: u16 = 54329;
const TEST_PORT: u16 = 54330;
/// Unix socket paths are limited to ~107 bytes.
const MAX_SOCKET_DIR: usize = 80;

/// The PostgreSQL server binaries: PATH first, then Debian's versioned dirs.
fn server_binaries() -> Result<PathBuf> {
    let find = || -> Option<PathBuf> {
        if let Some(path) = std::env::var_os("PATH") {
            for dir in std::env::split_paths(&path) {
                if dir.join("initdb").is_file() && dir.join("pg_ctl").is_file() {
                    return Some(dir);
                }
            }
        }
        let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|entry| entry.ok())
            .filter_map(|entry| {
                let version = entry.file_name().to_string_lossy().parse::<u32>().ok()?;
                let bin = entry.path().join("bin");
                bin.join("initdb").is_file().then_some((version, bin))
            })
            .collect();
        versions.sort();
        versions.pop().map(|(_, bin)| bin)
    };
    if let Some(bin) = find() {
        return Ok(bin);
    }
    if !tools::is_root() {
        return Err(
            "PostgreSQL server binaries (initdb, pg_ctl) were not found. Install the \
                    PostgreSQL server (e.g. apt-get install postgresql), or set DATABASE_URL to \
                    a database you already have."
                .into(),
        );
    }
    println!("xtask: installing PostgreSQL (Debian package)");
    tools::apt_install(&["postgresql"])?;
    find().ok_or_else(|| "PostgreSQL was installed but initdb is still not found".into())
}

/// The psql client: beside the server binaries when given, else on PATH.
fn psql(bin: Option<&Path>) -> Command {
    match bin.map(|dir| dir.join("psql")).filter(|p| p.is_file()) {
        Some(beside) => Command::new(beside),
        None => Command::new("psql"),
    }
}

/// Runs a server binary as the cluster's owner: `postgres` when we are root
/// (initdb refuses to run as root), ourselves otherwise.
fn as_owner(program: &Path) -> Command {
    if tools::is_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

pub struct Cluster {
    bin: PathBuf,
    data: PathBuf,
    sock: PathBuf,
    port: u16,
    started_here: bool,
}

impl Cluster {
    fn layout(dir: &Path, port: u16) -> Result<(PathBuf, PathBuf, PathBuf)> {
        let bin = server_binaries()?;
        let data = dir.join("data");
        let mut sock = dir.join("sock");
        if sock.as_os_str().len() > MAX_SOCKET_DIR {
            sock = std::env::temp_dir().join(format!("teamroom-pg-{port}"));
        }
        Ok((bin, data, sock))
    }

    /// Creates (first time) and starts (if not running) a cluster in `dir`.
    fn at(dir: &Path, port: u16, durable: bool) -> Result<Cluster> {
        let (bin, data, sock) = Self::layout(dir, port)?;
        for path in [dir, &sock] {
            std::fs::create_dir_all(path)
                .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        }
        if tools::is_root() {
            for path in [dir, &sock] {
                run_command(
                    Command::new("chown")
                        .args(["-R", "postgres:postgres"])
                        .arg(path),
                    "chown the PostgreSQL directories to postgres",
                )?;
            }
        }
        if !data.join("PG_VERSION").exists() {
            println!("xtask: creating a PostgreSQL cluster in {}", data.display());
            let mut init = as_owner(&bin.join("initdb"));
            init.arg("-D").arg(&data).args([
                "-U",
                "app",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ]);
            if !durable {
                init.arg("--no-sync");
            }
            run_command(init.stdout(std::process::Stdio::null()), "initdb")?;
        }
        let running = as_owner(&bin.join("pg_ctl"))
            .arg("-D")
            .arg(&data)
            .arg("status")
            .stdout(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        let mut cluster = Cluster {
            bin,
            data,
            sock,
            port,
            started_here: false,
        };
        if !running {
            // 1 GB of shared buffers keeps a million-member workspace's
            // indexes in memory (seeding and the benchmark); with the
            // default 128 MB one 1M-member seed took 159 s instead of 145 s.
            let mut options = format!(
                "-k {} -p {} -c listen_addresses='' -c shared_buffers=1GB -c max_wal_size=4GB",
                cluster.sock.display(),
                port
            );
            if !durable {
                options.push_str(" -c fsync=off -c synchronous_commit=off -c full_page_writes=off");
            }
            run_command(
                as_owner(&cluster.bin.join("pg_ctl"))
                    .arg("-D")
                    .arg(&cluster.data)
                    .arg("-l")
                    .arg(dir.join("server.log"))
                    .args(["-w", "-o", &options, "start"])
                    .stdout(std::process::Stdio::null()),
                "starting PostgreSQL",
            )?;
            cluster.started_here = true;
        }
        cluster.create_database("app")?;
        Ok(cluster)
    }

    /// The cluster `cargo xtask run` keeps under `.data/postgres`.
    pub fn private(root: &Path) -> Result<Cluster> {
        Self::at(&root.join(".data/postgres"), PRIVATE_PORT, true)
    }

    /// A durable cluster in `dir` (the drills'), which may be restarted.
    pub fn scratch(dir: &Path, port: u16) -> Result<Cluster> {
        Self::at(dir, port, true)
    }

    /// The socket directory (removed with a scratch cluster's files).
    pub fn sock(&self) -> &Path {
        &self.sock
    }

    /// `pg_ctl restart -m immediate`: every backend is killed at once, as
    /// in a crash, and the server comes back through WAL recovery with the
    /// options it was started with. Returns when it accepts connections.
    pub fn restart(&self) -> Result<()> {
        let log = self
            .data
            .parent()
            .map(|dir| dir.join("server.log"))
            .unwrap_or_else(|| self.data.join("server.log"));
        run_command(
            as_owner(&self.bin.join("pg_ctl"))
                .arg("-D")
                .arg(&self.data)
                .arg("-l")
                .arg(log)
                .args(["-w", "-m", "immediate", "restart"])
                .stdout(std::process::Stdio::null()),
            "restarting PostgreSQL",
        )
    }

    /// Runs SQL on one of the cluster's databases.
    pub fn sql(&self, database: &str, sql: &str) -> Result<()> {
        run_command(
            psql(Some(&self.bin))
                .arg(self.url(database))
                .args(["-v", "ON_ERROR_STOP=1", "-qc", sql])
                .stdout(std::process::Stdio::null()),
            "psql",
        )
    }

    pub fn stop_private(root: &Path) -> Result<()> {
        let dir = root.join(".data/postgres");
        let (bin, data, _) = Self::layout(&dir, PRIVATE_PORT)?;
        run_command(
            as_owner(&bin.join("pg_ctl"))
                .arg("-D")
                .arg(&data)
                .args(["-m", "fast", "stop"]),
            "stopping PostgreSQL",
        )
    }

    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://app@localhost:{}/{database}?host={}",
            self.port,
            self.sock.display()
        )
    }

    /// Creates a database unless it exists.
    fn create_database(&self, name: &str) -> Result<()> {
        let exists = psql(Some(&self.bin))
            .arg(self.url("postgres"))
            .args([
                "-tAc",
                &format!("SELECT 1 FROM pg_database WHERE datname = '{name}'"),
            ])
            .output()
            .map_err(|e| format!("psql: {e}"))?;
        if String::from_utf8_lossy(&exists.stdout).trim() == "1" {
            return Ok(());
        }
        run_command(
            psql(Some(&self.bin))
                .arg(self.url("postgres"))
                .args(["-qc", &format!("CREATE DATABASE {name}")]),
            &format!("creating database {name}"),
        )
    }

    /// Stops the cluster if this run started it.
    pub fn stop(&self) {
        if !self.started_here {
            return;
        }
        let _ = as_owner(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "fast", "stop"])
            .stdout(std::process::Stdio::null())
            .status();
    }
}

/// Databases for one `cargo xtask test`: on the server named by
/// DATABASE_URL, or on a cluster in a temporary directory; gone afterwards.
pub struct Throwaway {
    cluster: Option<(Cluster, PathBuf)>,
    server_url: Option<String>,
    created: RefCell<Vec<String>>,
}

/// `url` with its database name replaced.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let prefix = match base.rfind('/') {
        Some(slash) if slash > "postgres://".len() => &base[..slash],
        _ => base,
    };
    match query {
        Some(query) => format!("{prefix}/{name}?{query}"),
        None => format!("{prefix}/{name}"),
    }
}

impl Throwaway {
    pub fn start(_root: &Path) -> Result<Throwaway> {
        if let Ok(url) = std::env::var("DATABASE_URL") {
            println!("xtask: tests use fresh databases on the DATABASE_URL server");
            return Ok(Self::on_server(url));
        }
        let dir = std::env::temp_dir().join(format!("teamroom-test-pg-{}", std::process::id()));
        let cluster = Cluster::at(&dir, TEST_PORT, false)?;
        Ok(Throwaway {
            cluster: Some((cluster, dir)),
            server_url: None,
            created: RefCell::default(),
        })
    }

    /// Databases on a server that is already running (never stopped here).
    pub fn on_server(url: String) -> Throwaway {
        Throwaway {
            cluster: None,
            server_url: Some(url),
            created: RefCell::default(),
        }
    }

    fn admin_url(&self) -> String {
        match (&self.cluster, &self.server_url) {
            (Some((cluster, _)), _) => cluster.url("postgres"),
            (None, Some(url)) => url.clone(),
            (None, None) => String::new(),
        }
    }

    /// A new, empty database; returns its URL.
    pub fn fresh_database(&self, prefix: &str) -> Result<String> {
        let name = format!("{prefix}_{}", std::process::id());
        let admin = self.admin_url();
        run_command(
            psql(None)
                .arg(&admin)
                .args([
                    "-qc",
                    &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                ])
                .args(["-qc", &format!("CREATE DATABASE {name}")]),
            &format!("creating test database {name}"),
        )?;
        self.created.borrow_mut().push(name.clone());
        Ok(with_database(&admin, &name))
    }

    pub fn stop(self) {
        match self.cluster {
            Some((cluster, dir)) => {
                cluster.stop();
                let _ = std::fs::remove_dir_all(&dir);
                let _ = std::fs::remove_dir_all(&cluster.sock);
            }
            None => {
                let admin = self.admin_url();
                for name in self.created.borrow().iter() {
                    let _ = psql(None)
                        .arg(&admin)
                        .args([
                            "-qc",
                            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                        ])
                        .status();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn replaces_only_the_database_name() {
        assert_eq!(
            with_database("postgres://app@localhost:5432/app?host=/tmp/s", "t1"),
            "postgres://app@localhost:5432/t1?host=/tmp/s"
        );
        assert_eq!(
            with_database("postgres://u:p@db.example:5432/prod", "t2"),
            "postgres://u:p@db.example:5432/t2"
        );
        assert_eq!(
            with_database("postgres://localhost", "t3"),
            "postgres://localhost/t3"
        );
    }
}
