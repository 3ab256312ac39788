use leptos::prelude::*;
use leptos_meta::Title;

use crate::{api::accounts::list_accounts, components::layout::AppShell, error::AppError};

#[component]
pub fn AccountsPage() -> impl IntoView {
    // Created outside the signed-in frame, which the server may rebuild
    // while rendering (see TeamPage).
    let accounts = Resource::new(|| (), |_| list_accounts());
    view! {
        <Title text="Accounts" />
        <AppShell>
            <div class="page-head"><h1>"Accounts"</h1></div>
            <AccountsList accounts />
        </AppShell>
    }
}

#[component]
fn AccountsList(
    accounts: Resource<Result<Vec<crate::api::accounts::AccountRow>, AppError>>,
) -> impl IntoView {
    view! {
        <Suspense fallback=|| view! { <p class="muted" aria-busy="true">"Loading accounts…"</p> }>
            {move || Suspend::new(async move {
                match accounts.await {
                    Ok(rows) => view! {
                        <table class="data-table">
                            <thead>
                                <tr>
                                    <th scope="col">"Name"</th>
                                    <th scope="col">"Email"</th>
                                    <th scope="col">"Status"</th>
                                    <th scope="col">"Locked"</th>
                                    <th scope="col">"Last sign-in"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {rows.into_iter().map(|row| view! {
                                    <tr>
                                        <td data-label="Name">{row.name}</td>
                                        <td data-label="Email">{row.email}</td>
                                        <td data-label="Status">{row.status}</td>
                                        <td data-label="Locked">{if row.locked { "Locked" } else { "No" }}</td>
                                        <td data-label="Last sign-in">{row.last_sign_in_at.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_else(|| "Never".into())}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(AppError::Forbidden) => view! {
                        <div class="empty-state">
                            <h2>"Only the workspace Owner on the Enterprise plan can open Accounts"</h2>
                            <p>"Admins and other roles do not see this tab, even on the Enterprise plan."</p>
                        </div>
                    }.into_any(),
                    Err(error) => view! { <div class="alert alert-error" role="alert">{error.to_string()}</div> }.into_any(),
                }
            })}
        </Suspense>
    }
}
