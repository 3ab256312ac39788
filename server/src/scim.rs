//! SCIM 2.0 at `/scim/v2` (RFC 7643, RFC 7644) so an identity provider
//! (Okta, Microsoft Entra) provisions and deactivates members. This module
//! is the protocol: the bearer token, JSON in and out, PATCH, filters,
//! paging, ETags and SCIM errors. The rules and SQL are in
//! `app::server::scim`, which calls the same code as the Team and Groups
//! pages.
//!
//! Every answer is `application/scim+json`; every error is a SCIM Error
//! (`urn:ietf:params:scim:api:messages:2.0:Error`) with `status` and, for
//! a 400 or 409, a `scimType`. Bad input never reaches the database as a
//! half-done change: each request runs in one transaction.

use app::{
    domain::scim as filter,
    error::AppError,
    server::{
        scim::{self as rules, GroupDraft, ScimAuth, ScimGroup, ScimUser, UserDraft},
        session::{hash_token, RequestMeta},
        AppState,
    },
};
use axum::{body::Body, extract::Request, response::Response};
use http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use serde_json::{json, Map, Value};

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const SEARCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
const CONTENT_TYPE: &str = "application/scim+json";

/// Largest request body read (the rest is refused unread).
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// Most operations in one PATCH.
pub const MAX_OPERATIONS: usize = 100;
/// Most resources on one page; a larger `count` is clamped (RFC 7644 3.4.2.4).
pub const MAX_COUNT: i64 = 200;
/// Most members named in one Group request.
pub const MAX_MEMBERS: usize = 1000;
/// Longest PATCH path read.
const MAX_PATH_CHARS: usize = 300;

/// Top-level User attributes of RFC 7643 that are accepted and ignored:
/// providers send them from their default mappings.
const IGNORED_USER_ATTRIBUTES: &[&str] = &[
    "schemas",
    "id",
    "meta",
    "nickName",
    "profileUrl",
    "title",
    "userType",
    "preferredLanguage",
    "locale",
    "timezone",
    "password",
    "phoneNumbers",
    "ims",
    "photos",
    "addresses",
    "groups",
    "entitlements",
    "roles",
    "x509Certificates",
];

/// A SCIM error on its way out.
#[derive(Debug)]
pub struct ScimError {
    status: StatusCode,
    scim_type: Option<&'static str>,
    detail: String,
    retry_after: Option<u64>,
}

impl ScimError {
    fn new(status: StatusCode, scim_type: Option<&'static str>, detail: impl Into<String>) -> Self {
        Self {
            status,
            scim_type,
            detail: detail.into(),
            retry_after: None,
        }
    }

    fn bad(scim_type: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some(scim_type), detail)
    }

    fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, None, "Resource not found.")
    }

    fn into_response(self) -> Response {
        let mut body = json!({
            "schemas": [ERROR_SCHEMA],
            "status": self.status.as_u16().to_string(),
            "detail": self.detail,
        });
        if let Some(scim_type) = self.scim_type {
            body["scimType"] = json!(scim_type);
        }
        let mut response = scim_response(self.status, Some(&body));
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

const SCIM_TYPES: &[&str] = &[
    "invalidFilter",
    "tooMany",
    "uniqueness",
    "mutability",
    "invalidSyntax",
    "invalidPath",
    "noTarget",
    "invalidValue",
    "invalidVers",
    "sensitive",
];

impl From<AppError> for ScimError {
    fn from(error: AppError) -> Self {
        match error {
            AppError::Unauthenticated => Self::new(
                StatusCode::UNAUTHORIZED,
                None,
                "Send a SCIM token in the Authorization header: Bearer <token>. \
                 It may be mistyped or revoked.",
            ),
            AppError::Forbidden => Self::new(
                StatusCode::FORBIDDEN,
                None,
                "SCIM provisioning needs the Enterprise plan.",
            ),
            AppError::NotFound => Self::not_found(),
            AppError::Validation(errors) => {
                let Some((field, messages)) = errors.0.iter().next() else {
                    return Self::bad("invalidValue", "The request is not valid.");
                };
                let message = messages.first().cloned().unwrap_or_default();
                match SCIM_TYPES.iter().find(|t| **t == field.as_str()) {
                    Some(&"uniqueness") => {
                        Self::new(StatusCode::CONFLICT, Some("uniqueness"), message)
                    }
                    Some(scim_type) => Self::bad(scim_type, message),
                    None => Self::bad("invalidValue", format!("{field}: {message}")),
                }
            }
            AppError::Conflict(message) => Self::new(StatusCode::CONFLICT, None, message),
            AppError::RateLimited { retry_after_secs } => Self {
                retry_after: Some(retry_after_secs),
                ..Self::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    None,
                    format!("Too many invitations; try again in {retry_after_secs} seconds."),
                )
            },
            AppError::Internal | AppError::Transport(_) => Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                None,
                "Something went wrong on our side. Please try again.",
            ),
        }
    }
}

impl From<sqlx::Error> for ScimError {
    fn from(error: sqlx::Error) -> Self {
        AppError::from(error).into()
    }
}

fn scim_response(status: StatusCode, body: Option<&Value>) -> Response {
    let mut response = match body {
        Some(body) => Response::new(Body::from(body.to_string())),
        None => Response::new(Body::empty()),
    };
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if body.is_some() {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A single resource with its ETag (and Location when created).
fn resource_response(status: StatusCode, resource: &Value) -> Response {
    let mut response = scim_response(status, Some(resource));
    let meta = &resource["meta"];
    if let Some(Ok(version)) = meta["version"].as_str().map(HeaderValue::from_str) {
        response.headers_mut().insert(header::ETAG, version);
    }
    if status == StatusCode::CREATED {
        if let Some(Ok(location)) = meta["location"].as_str().map(HeaderValue::from_str) {
            response.headers_mut().insert(header::LOCATION, location);
        }
    }
    response
}

/// Everything under `/scim/v2`.
pub async fn handle(state: AppState, request: Request) -> Response {
    match serve(state, request).await {
        Ok(response) => response,
        Err(error) => {
            if error.status.is_server_error() {
                tracing::error!(detail = %error.detail, "SCIM request failed");
            }
            error.into_response()
        }
    }
}

/// The token's workspace and actor; 401 or 403 otherwise.
async fn authenticate(
    state: &AppState,
    parts: &http::request::Parts,
) -> Result<ScimAuth, ScimError> {
    let mut values = parts.headers.get_all(header::AUTHORIZATION).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(AppError::Unauthenticated.into());
    };
    let value = value
        .to_str()
        .map_err(|_| ScimError::from(AppError::Unauthenticated))?;
    let meta = RequestMeta::from_parts(parts, &state.auth);
    let mut conn = state.pool.acquire().await?;
    Ok(rules::authenticate(&mut conn, value, meta).await?)
}

/// The request body as a JSON object: at most `MAX_BODY_BYTES`, SCIM or
/// plain JSON.
async fn read_json(headers: &HeaderMap, body: Body) -> Result<Map<String, Value>, ScimError> {
    if let Some(kind) = headers.get(header::CONTENT_TYPE) {
        let kind = kind.to_str().unwrap_or_default().to_ascii_lowercase();
        let essence = kind.split(';').next().unwrap_or_default().trim();
        if essence != CONTENT_TYPE && essence != "application/json" {
            return Err(ScimError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                None,
                "Send the body as application/scim+json (or application/json).",
            ));
        }
    }
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|error| {
            if crate::middleware::is_too_slow(&error) {
                return ScimError::new(
                    StatusCode::REQUEST_TIMEOUT,
                    None,
                    crate::middleware::TOO_SLOW_MESSAGE,
                );
            }
            ScimError::bad(
                "invalidSyntax",
                format!(
                    "The body is too large (at most {} KB).",
                    MAX_BODY_BYTES / 1024
                ),
            )
        })?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ScimError::bad(
            "invalidSyntax",
            "The body must be a JSON object.",
        )),
        Err(error) => Err(ScimError::bad(
            "invalidSyntax",
            format!("The body is not valid JSON: {error}."),
        )),
    }
}

async fn serve(state: AppState, request: Request) -> Result<Response, ScimError> {
    let (parts, body) = request.into_parts();
    let path = parts
        .uri
        .path()
        .strip_prefix("/scim/v2")
        .unwrap_or_default()
        .trim_end_matches('/')
        .to_owned();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let auth = authenticate(&state, &parts).await?;
    let body = crate::middleware::slotted_body(
        &state.bodies_in_flight,
        &format!("scim:{}", auth.token_id),
        body,
    )
    .map_err(|max| {
        ScimError::new(
            StatusCode::TOO_MANY_REQUESTS,
            None,
            crate::middleware::too_many_bodies_message(max),
        )
    })?;
    let origin = format!("{}/scim/v2", state.auth.public_origin);
    let method = parts.method.clone();
    let kind = |name: &str| {
        if name.eq_ignore_ascii_case("Users") {
            Some(Kind::User)
        } else if name.eq_ignore_ascii_case("Groups") {
            Some(Kind::Group)
        } else {
            None
        }
    };
    match (method, segments.as_slice()) {
        (Method::GET, ["ServiceProviderConfig"]) => Ok(scim_response(
            StatusCode::OK,
            Some(&service_provider_config(&origin)),
        )),
        (Method::GET, ["ResourceTypes"]) => {
            let types = vec![
                resource_type(&origin, Kind::User),
                resource_type(&origin, Kind::Group),
            ];
            Ok(scim_response(
                StatusCode::OK,
                Some(&list_of(types.len() as i64, 1, types)),
            ))
        }
        (Method::GET, ["ResourceTypes", name]) => match kind(&format!("{name}s")).or(kind(name)) {
            Some(k) => Ok(scim_response(
                StatusCode::OK,
                Some(&resource_type(&origin, k)),
            )),
            None => Err(ScimError::not_found()),
        },
        (Method::GET, ["Schemas"]) => {
            let schemas = vec![user_schema(&origin), group_schema(&origin)];
            Ok(scim_response(
                StatusCode::OK,
                Some(&list_of(schemas.len() as i64, 1, schemas)),
            ))
        }
        (Method::GET, ["Schemas", urn]) => match *urn {
            USER_SCHEMA => Ok(scim_response(StatusCode::OK, Some(&user_schema(&origin)))),
            GROUP_SCHEMA => Ok(scim_response(StatusCode::OK, Some(&group_schema(&origin)))),
            _ => Err(ScimError::not_found()),
        },
        (Method::POST, [".search"]) => {
            let body = read_json(&parts.headers, body).await?;
            let params = ListParams::from_search(&body)?;
            search_all(&state, &auth, &origin, params).await
        }
        (_, ["ServiceProviderConfig" | "ResourceTypes" | "Schemas", ..]) => Err(not_allowed()),
        (Method::GET, [collection]) if kind(collection).is_some() => {
            let params = ListParams::from_query(parts.uri.query().unwrap_or_default())?;
            list(
                &state,
                &auth,
                &origin,
                kind(collection).unwrap_or(Kind::User),
                params,
            )
            .await
        }
        (Method::POST, [collection, ".search"]) if kind(collection).is_some() => {
            let body = read_json(&parts.headers, body).await?;
            let params = ListParams::from_search(&body)?;
            list(
                &state,
                &auth,
                &origin,
                kind(collection).unwrap_or(Kind::User),
                params,
            )
            .await
        }
        (Method::POST, [collection]) if kind(collection).is_some() => {
            let body = read_json(&parts.headers, body).await?;
            create(
                &state,
                &auth,
                &origin,
                kind(collection).unwrap_or(Kind::User),
                body,
            )
            .await
        }
        (_, [collection]) if kind(collection).is_some() => Err(not_allowed()),
        (method, [collection, id]) if kind(collection).is_some() => {
            let kind = kind(collection).unwrap_or(Kind::User);
            // Ids are numbers; anything else names nothing here.
            let id: i64 = id.parse().map_err(|_| ScimError::not_found())?;
            let params = ListParams::from_query(parts.uri.query().unwrap_or_default())?;
            match method {
                Method::GET => {
                    let mut conn = state.pool.acquire().await?;
                    let resource = render(&mut conn, &auth, &origin, kind, id).await?;
                    Ok(resource_response(StatusCode::OK, &params.project(resource)))
                }
                Method::PUT | Method::PATCH => {
                    let body = read_json(&parts.headers, body).await?;
                    change(
                        &state,
                        &auth,
                        &origin,
                        kind,
                        id,
                        &parts.headers,
                        method == Method::PATCH,
                        body,
                    )
                    .await
                }
                Method::DELETE => remove(&state, &auth, &origin, kind, id, &parts.headers).await,
                _ => Err(not_allowed()),
            }
        }
        _ => Err(ScimError::not_found()),
    }
}

fn not_allowed() -> ScimError {
    ScimError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        None,
        "That method is not allowed here.",
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    User,
    Group,
}

// ------------------------------------------------------------- listing

/// Paging, filter and attribute selection of a list or search.
#[derive(Debug, Default)]
struct ListParams {
    filter: Option<String>,
    start: i64,
    count: i64,
    attributes: Vec<String>,
    excluded: Vec<String>,
}

fn integer(name: &str, text: &str) -> Result<i64, ScimError> {
    text.trim()
        .parse::<i64>()
        .map_err(|_| ScimError::bad("invalidValue", format!("{name} must be an integer.")))
}

fn names(text: &str) -> Vec<String> {
    text.split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .take(50)
        .collect()
}

impl ListParams {
    fn from_query(query: &str) -> Result<Self, ScimError> {
        let pairs: Vec<(String, String)> = serde_urlencoded_pairs(query)?;
        let mut params = Self {
            start: 1,
            count: MAX_COUNT,
            ..Self::default()
        };
        for (key, value) in pairs {
            match key.to_ascii_lowercase().as_str() {
                "filter" => params.filter = Some(value),
                "startindex" => params.start = integer("startIndex", &value)?,
                "count" => params.count = integer("count", &value)?,
                "attributes" => params.attributes = names(&value),
                "excludedattributes" => params.excluded = names(&value),
                _ => {}
            }
        }
        Ok(params.clamped())
    }

    fn from_search(body: &Map<String, Value>) -> Result<Self, ScimError> {
        let mut params = Self {
            start: 1,
            count: MAX_COUNT,
            ..Self::default()
        };
        for (key, value) in body {
            let wrong =
                |what: &str| ScimError::bad("invalidValue", format!("{key} must be {what}."));
            match key.to_ascii_lowercase().as_str() {
                "schemas" => {
                    if !value
                        .as_array()
                        .is_some_and(|a| a.iter().any(|s| s == SEARCH_SCHEMA))
                    {
                        return Err(ScimError::bad(
                            "invalidSyntax",
                            format!("schemas must list {SEARCH_SCHEMA}."),
                        ));
                    }
                }
                "filter" => {
                    params.filter =
                        Some(value.as_str().ok_or_else(|| wrong("a string"))?.to_owned())
                }
                "startindex" => params.start = value.as_i64().ok_or_else(|| wrong("an integer"))?,
                "count" => params.count = value.as_i64().ok_or_else(|| wrong("an integer"))?,
                "attributes" | "excludedattributes" => {
                    let list: Vec<String> = value
                        .as_array()
                        .ok_or_else(|| wrong("a list of names"))?
                        .iter()
                        .take(50)
                        .map(|v| {
                            v.as_str()
                                .map(str::to_owned)
                                .ok_or_else(|| wrong("a list of names"))
                        })
                        .collect::<Result<_, _>>()?;
                    if key.eq_ignore_ascii_case("attributes") {
                        params.attributes = list;
                    } else {
                        params.excluded = list;
                    }
                }
                "sortby" | "sortorder" => {}
                _ => {
                    return Err(ScimError::bad(
                        "invalidSyntax",
                        format!("Unknown search field \"{key}\"."),
                    ))
                }
            }
        }
        Ok(params.clamped())
    }

    /// RFC 7644 3.4.2.4: a startIndex below 1 means 1, a negative count 0;
    /// a count above the page size is clamped.
    fn clamped(mut self) -> Self {
        self.start = self.start.max(1);
        self.count = self.count.clamp(0, MAX_COUNT);
        self
    }

    /// `attributes` keeps only those (plus id and schemas); the others are
    /// dropped by `excludedAttributes`. Top-level names, any case, with or
    /// without the schema URN.
    fn project(&self, mut resource: Value) -> Value {
        let short = |name: &str| -> String {
            let lower = name.to_ascii_lowercase();
            for schema in [USER_SCHEMA, GROUP_SCHEMA] {
                if let Some(rest) = lower.strip_prefix(&format!("{}:", schema.to_ascii_lowercase()))
                {
                    return rest.split('.').next().unwrap_or_default().to_owned();
                }
            }
            lower.split('.').next().unwrap_or_default().to_owned()
        };
        let Some(map) = resource.as_object_mut() else {
            return resource;
        };
        if !self.attributes.is_empty() {
            let keep: Vec<String> = self.attributes.iter().map(|a| short(a)).collect();
            map.retain(|k, _| {
                matches!(k.as_str(), "id" | "schemas" | "meta")
                    || keep.contains(&k.to_ascii_lowercase())
            });
        }
        if !self.excluded.is_empty() {
            let drop: Vec<String> = self.excluded.iter().map(|a| short(a)).collect();
            map.retain(|k, _| {
                matches!(k.as_str(), "id" | "schemas") || !drop.contains(&k.to_ascii_lowercase())
            });
        }
        resource
    }

    fn wants_members(&self) -> bool {
        let named = |list: &[String]| {
            list.iter()
                .any(|a| a.to_ascii_lowercase().contains("members"))
        };
        if !self.attributes.is_empty() {
            return named(&self.attributes);
        }
        !named(&self.excluded)
    }
}

fn serde_urlencoded_pairs(query: &str) -> Result<Vec<(String, String)>, ScimError> {
    if query.len() > 8 * 1024 {
        return Err(ScimError::bad(
            "invalidValue",
            "The query string is too long.",
        ));
    }
    let uri: http::Uri = format!("/?{query}")
        .parse()
        .map_err(|_| ScimError::bad("invalidValue", "The query string is not valid."))?;
    axum::extract::Query::<Vec<(String, String)>>::try_from_uri(&uri)
        .map(|q| q.0)
        .map_err(|_| ScimError::bad("invalidValue", "The query string is not valid."))
}

fn list_of(total: i64, start: i64, resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": total,
        "startIndex": start,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

async fn list(
    state: &AppState,
    auth: &ScimAuth,
    origin: &str,
    kind: Kind,
    params: ListParams,
) -> Result<Response, ScimError> {
    let (allowed, schema) = match kind {
        Kind::User => (rules::USER_FILTER_ATTRIBUTES, USER_SCHEMA),
        Kind::Group => (rules::GROUP_FILTER_ATTRIBUTES, GROUP_SCHEMA),
    };
    let parsed = params
        .filter
        .as_deref()
        .map(|text| filter::parse(text, allowed, schema))
        .transpose()
        .map_err(|message| ScimError::bad("invalidFilter", message))?;
    let workspace_id = auth.ctx.workspace_id;
    let mut conn = state.pool.acquire().await?;
    let (total, resources) = match kind {
        Kind::User => {
            let (total, users) = rules::list_users(
                &mut conn,
                workspace_id,
                parsed.as_ref(),
                params.start,
                params.count,
            )
            .await?;
            (
                total,
                users
                    .iter()
                    .map(|u| params.project(user_json(origin, u)))
                    .collect(),
            )
        }
        Kind::Group => {
            let (total, groups) = rules::list_groups(
                &mut conn,
                workspace_id,
                parsed.as_ref(),
                params.start,
                params.count,
            )
            .await?;
            let mut out = Vec::with_capacity(groups.len());
            for group in &groups {
                let members = if params.wants_members() {
                    Some(rules::group_members(&mut conn, workspace_id, group.id).await?)
                } else {
                    None
                };
                out.push(params.project(group_json(origin, group, members.as_deref())));
            }
            (total, out)
        }
    };
    Ok(scim_response(
        StatusCode::OK,
        Some(&list_of(total, params.start, resources)),
    ))
}

/// `POST /.search` at the root: Users and Groups together, newest first
/// (the last page of each by id, merged by creation time). A filter must
/// name attributes both have.
async fn search_all(
    state: &AppState,
    auth: &ScimAuth,
    origin: &str,
    params: ListParams,
) -> Result<Response, ScimError> {
    let parsed = params
        .filter
        .as_deref()
        .map(|text| filter::parse(text, rules::GROUP_FILTER_ATTRIBUTES, USER_SCHEMA))
        .transpose()
        .map_err(|message| ScimError::bad("invalidFilter", message))?;
    let workspace_id = auth.ctx.workspace_id;
    let mut conn = state.pool.acquire().await?;
    let (users_total, _) =
        rules::list_users(&mut conn, workspace_id, parsed.as_ref(), 1, 0).await?;
    let (groups_total, _) =
        rules::list_groups(&mut conn, workspace_id, parsed.as_ref(), 1, 0).await?;
    let last = |total: i64| (total - params.count + 1).max(1);
    let (_, users) = rules::list_users(
        &mut conn,
        workspace_id,
        parsed.as_ref(),
        last(users_total),
        params.count,
    )
    .await?;
    let (_, groups) = rules::list_groups(
        &mut conn,
        workspace_id,
        parsed.as_ref(),
        last(groups_total),
        params.count,
    )
    .await?;
    let mut found: Vec<(chrono::DateTime<chrono::Utc>, Value)> = Vec::new();
    for user in &users {
        found.push((user.created_at, params.project(user_json(origin, user))));
    }
    for group in &groups {
        let members = rules::group_members(&mut conn, workspace_id, group.id).await?;
        found.push((
            group.created_at,
            params.project(group_json(origin, group, Some(&members))),
        ));
    }
    found.sort_by_key(|found| std::cmp::Reverse(found.0));
    let page: Vec<Value> = found
        .into_iter()
        .take(params.count as usize)
        .map(|(_, v)| v)
        .collect();
    Ok(scim_response(
        StatusCode::OK,
        Some(&list_of(users_total + groups_total, 1, page)),
    ))
}

// ------------------------------------------------------------- rendering

/// `W/"…"`: a digest of the resource as served, so any change to it (from
/// SCIM or from the pages) gives a new version.
fn with_version(mut resource: Value) -> Value {
    let digest = hash_token(&resource.to_string());
    let hex: String = digest.iter().take(10).map(|b| format!("{b:02x}")).collect();
    resource["meta"]["version"] = json!(format!("W/\"{hex}\""));
    resource
}

fn user_json(origin: &str, user: &ScimUser) -> Value {
    let mut resource = json!({
        "schemas": [USER_SCHEMA],
        "id": user.id.to_string(),
        "userName": user.user_name,
        "emails": [{ "value": user.email }],
        "active": user.status != app::domain::MemberStatus::Inactive,
    });
    if let Some(external) = &user.external_id {
        resource["externalId"] = json!(external);
    }
    if let Some(display) = &user.display_name {
        resource["displayName"] = json!(display);
    }
    let mut name = Map::new();
    for (key, value) in [
        ("givenName", &user.given_name),
        ("familyName", &user.family_name),
        ("formatted", &user.formatted_name),
    ] {
        if let Some(value) = value {
            name.insert(key.to_owned(), json!(value));
        }
    }
    if !name.is_empty() {
        resource["name"] = Value::Object(name);
    }
    let created = user
        .created_at
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    resource["meta"] = json!({
        "resourceType": "User",
        "created": created,
        "lastModified": created,
        "location": format!("{origin}/Users/{}", user.id),
    });
    with_version(resource)
}

fn group_json(origin: &str, group: &ScimGroup, members: Option<&[(i64, String)]>) -> Value {
    let mut resource = json!({
        "schemas": [GROUP_SCHEMA],
        "id": group.id.to_string(),
        "displayName": group.display_name,
    });
    if let Some(external) = &group.external_id {
        resource["externalId"] = json!(external);
    }
    if let Some(members) = members {
        resource["members"] = Value::Array(
            members
                .iter()
                .map(|(id, _)| {
                    json!({
                        "value": id.to_string(),
                        "$ref": format!("{origin}/Users/{id}"),
                    })
                })
                .collect(),
        );
    }
    let created = group
        .created_at
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    resource["meta"] = json!({
        "resourceType": "Group",
        "created": created,
        "lastModified": created,
        "location": format!("{origin}/Groups/{}", group.id),
    });
    with_version(resource)
}

async fn render(
    conn: &mut sqlx::PgConnection,
    auth: &ScimAuth,
    origin: &str,
    kind: Kind,
    id: i64,
) -> Result<Value, ScimError> {
    let workspace_id = auth.ctx.workspace_id;
    Ok(match kind {
        Kind::User => user_json(
            origin,
            &rules::get_user(&mut *conn, workspace_id, id).await?,
        ),
        Kind::Group => {
            let group = rules::get_group(&mut *conn, workspace_id, id).await?;
            let members = rules::group_members(&mut *conn, workspace_id, id).await?;
            group_json(origin, &group, Some(&members))
        }
    })
}

/// `If-Match`: `*` or one of the listed versions must be the current one.
fn check_if_match(headers: &HeaderMap, current: &Value) -> Result<(), ScimError> {
    let Some(wanted) = headers.get(header::IF_MATCH) else {
        return Ok(());
    };
    let wanted = wanted.to_str().unwrap_or_default();
    let version = current["meta"]["version"].as_str().unwrap_or_default();
    let strip = |v: &str| {
        v.trim()
            .trim_start_matches("W/")
            .trim_matches('"')
            .to_owned()
    };
    if wanted.trim() == "*" || wanted.split(',').any(|v| strip(v) == strip(version)) {
        Ok(())
    } else {
        Err(ScimError::new(
            StatusCode::PRECONDITION_FAILED,
            None,
            "The resource changed since that version; read it again.",
        ))
    }
}

// ------------------------------------------------------------- reading bodies

/// The value of `key` in `map`, whatever its case (attribute names are
/// case-insensitive, RFC 7643 2.1).
fn get<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
        .filter(|v| !v.is_null())
}

fn bounded(name: &str, value: &Value) -> Result<String, ScimError> {
    let text = match value {
        Value::String(s) => s.trim().to_owned(),
        _ => {
            return Err(ScimError::bad(
                "invalidValue",
                format!("{name} must be a string."),
            ))
        }
    };
    if text.chars().count() > rules::MAX_ATTRIBUTE_CHARS {
        return Err(ScimError::bad(
            "invalidValue",
            format!(
                "{name} has at most {} characters.",
                rules::MAX_ATTRIBUTE_CHARS
            ),
        ));
    }
    if text.chars().any(char::is_control) {
        return Err(ScimError::bad(
            "invalidValue",
            format!("{name} cannot contain control characters."),
        ));
    }
    Ok(text)
}

fn optional(name: &str, value: Option<&Value>) -> Result<Option<String>, ScimError> {
    value
        .map(|v| bounded(name, v))
        .transpose()
        .map(|v| v.filter(|s| !s.is_empty()))
}

/// `true`, `false`, or the strings "True" / "False" some providers send.
fn boolean(name: &str, value: &Value) -> Result<bool, ScimError> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(ScimError::bad(
            "invalidValue",
            format!("{name} must be true or false."),
        )),
    }
}

/// Unknown top-level fields are refused (typos would otherwise vanish);
/// the RFC 7643 User attributes this server does not keep are ignored.
fn refuse_unknown(
    map: &Map<String, Value>,
    known: &[&str],
    ignored: &[&str],
) -> Result<(), ScimError> {
    for key in map.keys() {
        let fine = known
            .iter()
            .chain(ignored)
            .any(|k| k.eq_ignore_ascii_case(key))
            || key.to_ascii_lowercase().starts_with("urn:");
        if !fine {
            return Err(ScimError::bad(
                "invalidSyntax",
                format!(
                    "Unknown attribute \"{}\".",
                    key.chars().take(64).collect::<String>()
                ),
            ));
        }
    }
    Ok(())
}

const USER_ATTRIBUTES: &[&str] = &[
    "userName",
    "name",
    "displayName",
    "emails",
    "active",
    "externalId",
];
const GROUP_ATTRIBUTES: &[&str] = &[
    "displayName",
    "members",
    "externalId",
    "schemas",
    "id",
    "meta",
];

fn user_draft(map: &Map<String, Value>) -> Result<UserDraft, ScimError> {
    refuse_unknown(map, USER_ATTRIBUTES, IGNORED_USER_ATTRIBUTES)?;
    let user_name = get(map, "userName")
        .map(|v| bounded("userName", v))
        .transpose()?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ScimError::bad("invalidValue", "userName is required."))?;
    let (mut given, mut family, mut formatted) = (None, None, None);
    if let Some(name) = get(map, "name") {
        let name = name
            .as_object()
            .ok_or_else(|| ScimError::bad("invalidValue", "name must be an object."))?;
        given = optional("name.givenName", get(name, "givenName"))?;
        family = optional("name.familyName", get(name, "familyName"))?;
        formatted = optional("name.formatted", get(name, "formatted"))?;
    }
    let email = match get(map, "emails") {
        None => None,
        Some(Value::Array(emails)) => {
            if emails.len() > 20 {
                return Err(ScimError::bad(
                    "invalidValue",
                    "emails has at most 20 entries.",
                ));
            }
            let mut chosen = None;
            for entry in emails {
                let entry = entry.as_object().ok_or_else(|| {
                    ScimError::bad("invalidValue", "Each email must be an object.")
                })?;
                let value = optional("emails.value", get(entry, "value"))?;
                let primary = get(entry, "primary")
                    .map(|p| boolean("emails.primary", p))
                    .transpose()?
                    .unwrap_or(false);
                if chosen.is_none() || primary {
                    chosen = value.or(chosen);
                }
            }
            chosen
        }
        Some(_) => return Err(ScimError::bad("invalidValue", "emails must be a list.")),
    };
    Ok(UserDraft {
        user_name,
        email,
        display_name: optional("displayName", get(map, "displayName"))?,
        given_name: given,
        family_name: family,
        formatted_name: formatted,
        external_id: optional("externalId", get(map, "externalId"))?,
        active: get(map, "active")
            .map(|v| boolean("active", v))
            .transpose()?
            .unwrap_or(true),
    })
}

fn group_draft(map: &Map<String, Value>) -> Result<GroupDraft, ScimError> {
    refuse_unknown(map, GROUP_ATTRIBUTES, &[])?;
    let display_name = get(map, "displayName")
        .map(|v| bounded("displayName", v))
        .transpose()?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ScimError::bad("invalidValue", "displayName is required."))?;
    let members = match get(map, "members") {
        None => Vec::new(),
        Some(value) => member_values(value)?,
    };
    Ok(GroupDraft {
        display_name,
        external_id: optional("externalId", get(map, "externalId"))?,
        members,
    })
}

/// `[{"value": "12"}, …]` to the ids as strings.
fn member_values(value: &Value) -> Result<Vec<String>, ScimError> {
    let list = match value {
        Value::Array(list) => list.as_slice(),
        Value::Object(_) => std::slice::from_ref(value),
        _ => return Err(ScimError::bad("invalidValue", "members must be a list.")),
    };
    if list.len() > MAX_MEMBERS {
        return Err(ScimError::bad(
            "tooMany",
            format!("Send at most {MAX_MEMBERS} members at a time."),
        ));
    }
    list.iter()
        .map(|entry| {
            entry
                .as_object()
                .and_then(|o| get(o, "value"))
                .ok_or_else(|| {
                    ScimError::bad("invalidValue", "Each member needs a value (the User id).")
                })
                .and_then(|v| match v {
                    Value::Number(n) => Ok(n.to_string()),
                    other => bounded("members.value", other),
                })
        })
        .collect()
}

// ------------------------------------------------------------- PATCH

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PatchKind {
    Add,
    Replace,
    Remove,
}

/// A PATCH path: `attr`, `attr.sub`, `attr[sub eq "v"]`, `attr[…].sub`,
/// any of them behind the resource's schema URN.
#[derive(Debug)]
struct PatchPath {
    attribute: String,
    filter: Option<(String, Value)>,
    sub: Option<String>,
}

fn parse_path(path: &str, schema: &str) -> Result<Option<PatchPath>, ScimError> {
    let invalid = || {
        ScimError::bad(
            "invalidPath",
            format!(
                "The path \"{}\" is not one this server understands.",
                path.chars().take(80).collect::<String>()
            ),
        )
    };
    if path.chars().count() > MAX_PATH_CHARS {
        return Err(invalid());
    }
    let path = path.trim();
    let lower = path.to_ascii_lowercase();
    let schema_prefix = format!("{}:", schema.to_ascii_lowercase());
    let rest = if lower.starts_with(&schema_prefix) {
        &path[schema_prefix.len()..]
    } else if lower.starts_with("urn:") {
        // An extension (enterprise User and the like): not kept here.
        return Ok(None);
    } else {
        path
    };
    let (head, filter, tail) = match rest.find('[') {
        Some(open) => {
            let close = rest.rfind(']').filter(|c| *c > open).ok_or_else(invalid)?;
            let inner = &rest[open + 1..close];
            let parsed = parse_value_filter(inner).ok_or_else(invalid)?;
            (&rest[..open], Some(parsed), &rest[close + 1..])
        }
        None => (rest, None, ""),
    };
    let (attribute, sub) = match (head.split_once('.'), tail.strip_prefix('.')) {
        (Some((a, s)), _) if filter.is_none() => (a, Some(s)),
        (None, Some(s)) => (head, Some(s)),
        (None, None) if tail.is_empty() => (head, None),
        _ => return Err(invalid()),
    };
    if attribute.is_empty() || sub.is_some_and(|s| s.is_empty() || s.contains('.')) {
        return Err(invalid());
    }
    Ok(Some(PatchPath {
        attribute: attribute.to_ascii_lowercase(),
        filter,
        sub: sub.map(str::to_ascii_lowercase),
    }))
}

/// `value eq "12"` (one comparison, as Okta and Entra send).
fn parse_value_filter(text: &str) -> Option<(String, Value)> {
    let text = text.trim();
    let (attribute, rest) = text.split_once(char::is_whitespace)?;
    let (op, value) = rest.trim_start().split_once(char::is_whitespace)?;
    if !op.eq_ignore_ascii_case("eq") {
        return None;
    }
    let value: Value = serde_json::from_str(value.trim()).ok()?;
    Some((attribute.to_ascii_lowercase(), value))
}

/// Applies one operation at one path to a resource's JSON.
type ApplyPath =
    fn(&mut Map<String, Value>, PatchKind, &PatchPath, Option<&Value>) -> Result<(), ScimError>;

struct Operation {
    kind: PatchKind,
    path: Option<String>,
    value: Option<Value>,
}

fn operations(body: &Map<String, Value>) -> Result<Vec<Operation>, ScimError> {
    refuse_unknown(body, &["schemas", "Operations"], &[])?;
    if !get(body, "schemas")
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|s| s == PATCH_SCHEMA))
    {
        return Err(ScimError::bad(
            "invalidSyntax",
            format!("schemas must list {PATCH_SCHEMA}."),
        ));
    }
    let list = get(body, "Operations")
        .and_then(Value::as_array)
        .ok_or_else(|| ScimError::bad("invalidSyntax", "Operations must be a list."))?;
    if list.is_empty() || list.len() > MAX_OPERATIONS {
        return Err(ScimError::bad(
            "tooMany",
            format!("Send 1 to {MAX_OPERATIONS} operations."),
        ));
    }
    list.iter()
        .map(|op| {
            let op = op.as_object().ok_or_else(|| {
                ScimError::bad("invalidSyntax", "Each operation must be an object.")
            })?;
            let kind = match get(op, "op")
                .and_then(Value::as_str)
                .map(str::to_ascii_lowercase)
            {
                Some(k) if k == "add" => PatchKind::Add,
                Some(k) if k == "replace" => PatchKind::Replace,
                Some(k) if k == "remove" => PatchKind::Remove,
                _ => {
                    return Err(ScimError::bad(
                        "invalidSyntax",
                        "Each operation's op must be add, replace or remove.",
                    ))
                }
            };
            let path = match get(op, "path") {
                None => None,
                Some(Value::String(p)) => Some(p.clone()),
                Some(_) => return Err(ScimError::bad("invalidPath", "path must be a string.")),
            };
            let value = op
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("value"))
                .map(|(_, v)| v.clone());
            if kind != PatchKind::Remove && value.is_none() {
                return Err(ScimError::bad(
                    "invalidValue",
                    "add and replace need a value.",
                ));
            }
            Ok(Operation { kind, path, value })
        })
        .collect()
}

/// Applies the operations to the resource's JSON (`doc`), one path at a
/// time; a path-less add or replace takes each key of its value object as
/// a path (what Okta and Entra send).
fn apply_operations(
    doc: &mut Map<String, Value>,
    ops: &[Operation],
    schema: &str,
    apply: ApplyPath,
) -> Result<(), ScimError> {
    for op in ops {
        match &op.path {
            Some(path) => {
                if let Some(path) = parse_path(path, schema)? {
                    apply(doc, op.kind, &path, op.value.as_ref())?;
                }
            }
            None => {
                if op.kind == PatchKind::Remove {
                    return Err(ScimError::bad("noTarget", "remove needs a path."));
                }
                let Some(Value::Object(values)) = &op.value else {
                    return Err(ScimError::bad(
                        "invalidValue",
                        "An operation without a path needs an object value.",
                    ));
                };
                for (key, value) in values {
                    if let Some(path) = parse_path(key, schema)? {
                        apply(doc, op.kind, &path, Some(value))?;
                    }
                }
            }
        }
    }
    Ok(())
}

fn set_or_remove(doc: &mut Map<String, Value>, key: &str, kind: PatchKind, value: Option<&Value>) {
    match (kind, value) {
        (PatchKind::Remove, _) | (_, None) => {
            doc.remove(key);
        }
        (_, Some(value)) => {
            doc.insert(key.to_owned(), value.clone());
        }
    }
}

fn apply_user(
    doc: &mut Map<String, Value>,
    kind: PatchKind,
    path: &PatchPath,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let simple = path.filter.is_none() && path.sub.is_none();
    match path.attribute.as_str() {
        "username" if simple => set_or_remove(doc, "userName", kind, value),
        "displayname" if simple => set_or_remove(doc, "displayName", kind, value),
        "externalid" if simple => set_or_remove(doc, "externalId", kind, value),
        "active" if simple => set_or_remove(doc, "active", kind, value),
        "name" if path.filter.is_none() => {
            let name = doc
                .entry("name")
                .or_insert_with(|| Value::Object(Map::new()));
            if !name.is_object() {
                *name = Value::Object(Map::new());
            }
            let Some(name) = name.as_object_mut() else {
                return Ok(());
            };
            let canonical = |sub: &str| match sub {
                "givenname" => Some("givenName"),
                "familyname" => Some("familyName"),
                "formatted" => Some("formatted"),
                _ => None,
            };
            match (&path.sub, kind, value) {
                (Some(sub), _, _) => {
                    if let Some(key) = canonical(sub) {
                        set_or_remove(name, key, kind, value);
                    }
                }
                (None, PatchKind::Remove, _) => name.clear(),
                (None, _, Some(Value::Object(values))) => {
                    if kind == PatchKind::Replace {
                        name.clear();
                    }
                    for (key, v) in values {
                        if let Some(key) = canonical(&key.to_ascii_lowercase()) {
                            name.insert(key.to_owned(), v.clone());
                        }
                    }
                }
                (None, _, _) => {
                    return Err(ScimError::bad("invalidValue", "name must be an object."))
                }
            }
        }
        "emails" => {
            // One address per member: any email path sets or keeps it.
            if kind == PatchKind::Remove {
                return Ok(());
            }
            let Some(value) = value else { return Ok(()) };
            if path.filter.is_some() || path.sub.as_deref() == Some("value") {
                doc.insert("emails".into(), json!([{ "value": value }]));
            } else if path.sub.is_none() {
                let list = if value.is_array() {
                    value.clone()
                } else {
                    json!([value])
                };
                doc.insert("emails".into(), list);
            }
        }
        other
            if IGNORED_USER_ATTRIBUTES
                .iter()
                .any(|a| a.eq_ignore_ascii_case(other)) => {}
        _ => {
            return Err(ScimError::bad(
                "invalidPath",
                format!("The User has no attribute \"{}\".", path.attribute),
            ))
        }
    }
    Ok(())
}

fn apply_group(
    doc: &mut Map<String, Value>,
    kind: PatchKind,
    path: &PatchPath,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let simple = path.filter.is_none() && path.sub.is_none();
    match path.attribute.as_str() {
        "displayname" if simple => set_or_remove(doc, "displayName", kind, value),
        "externalid" if simple => set_or_remove(doc, "externalId", kind, value),
        "id" | "schemas" | "meta" if simple && kind != PatchKind::Remove => {}
        "members" if path.sub.is_none() => {
            let mut members: Vec<String> = match doc.get("members") {
                Some(list) => member_values(list)?,
                None => Vec::new(),
            };
            match (kind, &path.filter, value) {
                // members[value eq "12"]: that one member goes.
                (PatchKind::Remove, Some((attribute, target)), _) if attribute == "value" => {
                    let target = bounded("members.value", target)?;
                    members.retain(|m| *m != target);
                }
                // Entra: remove with a list removes only those listed.
                (PatchKind::Remove, None, Some(listed)) => {
                    let listed = member_values(listed)?;
                    members.retain(|m| !listed.contains(m));
                }
                (PatchKind::Remove, None, None) => members.clear(),
                (PatchKind::Add, None, Some(listed)) => {
                    for id in member_values(listed)? {
                        if !members.contains(&id) {
                            members.push(id);
                        }
                    }
                }
                (PatchKind::Replace, None, Some(listed)) => members = member_values(listed)?,
                _ => {
                    return Err(ScimError::bad(
                        "invalidPath",
                        "Members are added, replaced, or removed by members[value eq \"id\"].",
                    ))
                }
            }
            if members.len() > MAX_MEMBERS * 100 {
                return Err(ScimError::bad(
                    "tooMany",
                    "The group would have too many members.",
                ));
            }
            doc.insert(
                "members".into(),
                Value::Array(members.into_iter().map(|m| json!({ "value": m })).collect()),
            );
        }
        _ => {
            return Err(ScimError::bad(
                "invalidPath",
                format!("The Group has no attribute \"{}\".", path.attribute),
            ))
        }
    }
    Ok(())
}

/// The resource as served, reduced to what a client may write (the input
/// of a PATCH).
fn writable(mut resource: Value) -> Map<String, Value> {
    if let Some(map) = resource.as_object_mut() {
        map.remove("meta");
        map.remove("id");
        map.remove("schemas");
        if let Some(Value::Array(members)) = map.get_mut("members") {
            for member in members {
                if let Some(m) = member.as_object_mut() {
                    m.retain(|k, _| k == "value");
                }
            }
        }
    }
    match resource {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

// ------------------------------------------------------------- changes

async fn create(
    state: &AppState,
    auth: &ScimAuth,
    origin: &str,
    kind: Kind,
    body: Map<String, Value>,
) -> Result<Response, ScimError> {
    let mut tx = state.pool.begin().await?;
    let id = match kind {
        Kind::User => {
            let draft = user_draft(&body)?;
            // Under the workspace lock (as invitations are), so two creates
            // of one userName cannot both pass its uniqueness check.
            app::server::workspace::lock(&mut tx, auth.ctx.workspace_id).await?;
            rules::create_user(&mut tx, &auth.ctx, &state.auth, &draft).await?
        }
        Kind::Group => {
            let draft = group_draft(&body)?;
            rules::create_group(&mut tx, &auth.ctx, &draft).await?
        }
    };
    let resource = render(&mut tx, auth, origin, kind, id).await?;
    tx.commit().await?;
    Ok(resource_response(StatusCode::CREATED, &resource))
}

#[allow(clippy::too_many_arguments)]
async fn change(
    state: &AppState,
    auth: &ScimAuth,
    origin: &str,
    kind: Kind,
    id: i64,
    headers: &HeaderMap,
    patch: bool,
    body: Map<String, Value>,
) -> Result<Response, ScimError> {
    let ops = if patch {
        Some(operations(&body)?)
    } else {
        None
    };
    let mut tx = state.pool.begin().await?;
    lock(&mut tx, auth.ctx.workspace_id, kind, id).await?;
    let current = render(&mut tx, auth, origin, kind, id).await?;
    check_if_match(headers, &current)?;
    let wanted = match &ops {
        Some(ops) => {
            let mut doc = writable(current.clone());
            let (schema, apply): (_, ApplyPath) = match kind {
                Kind::User => (USER_SCHEMA, apply_user),
                Kind::Group => (GROUP_SCHEMA, apply_group),
            };
            apply_operations(&mut doc, ops, schema, apply)?;
            if doc
                .get("name")
                .is_some_and(|n| n.as_object().is_some_and(Map::is_empty))
            {
                doc.remove("name");
            }
            doc
        }
        None => body,
    };
    let workspace_id = auth.ctx.workspace_id;
    match kind {
        Kind::User => {
            let draft = user_draft(&wanted)?;
            let user = rules::get_user(&mut tx, workspace_id, id).await?;
            rules::update_user(&mut tx, &auth.ctx, &state.auth, &user, &draft).await?;
        }
        Kind::Group => {
            let draft = group_draft(&wanted)?;
            let group = rules::get_group(&mut tx, workspace_id, id).await?;
            rules::update_group(&mut tx, &auth.ctx, &group, &draft).await?;
        }
    }
    let resource = render(&mut tx, auth, origin, kind, id).await?;
    tx.commit().await?;
    Ok(resource_response(StatusCode::OK, &resource))
}

/// Holds the row for the transaction, so two changes to one resource run
/// one after the other (and `If-Match` is checked against what is written).
/// For Users the workspace row too: seats are counted under it.
async fn lock(
    conn: &mut sqlx::PgConnection,
    workspace_id: i64,
    kind: Kind,
    id: i64,
) -> Result<(), ScimError> {
    let found = match kind {
        Kind::User => {
            // The workspace row first, as the Team page's deactivation and
            // invitations take it: the same order everywhere, no deadlock.
            app::server::workspace::lock(&mut *conn, workspace_id).await?;
            sqlx::query_scalar!(
                "SELECT id FROM memberships WHERE workspace_id = $1 AND id = $2 AND kind = 'full' FOR UPDATE",
                workspace_id,
                id
            )
            .fetch_optional(&mut *conn)
            .await?
        }
        Kind::Group => {
            sqlx::query_scalar!(
                "SELECT id FROM groups WHERE workspace_id = $1 AND id = $2 FOR UPDATE",
                workspace_id,
                id
            )
            .fetch_optional(conn)
            .await?
        }
    };
    found.map(|_| ()).ok_or_else(ScimError::not_found)
}

async fn remove(
    state: &AppState,
    auth: &ScimAuth,
    origin: &str,
    kind: Kind,
    id: i64,
    headers: &HeaderMap,
) -> Result<Response, ScimError> {
    let mut tx = state.pool.begin().await?;
    lock(&mut tx, auth.ctx.workspace_id, kind, id).await?;
    let current = render(&mut tx, auth, origin, kind, id).await?;
    check_if_match(headers, &current)?;
    match kind {
        Kind::User => rules::delete_user(&mut tx, &auth.ctx, &state.auth, id).await?,
        Kind::Group => rules::delete_group(&mut tx, &auth.ctx, id).await?,
    }
    tx.commit().await?;
    Ok(scim_response(StatusCode::NO_CONTENT, None))
}

// ------------------------------------------------------------- discovery

fn service_provider_config(origin: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "patch": { "supported": true },
        "bulk": { "supported": false, "maxOperations": 0, "maxPayloadSize": 0 },
        "filter": { "supported": true, "maxResults": MAX_COUNT },
        "changePassword": { "supported": false },
        "sort": { "supported": false },
        "etag": { "supported": true },
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "Bearer token",
            "description": "A SCIM token the workspace Owner makes on the Settings page.",
            "primary": true,
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{origin}/ServiceProviderConfig"),
        },
    })
}

fn resource_type(origin: &str, kind: Kind) -> Value {
    let (name, endpoint, schema, description) = match kind {
        Kind::User => ("User", "/Users", USER_SCHEMA, "A member of the workspace"),
        Kind::Group => ("Group", "/Groups", GROUP_SCHEMA, "A group of members"),
    };
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
        "id": name,
        "name": name,
        "endpoint": endpoint,
        "description": description,
        "schema": schema,
        "schemaExtensions": [],
        "meta": {
            "resourceType": "ResourceType",
            "location": format!("{origin}/ResourceTypes/{name}"),
        },
    })
}

fn attribute(name: &str, kind: &str, mutability: &str, description: &str) -> Value {
    json!({
        "name": name,
        "type": kind,
        "multiValued": false,
        "description": description,
        "required": false,
        "caseExact": false,
        "mutability": mutability,
        "returned": "default",
        "uniqueness": "none",
    })
}

fn user_schema(origin: &str) -> Value {
    let mut user_name = attribute(
        "userName",
        "string",
        "readWrite",
        "Unique identifier for the User; by default their email.",
    );
    user_name["required"] = json!(true);
    user_name["uniqueness"] = json!("server");
    let mut active = attribute(
        "active",
        "boolean",
        "readWrite",
        "False: deactivated (signed out everywhere, seat freed).",
    );
    // Okta and Entra always send it; a missing one means true.
    active["required"] = json!(true);
    let mut name = attribute("name", "complex", "readWrite", "The person's name.");
    name["subAttributes"] = json!([
        attribute("formatted", "string", "readWrite", "The full name."),
        attribute("familyName", "string", "readWrite", "The family name."),
        attribute("givenName", "string", "readWrite", "The given name."),
    ]);
    let mut emails = attribute(
        "emails",
        "complex",
        "readWrite",
        "The address invitations go to (one per member).",
    );
    emails["multiValued"] = json!(true);
    // Where the invitation goes.
    emails["required"] = json!(true);
    let mut email_value = attribute("value", "string", "readWrite", "The email address.");
    email_value["required"] = json!(true);
    emails["subAttributes"] = json!([email_value]);
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": USER_SCHEMA,
        "name": "User",
        "description": "A member of the workspace",
        "attributes": [
            user_name,
            name,
            attribute("displayName", "string", "readWrite", "The name shown in the workspace."),
            emails,
            active,
        ],
        "meta": {
            "resourceType": "Schema",
            "location": format!("{origin}/Schemas/{USER_SCHEMA}"),
        },
    })
}

fn group_schema(origin: &str) -> Value {
    let mut display = attribute(
        "displayName",
        "string",
        "readWrite",
        "The group's name, unique in the workspace.",
    );
    display["required"] = json!(true);
    display["uniqueness"] = json!("server");
    let mut members = attribute("members", "complex", "readWrite", "The group's members.");
    members["multiValued"] = json!(true);
    let mut value = attribute("value", "string", "immutable", "The member's User id.");
    value["caseExact"] = json!(true);
    let mut reference = attribute("$ref", "reference", "immutable", "The member's User URI.");
    reference["referenceTypes"] = json!(["User"]);
    members["subAttributes"] = json!([value, reference]);
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": GROUP_SCHEMA,
        "name": "Group",
        "description": "A group of members",
        "attributes": [display, members],
        "meta": {
            "resourceType": "Schema",
            "location": format!("{origin}/Schemas/{GROUP_SCHEMA}"),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_okta_and_entra_send_parse() {
        let p = |s: &str| parse_path(s, USER_SCHEMA).expect("parses").expect("kept");
        let name = p("name.givenName");
        assert_eq!(
            (name.attribute.as_str(), name.sub.as_deref()),
            ("name", Some("givenname"))
        );
        let email = p(r#"emails[type eq "work"].value"#);
        assert_eq!(email.attribute, "emails");
        assert_eq!(email.filter, Some(("type".into(), json!("work"))));
        assert_eq!(email.sub.as_deref(), Some("value"));
        let member = parse_path(r#"members[value eq "12"]"#, GROUP_SCHEMA)
            .unwrap()
            .unwrap();
        assert_eq!(member.filter, Some(("value".into(), json!("12"))));
        assert_eq!(p(&format!("{USER_SCHEMA}:userName")).attribute, "username");
        assert!(parse_path(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
            USER_SCHEMA
        )
        .unwrap()
        .is_none());
        assert!(parse_path("members[value gt 1]", GROUP_SCHEMA).is_err());
        assert!(parse_path("a.b.c", USER_SCHEMA).is_err());
    }

    #[test]
    fn list_params_follow_rfc_7644() {
        let q = ListParams::from_query("startIndex=0&count=-1").unwrap();
        assert_eq!((q.start, q.count), (1, 0));
        let q = ListParams::from_query("count=1000000000").unwrap();
        assert_eq!(q.count, MAX_COUNT);
        assert!(ListParams::from_query("count=ten").is_err());
        assert!(ListParams::from_query("startIndex=1.5").is_err());
    }
}
