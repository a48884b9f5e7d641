//! `GET /audit`: the audit trail of writes, for admins only (JSON, newest first, or the whole
//! trail as RDF by negotiation). SPARQL on it is at `/audit/sparql` (in `sparql`).
//!
//! Invariant: nothing here runs before the caller is known to be an admin; the trail is read from
//! its own store (`crate::audit`), never from the one `/sparql` queries.

use super::auth::Need;
use super::error::{ApiError, ErrorBody};
use super::negotiate::Offer;
use super::sparql::{with_charset, Params};
use super::{negotiate, AppState};
use crate::audit::AuditRecord;
use crate::formats::RDF_SYNTAXES;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::io::Write;
use utoipa::ToSchema;

/// Records listed when `?limit=` is not given.
const DEFAULT_LIMIT: usize = 100;
/// The most records one request may list.
const MAX_LIMIT: usize = 10_000;

const JSON: &[&str] = &["application/json"];

/// The newest records of the audit trail.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditList {
    /// The limit applied.
    pub limit: usize,
    /// Newest first.
    pub records: Vec<AuditRecord>,
}

#[utoipa::path(
    get,
    path = "/audit",
    tag = "audit",
    params(
        ("limit" = Option<usize>, Query,
         description = "How many records to list, newest first (default 100, at most 10000); \
                        the RDF representations hold every record"),
    ),
    responses(
        (status = 200, description = "The newest writes: who, when, which operation, which graphs, \
         how many quads added and removed (or Turtle, N-Triples… of the whole trail by Accept)",
         body = AuditList, content_type = "application/json"),
        (status = 400, description = "A bad limit", body = ErrorBody),
        (status = 401, description = "No token, or an invalid one", body = ErrorBody),
        (status = 403, description = "A token without the admin role", body = ErrorBody),
        (status = 406, description = "No acceptable representation", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    state.authorise(&headers, Need::AdminRead, "reading the audit trail")?;
    let limit = limit(raw.as_deref().unwrap_or(""))?;
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let mut offers = vec![Offer::new("json", JSON, None)];
    offers.extend(
        RDF_SYNTAXES
            .iter()
            .map(|syntax| negotiate::rdf_offer(syntax, Some(syntax))),
    );
    let (syntax, media_type) = negotiate::pick(None, accept, &offers)?;
    let response = if let Some(syntax) = syntax {
        let format = syntax.format;
        let store = state.store.clone();
        let stream = state
            .store
            .stream(move |_, _| {
                Ok(move |writer: &mut dyn Write| store.dump_audit(format, writer).map(drop))
            })
            .await?;
        Response::builder()
            .header(header::CONTENT_TYPE, with_charset(media_type))
            .header(header::VARY, "Accept")
            .body(super::streamed_body(stream))
            .expect("static headers are valid")
    } else {
        let store = state.store.clone();
        let records = super::blocking(&state, move || Ok(store.audit().records(limit)?)).await?;
        (
            [(header::VARY, "Accept")],
            axum::Json(AuditList { limit, records }),
        )
            .into_response()
    };
    Ok(response)
}

fn limit(raw: &str) -> Result<usize, ApiError> {
    let params = Params::decode(raw.as_bytes())?;
    let mut limit = DEFAULT_LIMIT;
    for (name, value) in &params.pairs {
        match name.as_str() {
            "limit" => {
                limit = value
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=MAX_LIMIT).contains(n))
                    .ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "limit={value}: give a number of records from 1 to {MAX_LIMIT}"
                        ))
                    })?;
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown parameter {other}: /audit takes limit"
                )))
            }
        }
    }
    Ok(limit)
}
