//! The library's one error type. HTTP status codes are assigned to it in `http::error`, exit codes
//! and `file:line:col` messages in the CLI; nothing else inspects its variants.

use oxigraph::sparql::{QueryEvaluationError, SparqlSyntaxError, UpdateEvaluationError};
use oxigraph::store::StorageError;
use std::io;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A malformed SPARQL query or update; the message carries the position.
    #[error("SPARQL syntax error: {0}")]
    Syntax(#[from] SparqlSyntaxError),
    /// A request that is well-formed but asks for something that cannot be done.
    #[error("{0}")]
    Invalid(String),
    /// A fault of the server itself, not of the request (a worker that died, a start-up that
    /// could not finish): 500, and logged.
    #[error("{0}")]
    Internal(String),
    /// Something the answer needs is not ready (the claims index being rebuilt): 503, try again.
    #[error("{0}")]
    Unavailable(String),
    /// The thing asked for does not exist; the message names it.
    #[error("{0}")]
    NotFound(String),
    #[error("query evaluation failed: {0}")]
    Evaluation(#[from] QueryEvaluationError),
    #[error("update failed: {0}")]
    Update(#[from] UpdateEvaluationError),
    /// A file that does not parse, located as `file:line:col` (1-based).
    #[error("{}:{line}:{column}: {message}", path.display())]
    Parse {
        path: PathBuf,
        line: u64,
        column: u64,
        message: String,
    },
    /// Several problems found together (all the errors of a set of claim sheets).
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Multiple(Vec<Error>),
    #[error("storage error: {0}")]
    Storage(#[from] StorageError),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
}

impl Error {
    pub fn io(context: impl Into<String>, source: io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
