//! The OpenAPI 3.1 document, generated from the handlers' annotations
//! (utoipa), and `/api/docs`: a small self-contained page that renders it
//! (no CDN, nothing downloaded at build time).

use std::sync::OnceLock;

use axum::response::{Html, IntoResponse, Response};
use http::{header, HeaderValue};
use utoipa::{
    openapi::{
        header::HeaderBuilder,
        security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
        ContentBuilder, ObjectBuilder, Ref, ResponseBuilder, Type,
    },
    Modify, OpenApi,
};

use super::{audit, groups, invitations, members, time, Problem};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Teamroom API",
        description = "Members, groups, projects, time and the audit log of one workspace, \
                       authenticated by a workspace API key (create one on your profile). \
                       Send it as `Authorization: Bearer <key>` (or, for clients that cannot, \
                       as `X-Api-Key: <key>`; never both). The key acts with its member's \
                       permissions. Errors are RFC 9457 problem documents: 400 when a request does \
                       not fit this document, 409 (with the same per-field `errors`) when it fits \
                       but a rule refuses it; each key may make a limited number of requests per minute \
                       (see the RateLimit-* headers)."
    ),
    paths(
        super::me,
        members::list,
        members::get_one,
        members::deactivate,
        members::reactivate,
        members::delete,
        members::give_role,
        members::take_role,
        members::profile,
        members::update_profile,
        groups::list,
        groups::create,
        groups::rename,
        groups::delete,
        groups::add_members,
        groups::remove_member,
        groups::projects,
        invitations::list,
        invitations::create,
        invitations::resend,
        invitations::revoke,
        time::entries,
        time::stop_my_timer,
        time::stop_member_timer,
        time::summary,
        audit::list,
    ),
    components(schemas(Problem, members::Role)),
    modifiers(&Conventions),
    security(("bearer" = [])),
    tags(
        (name = "me", description = "Who the key acts as"),
        (name = "members", description = "The Team page"),
        (name = "groups", description = "Groups of members"),
        (name = "projects", description = "Projects"),
        (name = "invitations", description = "Invitations"),
        (name = "time", description = "Tracked time"),
        (name = "reports", description = "Reports"),
        (name = "audit", description = "The audit log"),
    )
)]
pub struct ApiDoc;

/// What every operation shares: the two ways to send a key, and the
/// problem answers any of them may give.
struct Conventions;

impl Modify for Conventions {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A workspace API key: `Authorization: Bearer trk_…`"))
                    .build(),
            ),
        );
        let problem = |description: &str, retry: bool| {
            let mut response = ResponseBuilder::new().description(description).content(
                "application/problem+json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            );
            if retry {
                response = response.header(
                    "Retry-After",
                    HeaderBuilder::new()
                        .schema(ObjectBuilder::new().schema_type(Type::Integer))
                        .description(Some("Seconds until the key may call again"))
                        .build(),
                );
            }
            response.build()
        };
        let answers = [
            (
                "400",
                problem(
                    "Invalid input: `errors` names each field with its messages",
                    false,
                ),
            ),
            ("401", problem("No key, or not a live key", false)),
            ("403", problem("The key's member may not do this", false)),
            (
                "404",
                problem("No such thing in this workspace (or in your view)", false),
            ),
            (
                "409",
                problem("Refused by a rule (e.g. deactivating yourself)", false),
            ),
            ("429", problem("Too many requests with this key", true)),
        ];
        // The audit log's action codes, from the one list the page uses.
        if let Some(operation) = openapi
            .paths
            .paths
            .get_mut("/api/v1/audit-events")
            .and_then(|item| item.get.as_mut())
        {
            for parameter in operation.parameters.iter_mut().flatten() {
                if parameter.name == "action" {
                    parameter.schema = Some(
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .enum_values(Some(
                                app::domain::audit::AuditAction::in_workspace()
                                    .map(app::domain::audit::AuditAction::code),
                            ))
                            .into(),
                    );
                }
            }
        }
        for item in openapi.paths.paths.values_mut() {
            for operation in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                for (status, response) in &answers {
                    operation
                        .responses
                        .responses
                        .entry((*status).to_owned())
                        .or_insert_with(|| response.clone().into());
                }
            }
        }
    }
}

/// The document as JSON, built once.
pub fn openapi_text() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| ApiDoc::openapi().to_pretty_json().unwrap_or_default())
}

/// `GET /api/v1/openapi.json` (public: it describes, it tells nothing).
pub async fn openapi_json() -> Response {
    let mut response = openapi_text().to_owned().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// `GET /api/docs`: the reference, rendered in the browser from the
/// document above by a few lines of script in the page itself. Its one
/// `<style>` and one `<script>` carry a fresh nonce that the policy names,
/// so nothing else inline runs, as on the app's pages.
pub async fn page() -> Response {
    let nonce = app::server::csp::new_nonce();
    let html = DOCS_HTML
        .replacen("<style>", &format!("<style nonce=\"{nonce}\">"), 1)
        .replacen("<script>", &format!("<script nonce=\"{nonce}\">"), 1);
    let mut response = Html(html).into_response();
    let policy = format!(
        "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; \
         connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; \
         form-action 'self'; object-src 'none'"
    );
    match HeaderValue::from_str(&policy) {
        Ok(value) => {
            response
                .headers_mut()
                .insert(header::CONTENT_SECURITY_POLICY, value);
        }
        // Never: a nonce is URL-safe base64. Fail closed all the same.
        Err(_) => {
            response.headers_mut().insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(app::server::csp::NOTHING),
            );
        }
    }
    response
}

const DOCS_HTML: &str = r##"<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Teamroom API</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1d2430;background:#f7f8fa}
main{max-width:60rem;margin:0 auto;padding:1.5rem}
h1{margin:.2rem 0}h2{margin-top:2rem;border-bottom:1px solid #d5d9e0;padding-bottom:.3rem}
.op{background:#fff;border:1px solid #d5d9e0;border-radius:6px;margin:.6rem 0}
.op summary{cursor:pointer;padding:.5rem .8rem;display:flex;gap:.8rem;align-items:baseline}
.m{font:600 12px ui-monospace,monospace;text-transform:uppercase;padding:.1rem .45rem;border-radius:4px;color:#fff;min-width:3.5rem;text-align:center}
.get{background:#2f6fb3}.post{background:#2f8a4f}.put{background:#a36a00}.patch{background:#7a4fb3}.delete{background:#b33a3a}
code,pre{font-family:ui-monospace,monospace;font-size:13px}.path{font-weight:600}
.body{padding:.3rem 1rem 1rem}table{border-collapse:collapse;width:100%}td,th{text-align:left;border-top:1px solid #e5e8ee;padding:.3rem .4rem;vertical-align:top}
pre{background:#f0f2f5;padding:.6rem;overflow:auto;border-radius:4px}.muted{color:#5a6475}
</style></head>
<body><main>
<h1>Teamroom API</h1>
<p class="muted">Every request needs a workspace API key (create one on your profile):
<code>Authorization: Bearer trk_…</code> or <code>X-Api-Key: trk_…</code>.
The machine-readable document is <a href="/api/v1/openapi.json">/api/v1/openapi.json</a> (OpenAPI 3.1).</p>
<div id="doc">Loading…</div>
</main>
<script>
(async function () {
  const root = document.getElementById("doc");
  const el = (tag, attrs, ...kids) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    for (const kid of kids) node.append(kid);
    return node;
  };
  let spec;
  try { spec = await (await fetch("/api/v1/openapi.json")).json(); }
  catch (e) { root.textContent = "Could not load the API description."; return; }
  const resolve = (s) => {
    if (s && s.$ref) return spec.components.schemas[s.$ref.split("/").pop()] || {};
    return s || {};
  };
  const typeOf = (s) => {
    s = s || {};
    if (s.$ref) return s.$ref.split("/").pop();
    if (s.oneOf) return s.oneOf.map(typeOf).join(" | ");
    if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(" | ");
    if (Array.isArray(s.type)) return s.type.join(" | ") + (s.items ? " of " + typeOf(s.items) : "");
    if (s.type === "array") return "array of " + typeOf(s.items);
    return (s.type || "object") + (s.format ? " (" + s.format + ")" : "");
  };
  const example = (s, depth) => {
    s = resolve(s);
    if (depth > 4) return null;
    if (s.example !== undefined) return s.example;
    if (s.enum) return s.enum[0];
    if (s.oneOf) return example(s.oneOf.find((x) => x.type !== "null") || s.oneOf[0], depth + 1);
    const t = Array.isArray(s.type) ? s.type.find((x) => x !== "null") : s.type;
    if (t === "object" || s.properties) {
      const out = {};
      for (const [k, v] of Object.entries(s.properties || {})) out[k] = example(v, depth + 1);
      return out;
    }
    if (t === "array") return [example(s.items, depth + 1)];
    if (t === "integer" || t === "number") return 0;
    if (t === "boolean") return false;
    if (s.format === "date-time") return "2026-11-30T09:00:00Z";
    if (s.format === "date") return "2026-11-30";
    return "string";
  };
  root.textContent = "";
  const byTag = new Map();
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const method of ["get", "post", "put", "patch", "delete"]) {
      const op = item[method];
      if (!op) continue;
      const tag = (op.tags && op.tags[0]) || "other";
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag).push([method, path, op]);
    }
  }
  for (const tag of spec.tags || []) if (!byTag.has(tag.name)) byTag.set(tag.name, []);
  for (const [tag, ops] of byTag) {
    if (!ops.length) continue;
    const info = (spec.tags || []).find((t) => t.name === tag);
    root.append(el("h2", {}, info && info.description ? info.description : tag));
    for (const [method, path, op] of ops) {
      const body = el("div", { class: "body" });
      const text = op.description || op.summary;
      if (text) body.append(el("p", {}, text));
      const params = op.parameters || [];
      if (params.length) {
        const table = el("table", {}, el("tr", {}, el("th", {}, "Parameter"), el("th", {}, "In"), el("th", {}, "Type"), el("th", {}, "Description")));
        for (const p of params) {
          const s = p.schema || {};
          const limits = [s.minimum !== undefined ? "min " + s.minimum : "", s.maximum !== undefined ? "max " + s.maximum : "", s.maxLength !== undefined ? "≤ " + s.maxLength + " chars" : ""].filter(Boolean).join(", ");
          table.append(el("tr", {}, el("td", {}, el("code", {}, p.name + (p.required ? " *" : ""))), el("td", {}, p.in), el("td", {}, typeOf(s) + (limits ? " (" + limits + ")" : "")), el("td", {}, p.description || "")));
        }
        body.append(table);
      }
      if (op.requestBody) {
        const media = op.requestBody.content["application/json"];
        body.append(el("p", {}, el("strong", {}, "Body"), " (application/json; unknown fields are refused)"));
        body.append(el("pre", {}, JSON.stringify(example(media.schema, 0), null, 2)));
      }
      const table = el("table", {}, el("tr", {}, el("th", {}, "Status"), el("th", {}, "Meaning"), el("th", {}, "Body")));
      for (const [status, r] of Object.entries(op.responses || {})) {
        const media = r.content && Object.entries(r.content)[0];
        table.append(el("tr", {}, el("td", {}, status), el("td", {}, r.description || ""), el("td", {}, media ? media[0] + ": " + typeOf(media[1].schema) : "—")));
      }
      body.append(table);
      const ok = Object.entries(op.responses || {}).find(([s, r]) => s.startsWith("2") && r.content);
      if (ok) {
        body.append(el("p", {}, el("strong", {}, "Example answer")));
        body.append(el("pre", {}, JSON.stringify(example(Object.values(ok[1].content)[0].schema, 0), null, 2)));
      }
      const summary = el("summary", {}, el("span", { class: "m " + method }, method), el("code", { class: "path" }, path), el("span", { class: "muted" }, op.summary || ""));
      root.append(el("details", { class: "op" }, summary, body));
    }
  }
})();
</script>
</body></html>
"##;
