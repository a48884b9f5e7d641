//! Bounds on what one SPARQL request may cost: body size, query size and nesting, federation,
//! concurrent queries, and time; and how many lookups (the API and linked-data routes' store
//! work) run at once.
//!
//! Invariant: every check here runs before the store is touched, and a request that breaks a
//! bound is refused whole with a status and a message naming the bound (and its flag). Queries
//! and lookups that find every slot taken wait their turn in arrival order, for at most the time
//! limit, then get 503; queries wait in a queue of bounded length (past it, 503 at once), so a
//! burst is answered in turn rather than refused, and a flood cannot pile up without end.

use super::error::ApiError;
use crate::error::Error;
use crate::store::ResultCap;
use axum::body::{Body, Bytes};
use axum::http::{header, StatusCode};
use futures_util::StreamExt;
use oxigraph::sparql::QueryEvaluationError;
use spargebra::algebra::{AggregateExpression, Expression, GraphPattern, OrderExpression};
use spargebra::{GraphUpdateOperation, Query, Update};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How deep `{`, `(` and `[` may nest in a query or update. The SPARQL parser recurses once per
/// level (and the evaluator once per operator), so an unbounded depth can overflow the stack
/// and take the whole server down; real queries stay far below this.
pub const MAX_NESTING: usize = 200;

/// The bounds `claimgraph serve` enforces (`--query-timeout`, `--max-queries`,
/// `--max-queued-queries`, `--max-lookups`, `--max-body-bytes`, `--max-result-rows`,
/// `--max-result-bytes`, `--max-upload-bytes`, `--header-timeout`, `--body-timeout`).
#[derive(Debug, Clone)]
pub struct Limits {
    /// Wall-clock time a query may take, evaluation and streaming together (`None`: unlimited).
    pub query_timeout: Option<Duration>,
    /// Queries evaluated or streamed at the same time; more wait their turn in arrival order,
    /// up to `query_timeout`, then get 503.
    pub max_queries: usize,
    /// Queries that may wait for a slot at once; one more is refused with 503 at once.
    pub max_queued_queries: usize,
    /// Lookups (the store work of the API and linked-data routes, `http::blocking`) run at the
    /// same time; more wait their turn in arrival order, up to `query_timeout`, then get 503.
    pub max_lookups: usize,
    /// Bytes of a request body on `/sparql`, and of the query or update text however it came.
    pub max_body_bytes: usize,
    /// Solutions (or triples) one `/sparql` result may hold (`None`: unlimited).
    pub max_result_rows: Option<u64>,
    /// Bytes one serialised `/sparql` result may take (`None`: unlimited).
    pub max_result_bytes: Option<u64>,
    /// Bytes of a Graph Store upload (`/store` PUT and POST, all parts together).
    pub max_upload_bytes: usize,
    /// Time a client may take to send a request's headers (`None`: unlimited); a slower one is
    /// disconnected, so slow clients cannot hold connections open for free.
    pub header_timeout: Option<Duration>,
    /// Time a client may take to send a request's body, counted from the end of its headers
    /// (`None`: unlimited); past it the request is refused with 408 and the connection closed.
    pub body_timeout: Option<Duration>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            query_timeout: Some(Duration::from_secs(30)),
            max_queries: Self::default_max_queries(),
            max_lookups: Self::default_max_lookups(),
            max_body_bytes: 1024 * 1024,
            max_result_rows: Some(1_000_000),
            max_result_bytes: Some(1 << 30),
            max_upload_bytes: 64 << 20,
            header_timeout: Some(Duration::from_secs(10)),
            body_timeout: Some(Duration::from_secs(60)),
            max_queued_queries: Self::DEFAULT_MAX_QUEUED_QUERIES,
        }
    }
}

impl Limits {
    /// Enough for every client of a busy desk and a burst from a page that runs several queries,
    /// each waiting request costing a few kilobytes; what comes past it is more than the server
    /// can answer within the time limit anyway.
    pub const DEFAULT_MAX_QUEUED_QUERIES: usize = 256;

    /// Twice the CPU cores, at least 4: queries wait on storage as well as on the CPU, so a few
    /// more than the cores keep it busy without letting a burst of expensive queries pile up.
    pub fn default_max_queries() -> usize {
        (2 * cores()).max(4)
    }

    /// Six times the CPU cores. A lookup is a few small queries. Unbounded, every waiting one is
    /// a thread of its own sharing the cores with all the others, and one descheduled midway
    /// waits for all of them (the p99 of `/provenance?iri=` at 32 clients, docs/bench-log.md); a few
    /// per core mostly run to the end, and keep the cores busy while some wait for storage.
    pub fn default_max_lookups() -> usize {
        6 * cores()
    }
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// At most `max` permits, shared by every request (clamped to what a tokio semaphore holds, so
/// any cap given on the command line starts the server). Tokio's semaphore is fair: waiters get
/// permits in arrival order.
#[derive(Clone)]
struct Slots {
    semaphore: Arc<Semaphore>,
    max: usize,
}

impl Slots {
    fn new(max: usize) -> Self {
        let max = max.clamp(1, Semaphore::MAX_PERMITS);
        Self {
            semaphore: Arc::new(Semaphore::new(max)),
            max,
        }
    }
}

/// 503 with `Retry-After: 1`: the server is full, not failing.
fn busy(message: String) -> ApiError {
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, message).with_header(header::RETRY_AFTER, "1")
}

/// The query slots of a running server: a fair queue of bounded length.
#[derive(Clone)]
pub struct QuerySlots {
    slots: Slots,
    /// Queries waiting for a slot now.
    waiting: Arc<std::sync::atomic::AtomicUsize>,
    max_waiting: usize,
}

/// Counts a query as waiting for as long as it lives.
struct Waiting(Arc<std::sync::atomic::AtomicUsize>);

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

impl QuerySlots {
    pub fn new(max: usize, max_waiting: usize) -> Self {
        Self {
            slots: Slots::new(max),
            waiting: Arc::default(),
            max_waiting,
        }
    }

    /// A slot for one query, held until its evaluation has ended (a client that went away does
    /// not free it) and released before the last of the answer goes out. With none free, waited
    /// for in arrival order for at most `wait` (`None`: as long as it takes), else 503; with
    /// `max_waiting` queries already waiting, 503 at once.
    pub async fn acquire(&self, wait: Option<Duration>) -> Result<OwnedSemaphorePermit, ApiError> {
        use std::sync::atomic::Ordering;
        if let Ok(permit) = self.slots.semaphore.clone().try_acquire_owned() {
            return Ok(permit);
        }
        let max = self.slots.max;
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.max_waiting {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(busy(format!(
                "the server is running its maximum of {max} queries (--max-queries) and {} more \
                 are waiting their turn (--max-queued-queries); retry in a moment",
                self.max_waiting
            )));
        }
        let _waiting = Waiting(self.waiting.clone());
        wait_for(&self.slots, wait, || {
            format!("{max} queries (--max-queries)")
        })
        .await
    }
}

/// Waits for one of `slots` in arrival order, for at most `wait`, else 503 naming `what` the
/// server was running all that time.
async fn wait_for(
    slots: &Slots,
    wait: Option<Duration>,
    what: impl FnOnce() -> String,
) -> Result<OwnedSemaphorePermit, ApiError> {
    let acquire = slots.semaphore.clone().acquire_owned();
    let acquired = match wait {
        Some(wait) => tokio::time::timeout(wait, acquire).await.map_err(|_| {
            busy(format!(
                "the server is busy: it has been running its maximum of {} for the {} s this \
                 request waited; retry in a moment",
                what(),
                wait.as_secs_f64()
            ))
        })?,
        None => acquire.await,
    };
    // The semaphore is never closed.
    acquired.map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}

/// The lookup slots of a running server: a fair queue (first come, first served).
#[derive(Clone)]
pub struct LookupSlots(Slots);

impl LookupSlots {
    pub fn new(max: usize) -> Self {
        Self(Slots::new(max))
    }

    /// A slot for one lookup, held until its work ends: waited for in arrival order, for at most
    /// `wait` (`None`: as long as it takes), else 503.
    pub async fn acquire(&self, wait: Option<Duration>) -> Result<OwnedSemaphorePermit, ApiError> {
        let max = self.0.max;
        wait_for(&self.0, wait, || format!("{max} lookups (--max-lookups)")).await
    }
}

/// The error a request body gives once `--body-timeout` has passed since its headers arrived.
#[derive(Debug)]
pub struct BodyTimedOut(pub Duration);

impl std::fmt::Display for BodyTimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the request body was not all sent within the time limit of {} s (--body-timeout)",
            self.0.as_secs_f64()
        )
    }
}

impl std::error::Error for BodyTimedOut {}

/// A request body that fails with [`BodyTimedOut`] once its deadline has passed. Its size hint
/// is the inner body's, so upload limits still refuse a declared length early.
struct TimedBody {
    inner: Body,
    deadline: std::pin::Pin<Box<tokio::time::Sleep>>,
    timeout: Duration,
}

impl http_body::Body for TimedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        use std::future::Future;
        use std::task::Poll;
        let this = &mut *self;
        if let Poll::Ready(frame) = std::pin::Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        match this.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(axum::Error::new(BodyTimedOut(this.timeout))))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Middleware: gives every request body `timeout` from now (the end of its headers) to arrive
/// whole. hyper's header timeout stops at the headers; without this a client sending its body a
/// byte at a time holds a connection and its task for as long as it likes. A handler reading
/// past the deadline gets [`BodyTimedOut`] (answered with 408, [`body_read_error`]), and hyper
/// closes a connection whose request body was not read to its end.
pub async fn limit_body_time(
    timeout: Option<Duration>,
    request: axum::extract::Request,
) -> axum::extract::Request {
    use http_body::Body as _;
    match timeout {
        Some(timeout) if !request.body().is_end_stream() => request.map(|inner| {
            Body::new(TimedBody {
                inner,
                deadline: Box::pin(tokio::time::sleep(timeout)),
                timeout,
            })
        }),
        _ => request,
    }
}

/// The answer to a request whose body could not be read: 408 when `--body-timeout` passed
/// (found anywhere in the error's chain of sources), else 400 with `error`'s message.
pub fn body_read_error(status: StatusCode, error: &(dyn std::error::Error + 'static)) -> ApiError {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if let Some(timed_out) = error.downcast_ref::<BodyTimedOut>() {
            return ApiError::new(StatusCode::REQUEST_TIMEOUT, timed_out.to_string())
                .with_header(header::CONNECTION, "close");
        }
        cause = error.source();
    }
    ApiError::new(status, format!("cannot read the request body: {error}"))
}

/// Reads a request body, refusing it with 413 as soon as it grows past `max` bytes (so an
/// oversized body is never held in memory whole).
pub async fn read_body(body: Body, max: usize) -> Result<Bytes, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body is larger than the limit of {max} bytes (--max-body-bytes)"),
        )
    };
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| body_read_error(StatusCode::BAD_REQUEST, &e))?;
        if bytes.len() + chunk.len() > max {
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(bytes))
}

/// Refuses a query or update text that is too long, nests too deeply or chains too many
/// operators, before it is parsed.
pub fn check_text(text: &str, what: &str, max_bytes: usize) -> Result<(), ApiError> {
    if text.len() > max_bytes {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the {what} is {} bytes long, more than the limit of {max_bytes} bytes \
                 (--max-body-bytes)",
                text.len()
            ),
        ));
    }
    let shape = shape(text);
    if shape.depth > MAX_NESTING {
        return Err(ApiError::bad_request(format!(
            "the {what} nests {{, ( or [ (or prefix operators such as !) {} levels deep; \
             the limit is {MAX_NESTING}",
            shape.depth
        )));
    }
    if shape.operators > MAX_OPERATORS {
        return Err(ApiError::bad_request(format!(
            "the {what} has {} operators and UNION/OPTIONAL/MINUS/FILTER/BIND clauses; \
             the limit is {MAX_OPERATORS}",
            shape.operators
        )));
    }
    Ok(())
}

/// How many operators (`+ - * / | & ! ^`, counting `||` as two) and chaining clauses
/// (`UNION`, `OPTIONAL`, `MINUS`, `FILTER`, `BIND`) a text may hold. A chain of them parses into
/// a tree as deep as it is long, which the parser and evaluator walk recursively: about 2,000
/// overflow a 2 MiB thread stack in a debug build. Legitimate queries use a few dozen.
pub const MAX_OPERATORS: usize = 500;

/// What [`shape`] measures.
#[derive(Debug, PartialEq, Eq)]
pub struct Shape {
    /// Deepest nesting of `{`, `(`, `[` and of prefix operators in a row.
    pub depth: usize,
    /// Operators and chaining clauses (see [`MAX_OPERATORS`]).
    pub operators: usize,
}

/// The deepest nesting of `{`, `(` and `[` (and of prefix operators in a row) in SPARQL text,
/// and its count of operators, ignoring strings, IRIs and comments, and hyphens inside prefixed
/// names (`ex:a-b`). One linear pass; it need not validate the text (the parser does that
/// next), only never under-count what the parser will recurse on.
pub fn shape(text: &str) -> Shape {
    let bytes = text.as_bytes();
    let (mut depth, mut deepest, mut operators, mut i) = (0usize, 0usize, 0usize, 0usize);
    // Prefix operators in a row (`!!!x`, `- - 1`, `^^p`) also recurse, a level each.
    let mut prefixes = 0usize;
    // The current run of name characters: where it started, and whether it holds a `:` (then
    // it is a prefixed name, in which `-` is a letter, not a minus).
    let (mut word_start, mut word_has_colon) = (None::<usize>, false);
    while i < bytes.len() {
        let byte = bytes[i];
        let name_char = byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b':' | b'.' | b'-');
        // In a word, `-` is a letter only once a `:` made it a prefixed name.
        if name_char && (byte != b'-' || word_has_colon) {
            if word_start.is_none() {
                word_start = Some(i);
                word_has_colon = false;
            }
            word_has_colon |= byte == b':';
            prefixes = 0;
            i += 1;
            continue;
        }
        if let Some(start) = word_start.take() {
            let word = &bytes[start..i];
            if ["UNION", "OPTIONAL", "MINUS", "FILTER", "BIND"]
                .iter()
                .any(|k| word.eq_ignore_ascii_case(k.as_bytes()))
            {
                operators += 1;
            }
            word_has_colon = false;
        }
        match byte {
            b'!' | b'^' | b'-' | b'+' => {
                prefixes += 1;
                deepest = deepest.max(depth + prefixes);
            }
            b if b.is_ascii_whitespace() => {}
            _ => prefixes = 0,
        }
        match byte {
            b'+' | b'-' | b'*' | b'/' | b'|' | b'&' | b'!' | b'^' => operators += 1,
            b'{' | b'(' | b'[' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b'}' | b')' | b']' => depth = depth.saturating_sub(1),
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            quote @ (b'"' | b'\'') => {
                let long = bytes[i..].starts_with(&[quote; 3]);
                i += if long { 3 } else { 1 };
                while i < bytes.len() {
                    if bytes[i] == b'\\' {
                        i += 2;
                        continue;
                    }
                    if long {
                        if bytes[i..].starts_with(&[quote; 3]) {
                            i += 2;
                            break;
                        }
                    } else if bytes[i] == quote || bytes[i] == b'\n' || bytes[i] == b'\r' {
                        break;
                    }
                    i += 1;
                }
            }
            // `<` opens an IRI only if an IRIREF follows; otherwise it is "less than".
            b'<' => {
                let end = bytes[i + 1..]
                    .iter()
                    .position(|b| {
                        matches!(
                            b,
                            b'>' | b'<' | b'"' | b'{' | b'}' | b'|' | b'^' | b'`' | b'\\'
                        ) || *b <= b' '
                    })
                    .map(|n| i + 1 + n);
                if let Some(end) = end.filter(|&end| bytes[end] == b'>') {
                    i = end;
                }
            }
            _ => {}
        }
        i += 1;
    }
    Shape {
        depth: deepest,
        operators,
    }
}

const NO_SERVICE: &str = "federated queries (SERVICE) are disabled on this server";

/// Refuses a query that calls `SERVICE`: the server makes no outbound requests (no SSRF through
/// federation), and saying so beats an opaque evaluation error.
pub fn refuse_service_in_query(query: &Query) -> Result<(), ApiError> {
    let pattern = match query {
        Query::Select { pattern, .. }
        | Query::Construct { pattern, .. }
        | Query::Describe { pattern, .. }
        | Query::Ask { pattern, .. } => pattern,
    };
    refuse_if(has_service(pattern))
}

/// Refuses an update whose `WHERE` calls `SERVICE`.
pub fn refuse_service_in_update(update: &Update) -> Result<(), ApiError> {
    refuse_if(update.operations.iter().any(|operation| match operation {
        GraphUpdateOperation::DeleteInsert { pattern, .. } => has_service(pattern),
        _ => false,
    }))
}

fn refuse_if(service: bool) -> Result<(), ApiError> {
    if service {
        Err(ApiError::bad_request(NO_SERVICE))
    } else {
        Ok(())
    }
}

// Every variant is named (no `_` arm), so a new kind of pattern cannot slip past unchecked. The
// recursion is bounded: the text was refused before parsing if it nested too deeply.
fn has_service(pattern: &GraphPattern) -> bool {
    use GraphPattern as P;
    match pattern {
        P::Service { .. } => true,
        P::Bgp { .. } | P::Path { .. } | P::Values { .. } => false,
        P::Join { left, right }
        | P::Union { left, right }
        | P::Minus { left, right }
        | P::Lateral { left, right } => has_service(left) || has_service(right),
        P::LeftJoin {
            left,
            right,
            expression,
        } => {
            has_service(left)
                || has_service(right)
                || expression.as_ref().is_some_and(expression_has_service)
        }
        P::Filter { expr, inner } => expression_has_service(expr) || has_service(inner),
        P::Extend {
            inner, expression, ..
        } => expression_has_service(expression) || has_service(inner),
        P::OrderBy { inner, expression } => {
            has_service(inner)
                || expression.iter().any(|order| match order {
                    OrderExpression::Asc(e) | OrderExpression::Desc(e) => expression_has_service(e),
                })
        }
        P::Group {
            inner, aggregates, ..
        } => {
            has_service(inner)
                || aggregates.iter().any(|(_, aggregate)| match aggregate {
                    AggregateExpression::CountSolutions { .. } => false,
                    AggregateExpression::FunctionCall { expr, .. } => expression_has_service(expr),
                })
        }
        P::Graph { inner, .. }
        | P::Project { inner, .. }
        | P::Distinct { inner }
        | P::Reduced { inner }
        | P::Slice { inner, .. } => has_service(inner),
    }
}

fn expression_has_service(expression: &Expression) -> bool {
    use Expression as E;
    match expression {
        E::Exists(pattern) => has_service(pattern),
        E::NamedNode(_) | E::Literal(_) | E::Variable(_) | E::Bound(_) => false,
        E::Or(a, b)
        | E::And(a, b)
        | E::Equal(a, b)
        | E::SameTerm(a, b)
        | E::Greater(a, b)
        | E::GreaterOrEqual(a, b)
        | E::Less(a, b)
        | E::LessOrEqual(a, b)
        | E::Add(a, b)
        | E::Subtract(a, b)
        | E::Multiply(a, b)
        | E::Divide(a, b) => expression_has_service(a) || expression_has_service(b),
        E::UnaryPlus(a) | E::UnaryMinus(a) | E::Not(a) => expression_has_service(a),
        E::In(a, list) => expression_has_service(a) || list.iter().any(expression_has_service),
        E::If(a, b, c) => [a, b, c].into_iter().any(|e| expression_has_service(e)),
        E::Coalesce(list) | E::FunctionCall(_, list) => list.iter().any(expression_has_service),
    }
}

/// Maps a query's failure before its first chunk was sent: a cancellation there is the deadline
/// (a client that left has no handler waiting), and a [`ResultCap`] a result too big; both get a
/// message naming the limit.
///
/// The status is 500 (for the caps too: the query is valid, the server will not finish it), as on the SPARQL endpoints clients already know (Wikidata's Blazegraph
/// answers a query timeout with 500 and a `TimeoutException`, Virtuoso with 500 "SPARQL Request
/// Failed" and SQL state S1T00), so clients report it as a failed query rather than retrying it
/// as they would a 503.
pub fn query_error(error: Error, timeout: Option<Duration>) -> ApiError {
    if let Some(message) = ResultCap::message(&error) {
        tracing::warn!("a query's result broke a cap: {message}");
        return ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, message);
    }
    match (&error, timeout) {
        (Error::Evaluation(QueryEvaluationError::Cancelled), Some(timeout)) => {
            tracing::warn!("a query ran past the time limit and was stopped");
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, timed_out(timeout))
        }
        _ => error.into(),
    }
}

/// The message of a query stopped by the deadline.
pub fn timed_out(timeout: Duration) -> String {
    format!(
        "the query was stopped: it ran longer than the time limit of {} s (--query-timeout)",
        timeout.as_secs_f64()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nesting_depth(text: &str) -> usize {
        shape(text).depth
    }

    #[test]
    fn nesting_ignores_strings_iris_and_comments() {
        assert_eq!(nesting_depth("SELECT * { ?s ?p ?o }"), 1);
        assert_eq!(nesting_depth("SELECT * { { ( [ ] ) } }"), 4);
        assert_eq!(nesting_depth("ASK { FILTER(\"{{{{(((\" = '((' ) }"), 2);
        assert_eq!(
            nesting_depth("ASK { FILTER(\"\"\"a\"{{\"\"\" = '''((''') }"),
            2
        );
        assert_eq!(nesting_depth("ASK { FILTER(\"\\\"{{\") }"), 2);
        assert_eq!(nesting_depth("ASK { <http://x/((> ?p ?o } # {{{{{\n"), 1);
        // `<` as "less than" is not an IRI: the braces after it still count.
        assert_eq!(nesting_depth("ASK { FILTER(1 < 2 && (3 > 2)) }"), 3);
        assert_eq!(nesting_depth(&"{".repeat(10_000)), 10_000);
        assert_eq!(nesting_depth("}}}{"), 1);
        assert_eq!(nesting_depth("ASK { FILTER(!!!! - - true) }"), 8);
        assert_eq!(nesting_depth("ASK { FILTER(?a != -1) }"), 3);
    }

    #[tokio::test]
    async fn lookups_wait_their_turn_in_arrival_order_then_get_503() {
        let slots = LookupSlots::new(1);
        let held = slots.acquire(None).await.unwrap();
        // Two lookups queue up behind the one running; the first to come is the first served.
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        for name in ["first", "second"] {
            let (slots, tx) = (slots.clone(), tx.clone());
            tokio::spawn(async move {
                let slot = slots.acquire(None).await.unwrap();
                tx.send(name).unwrap();
                tokio::task::yield_now().await;
                drop(slot);
            });
            // Let it run up to its wait (this test's runtime has one thread) before the next.
            tokio::task::yield_now().await;
        }
        // A third waits at most 50 ms, then is told why.
        let refused = slots
            .acquire(Some(Duration::from_millis(50)))
            .await
            .unwrap_err();
        assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            refused.message.contains("1 lookups (--max-lookups)"),
            "{}",
            refused.message
        );
        assert!(refused
            .headers
            .iter()
            .any(|(name, _)| name == header::RETRY_AFTER));
        drop(held);
        assert_eq!(rx.recv().await, Some("first"));
        assert_eq!(rx.recv().await, Some("second"));
        // All done: the slot is free again.
        drop(
            slots
                .acquire(Some(Duration::from_millis(50)))
                .await
                .unwrap(),
        );
    }

    #[tokio::test]
    async fn queries_wait_in_a_bounded_queue_then_get_503() {
        let slots = QuerySlots::new(1, 1);
        let held = slots.acquire(None).await.unwrap();
        // One waits its turn...
        let waiting = tokio::spawn({
            let slots = slots.clone();
            async move { slots.acquire(None).await.map(drop) }
        });
        while slots.waiting.load(std::sync::atomic::Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        // ...one more than the queue holds is refused at once, naming the queue's flag...
        let start = std::time::Instant::now();
        let refused = slots
            .acquire(Some(Duration::from_secs(30)))
            .await
            .unwrap_err();
        assert!(start.elapsed() < Duration::from_secs(1));
        assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            refused.message.contains("--max-queued-queries"),
            "{}",
            refused.message
        );
        // ...and the one waiting gets the slot when it is freed.
        drop(held);
        waiting.await.unwrap().unwrap();
        // A query that waits as long as it may is told which slots were all taken.
        let held = slots.acquire(None).await.unwrap();
        let start = std::time::Instant::now();
        let timed_out = slots
            .acquire(Some(Duration::from_millis(50)))
            .await
            .unwrap_err();
        assert!(start.elapsed() >= Duration::from_millis(50));
        assert_eq!(timed_out.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            timed_out.message.contains("1 queries (--max-queries)"),
            "{}",
            timed_out.message
        );
        assert!(timed_out
            .headers
            .iter()
            .any(|(name, _)| name == header::RETRY_AFTER));
        drop(held);
        assert_eq!(slots.waiting.load(std::sync::atomic::Ordering::SeqCst), 0);
    }

    #[test]
    fn text_checks_name_the_limit() {
        let deep = format!("ASK {}{}", "{".repeat(300), "}".repeat(300));
        let error = check_text(&deep, "query", 1 << 20).unwrap_err();
        assert_eq!(error.status, StatusCode::BAD_REQUEST);
        assert!(error.message.contains("limit is 200"), "{}", error.message);
        let error = check_text("ASK {}", "query", 3).unwrap_err();
        assert_eq!(error.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(check_text("ASK { { } }", "query", 100).is_ok());
        let chain = format!("ASK {{ FILTER(1{}) }}", " + 1".repeat(600));
        let error = check_text(&chain, "query", 1 << 20).unwrap_err();
        assert!(error.message.contains("limit is 500"), "{}", error.message);
    }

    #[test]
    fn operators_are_counted_but_not_hyphens_in_names() {
        let count = |text: &str| shape(text).operators;
        assert_eq!(count("SELECT ?s { ?s ex:a-b-c ?o }"), 0);
        assert_eq!(count("SELECT ?s { ?s <http://x/a-b/c> \"a-b\" }"), 0);
        assert_eq!(count("ASK { FILTER(?a-1-?b - true-true) }"), 5);
        assert_eq!(
            count("ASK { {} UNION {} OPTIONAL {} MINUS {} FILTER(!?a || ?b) }"),
            7
        );
        assert_eq!(count("ASK { ?s ex:p/ex:q|^ex:r ?o }"), 3);
        assert_eq!(count("ASK { ?s ?p 2.5e-3 }"), 1);
    }

    #[test]
    fn service_is_found_wherever_it_hides() {
        let parse = |q: &str| spargebra::SparqlParser::new().parse_query(q).unwrap();
        for query in [
            "SELECT * { SERVICE <http://x/> { ?s ?p ?o } }",
            "SELECT * { ?a ?b ?c OPTIONAL { SERVICE SILENT <http://x/> { ?s ?p ?o } } }",
            "SELECT * { ?a ?b ?c FILTER EXISTS { SERVICE <http://x/> { ?s ?p ?o } } }",
            "SELECT (COUNT(*) AS ?n) { { SELECT * { SERVICE ?g { ?s ?p ?o } } } }",
        ] {
            assert!(refuse_service_in_query(&parse(query)).is_err(), "{query}");
        }
        let plain = parse("SELECT * { ?service ?p <http://x/service> FILTER(?service) }");
        assert!(refuse_service_in_query(&plain).is_ok());
        let update = spargebra::SparqlParser::new()
            .parse_update("INSERT { ?s ?p ?o } WHERE { SERVICE <http://x/> { ?s ?p ?o } }")
            .unwrap();
        assert!(refuse_service_in_update(&update).is_err());
    }
}
