//! Import members from a CSV file: choose or drop it, see what will happen
//! to every row, then import with a progress bar and get a per-row report
//! (also as a CSV download, with formula-looking cells neutralised).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::import::{import_members, preview_import, ImportPreview, PreviewRow, RowOutcome},
    domain::{
        invite::{IMPORT_CHUNK_ROWS, MAX_IMPORT_BYTES},
        spreadsheet_safe,
    },
    error::AppError,
    pages::team::TeamTabs,
};

#[derive(Debug, Clone, PartialEq)]
enum Stage {
    Choose,
    Reading,
    Preview(ImportPreview),
    Importing,
    Done,
}

/// Checks the bytes of the chosen file in the browser: size and encoding
/// are refused here at once (a 50 MB file never leaves the machine).
pub fn file_text(bytes: &[u8]) -> Result<String, String> {
    if bytes.len() > MAX_IMPORT_BYTES {
        return Err(format!(
            "The file is {:.1} MB; the limit is {} MB. Split it into smaller files.",
            bytes.len() as f64 / 1_048_576.0,
            MAX_IMPORT_BYTES / 1_048_576
        ));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    String::from_utf8(bytes.to_vec()).map_err(|error| {
        let at = error.utf8_error().valid_up_to();
        let line = bytes[..at].iter().filter(|b| **b == b'\n').count() + 1;
        format!(
            "The file is not UTF-8 text: line {line} has a character saved in another encoding \
             (byte 0x{:02X}). In your spreadsheet, save as \"CSV UTF-8\" and choose the file again.",
            bytes.get(at).copied().unwrap_or_default()
        )
    })
}

/// The report as CSV text; every cell a spreadsheet could run is neutralised.
pub fn report_csv(rows: &[PreviewRow]) -> String {
    fn quote(cell: &str) -> String {
        let cell = spreadsheet_safe(cell);
        if cell.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", cell.replace('"', "\"\""))
        } else {
            cell
        }
    }
    let mut out = String::from("line,email,name,role,group,result\r\n");
    for r in rows {
        let cells = [
            r.row.line.to_string(),
            r.row.email.clone(),
            r.row.name.clone(),
            r.row.role.clone(),
            r.row.group.clone(),
            r.outcome.label(),
        ];
        out.push_str(&cells.iter().map(|c| quote(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

fn count(rows: &[PreviewRow], kind: &str) -> usize {
    rows.iter().filter(|r| r.outcome.kind() == kind).count()
}

async fn read_file(file: web_sys::File) -> Result<Vec<u8>, String> {
    let buffer = wasm_bindgen_futures::JsFuture::from(file.array_buffer())
        .await
        .map_err(|_| "The file could not be read.".to_owned())?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

#[component]
pub fn ImportPage() -> impl IntoView {
    let stage = RwSignal::new(Stage::Choose);
    let file_error = RwSignal::new(None::<String>);
    let file_name = RwSignal::new(String::new());
    let send_email = RwSignal::new(true);
    let report = RwSignal::new(Vec::<PreviewRow>::new());
    let progress = RwSignal::new((0_usize, 0_usize));
    let run_error = RwSignal::new(None::<String>);
    let dragging = RwSignal::new(false);

    let take_file = move |file: Option<web_sys::File>| {
        let Some(file) = file else { return };
        file_name.set(file.name());
        file_error.set(None);
        // Size is known before reading: refuse a huge file without loading it.
        if file.size() > MAX_IMPORT_BYTES as f64 {
            file_error.set(Some(format!(
                "The file is {:.1} MB; the limit is {} MB. Split it into smaller files.",
                file.size() / 1_048_576.0,
                MAX_IMPORT_BYTES / 1_048_576
            )));
            return;
        }
        stage.set(Stage::Reading);
        leptos::task::spawn_local(async move {
            let text = match read_file(file).await.and_then(|bytes| file_text(&bytes)) {
                Ok(text) => text,
                Err(message) => {
                    file_error.set(Some(message));
                    stage.set(Stage::Choose);
                    return;
                }
            };
            match preview_import(text).await {
                Ok(preview) => stage.set(Stage::Preview(preview)),
                Err(error) => {
                    file_error.set(Some(
                        error
                            .field_message("file")
                            .unwrap_or_else(|| error.to_string()),
                    ));
                    stage.set(Stage::Choose);
                }
            }
        });
    };

    let start_import = move |_| {
        let Stage::Preview(preview) = stage.get_untracked() else {
            return;
        };
        let send = send_email.get_untracked();
        let rows = preview.rows.clone();
        let to_send: Vec<usize> = rows
            .iter()
            .enumerate()
            .filter(|(_, r)| r.outcome == RowOutcome::WillInvite)
            .map(|(i, _)| i)
            .collect();
        progress.set((0, to_send.len()));
        run_error.set(None);
        report.set(rows);
        stage.set(Stage::Importing);
        leptos::task::spawn_local(async move {
            let mut done = 0;
            for chunk in to_send.chunks(IMPORT_CHUNK_ROWS) {
                let input = report.with_untracked(|all| {
                    chunk
                        .iter()
                        .map(|i| all[*i].row.clone())
                        .collect::<Vec<_>>()
                });
                match import_members(input, send).await {
                    Ok(outcomes) => report.update(|all| {
                        for (i, outcome) in chunk.iter().zip(outcomes) {
                            all[*i].outcome = outcome;
                        }
                    }),
                    Err(error) => {
                        let message = error_text(&error);
                        report.update(|all| {
                            for i in to_send.iter().skip(done) {
                                all[*i].outcome =
                                    RowOutcome::Invalid(format!("not imported ({message})"));
                            }
                        });
                        run_error.set(Some(message));
                        break;
                    }
                }
                done += chunk.len();
                progress.set((done, to_send.len()));
            }
            stage.set(Stage::Done);
        });
    };

    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        take_file(
            ev.data_transfer()
                .and_then(|d| d.files())
                .and_then(|files| files.get(0)),
        );
    };

    view! {
        <Title text="Import members" />
            <TeamTabs current="members" />
            <p><a href="/team">"← Back to members"</a></p>
            <section class="card import" aria-labelledby="import-title">
                <h2 id="import-title">"Import members from a CSV file"</h2>
                <p class="muted">
                    "The first row names the columns, in any order: "<code>"email"</code>" (required), "
                    <code>"name"</code>", "<code>"role"</code>" (member, admin, project manager, team manager) and "
                    <code>"group"</code>" (several separated by ;). UTF-8, up to 10,000 rows. Nothing is written until you confirm."
                </p>
                <div
                    class="dropzone"
                    class:dragging=move || dragging.get()
                    on:dragover=move |ev: leptos::ev::DragEvent| { ev.prevent_default(); dragging.set(true); }
                    on:dragleave=move |_| dragging.set(false)
                    on:drop=on_drop
                >
                    <label for="import-file" class="button">"Choose a CSV file"</label>
                    <input
                        id="import-file"
                        class="visually-hidden-file"
                        type="file"
                        accept=".csv,text/csv"
                        on:change=move |ev| {
                            let input: web_sys::HtmlInputElement = event_target(&ev);
                            take_file(input.files().and_then(|files| files.get(0)));
                            input.set_value("");
                        }
                    />
                    <span class="muted">" or drop it here"</span>
                    {move || (!file_name.get().is_empty()).then(|| view! { <p class="file-name">{file_name.get()}</p> })}
                </div>
                {move || file_error.get().map(|m| view! { <div class="alert alert-error" role="alert" data-testid="file-error">{m}</div> })}
                {move || match stage.get() {
                    Stage::Choose => ().into_any(),
                    Stage::Reading => view! { <p aria-busy="true">"Reading the file…"</p> }.into_any(),
                    Stage::Preview(preview) => {
                        let invite = count(&preview.rows, "invited");
                        let rows = preview.rows.clone();
                        view! {
                            <div class="import-preview" data-testid="import-preview">
                                <h3>"Preview"</h3>
                                <Summary rows=preview.rows.clone() />
                                {(!preview.new_groups.is_empty()).then(|| view! {
                                    <p class="muted">"New groups will be created: "{preview.new_groups.join(", ")}</p>
                                })}
                                <label class="checkbox">
                                    <input type="checkbox" prop:checked=move || send_email.get()
                                        on:change=move |ev| send_email.set(event_target_checked(&ev)) />
                                    " Send invitation emails"
                                </label>
                                <div class="actions">
                                    <button class="button button-primary" disabled=invite == 0 on:click=start_import>
                                        {format!("Import {invite} {}", if invite == 1 { "person" } else { "people" })}
                                    </button>
                                    <button class="button" on:click=move |_| { stage.set(Stage::Choose); file_name.set(String::new()); }>"Choose another file"</button>
                                </div>
                                <RowsTable rows />
                            </div>
                        }.into_any()
                    }
                    Stage::Importing => view! {
                        <div class="import-progress">
                            <label for="import-progress">{move || {
                                let (done, total) = progress.get();
                                format!("Importing… {done} of {total}")
                            }}</label>
                            <progress id="import-progress" max=move || progress.get().1.max(1) value=move || progress.get().0></progress>
                        </div>
                    }.into_any(),
                    Stage::Done => {
                        let rows = report.get();
                        let href = format!(
                            "data:text/csv;charset=utf-8,{}",
                            String::from(js_sys::encode_uri_component(&report_csv(&rows)))
                        );
                        view! {
                            <div class="import-report" data-testid="import-report">
                                <h3>"Import finished"</h3>
                                {move || run_error.get().map(|m| view! { <div class="alert alert-error" role="alert">"The import stopped: "{m}</div> })}
                                <progress max="1" value="1" aria-label="Import complete"></progress>
                                <Summary rows=rows.clone() done=true />
                                <div class="actions">
                                    <a class="button button-primary" href=href download="import-report.csv">"Download report (CSV)"</a>
                                    <a class="button" href="/team?status=pending">"See pending members"</a>
                                </div>
                                <RowsTable rows />
                            </div>
                        }.into_any()
                    }
                }}
            </section>
    }
}

fn error_text(error: &AppError) -> String {
    if matches!(error, AppError::Transport(text) if text.contains("length limit")) {
        return format!(
            "The file is too big to send; the limit is {} MB. Split it into smaller files.",
            MAX_IMPORT_BYTES / 1_048_576
        );
    }
    error
        .field_message("file")
        .or_else(|| error.field_message("addresses"))
        .unwrap_or_else(|| error.to_string())
}

#[component]
fn Summary(rows: Vec<PreviewRow>, #[prop(optional)] done: bool) -> impl IntoView {
    let parts = [
        (
            count(&rows, "invited"),
            if done { "invited" } else { "to invite" },
        ),
        (count(&rows, "member"), "already in the workspace"),
        (count(&rows, "invalid"), "with problems"),
        (count(&rows, "noseat"), "without a seat"),
    ];
    view! {
        <ul class="import-summary" data-testid="import-summary">
            {parts.into_iter().filter(|(n, _)| *n > 0).map(|(n, label)| view! {
                <li><strong>{n}</strong>" "{label}</li>
            }).collect_view()}
        </ul>
    }
}

#[component]
fn RowsTable(rows: Vec<PreviewRow>) -> impl IntoView {
    view! {
        <div class="table-scroll import-rows">
            <table class="data-table import-table">
                <thead><tr><th scope="col">"Line"</th><th scope="col">"Email"</th><th scope="col">"Name"</th><th scope="col">"Role"</th><th scope="col">"Group"</th><th scope="col">"Result"</th></tr></thead>
                <tbody>
                    {rows.into_iter().map(|r| {
                        let kind = r.outcome.kind();
                        view! {
                            <tr class=format!("row-{kind}")>
                                <td data-label="Line">{r.row.line}</td>
                                <td data-label="Email">{r.row.email}</td>
                                <td data-label="Name">{r.row.name}</td>
                                <td data-label="Role">{r.row.role}</td>
                                <td data-label="Group">{r.row.group}</td>
                                <td data-label="Result" class=format!("outcome outcome-{kind}")>{r.outcome.label()}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::import::ImportRow;

    #[test]
    fn latin1_bytes_are_refused_with_the_line() {
        let bytes = b"email,name\nann@x.io,Ren\xE9e\n";
        let message = file_text(bytes).unwrap_err();
        assert!(message.contains("line 2"), "{message}");
        assert!(message.contains("0xE9"), "{message}");
        assert_eq!(file_text(b"\xEF\xBB\xBFemail\n").unwrap(), "email\n");
    }

    #[test]
    fn report_cells_cannot_become_formulas() {
        let rows = vec![PreviewRow {
            row: ImportRow {
                line: 2,
                email: "bob@x.io".into(),
                name: "=HYPERLINK(\"http://evil\",\"x\")".into(),
                role: "".into(),
                group: "@SUM(A1)".into(),
            },
            outcome: RowOutcome::Invited { emailed: true },
        }];
        let csv = report_csv(&rows);
        assert!(
            csv.contains("\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\""),
            "{csv}"
        );
        assert!(csv.contains(",'@SUM(A1),"), "{csv}");
    }
}
