//! `/pkg`: what a returning browser keeps, and what a phone downloads.

use leptos::prelude::LeptosOptions;
use sqlx::PgPool;

use crate::helpers::{settings, spawn_site};

static NEXT_SITE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// A site like `cargo leptos build --release --precompress` writes, with
/// hashed names: a script, its brotli and gzip copies, and a stylesheet
/// that was not precompressed.
fn site(hash_files: bool) -> (SiteDir, LeptosOptions) {
    let root = SiteDir(std::env::temp_dir().join(format!(
        "teamroom-site-{}-{}",
        std::process::id(),
        NEXT_SITE.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )));
    let pkg = root.0.join("pkg");
    std::fs::create_dir_all(&pkg).expect("pkg dir");
    std::fs::write(pkg.join("teamroom.abc123.js"), "console.log('raw')").expect("js");
    std::fs::write(pkg.join("teamroom.abc123.js.br"), "brotli bytes").expect("br");
    std::fs::write(pkg.join("teamroom.abc123.js.gz"), "gzip bytes").expect("gz");
    std::fs::write(pkg.join("teamroom.abc123.css"), "body{}").expect("css");
    let options = LeptosOptions::builder()
        .output_name("teamroom")
        .site_root(root.0.to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .hash_files(hash_files)
        .build();
    (root, options)
}

/// Removed when the test ends.
struct SiteDir(std::path::PathBuf);

impl Drop for SiteDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn serve(pool: PgPool, options: LeptosOptions) -> String {
    spawn_site(pool, settings(), options).await.base
}

fn plain_client() -> reqwest::Client {
    // No automatic decompression: the test reads what went over the wire.
    reqwest::Client::builder()
        .timeout(crate::helpers::REQUEST_DEADLINE)
        .no_brotli()
        .no_gzip()
        .build()
        .expect("client")
}

#[sqlx::test(migrations = "../migrations")]
async fn hashed_files_are_served_precompressed_and_cached_for_a_year(pool: PgPool) {
    let (_root, options) = site(true);
    let base = serve(pool, options).await;
    let client = plain_client();

    let brotli = client
        .get(format!("{base}/pkg/teamroom.abc123.js"))
        .header("accept-encoding", "br, gzip")
        .send()
        .await
        .expect("request");
    assert_eq!(brotli.status(), 200);
    assert_eq!(brotli.headers()["content-encoding"], "br");
    assert_eq!(
        brotli.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(brotli.text().await.expect("body"), "brotli bytes");

    let gzip = client
        .get(format!("{base}/pkg/teamroom.abc123.js"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect("request");
    assert_eq!(gzip.headers()["content-encoding"], "gzip");
    assert_eq!(gzip.text().await.expect("body"), "gzip bytes");

    // An old browser that accepts neither gets the file itself.
    let raw = client
        .get(format!("{base}/pkg/teamroom.abc123.js"))
        .header("accept-encoding", "identity")
        .send()
        .await
        .expect("request");
    assert!(raw.headers().get("content-encoding").is_none());
    assert_eq!(raw.text().await.expect("body"), "console.log('raw')");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_chunk_from_an_older_build_is_a_plain_404_not_a_page(pool: PgPool) {
    let (_root, options) = site(true);
    let base = serve(pool, options).await;
    let gone = plain_client()
        .get(format!("{base}/pkg/teamroom.oldhash.wasm"))
        .send()
        .await
        .expect("request");
    assert_eq!(gone.status(), 404);
    // Never kept: the page that asked reloads and gets the new build.
    assert_eq!(gone.headers()["cache-control"], "no-store");
}

#[sqlx::test(migrations = "../migrations")]
async fn unhashed_files_are_revalidated_not_kept(pool: PgPool) {
    let (_root, options) = site(false);
    let base = serve(pool, options).await;
    let css = plain_client()
        .get(format!("{base}/pkg/teamroom.abc123.css"))
        .send()
        .await
        .expect("request");
    assert_eq!(css.status(), 200);
    assert_eq!(css.headers()["cache-control"], "no-cache");
}
