//! Server-sent events for a member's open pages: "your timer changed"
//! (started or stopped, by them in another tab, by the Kiosk, or by the
//! Owner from the Accounts tab). Fed by PostgreSQL LISTEN on the timer
//! channel, so a change made through any app instance reaches the pages
//! every instance serves.

use std::{
    convert::Infallible,
    sync::{Arc, Mutex},
    time::Duration,
};

use app::{
    domain::Permission,
    error::AppError,
    server::{guard, session, time::TIMER_CHANNEL, AppState},
};
use axum::response::{
    sse::{Event, KeepAlive, Sse},
    IntoResponse, Response,
};
use futures_util::stream::{self, Stream};
use sqlx::postgres::PgListener;
use tokio::sync::broadcast;

use crate::middleware::{error_response, SignedIn};

/// A timer change: (workspace id, membership id).
type TimerChange = (i64, i64);

/// One LISTEN connection per app instance, opened while at least one page
/// is listening and closed when the last one goes.
#[derive(Clone)]
pub struct TimerEvents {
    sender: broadcast::Sender<TimerChange>,
    listening: Arc<Mutex<bool>>,
    state: AppState,
}

/// How often a quiet stream re-checks that its session still stands.
const RECHECK_EVERY: Duration = Duration::from_secs(30);

impl TimerEvents {
    pub fn new(state: AppState) -> Self {
        let (sender, _) = broadcast::channel(1024);
        Self {
            sender,
            listening: Arc::new(Mutex::new(false)),
            state,
        }
    }

    fn subscribe(&self) -> broadcast::Receiver<TimerChange> {
        let receiver = self.sender.subscribe();
        let mut listening = self
            .listening
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if !*listening {
            *listening = true;
            tokio::spawn(self.clone().listen());
        }
        receiver
    }

    /// Relays NOTIFYs until no page listens any more (checked under the
    /// same lock `subscribe` takes, so a new page either finds this task
    /// running or starts another).
    async fn listen(self) {
        let mut listener: Option<PgListener> = None;
        loop {
            {
                let mut listening = self
                    .listening
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                if self.sender.receiver_count() == 0 || self.state.pool.is_closed() {
                    *listening = false;
                    return;
                }
            }
            let Some(active) = listener.as_mut() else {
                listener = match PgListener::connect_with(&self.state.pool).await {
                    Ok(mut fresh) => match fresh.listen(TIMER_CHANNEL).await {
                        Ok(()) => Some(fresh),
                        Err(error) => {
                            tracing::warn!(%error, "timer channel LISTEN failed");
                            None
                        }
                    },
                    Err(error) => {
                        tracing::warn!(%error, "timer listener could not connect");
                        None
                    }
                };
                if listener.is_none() {
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
                continue;
            };
            match tokio::time::timeout(Duration::from_secs(5), active.recv()).await {
                Err(_) => {}
                Ok(Ok(notification)) => {
                    if let Some(change) = parse(notification.payload()) {
                        // No receiver right now is fine: nobody is looking.
                        let _ = self.sender.send(change);
                    }
                }
                Ok(Err(error)) => {
                    tracing::warn!(%error, "timer listener lost; reconnecting");
                    listener = None;
                }
            }
        }
    }
}

fn parse(payload: &str) -> Option<TimerChange> {
    let (workspace, membership) = payload.split_once(':')?;
    Some((workspace.parse().ok()?, membership.parse().ok()?))
}

/// `GET /api/events`: the signed-in member's timer changes in the
/// session's workspace, as `event: timer`. The session gate has loaded the
/// session; the guard checks the membership as every server function does,
/// and again every `RECHECK_EVERY`, so a signed-out or deactivated member's
/// stream ends.
pub async fn timer_stream(events: TimerEvents, signed_in: SignedIn) -> Response {
    let state = events.state.clone();
    let SignedIn {
        session: session_row,
        meta,
    } = signed_in;
    let ctx = match authorize(&state, session_row.clone(), meta.clone()).await {
        Ok(ctx) => ctx,
        Err(error) => return error_response(error),
    };
    let mine = (ctx.workspace_id, ctx.membership_id);
    let receiver = events.subscribe();
    let stream = changes(receiver, mine, state, session_row, meta);
    let mut response = Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response();
    response.headers_mut().insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    response
}

async fn authorize(
    state: &AppState,
    session_row: session::SessionRow,
    meta: session::RequestMeta,
) -> Result<guard::Ctx, AppError> {
    let mut conn = state.pool.acquire().await?;
    guard::authorize(&mut conn, session_row, meta, Permission::TrackOwnTime).await
}

/// Whether the session behind a stream still loads and may track time.
async fn still_allowed(
    state: &AppState,
    session_row: &session::SessionRow,
    meta: &session::RequestMeta,
) -> bool {
    let Ok(mut conn) = state.pool.acquire().await else {
        // A database hiccup is not a reason to drop a page's stream.
        return true;
    };
    let live: Result<bool, sqlx::Error> = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM sessions WHERE token_hash = $1 AND expires_at > now())",
    )
    .bind(&session_row.token_hash)
    .fetch_one(&mut *conn)
    .await;
    if !matches!(live, Ok(true)) {
        return false;
    }
    guard::authorize(
        &mut conn,
        session_row.clone(),
        meta.clone(),
        Permission::TrackOwnTime,
    )
    .await
    .is_ok()
}

fn changes(
    receiver: broadcast::Receiver<TimerChange>,
    mine: TimerChange,
    state: AppState,
    session_row: session::SessionRow,
    meta: session::RequestMeta,
) -> impl Stream<Item = Result<Event, Infallible>> {
    stream::unfold(
        (receiver, state, session_row, meta),
        move |(mut receiver, state, session_row, meta)| async move {
            loop {
                match tokio::time::timeout(RECHECK_EVERY, receiver.recv()).await {
                    Ok(Ok(change)) if change == mine => {
                        let event = Event::default().event("timer").data("changed");
                        return Some((Ok(event), (receiver, state, session_row, meta)));
                    }
                    Ok(Ok(_)) => {}
                    // Missed some: tell the page to look again, to be safe.
                    Ok(Err(broadcast::error::RecvError::Lagged(_))) => {
                        let event = Event::default().event("timer").data("changed");
                        return Some((Ok(event), (receiver, state, session_row, meta)));
                    }
                    Ok(Err(broadcast::error::RecvError::Closed)) => return None,
                    Err(_) => {
                        if !still_allowed(&state, &session_row, &meta).await {
                            return None;
                        }
                    }
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn payloads_name_a_workspace_and_a_member() {
        assert_eq!(parse("12:345"), Some((12, 345)));
        assert_eq!(parse("12"), None);
        assert_eq!(parse("x:1"), None);
    }
}
