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
    let params = Params::new(19_456, 2, 1, None).map_err(|error| {
        tracing::error!(%error, "argon2 parameters");
        AppError::Internal
    })?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

async fn run_blocking<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce() -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    // A place in the queue first: when it is full the answer is a quick 429
    // rather than a wait that grows with the storm.
    let _place = state
        .hashing_queue
        .clone()
        .try_acquire_owned()
        .map_err(|_| AppError::RateLimited {
            retry_after_secs: 1,
        })?;
    let _slot = state
        .hashing_slots
        .acquire()
        .await
        .map_err(|_| AppError::Internal)?;
    tokio::task::spawn_blocking(work).await.map_err(|error| {
        tracing::error!(%error, "password hashing task failed");
        AppError::Internal
    })?
}

fn hash_now(password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()?
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| {
            tracing::error!(%error, "hashing a password");
            AppError::Internal
        })
}

pub async fn hash(state: &AppState, password: &Password) -> Result<String, AppError> {
    hash_secret(state, password.expose().to_owned()).await
}

/// Any secret a person types (a Kiosk PIN), hashed like a password.
pub async fn hash_secret(state: &AppState, plain: String) -> Result<String, AppError> {
    run_blocking(state, move || hash_now(&plain)).await
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
    candidate: String,
    stored: Option<String>,
) -> Result<bool, AppError> {
    run_blocking(state, move || {
        let known = stored.is_some();
        let phc = match stored {
            Some(hash) => hash,
            None => dummy_hash()?.to_owned(),
        };
        let parsed = PasswordHash::new(&phc).map_err(|error| {
            tracing::error!(%error, "stored password hash is malformed");
            AppError::Internal
        })?;
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
    run_blocking(state, || dummy_hash().map(|_| ())).await
}
