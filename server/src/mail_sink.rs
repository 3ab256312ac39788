//! `server mail-sink`: a local SMTP catcher for development and tests.
//! It speaks enough SMTP for lettre (EHLO/HELO, MAIL, RCPT, DATA, RSET,
//! NOOP, QUIT), accepts everything (but the addresses given with
//! `--reject`, answered `550 5.1.1 mailbox unavailable` at RCPT, as a real
//! server does for a mailbox that does not exist), saves each message as an `.eml` file
//! (written under a temporary name, then renamed, so a reader never sees
//! half a message) and prints the recipients, subject and links, so the
//! developer running `cargo xtask run` can click an invitation link.
//! (A crate such as mailin-embedded would bring a TLS stack we do not need
//! for a loopback catcher.)

use std::{
    path::{Path, PathBuf},
    sync::atomic::{AtomicU64, Ordering},
    sync::Arc,
};

use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
};

/// Largest message accepted (the invitations are a few KB).
const MAX_MESSAGE_BYTES: usize = 10 * 1024 * 1024;

/// The reply to RCPT for a rejected address.
pub const REJECT_REPLY: &str = "550 5.1.1 mailbox unavailable";

pub async fn run(port: u16, dir: PathBuf, reject: Vec<String>) -> Result<(), String> {
    let reject: Arc<Vec<String>> = Arc::new(reject.iter().map(|a| a.to_lowercase()).collect());
    std::fs::create_dir_all(&dir)
        .map_err(|e| format!("cannot create the mail directory {}: {e}", dir.display()))?;
    let listener = TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| format!("mail-sink cannot listen on 127.0.0.1:{port}: {e}"))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    // Registered before anyone learns the port, so a SIGTERM sent right
    // after start-up ends the process cleanly.
    let mut stop = StopSignals::register().map_err(|e| format!("signal handlers: {e}"))?;
    // Tests read this first line to learn the port (stdout flushes per line).
    println!("mail-sink listening on {address}");
    let counter = Arc::new(AtomicU64::new(0));
    let dir = Arc::new(dir);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let (dir, counter, reject) = (dir.clone(), counter.clone(), reject.clone());
                    tokio::spawn(async move {
                        if let Err(error) = session(stream, &dir, &counter, &reject).await {
                            eprintln!("mail-sink: connection ended: {error}");
                        }
                    });
                }
                Err(error) => {
                    eprintln!("mail-sink: accept failed: {error}");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            },
            () = stop.received() => return Ok(()),
        }
    }
}

/// SIGTERM and SIGINT, listened for from the start.
struct StopSignals {
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
}

impl StopSignals {
    fn register() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Self {
                terminate: signal(SignalKind::terminate())?,
                interrupt: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    async fn received(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.terminate.recv() => {}
            _ = self.interrupt.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn session(
    stream: TcpStream,
    dir: &Path,
    counter: &AtomicU64,
    reject: &[String],
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 teamroom mail-sink ready\r\n").await?;
    let mut recipients: Vec<String> = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_ascii_uppercase();
        let reply: &[u8] = if command.starts_with("EHLO") {
            b"250-teamroom mail-sink\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 10485760\r\n"
        } else if command.starts_with("HELO") || command.starts_with("NOOP") {
            b"250 OK\r\n"
        } else if command.starts_with("MAIL FROM") || command.starts_with("RSET") {
            recipients.clear();
            b"250 OK\r\n"
        } else if command.starts_with("RCPT TO") {
            let raw = line.trim_end();
            let address = raw
                .find('<')
                .and_then(|open| {
                    raw[open + 1..]
                        .find('>')
                        .map(|close| &raw[open + 1..open + 1 + close])
                })
                .unwrap_or_default();
            if reject.contains(&address.to_lowercase()) {
                println!("mail to {address} refused: {REJECT_REPLY}");
                write
                    .write_all(format!("{REJECT_REPLY}\r\n").as_bytes())
                    .await?;
                continue;
            }
            recipients.push(address.to_owned());
            b"250 OK\r\n"
        } else if command == "DATA" {
            write
                .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                .await?;
            let mut message = Vec::new();
            let mut data_line = Vec::new();
            loop {
                data_line.clear();
                if lines.read_until(b'\n', &mut data_line).await? == 0 {
                    return Ok(());
                }
                if data_line == b".\r\n" || data_line == b".\n" {
                    break;
                }
                // Dot-stuffing: a leading ".." stands for ".".
                let content = if data_line.starts_with(b"..") {
                    &data_line[1..]
                } else {
                    &data_line[..]
                };
                if message.len() + content.len() <= MAX_MESSAGE_BYTES {
                    message.extend_from_slice(content);
                }
            }
            save(dir, counter, &recipients, &message)?;
            recipients.clear();
            b"250 OK: queued\r\n"
        } else if command == "QUIT" {
            write.write_all(b"221 Bye\r\n").await?;
            return Ok(());
        } else {
            b"502 Command not implemented\r\n"
        };
        write.write_all(reply).await?;
    }
}

fn save(
    dir: &Path,
    counter: &AtomicU64,
    recipients: &[String],
    message: &[u8],
) -> std::io::Result<()> {
    let sequence = counter.fetch_add(1, Ordering::SeqCst);
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let name = format!("{millis}-{}-{sequence:06}", std::process::id());
    // The envelope recipients go first, as an X- header readers can trust.
    let mut content = format!("X-Envelope-To: {}\r\n", recipients.join(", ")).into_bytes();
    content.extend_from_slice(message);
    let temporary = dir.join(format!(".{name}.tmp"));
    std::fs::write(&temporary, &content)?;
    let path = dir.join(format!("{name}.eml"));
    std::fs::rename(&temporary, &path)?;

    // What the developer needs from it: who, what, and the links to click.
    let parsed = mail_parser::MessageParser::default().parse(message);
    let subject = parsed
        .as_ref()
        .and_then(|m| m.subject())
        .unwrap_or("(no subject)");
    println!("mail to {}: {subject}", recipients.join(", "));
    let text = parsed
        .as_ref()
        .and_then(|m| m.body_text(0))
        .map(|t| t.into_owned())
        .unwrap_or_default();
    let mut seen = std::collections::HashSet::new();
    for word in text.split(|c: char| c.is_whitespace() || matches!(c, '"' | '<' | '>')) {
        let link = word.trim_end_matches(['.', ',', ')', ';']);
        if (link.starts_with("http://") || link.starts_with("https://")) && seen.insert(link) {
            println!("  {link}");
        }
    }
    println!("  saved as {}", path.display());
    Ok(())
}
