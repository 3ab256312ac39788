//! `server mail-sink` as a child process: started from a built server
//! binary, its port read from the first line it prints, stopped on drop.
//! The one launcher of the catcher: `cargo xtask run|test` include this
//! file by path (xtask must build without the server crate) and the
//! integration tests use it as `server::mail_sink_process`. std only.

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Child, Command, Stdio},
};

/// A running catcher.
pub struct SinkProcess {
    child: Option<Child>,
    /// The port it listens on (the one asked for, or the free one it got
    /// for port 0).
    pub port: u16,
}

/// What becomes of the catcher's lines ("mail to ...: subject", links).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SinkOutput {
    /// Printed on our stdout, for a developer to click a link.
    Echo,
    /// Read and dropped (the pipe is drained so the catcher never blocks).
    Drain,
}

impl SinkProcess {
    /// Starts `server mail-sink` on `port` (0: any free one) saving to `dir`,
    /// answering 550 at RCPT for each of `reject`. Fails when the catcher
    /// does not say where it listens (the port is busy, say).
    pub fn start(
        server: &Path,
        port: u16,
        dir: &Path,
        reject: &[&str],
        output: SinkOutput,
    ) -> Result<Self, String> {
        let mut command = Command::new(server);
        command
            .args(["mail-sink", "--port", &port.to_string(), "--dir"])
            .arg(dir);
        for address in reject {
            command.args(["--reject", address]);
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(match output {
                SinkOutput::Echo => Stdio::inherit(),
                SinkOutput::Drain => Stdio::null(),
            })
            .spawn()
            .map_err(|e| format!("could not start the mail catcher: {e}"))?;
        let mut process = Self {
            child: None,
            port: 0,
        };
        let Some(stdout) = child.stdout.take() else {
            process.child = Some(child);
            return Err("the mail catcher has no output".into());
        };
        process.child = Some(child);
        let mut reader = BufReader::new(stdout);
        let mut first = String::new();
        let _ = reader.read_line(&mut first);
        // "mail sink listening on 127.0.0.1:PORT ..."
        let Some(listening) = first
            .split_whitespace()
            .find_map(|word| word.rsplit(':').next()?.parse::<u16>().ok())
        else {
            return Err(format!(
                "the mail catcher did not start (port {port} busy?): {first:?}"
            ));
        };
        process.port = listening;
        std::thread::spawn(move || {
            for line in reader.lines().map_while(Result::ok) {
                if output == SinkOutput::Echo {
                    println!("{line}");
                }
            }
        });
        Ok(process)
    }

    /// The SMTP URL the mailer is given.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Stops the catcher (a test that needs the server down); idempotent.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for SinkProcess {
    fn drop(&mut self) {
        self.stop();
    }
}
