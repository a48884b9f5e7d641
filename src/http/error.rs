//! The one place where errors become HTTP responses.
//!
//! Policy: the client's mistakes are 4xx with a message that names the problem (and, for a
//! malformed query, where it is); the server's are 500 with the message logged. Every error body
//! has the same JSON shape: `{"status": 400, "error": "Bad Request", "message": "…"}`.

use crate::error::Error;
use axum::http::header::{HeaderName, HeaderValue};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use oxigraph::sparql::{QueryEvaluationError, UpdateEvaluationError};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            headers: Vec::new(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn with_header(mut self, name: HeaderName, value: &'static str) -> Self {
        self.headers.push((name, HeaderValue::from_static(value)));
        self
    }
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        let status = match &error {
            Error::Syntax(_) | Error::Invalid(_) | Error::Parse { .. } | Error::Multiple(_) => {
                StatusCode::BAD_REQUEST
            }
            Error::Evaluation(e) => match e {
                QueryEvaluationError::Dataset(_) | QueryEvaluationError::Unexpected(_) => {
                    StatusCode::INTERNAL_SERVER_ERROR
                }
                QueryEvaluationError::Cancelled => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::BAD_REQUEST,
            },
            Error::Update(e) => match e {
                UpdateEvaluationError::Storage(_) | UpdateEvaluationError::Unexpected(_) => {
                    StatusCode::INTERNAL_SERVER_ERROR
                }
                _ => StatusCode::BAD_REQUEST,
            },
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::Storage(_) | Error::Io { .. } | Error::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        Self::new(status, error.to_string())
    }
}

/// The JSON body of every error response.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The HTTP status code, repeated.
    pub status: u16,
    /// The status code's reason phrase.
    pub error: String,
    /// What went wrong, naming the problem (and where, for syntax errors).
    pub message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // Every 500, whether from the library's `Error` or made by a handler, is logged here.
        if self.status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(message = %self.message, "request failed");
        }
        let body = ErrorBody {
            status: self.status.as_u16(),
            error: self.status.canonical_reason().unwrap_or("").to_owned(),
            message: self.message,
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        for (name, value) in self.headers {
            response.headers_mut().append(name, value);
        }
        response
    }
}
