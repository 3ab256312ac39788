//! Data a page fetches in the browser only, without a `LocalResource`.

use std::future::Future;

use leptos::prelude::*;

/// Runs `fetcher` in the browser (again whenever a signal it reads changes)
/// and keeps the newest answer of the future it returns (an answer to an
/// older call is dropped); on the server it stays `None`, so server and
/// browser render alike. Used like `LocalResource::new(fetcher)`.
///
/// Why not a `LocalResource` mirrored by an `Effect`: a resource read
/// anywhere inside the signed-in frame registers with the frame's
/// `Suspense`, so every refetch took the whole page down and put it back,
/// and the Team search box lost focus after the first typed letter. A
/// plain task never touches a `Suspense`.
pub fn fetched<T, Fut>(fetcher: impl Fn() -> Fut + 'static) -> ReadSignal<Option<T>>
where
    T: Send + Sync + 'static,
    Fut: Future<Output = T> + 'static,
{
    let (value, set_value) = signal(None::<T>);
    let generation = StoredValue::new(0_u64);
    Effect::new(move |_| {
        let answer = fetcher();
        generation.update_value(|g| *g += 1);
        let asked = generation.get_value();
        leptos::task::spawn_local(async move {
            next_task().await;
            let answer = answer.await;
            if generation.try_get_value() == Some(asked) {
                set_value.try_set(Some(answer));
            }
        });
    });
    value
}

/// Resolves in a later task of the browser's event loop (`setTimeout(0)`).
/// Requests a page starts as it hydrates go through this, so building and
/// sending them is not part of hydration's own task: a phone's CPU is
/// blocked for shorter stretches, and a tap is answered sooner. On the
/// server it resolves at once.
pub async fn next_task() {
    #[cfg(feature = "hydrate")]
    {
        let promise = js_sys::Promise::new(&mut |resolve, _| {
            if let Some(window) = web_sys::window() {
                let _ = window.set_timeout_with_callback(&resolve);
            }
        });
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    }
}
