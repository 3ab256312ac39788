use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use leptos::prelude::use_context;
use sqlx::PgPool;
use tokio::sync::Semaphore;

use crate::error::AppError;

/// Session and cookie settings, read from the environment by the server.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// A session unused for this long is over.
    pub session_idle: chrono::Duration,
    /// A session is over this long after sign-in, used or not.
    pub session_absolute: chrono::Duration,
    /// Mark cookies `Secure` (the site is served over https).
    pub secure_cookies: bool,
    /// `scheme://host[:port]` for links in mail (`PUBLIC_URL`). Never taken
    /// from a request header.
    pub public_origin: String,
    /// Proxies whose `X-Forwarded-For` is believed (`TRUSTED_PROXIES`).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// How long an invitation link works.
    pub invitation_ttl: chrono::Duration,
    /// Invitation emails a workspace may send in any rolling hour.
    pub invitations_per_hour: i64,
    /// Invitation mails one account may cause per hour over all its
    /// workspaces (`INVITATION_MAILS_PER_ACCOUNT_PER_HOUR`).
    pub invitation_mails_per_account_hour: i32,
    /// The same per UTC day (`INVITATION_MAILS_PER_ACCOUNT_PER_DAY`).
    pub invitation_mails_per_account_day: i32,
    /// Invitation mails one account may cause to one mailbox per UTC day,
    /// `+tag` spellings included
    /// (`INVITATION_MAILS_PER_SENDER_AND_ADDRESS_PER_DAY`).
    pub invitation_mails_per_sender_and_address_day: i32,
    /// Accounts whose invitation mails one mailbox may receive per UTC
    /// day (`INVITATION_SENDERS_PER_ADDRESS_PER_DAY`).
    pub invitation_senders_per_address_day: i32,
    /// Workspaces one account may create per UTC day
    /// (`WORKSPACES_PER_ACCOUNT_PER_DAY`).
    pub workspaces_per_account_day: i32,
    /// Sign-ups from one client address per hour (`SIGN_UPS_PER_IP_PER_HOUR`).
    pub sign_ups_per_ip_hour: i32,
    /// Sign-in attempts from one client address per minute, right or wrong
    /// (`SIGN_INS_PER_IP_PER_MINUTE`).
    pub sign_ins_per_ip_minute: i32,
    /// Hours an account whose address was never confirmed, and which was
    /// not used since, is kept (`UNCONFIRMED_ACCOUNT_HOURS`).
    pub unconfirmed_account_ttl: chrono::Duration,
    /// Minutes an Owner's "Log in as user" view lasts (`IMPERSONATION_MINUTES`).
    pub impersonation_minutes: i64,
    /// REST API requests one key may make per minute
    /// (`API_REQUESTS_PER_KEY_PER_MINUTE`).
    pub api_requests_per_key_minute: i32,
    /// How long one chunk of a CSV export may wait for the client to read
    /// (`EXPORT_SEND_TIMEOUT_SECONDS`): a reader that stalls longer is
    /// dropped, and its database connection goes back to the pool.
    pub export_send_timeout: std::time::Duration,
    /// CSV exports running at once (`MAX_CONCURRENT_EXPORTS`); each holds a
    /// database connection while it streams, so more are refused.
    pub max_concurrent_exports: usize,
    /// How long a request body may take before its first bytes count
    /// (`BODY_READ_TIMEOUT_SECONDS`); each further
    /// [`Self::body_read_min_bytes_per_second`] bytes received buys one
    /// more second (Apache mod_reqtimeout's rule). A body that falls behind
    /// is cut off: an account of anyone's can otherwise hold a connection
    /// and its buffer open by sending a byte now and then.
    pub body_read_timeout: std::time::Duration,
    /// See [`Self::body_read_timeout`] (`BODY_READ_MIN_BYTES_PER_SECOND`).
    pub body_read_min_bytes_per_second: u64,
    /// Request bodies one sender may have arriving at once
    /// (`MAX_CONCURRENT_BODIES_PER_SENDER`): an account over its sessions,
    /// each API key, each SCIM token, and a client address on the public
    /// endpoints. The pace rule bounds how long each slow body is kept,
    /// this how many.
    pub max_bodies_in_flight_per_sender: usize,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            session_idle: chrono::Duration::days(7),
            session_absolute: chrono::Duration::days(30),
            secure_cookies: false,
            public_origin: "http://127.0.0.1:3000".to_owned(),
            trusted_proxies: Vec::new(),
            invitation_ttl: chrono::Duration::days(14),
            invitations_per_hour: 12_000,
            invitation_mails_per_account_hour: super::throttle::INVITE_MAIL_ACCOUNT_HOUR.limit,
            invitation_mails_per_account_day: super::throttle::INVITE_MAIL_ACCOUNT_DAY.limit,
            invitation_mails_per_sender_and_address_day:
                super::throttle::INVITE_MAIL_SENDER_MAILBOX_DAY.limit,
            invitation_senders_per_address_day: super::throttle::INVITE_MAIL_MAILBOX_SENDERS_DAY
                .limit,
            workspaces_per_account_day: super::throttle::WORKSPACES_ACCOUNT_DAY.limit,
            sign_ups_per_ip_hour: 20,
            sign_ins_per_ip_minute: 60,
            unconfirmed_account_ttl: chrono::Duration::hours(72),
            impersonation_minutes: 30,
            api_requests_per_key_minute: 600,
            export_send_timeout: std::time::Duration::from_secs(30),
            max_concurrent_exports: 4,
            body_read_timeout: std::time::Duration::from_secs(20),
            // 64 kbit/s: a phone on a poor link still gets a 7.5 MB import in.
            body_read_min_bytes_per_second: 8 * 1024,
            // A page's burst of calls holds each slot for microseconds; only
            // bodies that really trickle in stay counted.
            max_bodies_in_flight_per_sender: 16,
        }
    }
}

/// Hashes that may wait per core (about a second of argon2 work
/// each): past that a sign-in gets a quick 429 with Retry-After.
const HASHING_QUEUE_PER_CORE: usize = 16;

/// What every request handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub auth: Arc<AuthSettings>,
    /// Bounds how many argon2 hashes run at once, so a sign-in storm queues
    /// instead of eating every core and all memory (19 MiB each).
    pub hashing_slots: Arc<Semaphore>,
    /// Bounds how many may wait for a slot: past it the answer is a quick
    /// 429, not an ever longer queue.
    pub hashing_queue: Arc<Semaphore>,
    /// Bounds how many uploaded photos are decoded at once: each may take
    /// tens of megabytes and a core for a second.
    pub photo_slots: Arc<Semaphore>,
    /// Bounds how many CSV exports stream at once (see
    /// `AuthSettings::max_concurrent_exports`).
    pub export_slots: Arc<Semaphore>,
    /// Request bodies still arriving, per account (see
    /// `AuthSettings::max_bodies_in_flight_per_sender`).
    pub bodies_in_flight: BodiesInFlight,
}

/// Request bodies still arriving, counted per sender: a session's account
/// (an Owner viewing as someone counts as the Owner), an API key, a SCIM
/// token, or for the public endpoints the client address. Each credential
/// counts on its own, so a key's holder cannot use up the places of its
/// creator's browser.
#[derive(Clone, Debug)]
pub struct BodiesInFlight {
    counts: Arc<Mutex<HashMap<String, usize>>>,
    max_per_sender: usize,
}

/// One sender's place for one body; given back when dropped.
#[derive(Debug)]
pub struct BodySlot {
    counts: Arc<Mutex<HashMap<String, usize>>>,
    sender: String,
}

impl BodiesInFlight {
    pub fn new(max_per_sender: usize) -> Self {
        Self {
            counts: Arc::default(),
            max_per_sender: max_per_sender.max(1),
        }
    }

    pub fn max_per_sender(&self) -> usize {
        self.max_per_sender
    }

    /// A place for one more body of `sender`'s; None when it has
    /// `max_per_sender` arriving already.
    pub fn take(&self, sender: &str) -> Option<BodySlot> {
        // A panic while holding this lock left the map consistent (each
        // change is one statement), so a poisoned lock is still used.
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let count = counts.entry(sender.to_owned()).or_insert(0);
        if *count >= self.max_per_sender {
            return None;
        }
        *count += 1;
        Some(BodySlot {
            counts: self.counts.clone(),
            sender: sender.to_owned(),
        })
    }

    /// Bodies `sender` has arriving now.
    pub fn arriving(&self, sender: &str) -> usize {
        let counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        counts.get(sender).copied().unwrap_or(0)
    }
}

impl Drop for BodySlot {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = counts.get_mut(&self.sender) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                counts.remove(&self.sender);
            }
        }
    }
}

/// Photos decoded at once, whatever the number of cores.
pub const PHOTO_DECODES_AT_ONCE: usize = 2;

impl AppState {
    pub fn new(pool: PgPool, auth: AuthSettings) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let exports = auth.max_concurrent_exports.max(1);
        Self {
            pool,
            photo_slots: Arc::new(Semaphore::new(PHOTO_DECODES_AT_ONCE)),
            export_slots: Arc::new(Semaphore::new(exports)),
            bodies_in_flight: BodiesInFlight::new(auth.max_bodies_in_flight_per_sender),
            auth: Arc::new(auth),
            // One core stays free for everyone already signed in: a sign-in
            // storm slows sign-ins, not the people working.
            hashing_slots: Arc::new(Semaphore::new(cores.saturating_sub(1).max(1))),
            hashing_queue: Arc::new(Semaphore::new(cores * HASHING_QUEUE_PER_CORE)),
        }
    }
}

/// The state provided to server functions through Leptos context.
pub fn app_state() -> Result<AppState, AppError> {
    use_context::<AppState>()
        .ok_or_else(|| AppError::bug("AppState missing from the server function context"))
}

#[cfg(test)]
mod body_slot_tests {
    use super::BodiesInFlight;

    #[test]
    fn an_account_gets_its_places_back_as_bodies_end() {
        let bodies = BodiesInFlight::new(2);
        let first = bodies.take("account:7").expect("first place");
        let second = bodies.take("account:7").expect("second place");
        assert!(
            bodies.take("account:7").is_none(),
            "a third body waits for a place"
        );
        // Someone else's places are their own.
        assert!(bodies.take("key:7").is_some());
        drop(first);
        assert_eq!(bodies.arriving("account:7"), 1);
        let third = bodies
            .take("account:7")
            .expect("a place given back is taken again");
        drop((second, third));
        assert_eq!(bodies.arriving("account:7"), 0);
    }
}
