//! Streaming query results and exports: evaluated on a query thread up to the first result,
//! then serialised there into 64 KiB chunks on a bounded channel, with the time limit and the
//! result caps counted as they are written.
//!
//! Invariant: a stream that does not finish ends in an error, never in a complete-looking
//! body; memory is bounded by the channel whatever the client's speed.

use super::*;

impl ClaimStore {
    /// Evaluates a query up to its first result, so that errors surface before anything is
    /// written. The returned value must be consumed on the same thread.
    pub fn start_query(
        &self,
        query: Query,
        dataset: &DatasetParams,
        format: OutputFormat,
        cancel: CancellationToken,
    ) -> Result<PendingResults> {
        start_query_on(&self.store, query, dataset, format, cancel)
    }

    /// [`ClaimStore::stream_query`] on the audit trail's store (for admins: `/audit/sparql`).
    pub async fn stream_audit_query(
        self: &Arc<Self>,
        query: Query,
        format: OutputFormat,
        bounds: QueryBounds,
    ) -> Result<ResultStream> {
        self.stream_results(bounds, move |store, cancel| {
            let dataset = DatasetParams::default();
            start_query_on(store.audit.store(), query, &dataset, format, cancel)
        })
        .await
    }
}

/// Evaluates a query on `store` up to its first result (see [`ClaimStore::start_query`]).
pub(super) fn start_query_on(
    store: &Store,
    query: Query,
    dataset: &DatasetParams,
    format: OutputFormat,
    cancel: CancellationToken,
) -> Result<PendingResults> {
    {
        let mut prepared = SparqlEvaluator::new()
            .with_cancellation_token(cancel)
            .for_query(query);
        dataset.apply_to(prepared.dataset_mut());
        let pending = match prepared.on_store(store).execute()? {
            QueryResults::Boolean(value) => Pending::Boolean(value),
            QueryResults::Solutions(mut solutions) => {
                let first = solutions.next().transpose()?;
                Pending::Solutions(solutions, first)
            }
            QueryResults::Graph(mut triples) => {
                let first = triples.next().transpose()?;
                Pending::Graph(triples, first)
            }
        };
        let valid = matches!(
            (&pending, format),
            (Pending::Graph(..), OutputFormat::Rdf(_))
                | (
                    Pending::Boolean(_) | Pending::Solutions(..),
                    OutputFormat::Results(_)
                )
        );
        if !valid {
            return Err(Error::Invalid(format!(
                "{format:?} cannot serialise the results of this query"
            )));
        }
        Ok(PendingResults { pending, format })
    }
}

impl ClaimStore {
    /// Evaluates a query on a blocking thread and streams its serialised results.
    ///
    /// Errors found before the first result come back as `Err`; later ones end the stream with an
    /// `Err` item, which the HTTP layer turns into an aborted response, never a complete-looking one.
    /// `bounds` may set a deadline and hold a slot until the result is written or has failed
    /// (not merely until the response ends: a client that went away frees it only when the
    /// evaluation has stopped), released before the client gets the last of the answer.
    pub async fn stream_query(
        self: &Arc<Self>,
        query: Query,
        dataset: DatasetParams,
        format: OutputFormat,
        bounds: QueryBounds,
    ) -> Result<ResultStream> {
        self.stream_results(bounds, move |store, cancel| {
            store.start_query(query, &dataset, format, cancel)
        })
        .await
    }

    /// Streams the results of the query `start` begins, within `bounds` (the row cap counted as
    /// they are written).
    pub(super) async fn stream_results(
        self: &Arc<Self>,
        bounds: QueryBounds,
        start: impl FnOnce(&ClaimStore, CancellationToken) -> Result<PendingResults> + Send + 'static,
    ) -> Result<ResultStream> {
        let max_rows = bounds.max_rows;
        self.stream_bounded(bounds, move |store, cancel| {
            let pending = start(store, cancel)?;
            Ok(move |writer: &mut dyn Write| pending.write_capped(writer, max_rows).map(drop))
        })
        .await
    }

    /// Streams bytes produced on a blocking thread: `start` runs first and may fail (its error is
    /// returned, nothing has been sent); the writer it returns then writes the body, in 64 KiB
    /// chunks: the first with the news that the body started, the rest through a bounded
    /// channel. An error while writing ends the stream with an `Err` item (an aborted response,
    /// never a complete-looking one). When the stream is dropped (the client went away) the next
    /// write fails and the token is cancelled, so the work stops.
    pub async fn stream<S, W>(self: &Arc<Self>, start: S) -> Result<ResultStream>
    where
        S: FnOnce(&ClaimStore, CancellationToken) -> Result<W> + Send + 'static,
        W: FnOnce(&mut dyn Write) -> Result<()>,
    {
        self.stream_bounded(QueryBounds::default(), start).await
    }

    /// [`ClaimStore::stream`] with a deadline: when it passes, the token is cancelled (which stops
    /// evaluation at its next read from storage), the writer fails at its next chunk (which stops
    /// serialisation, and a send blocked on a slow client), and a caller still waiting for the
    /// first result gets `QueryEvaluationError::Cancelled` at once.
    pub async fn stream_bounded<S, W>(
        self: &Arc<Self>,
        bounds: QueryBounds,
        start: S,
    ) -> Result<ResultStream>
    where
        S: FnOnce(&ClaimStore, CancellationToken) -> Result<W> + Send + 'static,
        W: FnOnce(&mut dyn Write) -> Result<()>,
    {
        let QueryBounds {
            deadline,
            slot,
            max_bytes,
            ..
        } = bounds;
        let deadline = deadline.map(tokio::time::Instant::from_std);
        let cancel = CancelOnDrop(CancellationToken::new());
        let token = cancel.0.clone();
        // The timer only cancels; the query thread drops it (stopping it) however it ends.
        let timer = deadline.map(|deadline| {
            let token = token.clone();
            AbortOnDrop(tokio::spawn(async move {
                tokio::time::sleep_until(deadline).await;
                token.cancel();
            }))
        });
        let failed = Arc::new(AtomicBool::new(false));
        let (ready_tx, ready_rx) = oneshot::channel();
        let (bytes_tx, bytes_rx) = mpsc::channel(CHANNEL_CHUNKS);
        let store = Arc::clone(self);
        let runtime = tokio::runtime::Handle::current();
        let stream_failed = Arc::clone(&failed);
        // A query thread rather than one from tokio's blocking pool: Oxigraph plans and evaluates
        // recursively, and a query near the text limits (`http::limits`) needs more stack than
        // the pool's 2 MiB. The concurrency cap bounds how many run.
        let spawned = crate::threads::spawn(move || {
            let (mut slot, _timer) = (slot, timer);
            let _running = RunningQuery::new(&store.metrics);
            // The product's own lookups made while streaming stop with the stream too.
            with_cancellation(token.clone(), || match start(&store, token) {
                Err(error) => {
                    // The slot is free before the client hears of it: its next request finds
                    // it free.
                    drop(slot.take());
                    let _ = ready_tx.send(Err(error));
                }
                Ok(write) => {
                    // Failed until proven complete: if writing errs or panics, the closed
                    // channel still ends the stream with an error, even when the error item
                    // finds no room in the channel.
                    stream_failed.store(true, Ordering::SeqCst);
                    // The writer reports ready with its first chunk, so an error within the
                    // first 64 KiB (a broken cap, the deadline) still gets a status of its own.
                    let mut writer =
                        ChannelWriter::new(bytes_tx.clone(), deadline, runtime, ready_tx);
                    writer.max_bytes = max_bytes;
                    let outcome = write(&mut writer);
                    // Written or failed, the work is over: the slot is free before the last of
                    // the answer (or the error) goes out.
                    drop(slot.take());
                    let outcome =
                        outcome.and_then(|()| writer.finish().map_err(|e| Error::io("sending", e)));
                    match (outcome, writer.ready.take()) {
                        (Ok(()), _) => stream_failed.store(false, Ordering::SeqCst),
                        (Err(error), Some(ready)) => {
                            let _ = ready.send(Err(error));
                        }
                        (Err(error), None) => {
                            tracing::warn!(%error, "failed while streaming a response");
                            let _ = bytes_tx.try_send(Err(io::Error::other(error.to_string())));
                        }
                    }
                }
            })
        });
        if let Err(error) = spawned {
            return Err(Error::io("cannot start a query thread", error));
        }
        let ready = match deadline {
            Some(deadline) => tokio::time::timeout_at(deadline, ready_rx)
                .await
                .map_err(|_| Error::Evaluation(QueryEvaluationError::Cancelled))?,
            None => ready_rx.await,
        };
        match ready {
            Ok(Ok(first)) => Ok(ResultStream {
                first: Some(first),
                complete: false,
                receiver: bytes_rx,
                failed,
                held: None,
                after_data: false,
                _cancel: cancel,
            }),
            Ok(Err(error)) => Err(error),
            Err(_) => Err(Error::Internal(
                "the streaming thread ended abruptly".into(),
            )),
        }
    }
}

/// Evaluated results, first item already computed, waiting to be serialised.
pub struct PendingResults {
    pending: Pending,
    format: OutputFormat,
}

pub(super) enum Pending {
    Boolean(bool),
    Solutions(QuerySolutionIter<'static>, Option<QuerySolution>),
    Graph(QueryTripleIter<'static>, Option<Triple>),
}

impl PendingResults {
    /// Serialises every result into `writer` and returns it (not flushed).
    pub fn write_to<W: Write>(self, writer: W) -> Result<W> {
        self.write_capped(writer, None)
    }

    /// [`PendingResults::write_to`], failing with a [`ResultCap`] error at solution (or triple)
    /// `max_rows + 1`.
    pub fn write_capped<W: Write>(self, writer: W, max_rows: Option<u64>) -> Result<W> {
        let io_error = |e| Error::io("writing results", e);
        let writer = WriteBuffer::new(writer);
        let mut rows = 0u64;
        let mut count_row = || {
            rows += 1;
            match max_rows {
                Some(max) if rows > max => Err(io_error(io::Error::other(ResultCap(format!(
                    "the result has more than {max} rows, the limit of this server \
                     (--max-result-rows): add a LIMIT or narrow the query"
                ))))),
                _ => Ok(()),
            }
        };
        let written = match (self.pending, self.format) {
            (Pending::Boolean(value), OutputFormat::Results(format)) => {
                QueryResultsSerializer::from_format(format)
                    .serialize_boolean_to_writer(writer, value)
                    .map_err(io_error)
            }
            (Pending::Solutions(solutions, first), OutputFormat::Results(format)) => {
                let mut serializer = QueryResultsSerializer::from_format(format)
                    .serialize_solutions_to_writer(writer, solutions.variables().to_vec())
                    .map_err(io_error)?;
                for solution in first.into_iter().map(Ok).chain(solutions) {
                    let solution = solution?;
                    count_row()?;
                    serializer.serialize(&solution).map_err(io_error)?;
                }
                serializer.finish().map_err(io_error)
            }
            (Pending::Graph(triples, first), OutputFormat::Rdf(format)) => {
                let mut serializer = RdfSerializer::from_format(format).for_writer(writer);
                for triple in first.into_iter().map(Ok).chain(triples) {
                    let triple = triple?;
                    count_row()?;
                    serializer.serialize_triple(&triple).map_err(io_error)?;
                }
                serializer.finish().map_err(io_error)
            }
            _ => Err(Error::Invalid(
                "results and output format do not match".into(),
            )),
        }?;
        written.into_inner().map_err(io_error)
    }
}

/// What a serialiser writes, gathered into 8 KiB writes. Serialisers write a few bytes at a
/// time; inside the serialiser's own type each of those is a copy, not a call through the
/// caller's writer (for a stream a `&mut dyn Write`: a fifth of a large JSON result's CPU).
/// Unlike `std::io::BufWriter`, dropping it discards what it holds, so a serialisation that
/// failed writes nothing more (a stream's error before its first chunk keeps its own status).
pub(crate) struct WriteBuffer<W: Write> {
    inner: W,
    buffer: Vec<u8>,
}

pub(super) const WRITE_BUFFER_BYTES: usize = 8 * 1024;

impl<W: Write> WriteBuffer<W> {
    pub(crate) fn new(inner: W) -> Self {
        Self {
            inner,
            buffer: Vec::with_capacity(WRITE_BUFFER_BYTES),
        }
    }

    /// Writes out what it holds and returns the writer (not flushed).
    pub(crate) fn into_inner(mut self) -> io::Result<W> {
        self.drain()?;
        Ok(self.inner)
    }

    pub(super) fn drain(&mut self) -> io::Result<()> {
        if !self.buffer.is_empty() {
            self.inner.write_all(&self.buffer)?;
            self.buffer.clear();
        }
        Ok(())
    }
}

impl<W: Write> Write for WriteBuffer<W> {
    #[inline]
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.write_all(data)?;
        Ok(data.len())
    }

    #[inline]
    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        if self.buffer.len() + data.len() > WRITE_BUFFER_BYTES {
            self.drain()?;
            if data.len() >= WRITE_BUFFER_BYTES {
                return self.inner.write_all(data);
            }
        }
        self.buffer.extend_from_slice(data);
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.drain()?;
        self.inner.flush()
    }
}

/// How many chunks may wait in the channel between the query thread and the HTTP response.
pub(super) const CHANNEL_CHUNKS: usize = 4;
/// Size of the first chunk sent to the client: the first rows leave as soon as they fill it.
pub(super) const CHUNK_BYTES: usize = 64 * 1024;
/// Size of the chunks after the first. Each chunk wakes the runtime's thread that writes it
/// out: with 64 KiB chunks, those wake-ups were a tenth of a large answer's time.
pub(super) const LATER_CHUNK_BYTES: usize = 256 * 1024;

/// Cancels the query when dropped: when the response body is dropped (finished, or the client
/// disconnected), or when the request handler is dropped before the response started.
pub(crate) struct CancelOnDrop(pub(crate) CancellationToken);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// Stops a timer task when dropped.
pub(super) struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The bytes of a streamed result; an `Err` item means the result is incomplete.
///
/// Its first chunk comes with the news that the result started, so a result that fits in one
/// chunk costs the query thread one hand-back to the runtime, and [`ResultStream::into_whole`]
/// gives it as one piece (the response can then say its length).
pub struct ResultStream {
    /// The first chunk, until it is taken.
    first: Option<FirstChunk>,
    /// The first chunk was the whole result, and it was taken.
    complete: bool,
    receiver: mpsc::Receiver<io::Result<Bytes>>,
    /// Set when the writer failed: the stream then ends with an error even if the error item
    /// itself could not be queued.
    failed: Arc<AtomicBool>,
    /// An error held back for one poll, because data was handed over on the poll before it.
    held: Option<io::Error>,
    /// What the last poll handed over was data.
    after_data: bool,
    _cancel: CancelOnDrop,
}

/// What bounds one streamed query: a deadline, and a slot (of the server's concurrency cap)
/// released when the evaluation has ended (not merely when the response has: a client that went
/// away does not free it), just before the client gets the last of the answer.
#[derive(Default)]
pub struct QueryBounds {
    pub deadline: Option<std::time::Instant>,
    pub slot: Option<tokio::sync::OwnedSemaphorePermit>,
    /// Solutions (or triples) a result may hold; one more ends it in a [`ResultCap`] error.
    pub max_rows: Option<u64>,
    /// Bytes a serialised result may take; one more ends it in a [`ResultCap`] error.
    pub max_bytes: Option<u64>,
}

/// A result that broke a cap on its rows or bytes (`QueryBounds`), carried as the source of an
/// [`Error::Io`]; the message names the cap. Never a silent truncation: before the first chunk
/// the request fails with it, after it the response is aborted.
#[derive(Debug)]
pub struct ResultCap(pub String);

impl std::fmt::Display for ResultCap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ResultCap {}

impl ResultCap {
    /// The cap's message, if `error` is a broken cap.
    pub fn message(error: &Error) -> Option<&str> {
        // Serialisers may wrap the writer's `io::Error` in another one: look through them.
        let Error::Io { source, .. } = error else {
            return None;
        };
        let mut inner = source.get_ref()?;
        loop {
            if let Some(cap) = inner.downcast_ref::<ResultCap>() {
                return Some(&cap.0);
            }
            inner = inner.downcast_ref::<io::Error>()?.get_ref()?;
        }
    }
}

/// What a query thread sends when its result starts: the first chunk, and whether it was the
/// last.
pub(super) struct FirstChunk {
    bytes: Bytes,
    whole: bool,
}

impl ResultStream {
    /// The whole result, if it fit in the first chunk; else the stream, untouched.
    pub fn into_whole(mut self) -> std::result::Result<Bytes, Self> {
        match self.first.take() {
            Some(FirstChunk { bytes, whole: true }) => Ok(bytes),
            first => {
                self.first = first;
                Err(self)
            }
        }
    }
}

impl futures_util::Stream for ResultStream {
    type Item = io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Some(error) = self.held.take() {
            return Poll::Ready(Some(Err(error)));
        }
        if let Some(FirstChunk { bytes, whole }) = self.first.take() {
            // After a whole result comes its end, whatever the query thread does next.
            self.complete = whole;
            if !bytes.is_empty() {
                self.after_data = true;
                return Poll::Ready(Some(Ok(bytes)));
            }
        }
        if self.complete {
            return Poll::Ready(None);
        }
        let error = match self.receiver.poll_recv(cx) {
            Poll::Ready(None) if self.failed.swap(false, Ordering::SeqCst) => {
                io::Error::other("the result could not be completed")
            }
            Poll::Ready(Some(Err(error))) => {
                self.failed.store(false, Ordering::SeqCst);
                error
            }
            other => {
                self.after_data = matches!(other, Poll::Ready(Some(Ok(_))));
                return other;
            }
        };
        // hyper pulls body items until one is not ready before it writes what it has buffered,
        // and an error aborts the connection with the buffer unsent: an error ready right after
        // a chunk (a cap broken just past the first 64 KiB) would reach the client as an empty
        // reply instead of a cut-off body. Not ready once, so hyper flushes first; then the
        // error, polled again at once.
        if std::mem::take(&mut self.after_data) {
            self.held = Some(error);
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        Poll::Ready(Some(Err(error)))
    }
}

/// A `Write` that sends fixed-size chunks through a channel, blocking while the channel is full.
/// Dropping it without [`ChannelWriter::finish`] discards the unsent tail, so a failed result is
/// never completed by accident.
pub(super) struct ChannelWriter {
    sender: mpsc::Sender<io::Result<Bytes>>,
    buffer: Vec<u8>,
    /// Sent (and taken) the first chunk: until then a failure is the request's.
    ready: Option<oneshot::Sender<Result<FirstChunk>>>,
    /// Bytes written so far, and the most allowed.
    written: u64,
    max_bytes: Option<u64>,
    /// Past it every write fails, and a send waiting for a slow client gives up.
    deadline: Option<tokio::time::Instant>,
    runtime: tokio::runtime::Handle,
}

impl ChannelWriter {
    pub(super) fn new(
        sender: mpsc::Sender<io::Result<Bytes>>,
        deadline: Option<tokio::time::Instant>,
        runtime: tokio::runtime::Handle,
        ready: oneshot::Sender<Result<FirstChunk>>,
    ) -> Self {
        Self {
            sender,
            buffer: Vec::with_capacity(CHUNK_BYTES),
            ready: Some(ready),
            written: 0,
            max_bytes: None,
            deadline,
            runtime,
        }
    }

    /// Sends what the buffer holds: with the news that the result started if it is the first
    /// chunk (`last`: and the whole result), else through the channel.
    pub(super) fn send_buffer(&mut self, last: bool) -> io::Result<()> {
        let gone = || io::Error::new(io::ErrorKind::BrokenPipe, "the client went away");
        let capacity = if last { 0 } else { LATER_CHUNK_BYTES };
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buffer,
            Vec::with_capacity(capacity),
        ));
        if let Some(ready) = self.ready.take() {
            let first = FirstChunk {
                bytes: chunk,
                whole: last,
            };
            // No receiver: the client went away (or the deadline passed) while we evaluated.
            return ready.send(Ok(first)).map_err(|_| gone());
        }
        if chunk.is_empty() {
            return Ok(());
        }
        let Some(deadline) = self.deadline else {
            return self.sender.blocking_send(Ok(chunk)).map_err(|_| gone());
        };
        let past_deadline =
            || io::Error::new(io::ErrorKind::TimedOut, "the query ran past its time limit");
        if tokio::time::Instant::now() >= deadline {
            return Err(past_deadline());
        }
        // The query thread may wait on the runtime's timer: it is not an async context.
        let _runtime = self.runtime.enter();
        self.runtime
            .block_on(tokio::time::timeout_at(
                deadline,
                self.sender.send(Ok(chunk)),
            ))
            .map_err(|_| past_deadline())?
            .map_err(|_| gone())
    }

    pub(super) fn finish(&mut self) -> io::Result<()> {
        self.send_buffer(true)
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.written += data.len() as u64;
        if let Some(max) = self.max_bytes.filter(|&max| self.written > max) {
            return Err(io::Error::other(ResultCap(format!(
                "the result is larger than {max} bytes, the limit of this server \
                 (--max-result-bytes): add a LIMIT or narrow the query"
            ))));
        }
        self.buffer.extend_from_slice(data);
        let chunk = if self.ready.is_some() {
            CHUNK_BYTES
        } else {
            LATER_CHUNK_BYTES
        };
        if self.buffer.len() >= chunk {
            self.send_buffer(false)?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        // Chunks are sent when full or at `finish`; flushing early would only make small packets.
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_buffer_writes_in_order_and_a_dropped_one_writes_nothing() {
        let mut out = Vec::new();
        let mut buffer = WriteBuffer::new(&mut out);
        buffer.write_all(b"ab").unwrap();
        // Past the buffer: what it holds goes first, then the large write itself.
        let large = vec![b'x'; WRITE_BUFFER_BYTES + 1];
        buffer.write_all(&large).unwrap();
        buffer.write_all(b"cd").unwrap();
        buffer.into_inner().unwrap();
        assert_eq!(out.len(), 2 + large.len() + 2);
        assert!(out.starts_with(b"abx") && out.ends_with(b"xcd"));

        let mut out = Vec::new();
        let mut buffer = WriteBuffer::new(&mut out);
        buffer.write_all(b"half a result").unwrap();
        drop(buffer);
        assert!(out.is_empty(), "a dropped buffer discards what it holds");
    }
}
