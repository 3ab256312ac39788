//! The running timer, shared by the header (which ticks on every page) and
//! the Time page (which starts and stops it).

use std::time::Duration;

use leptos::prelude::*;
use leptos_router::components::A;

use crate::{
    api::time::{current_timer, RunningTimer},
    domain::time::clock,
};

#[derive(Clone, Copy)]
pub struct TimerContext {
    running: RwSignal<Option<RunningTimer>>,
    /// This browser's clock minus the server's, so a device whose clock is
    /// off still shows the right elapsed time.
    skew_ms: RwSignal<f64>,
    /// Ticks once a second while a timer runs.
    now_ms: RwSignal<f64>,
}

impl TimerContext {
    pub fn running(&self) -> Option<RunningTimer> {
        self.running.get()
    }

    pub fn set(&self, timer: Option<RunningTimer>) {
        let browser_now = js_sys::Date::now();
        if let Some(timer) = &timer {
            let _ = self
                .skew_ms
                .try_set(browser_now - timer.server_now_ms as f64);
        }
        let _ = self.now_ms.try_set(browser_now);
        // Only on a real change: every page's timer views re-render on it,
        // including ones being torn down while a page reloads its data.
        if self.running.try_get_untracked().as_ref() != Some(&timer) {
            let _ = self.running.try_set(timer);
        }
    }

    /// Seconds the running timer has run, as of the last tick.
    pub fn elapsed(&self, timer: &RunningTimer) -> i64 {
        let server_now = self.now_ms.get() - self.skew_ms.get();
        ((server_now - timer.started_at_ms as f64) / 1000.0).floor() as i64
    }

    /// Asks the server again (another tab or an admin may have stopped it).
    pub fn reload(&self) {
        let this = *self;
        leptos::task::spawn_local(async move {
            crate::components::fetched::next_task().await;
            if let Ok(timer) = current_timer().await {
                this.set(timer);
            }
        });
    }
}

pub fn provide_timer() {
    provide_context(TimerContext {
        running: RwSignal::new(None),
        skew_ms: RwSignal::new(0.0),
        now_ms: RwSignal::new(0.0),
    });
}

pub fn use_timer() -> TimerContext {
    expect_context::<TimerContext>()
}

/// Starts the once-a-second tick for as long as the calling component lives.
pub fn tick_while_mounted(timer: TimerContext) {
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(
            move || {
                let _ = timer.now_ms.try_set(js_sys::Date::now());
            },
            Duration::from_secs(1),
        ) {
            on_cleanup(move || handle.clear());
        }
    });
}

/// Listens to the server's timer events (`/api/events`) while the header
/// lives, and asks for the timer again on each: a stop made elsewhere (the
/// Owner's Accounts tab, the Kiosk, another tab) shows within a second,
/// without a reload. The browser's `EventSource` reconnects by itself.
fn follow_timer_changes(timer: TimerContext) {
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::{closure::Closure, JsCast};
            let Ok(source) = web_sys::EventSource::new("/api/events") else {
                return;
            };
            let on_change = Closure::<dyn Fn(web_sys::Event)>::new(move |_| timer.reload());
            let _ = source
                .add_event_listener_with_callback("timer", on_change.as_ref().unchecked_ref());
            // Reconnecting after a drop may have missed a change.
            let on_open = Closure::<dyn Fn(web_sys::Event)>::new(move |_| timer.reload());
            source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
            let kept = StoredValue::new_local((source, on_change, on_open));
            on_cleanup(move || {
                kept.try_with_value(|(source, _, _)| source.close());
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = timer;
    });
}

/// The header's view of the running timer: a link to the Time page.
/// Rendered only in the browser (it starts empty on the server and while
/// hydrating, so both agree).
#[component]
pub fn HeaderTimer() -> impl IntoView {
    let timer = use_timer();
    tick_while_mounted(timer);
    Effect::new(move |_| timer.reload());
    follow_timer_changes(timer);
    move || {
        timer.running().map(|running| {
            let label = if running.description.is_empty() {
                running
                    .project
                    .clone()
                    .unwrap_or_else(|| "Timer running".to_owned())
            } else {
                running.description.clone()
            };
            let elapsed = move || clock(timer.elapsed(&running));
            view! {
                <A href="/time" attr:class="header-timer" attr:data-testid="header-timer" attr:title="Running timer: open the Time page">
                    <span class="timer-dot" aria-hidden="true"></span>
                    <span class="header-timer-clock">{elapsed}</span>
                    <span class="header-timer-label">{label}</span>
                </A>
            }
        })
    }
}
