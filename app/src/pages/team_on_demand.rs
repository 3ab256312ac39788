//! The parts of the Team page that show only when asked for: the invite
//! and "Add limited member" dialogs, the bulk-action bar and a row's "⋯"
//! menu. Built with `cargo leptos build --split`, their code is a split of
//! its own, fetched the first time one opens (or earlier: `preload`), so
//! the Team page's first load neither downloads nor hydrates them; the
//! table's 50 rows each hydrate a closed `<details>` and nothing more.

use leptos::prelude::*;

use crate::{
    api::members::MemberRow,
    pages::{
        invite_dialog::{InviteDialog, LimitedDialog, TeamDialog},
        team_bulk::{bulk_bar_body, row_menu_list, BulkBarParts},
    },
};

/// One part, with what it needs from the page.
pub enum OnDemand {
    Invite {
        dialog: RwSignal<TeamDialog>,
        on_done: Callback<String>,
    },
    Limited {
        dialog: RwSignal<TeamDialog>,
        on_done: Callback<String>,
    },
    BulkBar(BulkBarParts),
    RowMenu {
        row: MemberRow,
        on_changed: Callback<String>,
        open: RwSignal<bool>,
    },
}

fn view_of(part: OnDemand) -> AnyView {
    match part {
        OnDemand::Invite { dialog, on_done } => {
            view! { <InviteDialog dialog on_done /> }.into_any()
        }
        OnDemand::Limited { dialog, on_done } => {
            view! { <LimitedDialog dialog on_done /> }.into_any()
        }
        OnDemand::BulkBar(parts) => bulk_bar_body(parts).into_any(),
        OnDemand::RowMenu {
            row,
            on_changed,
            open,
        } => row_menu_list(row, on_changed, open).into_any(),
    }
}

// The whole app splits here; a page app (`page_apps`) has no Team page, and
// a split's export would keep all of this alive in it.
#[cfg(not(feature = "page-app"))]
#[leptos::lazy]
fn team_on_demand(part: OnDemand) -> AnyView {
    view_of(part)
}

#[cfg(feature = "page-app")]
async fn team_on_demand(part: OnDemand) -> AnyView {
    view_of(part)
}

/// Shows `part` once its code is here; `fallback` until then (nothing
/// when its code came with an earlier part).
pub fn on_demand(part: OnDemand, fallback: fn() -> AnyView) -> impl IntoView {
    view! {
        <Suspense fallback=fallback>
            {Suspend::new(team_on_demand(part))}
        </Suspense>
    }
}

/// Starts fetching the parts' code, so the first one opens at once: called
/// when the pointer or the keyboard first moves on the Team page.
pub fn preload() {
    #[cfg(all(target_arch = "wasm32", not(feature = "page-app")))]
    leptos::task::spawn_local(__preload_team_on_demand());
}
