//! The Content-Security-Policy of the app's pages. Leptos gives every
//! server-rendered page a fresh nonce and puts it on its own inline scripts
//! (hydration, resources, auto-reload); the header names the same nonce, so
//! those run and an injected script does not.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use rand_core::{OsRng, RngCore};

/// The policy of a page whose inline scripts carry `nonce`.
///
/// - Scripts: our own files and the nonced inline ones; `wasm-unsafe-eval`
///   lets the page compile its WebAssembly (nothing else is eval'd).
/// - Styles: our stylesheet only; the pages have no `style` attributes or
///   inline `<style>` (style changes from Rust go through the CSSOM, which
///   CSP does not restrict).
/// - Images: our own (photos) and `data:` (QR codes for two-factor).
/// - No framing (clickjacking), no `<base>`, forms post only to us, no
///   plugins.
pub fn page_policy(nonce: &str) -> String {
    let mut connect = "'self'".to_owned();
    // `cargo leptos watch` reloads pages over a WebSocket on its own port.
    if std::env::var_os("LEPTOS_WATCH").is_some() {
        connect.push_str(" ws: wss:");
    }
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src {connect}; font-src 'self'; \
         frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
    )
}

/// The policy of every response that sets none itself (JSON, CSV, files,
/// errors): nothing may load or run in it.
pub const NOTHING: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// A fresh nonce for a page rendered outside Leptos (the API reference).
pub fn new_nonce() -> String {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Sends the page policy with the nonce of the page being rendered. Called
/// from the shell, which is rendered before the first byte is sent, so the
/// header goes out with the page. Without a nonce (never on the server) no
/// policy is set here and the server's strict default applies.
pub fn send_page_policy() {
    use leptos::prelude::use_context;
    let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        tracing::error!("page rendered without a nonce or response options: no CSP sent");
        return;
    };
    match http::HeaderValue::from_str(&page_policy(&nonce)) {
        Ok(value) => response.insert_header(http::header::CONTENT_SECURITY_POLICY, value),
        Err(_) => tracing::error!("CSP is not a valid header value"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_policy_names_the_nonce_and_forbids_the_rest() {
        let policy = page_policy("abc123");
        assert!(policy.contains("script-src 'self' 'nonce-abc123' 'wasm-unsafe-eval';"));
        assert!(!policy.contains("unsafe-inline"));
        for part in [
            "default-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "object-src 'none'",
        ] {
            assert!(policy.contains(part), "{part} missing from {policy}");
        }
    }

    #[test]
    fn nonces_are_fresh() {
        let (a, b) = (new_nonce(), new_nonce());
        assert_ne!(a, b);
        assert_eq!(a.len(), 22);
    }
}
