//! `/questions`: the fact-checker's library of questions (`queries/*.rq`) and their answers, the
//! whole-store ones from the claims index (`crate::questions`), the others from their SPARQL,
//! exactly as `/sparql` answers it; and `/query`, the query editor that offers them.

use super::error::ApiError;
use super::AppState;
use crate::questions::{self, Question};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::sync::Arc;

/// One question of the library.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QuestionEntry {
    pub name: &'static str,
    /// The question in words.
    pub question: String,
    /// Where its answer is: `/questions/NAME`, in any SPARQL results format.
    pub answer: String,
    /// Whether that answer is read from the claims index now (else the SPARQL is evaluated: a
    /// question about documents or reviews while one has a date the index cannot order).
    pub from_index: bool,
    /// The SPARQL that asks it, for any SPARQL client.
    pub sparql: &'static str,
}

/// `GET /questions`: the library of questions.
#[utoipa::path(get, path = "/questions",
    responses((status = 200, description = "The questions, with where their answers are", body = [QuestionEntry])),
    tag = "questions")]
pub async fn list(State(state): State<AppState>) -> Response {
    let entries: Vec<QuestionEntry> = questions::LIBRARY
        .iter()
        .map(|q| QuestionEntry {
            name: q.name,
            question: q.title(),
            answer: format!("/questions/{}", q.name),
            // An index being rebuilt answers again once it is whole.
            from_index: questions::answered_from_index(&state.store, q).unwrap_or(q.from_index),
            sparql: q.sparql,
        })
        .collect();
    axum::Json(entries).into_response()
}

/// `GET /questions/{name}`: the answer to one question, streamed in the SPARQL results format
/// `Accept` asks for (JSON by default).
#[utoipa::path(get, path = "/questions/{name}",
    params(("name" = String, Path, description = "The question's name (its file in queries/)")),
    responses(
        (status = 200, description = "SPARQL results: the rows its query gives"),
        (status = 404, description = "No such question", body = super::error::ErrorBody),
        (status = 406, description = "No acceptable results format", body = super::error::ErrorBody),
    ),
    tag = "questions")]
pub async fn answer(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let question: &'static Question = Question::find(&name).ok_or_else(|| {
        ApiError::new(
            axum::http::StatusCode::NOT_FOUND,
            format!("no question is named {name:?}: GET /questions lists them"),
        )
    })?;
    if super::negotiate::prefers_html(&headers) {
        // A browser: the editor runs the question and shows its answer as a table.
        let target = format!("/query?question={}", question.name);
        return Ok((
            axum::http::StatusCode::SEE_OTHER,
            [
                (header::LOCATION, target),
                (header::VARY, "Accept".to_owned()),
            ],
        )
            .into_response());
    }
    if !questions::answered_from_index(&state.store, question).map_err(ApiError::from)? {
        return super::sparql::run_main_query(&state, &headers, question.sparql.to_owned()).await;
    }
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let (format, media_type) = super::sparql::negotiate_results_format(accept, false)?;
    let timeout = state.limits.query_timeout;
    let bounds = super::sparql::query_bounds(&state).await?;
    let max_rows = bounds.max_rows;
    let store = Arc::clone(&state.store);
    let stream = state
        .store
        .stream_bounded(bounds, move |_, cancel| {
            Ok(move |out: &mut dyn std::io::Write| {
                questions::answer_from_index(&store, question, format, &cancel, max_rows, out)
            })
        })
        .await
        .map_err(|e| super::limits::query_error(e, timeout))?;
    Ok(super::sparql::results_response(media_type, stream))
}

/// `GET /query`: the query editor (YASGUI on `/sparql`), with the library's questions.
pub async fn editor() -> Response {
    let entries: Vec<super::html::EditorQuestion<'_>> = questions::LIBRARY
        .iter()
        .map(|q| super::html::EditorQuestion {
            name: q.name,
            title: q.title(),
            sparql: q.sparql,
        })
        .collect();
    super::html::scripted_response(super::html::query_editor(&entries))
}
