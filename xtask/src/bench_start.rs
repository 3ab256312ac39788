//! `cargo xtask bench start`: how long the sign-in page, the Kiosk and the
//! signed-in Team page keep Chromium's main thread busy while they start,
//! at 4x CPU slowdown (`CPU_SLOWDOWN`) on a phone's link (`NETWORK=fast`
//! for the loopback), 10 cold loads each (`LOADS`), on a workspace of
//! 1,000 members (`BENCH_MEMBERS`: Team shows its first 50). The floor is
//! the sign-in page with its code refused. The browser side is
//! `end2end/bench-start.mjs`; it prints the table.

use std::path::Path;

use crate::{
    bench_ui::{in_browser, BrowserBench},
    Result,
};

pub fn command(root: &Path, args: &[String]) -> Result<()> {
    in_browser(
        root,
        args,
        &BrowserBench {
            tag: "startbench",
            name: "Start bench",
            members: 1_000,
            script: "bench-start.mjs",
            doing: "loading pages in Chromium",
        },
    )
}
