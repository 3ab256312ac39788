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
            let answer = answer.await;
            if generation.try_get_value() == Some(asked) {
                set_value.try_set(Some(answer));
            }
        });
    });
    value
}
