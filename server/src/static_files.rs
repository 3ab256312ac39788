//! The browser's code and styles under `/pkg`, served the way a CDN would.

use std::path::PathBuf;

use axum::{middleware::map_response, response::Response, Router};
use http::{header, HeaderValue, StatusCode};
use leptos::prelude::LeptosOptions;
use tower_http::services::ServeDir;

/// A year, and never revalidated: cargo-leptos puts a hash of the content in
/// every file name, so a new build is a new address.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Without hashed names a file keeps its address across builds, so the
/// browser must ask each time (a cheap 304 with `Last-Modified`).
pub const REVALIDATE: &str = "no-cache";

/// `/pkg/*`: the `.br` or `.gz` file written at build time when the browser
/// accepts it (no compression work per request), and the cache policy above
/// on files that exist (a 404 for an older build's chunk is never kept).
pub fn pkg_service(options: &LeptosOptions) -> Router {
    let directory = PathBuf::from(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref());
    let policy = HeaderValue::from_static(if options.hash_files {
        IMMUTABLE
    } else {
        REVALIDATE
    });
    Router::new()
        .fallback_service(
            ServeDir::new(directory)
                .precompressed_br()
                .precompressed_gzip(),
        )
        .layer(map_response(move |mut response: Response| {
            let policy = policy.clone();
            async move {
                let value = if response.status().is_success()
                    || response.status() == StatusCode::NOT_MODIFIED
                {
                    policy
                } else {
                    HeaderValue::from_static("no-store")
                };
                response.headers_mut().insert(header::CACHE_CONTROL, value);
                response
            }
        }))
}
