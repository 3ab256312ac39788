//! Throttles kept in PostgreSQL, so every app instance shares them.
//!
//! Two shapes:
//! - [`Backoff`]: failures of an expensive check (a password, a Kiosk PIN)
//!   for one key. The try is **reserved before the check**, in the one
//!   statement that reads the count, so a burst of concurrent guesses is
//!   counted like serial ones: past the free tries each further try must
//!   wait, the wait doubling up to a cap; after a quiet period the count is
//!   forgotten. Never permanent.
//! - [`Window`]: at most `limit` requests per key in a fixed window (sign-ups
//!   per client address, reset mails per address...).

use sqlx::PgConnection;

use crate::error::AppError;

/// Failure counting with a growing wait (see the module comment).
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub scope: &'static str,
    /// Tries before any wait.
    pub free: i32,
    /// The first wait; each further failure doubles it.
    pub base_wait_secs: i64,
    pub max_wait_secs: i64,
    /// A key with no failure for this long starts again from zero.
    pub forget_after_secs: i64,
}

/// Wrong passwords for one address, whether or not it has an account (so a
/// throttled answer tells nothing about which addresses exist). Keycloak's
/// brute-force defaults, with a shorter quiet period.
pub const SIGN_IN_EMAIL: Backoff = Backoff {
    scope: "sign_in_email",
    free: 5,
    base_wait_secs: 60,
    max_wait_secs: 15 * 60,
    forget_after_secs: 6 * 3600,
};

/// Wrong passwords from a browser that has signed in to the account before:
/// its own count, so a stranger's burst on the address does not lock it out.
pub const SIGN_IN_DEVICE: Backoff = Backoff {
    scope: "sign_in_device",
    free: 5,
    base_wait_secs: 60,
    max_wait_secs: 15 * 60,
    forget_after_secs: 6 * 3600,
};

/// Wrong passwords from one client address, across all accounts (password
/// spraying). Generous: offices share an address.
pub const SIGN_IN_IP: Backoff = Backoff {
    scope: "sign_in_ip",
    free: 30,
    base_wait_secs: 60,
    max_wait_secs: 15 * 60,
    forget_after_secs: 3600,
};

/// Wrong two-factor codes for one account (sign-in, turning it on or off).
/// A code has a million values: five free tries, then the same waits as
/// passwords.
pub const TWO_FACTOR: Backoff = Backoff {
    scope: "two_factor",
    free: 5,
    base_wait_secs: 60,
    max_wait_secs: 15 * 60,
    forget_after_secs: 6 * 3600,
};

/// Wrong Kiosk PINs for one member.
pub const KIOSK_PIN: Backoff = Backoff {
    scope: "kiosk_pin",
    free: 5,
    base_wait_secs: 30,
    max_wait_secs: 15 * 60,
    forget_after_secs: 3600,
};

/// A reserved try: how many failures the key has counted, this one included.
#[derive(Debug, Clone, Copy)]
pub struct Reserved {
    pub failures: i32,
}

impl Backoff {
    /// Counts one try for `key` before it is checked, or refuses it with
    /// the wait left. Call [`Backoff::succeeded`] when the check passes.
    pub async fn reserve(&self, conn: &mut PgConnection, key: &str) -> Result<Reserved, AppError> {
        let key = stored_key(key);
        let key = key.as_ref();
        // ON CONFLICT locks the key's row, so concurrent tries queue here
        // and each sees the count the one before it left. A row whose wait
        // has not passed is left alone: no row comes back, the try is refused.
        let row = sqlx::query!(
            r#"WITH reserved AS (
                 INSERT INTO auth_throttles AS t (scope, key, failures, last_failure_at, blocked_until)
                 VALUES ($1, $2, 1, now(),
                         CASE WHEN 1 >= $3 THEN now() + make_interval(secs => $4::float8) END)
                 ON CONFLICT (scope, key) DO UPDATE SET
                     failures = teamroom_decayed(t.failures, t.last_failure_at, $6::float8) + 1,
                     last_failure_at = now(),
                     blocked_until = CASE
                         WHEN teamroom_decayed(t.failures, t.last_failure_at, $6::float8) + 1 >= $3
                         THEN now() + make_interval(secs => least($5::float8, $4::float8
                                  * power(2, least(teamroom_decayed(t.failures, t.last_failure_at, $6::float8) + 1 - $3, 30))))
                         END
                  WHERE t.blocked_until IS NULL OR t.blocked_until <= now()
                     OR t.last_failure_at < now() - make_interval(secs => $6::float8)
                 RETURNING t.failures
               )
               SELECT (SELECT failures FROM reserved) AS failures,
                      (SELECT ceil(extract(epoch FROM blocked_until - now()))::bigint
                         FROM auth_throttles WHERE scope = $1 AND key = $2) AS wait_secs"#,
            self.scope,
            key,
            self.free,
            self.base_wait_secs as f64,
            self.max_wait_secs as f64,
            self.forget_after_secs as f64,
        )
        .fetch_one(conn)
        .await?;
        match row.failures {
            Some(failures) => Ok(Reserved { failures }),
            None => Err(AppError::RateLimited {
                // The refusing row may be newer than this statement's
                // snapshot: then the wait reads as passed; say one second.
                retry_after_secs: row.wait_secs.unwrap_or(1).max(1).unsigned_abs(),
            }),
        }
    }

    /// The check passed: the key's failures are forgotten.
    pub async fn succeeded(&self, conn: &mut PgConnection, key: &str) -> Result<(), AppError> {
        let key = stored_key(key);
        let key = key.as_ref();
        sqlx::query!(
            "DELETE FROM auth_throttles WHERE scope = $1 AND key = $2",
            self.scope,
            key
        )
        .execute(conn)
        .await?;
        Ok(())
    }

    /// The check passed, but the key counts other people's tries too (a
    /// client address): give back only this one reservation.
    pub async fn give_back(&self, conn: &mut PgConnection, key: &str) -> Result<(), AppError> {
        let key = stored_key(key);
        let key = key.as_ref();
        sqlx::query!(
            "UPDATE auth_throttles
                SET failures = greatest(failures - 1, 0),
                    blocked_until = CASE WHEN failures - 1 >= $3 THEN blocked_until END
              WHERE scope = $1 AND key = $2",
            self.scope,
            key,
            self.free
        )
        .execute(conn)
        .await?;
        Ok(())
    }

    /// Tries left before a wait, after `reserved` (for messages).
    pub fn tries_left(&self, reserved: Reserved) -> i32 {
        (self.free - reserved.failures).max(0)
    }
}

/// At most `limit` requests per key in each window of `window_secs`.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub scope: &'static str,
    pub limit: i32,
    pub window_secs: i64,
}

/// Sign-in attempts from one client address per minute, right or wrong.
pub const SIGN_IN_IP_RATE: Window = Window {
    scope: "sign_in_ip_rate",
    limit: 60,
    window_secs: 60,
};
/// Sign-in attempts in all, per minute: a ceiling on what a botnet can make
/// the server hash.
pub const SIGN_IN_GLOBAL: Window = Window {
    scope: "sign_in_global",
    limit: 6_000,
    window_secs: 60,
};
/// Sign-ups from one client address per hour.
pub const SIGN_UP_IP: Window = Window {
    scope: "sign_up_ip",
    limit: 20,
    window_secs: 3600,
};
/// Sign-ups in all, per hour.
pub const SIGN_UP_GLOBAL: Window = Window {
    scope: "sign_up_global",
    limit: 2_000,
    window_secs: 3600,
};
/// "Resend confirmation" per client address per hour.
pub const RESEND_VERIFICATION_IP: Window = Window {
    scope: "resend_verification_ip",
    limit: 20,
    window_secs: 3600,
};
/// Password reset requests per client address per hour.
pub const RESET_IP: Window = Window {
    scope: "password_reset_ip",
    limit: 10,
    window_secs: 3600,
};
/// Password reset mails per address per hour (a mailbox is not flooded).
pub const RESET_EMAIL: Window = Window {
    scope: "password_reset_email",
    limit: 3,
    window_secs: 3600,
};
/// Password reset requests in all, per hour.
pub const RESET_GLOBAL: Window = Window {
    scope: "password_reset_global",
    limit: 2_000,
    window_secs: 3600,
};
/// Email change requests per client address per hour.
pub const EMAIL_CHANGE_IP: Window = Window {
    scope: "email_change_ip",
    limit: 20,
    window_secs: 3600,
};

impl Window {
    /// The same window with a configured limit.
    pub const fn limited(self, limit: i32) -> Self {
        Self { limit, ..self }
    }

    /// Counts one request for `key`, or refuses it with the wait until the
    /// window ends.
    pub async fn hit(&self, conn: &mut PgConnection, key: &str) -> Result<(), AppError> {
        let counted = self.count(conn, key).await?;
        if counted.hits > i64::from(self.limit) {
            return Err(AppError::RateLimited {
                retry_after_secs: counted.reset_secs,
            });
        }
        Ok(())
    }

    /// Counts one request for `key` and says where the window stands, for
    /// callers that report it (the REST API's `RateLimit-*` headers).
    pub async fn count(&self, conn: &mut PgConnection, key: &str) -> Result<Counted, AppError> {
        self.add(conn, key, 1).await
    }

    /// Counts `n` requests for `key` at once (a batch of mails) and says
    /// where the window stands; the caller refuses when `hits > limit`, in
    /// the same transaction, so a refusal counts nothing.
    pub async fn add(
        &self,
        conn: &mut PgConnection,
        key: &str,
        n: i32,
    ) -> Result<Counted, AppError> {
        let key = stored_key(key);
        let key = key.as_ref();
        let row = sqlx::query!(
            r#"INSERT INTO rate_windows AS w (scope, key, window_start, hits)
               VALUES ($1, $2, date_bin(make_interval(secs => $3::float8), now(), 'epoch'), $4)
               ON CONFLICT (scope, key, window_start) DO UPDATE SET hits = w.hits + $4
               RETURNING w.hits,
                         ceil(extract(epoch FROM w.window_start + make_interval(secs => $3::float8) - now()))::bigint
                           AS "wait_secs!""#,
            self.scope,
            key,
            self.window_secs as f64,
            n
        )
        .fetch_one(conn)
        .await?;
        Ok(Counted {
            hits: i64::from(row.hits),
            reset_secs: row.wait_secs.max(1).unsigned_abs(),
        })
    }
}

impl Window {
    /// Counts one request for each of `keys` (distinct) in one statement and
    /// returns each key's hits in this window, in the order given. Rows are
    /// locked in key order, so two batches sharing keys cannot deadlock.
    pub async fn add_each(
        &self,
        conn: &mut PgConnection,
        keys: &[String],
    ) -> Result<Vec<i64>, AppError> {
        let counted: Vec<(String, i32)> = keys.iter().map(|k| (k.clone(), 1)).collect();
        self.add_counts(conn, &counted).await
    }

    /// Counts `amount` requests for each key (distinct keys) in one
    /// statement; otherwise as [`Window::add_each`].
    pub async fn add_counts(
        &self,
        conn: &mut PgConnection,
        counted: &[(String, i32)],
    ) -> Result<Vec<i64>, AppError> {
        if counted.is_empty() {
            return Ok(Vec::new());
        }
        let stored: Vec<String> = counted
            .iter()
            .map(|(k, _)| stored_key(k).into_owned())
            .collect();
        let amounts: Vec<i32> = counted.iter().map(|(_, n)| (*n).max(1)).collect();
        let rows = sqlx::query!(
            r#"WITH input AS (SELECT k, sum(n)::int4 AS n FROM unnest($2::text[], $4::int4[]) AS t(k, n) GROUP BY k)
               INSERT INTO rate_windows AS w (scope, key, window_start, hits)
               SELECT $1, k, date_bin(make_interval(secs => $3::float8), now(), 'epoch'), n
                 FROM input ORDER BY k
               ON CONFLICT (scope, key, window_start) DO UPDATE SET hits = w.hits + excluded.hits
               RETURNING w.key, w.hits"#,
            self.scope,
            &stored,
            self.window_secs as f64,
            &amounts
        )
        .fetch_all(conn)
        .await?;
        let hits: std::collections::HashMap<String, i64> = rows
            .into_iter()
            .map(|row| (row.key, i64::from(row.hits)))
            .collect();
        Ok(stored
            .iter()
            .zip(&amounts)
            .map(|(k, n)| hits.get(k).copied().unwrap_or(i64::from(*n)))
            .collect())
    }
}

/// One request counted in a [`Window`].
#[derive(Debug, Clone, Copy)]
pub struct Counted {
    /// Requests in this window, the one just counted included.
    pub hits: i64,
    /// Seconds until the window ends (at least 1).
    pub reset_secs: u64,
}

/// Invitation mails one account causes per hour, over all its workspaces
/// (`INVITATION_MAILS_PER_ACCOUNT_PER_HOUR`): owning many workspaces does
/// not multiply what one person can send.
pub const INVITE_MAIL_ACCOUNT_HOUR: Window = Window {
    scope: "invite_mail_account_hour",
    limit: 12_000,
    window_secs: 3600,
};
/// The same per UTC day (`INVITATION_MAILS_PER_ACCOUNT_PER_DAY`).
pub const INVITE_MAIL_ACCOUNT_DAY: Window = Window {
    scope: "invite_mail_account_day",
    limit: 24_000,
    window_secs: 86_400,
};
/// Invitation mails one account causes to one mailbox per UTC day, its
/// `+tag` spellings included (`INVITATION_MAILS_PER_SENDER_AND_ADDRESS_PER_DAY`):
/// one stranger resending, or inviting `ada+1@`, `ada+2@`..., floods no one.
pub const INVITE_MAIL_SENDER_MAILBOX_DAY: Window = Window {
    scope: "invite_mail_sender_mailbox_day",
    limit: 5,
    window_secs: 86_400,
};
/// Accounts whose invitation mails one mailbox receives per UTC day
/// (`INVITATION_SENDERS_PER_ADDRESS_PER_DAY`). It counts people, not mails,
/// so one stranger uses up one place, and a sender already counted today
/// is never refused by it: a real invitation sent before a flood can still
/// be resent.
pub const INVITE_MAIL_MAILBOX_SENDERS_DAY: Window = Window {
    scope: "invite_mail_mailbox_senders_day",
    limit: 5,
    window_secs: 86_400,
};
/// Workspaces one account creates per UTC day (`WORKSPACES_PER_ACCOUNT_PER_DAY`).
pub const WORKSPACES_ACCOUNT_DAY: Window = Window {
    scope: "workspaces_account_day",
    limit: 10,
    window_secs: 86_400,
};

/// Requests made with one API key per minute; the limit is configured
/// (`API_REQUESTS_PER_KEY_PER_MINUTE`).
pub const API_KEY: Window = Window {
    scope: "api_key",
    limit: 600,
    window_secs: 60,
};

/// The `KIOSK_PIN` key of a member (also spelled in the SQL function
/// `teamroom_kiosk_pin_blocked`).
pub fn kiosk_pin_key(workspace_id: i64, membership_id: i64) -> String {
    format!("{workspace_id}:{membership_id}")
}

/// The key for a client address; requests with none share one.
pub fn ip_key(ip: Option<&str>) -> &str {
    ip.filter(|ip| !ip.is_empty()).unwrap_or("unknown")
}

/// Removes counters nobody needs any more; called by the server's sweeper.
pub async fn purge_stale(conn: &mut PgConnection) -> Result<u64, AppError> {
    let throttles = sqlx::query!(
        "DELETE FROM auth_throttles
          WHERE last_failure_at < now() - interval '1 day'
            AND (blocked_until IS NULL OR blocked_until < now())"
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    let windows =
        sqlx::query!("DELETE FROM rate_windows WHERE window_start < now() - interval '1 day'")
            .execute(&mut *conn)
            .await?
            .rows_affected();
    // Links and half-finished sign-ins past their time.
    let challenges = sqlx::query!("DELETE FROM two_factor_challenges WHERE expires_at < now()")
        .execute(&mut *conn)
        .await?
        .rows_affected();
    let resets =
        sqlx::query!("DELETE FROM password_resets WHERE expires_at < now() - interval '1 day'")
            .execute(&mut *conn)
            .await?
            .rows_affected();
    Ok(throttles + windows + challenges + resets)
}

/// Keys are stored as given up to 200 bytes; longer ones (a 254-character
/// address lower-cased into more bytes) as their SHA-256, so the column's
/// limit never turns a refusal into a fault.
fn stored_key(key: &str) -> std::borrow::Cow<'_, str> {
    use sha2::{Digest, Sha256};
    if key.len() <= 200 {
        std::borrow::Cow::Borrowed(key)
    } else {
        let digest = Sha256::digest(key.as_bytes());
        std::borrow::Cow::Owned(format!(
            "sha256:{}",
            digest
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        ))
    }
}
