//! argon2id hashing off the async runtime, bounded by `AppState::hashing_slots`.

use std::sync::OnceLock;

use argon2::{
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Algorithm, Argon2, Params, Version,
};

use rand_core::OsRng;

use super::state::AppState;
use crate::{domain::Password, error::AppError};

/// OWASP's argon2id recommendation: m = 19 MiB, t = 2, p = 1.
fn argon2() -> Result<Argon2<'static>, AppError> {
    let params =
        Params::new(19_456, 2, 1, None).map_err(AppError::internal("argon2 parameters"))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// A place in the hashing queue. Taken before any other work (the throttle
/// reservations included), so when a storm has filled the queue the answer
/// is a quick 429 that cost nothing, not a wait that grows with the storm.
pub struct QueuePlace {
    _permit: tokio::sync::OwnedSemaphorePermit,
}

pub fn queue_place(state: &AppState) -> Result<QueuePlace, AppError> {
    state
        .hashing_queue
        .clone()
        .try_acquire_owned()
        .map(|permit| QueuePlace { _permit: permit })
        .map_err(|_| AppError::RateLimited {
            retry_after_secs: 1,
        })
}

async fn run_blocking<T: Send + 'static>(
    state: &AppState,
    place: QueuePlace,
    work: impl FnOnce() -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    let _place = place;
    let _slot = state
        .hashing_slots
        .acquire()
        .await
        .map_err(AppError::internal("the hashing slots are closed"))?;
    // Its own thread at the lowest CPU priority: a storm of sign-ins takes
    // what the people already working leave over, instead of sharing the
    // cores with them evenly (measured: `cargo xtask bench sign-in-storm`).
    let (done, answer) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("argon2".into())
        .spawn(move || {
            lower_this_threads_priority();
            let _ = done.send(work());
        })
        .map_err(AppError::internal("starting a hashing thread"))?;
    answer.await.map_err(|_| {
        tracing::error!("password hashing thread ended without an answer");
        AppError::Internal
    })?
}

/// nice 19 for the calling thread (Linux gives each thread its own).
fn lower_this_threads_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: plain system calls on the calling thread's own id; failure
    // only leaves the priority as it was.
    unsafe {
        let thread_id = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, thread_id, 19);
    }
}

fn hash_now(password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()?
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(AppError::internal("hashing a password"))
}

pub async fn hash(state: &AppState, password: &Password) -> Result<String, AppError> {
    hash_secret(state, password.expose().to_owned()).await
}

/// Any secret a person types (a Kiosk PIN), hashed like a password.
pub async fn hash_secret(state: &AppState, plain: String) -> Result<String, AppError> {
    run_blocking(state, queue_place(state)?, move || hash_now(&plain)).await
}

/// A hash of a password nobody knows, verified against when the email is
/// unknown so that case costs the same time as a wrong password.
fn dummy_hash() -> Result<&'static str, AppError> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    if let Some(hash) = DUMMY.get() {
        return Ok(hash);
    }
    let hash = hash_now("not a password anyone has: timing equaliser")?;
    Ok(DUMMY.get_or_init(|| hash))
}

/// True when `candidate` matches `stored`. With no stored hash it still does
/// one full verification, then answers false.
pub async fn verify(
    state: &AppState,
    place: QueuePlace,
    candidate: String,
    stored: Option<String>,
) -> Result<bool, AppError> {
    run_blocking(state, place, move || {
        let known = stored.is_some();
        let phc = match stored {
            Some(hash) => hash,
            None => dummy_hash()?.to_owned(),
        };
        let parsed = PasswordHash::new(&phc)
            .map_err(AppError::internal("stored password hash is malformed"))?;
        let matches = argon2()?
            .verify_password(candidate.as_bytes(), &parsed)
            .is_ok();
        Ok(known && matches)
    })
    .await
}

/// Computes the dummy hash at start-up so the first unknown-email sign-in
/// does not pay for it (which would make it slower than a wrong password).
pub async fn warm_up(state: &AppState) -> Result<(), AppError> {
    run_blocking(state, queue_place(state)?, || dummy_hash().map(|_| ())).await
}
