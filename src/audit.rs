//! The audit trail: one PROV-O activity per write to the store, kept in an Oxigraph store of its
//! own (`<store>/audit`, inside the main store's directory, so the two move and are removed
//! together).
//!
//! Why a separate store: Oxigraph 0.5 cannot hide a named graph from SPARQL at full speed (the
//! union default graph and `GRAPH ?g` see every named graph, and its `DatasetView` cannot be
//! wrapped from outside), and a writer's `DROP ALL` would wipe an audit graph kept in the main
//! store. Here SPARQL on `/sparql` cannot see the trail and no update can reach it.
//!
//! Invariants:
//! - only [`crate::store::ClaimStore`] writes here, while holding its writer lock: a record with
//!   outcome `started` is committed before the change commits, and its outcome (`committed` with
//!   the quads added and removed, or `failed` with the message) after; a process that stopped in
//!   between leaves `started`, which the next [`AuditLog::open`] turns into `unknown`;
//! - agents are named (a token's name, an OS user), never identified by a credential.

use crate::error::{Error, Result};
use crate::vocab::{CG, PROV};
use oxigraph::model::vocab::{rdf, rdfs, xsd};
use oxigraph::model::{GraphName, Literal, NamedNode, Quad, Term};
use oxigraph::sparql::{QueryResults, SparqlEvaluator};
use serde::Serialize;
use std::cell::RefCell;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use utoipa::ToSchema;

/// The outcome a crash leaves behind, written at the next open.
pub const UNKNOWN: &str = "unknown (the process stopped)";

/// Who writes, and by which operation (`sparql-update`, `graph-store-put`, `cli-load`…).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub agent: String,
    pub operation: String,
}

impl Actor {
    pub fn new(agent: impl Into<String>, operation: impl Into<String>) -> Self {
        Self {
            agent: agent.into(),
            operation: operation.into(),
        }
    }

    /// The user running this process (`$USER`), for writes made from the command line.
    pub fn os_user(operation: impl Into<String>) -> Self {
        let user = std::env::var("USER")
            .or_else(|_| std::env::var("USERNAME"))
            .unwrap_or_else(|_| "unknown user".to_owned());
        Self::new(user, operation)
    }
}

thread_local! {
    /// Who the writes made on this thread are for (see [`as_actor`]).
    static ACTOR: RefCell<Option<Actor>> = const { RefCell::new(None) };
}

/// Runs `f` with the writes it makes recorded as `actor`'s. A thread-local rather than a
/// parameter, so the loader and claim ingestion record their writes without knowing who asked.
pub fn as_actor<T>(actor: Actor, f: impl FnOnce() -> T) -> T {
    crate::threads::with_local(&ACTOR, actor, f)
}

/// The actor set by [`as_actor`]; writes made outside one are the server's own.
pub(crate) fn current_actor() -> Actor {
    ACTOR
        .with(|current| current.borrow().clone())
        .unwrap_or_else(|| Actor::new("claimgraph", "write"))
}

/// How a recorded write ended.
pub(crate) enum Outcome {
    Committed { added: u64, removed: u64 },
    Failed(String),
}

/// One recorded write, as `GET /audit` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AuditRecord {
    /// The activity's IRI.
    pub id: String,
    /// Increases by one per write: the order writes were made in.
    pub sequence: u64,
    pub operation: String,
    /// The token's name, or the OS user for command-line writes.
    pub agent: String,
    /// `started`, `committed`, `failed` or `unknown (the process stopped)`.
    pub outcome: String,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub quads_added: Option<u64>,
    pub quads_removed: Option<u64>,
    /// Why the write failed.
    pub message: Option<String>,
    /// Graphs the write read or replaced (`prov:used`).
    pub used: Vec<String>,
    /// Graphs the write added to (`prov:generated`).
    pub generated: Vec<String>,
}

/// The audit store.
pub struct AuditLog {
    store: oxigraph::store::Store,
    base: String,
    next: AtomicU64,
}

impl AuditLog {
    /// Opens (creating if absent) the audit store in `path`, and marks the records a stopped
    /// process left `started` as `unknown`.
    pub fn open(path: &Path, base: &str) -> Result<Self> {
        std::fs::create_dir_all(path)
            .map_err(|e| Error::io(format!("cannot create audit store {}", path.display()), e))?;
        let log = Self {
            store: crate::store::backend::open_on_disk(path)?,
            base: base.to_owned(),
            next: AtomicU64::new(0),
        };
        let outcome = cg("outcome");
        let started = Literal::new_simple_literal("started");
        let stale: Vec<Quad> = log
            .store
            .quads_for_pattern(
                None,
                Some(outcome.as_ref()),
                Some(started.as_ref().into()),
                None,
            )
            .collect::<std::result::Result<_, _>>()?;
        if !stale.is_empty() {
            tracing::warn!(
                records = stale.len(),
                "writes were interrupted by a stop: their audit records say {UNKNOWN:?}"
            );
            let mut transaction = log.store.start_transaction()?;
            for quad in &stale {
                transaction.remove(quad.as_ref());
                transaction.insert(&Quad::new(
                    quad.subject.clone(),
                    outcome.clone(),
                    Literal::new_simple_literal(UNKNOWN),
                    GraphName::DefaultGraph,
                ));
            }
            transaction.commit()?;
        }
        log.next.store(log.last_sequence()? + 1, Ordering::SeqCst);
        Ok(log)
    }

    /// Opens the audit store of a published version read-only (nothing is marked, nothing
    /// written).
    pub(crate) fn open_read_only(path: &Path, base: &str) -> Result<Self> {
        let log = Self {
            store: crate::store::backend::open_read_only(path)?,
            base: base.to_owned(),
            next: AtomicU64::new(0),
        };
        log.next.store(log.last_sequence()? + 1, Ordering::SeqCst);
        Ok(log)
    }

    /// The highest sequence number recorded (0 for none).
    fn last_sequence(&self) -> Result<u64> {
        let sequence = cg("sequence");
        let mut last = 0;
        for quad in self
            .store
            .quads_for_pattern(None, Some(sequence.as_ref()), None, None)
        {
            if let Term::Literal(literal) = quad?.object {
                last = last.max(literal.value().parse::<u64>().unwrap_or(0));
            }
        }
        Ok(last)
    }

    /// The sequence number the next write will be recorded under.
    pub(crate) fn next_sequence(&self) -> u64 {
        self.next.load(Ordering::SeqCst)
    }

    /// The Oxigraph store of the trail, for SPARQL queries by admins and dumps.
    pub fn store(&self) -> &oxigraph::store::Store {
        &self.store
    }

    /// Commits a `started` record of a write by `actor` touching `used` and `generated`, and
    /// returns its IRI. Called with the writer lock held.
    pub(crate) fn start(
        &self,
        actor: &Actor,
        used: &[NamedNode],
        generated: &[NamedNode],
    ) -> Result<NamedNode> {
        let sequence = self.next.fetch_add(1, Ordering::SeqCst);
        let activity = self.iri(&format!("audit/{sequence}"))?;
        let agent = self.iri(&format!(
            "audit/agents/{}",
            form_urlencoded::byte_serialize(actor.agent.as_bytes()).collect::<String>()
        ))?;
        let mut quads = vec![
            (rdf::TYPE.into_owned(), prov("Activity").into()),
            (cg("sequence"), Literal::from(sequence as i64).into()),
            (
                cg("operation"),
                Literal::new_simple_literal(&actor.operation).into(),
            ),
            (cg("outcome"), Literal::new_simple_literal("started").into()),
            (prov("startedAtTime"), now().into()),
            (prov("wasAssociatedWith"), agent.clone().into()),
        ];
        quads.extend(used.iter().map(|g| (prov("used"), Term::from(g.clone()))));
        quads.extend(
            generated
                .iter()
                .map(|g| (prov("generated"), Term::from(g.clone()))),
        );
        let mut transaction = self.store.start_transaction()?;
        for (predicate, object) in quads {
            transaction.insert(&Quad::new(
                activity.clone(),
                predicate,
                object,
                GraphName::DefaultGraph,
            ));
        }
        transaction.insert(&Quad::new(
            agent.clone(),
            rdf::TYPE.into_owned(),
            prov("Agent"),
            GraphName::DefaultGraph,
        ));
        transaction.insert(&Quad::new(
            agent,
            rdfs::LABEL.into_owned(),
            Literal::new_simple_literal(&actor.agent),
            GraphName::DefaultGraph,
        ));
        transaction.commit()?;
        Ok(activity)
    }

    /// Records how the write of `activity` ended.
    pub(crate) fn finish(&self, activity: &NamedNode, outcome: &Outcome) -> Result<()> {
        let mut transaction = self.store.start_transaction()?;
        let triple = |predicate: NamedNode, object: Term| {
            Quad::new(activity.clone(), predicate, object, GraphName::DefaultGraph)
        };
        transaction
            .remove(triple(cg("outcome"), Literal::new_simple_literal("started").into()).as_ref());
        transaction.insert(&triple(prov("endedAtTime"), now().into()));
        match outcome {
            Outcome::Committed { added, removed } => {
                transaction.insert(&triple(
                    cg("outcome"),
                    Literal::new_simple_literal("committed").into(),
                ));
                transaction.insert(&triple(
                    cg("quadsAdded"),
                    Literal::from(*added as i64).into(),
                ));
                transaction.insert(&triple(
                    cg("quadsRemoved"),
                    Literal::from(*removed as i64).into(),
                ));
            }
            Outcome::Failed(message) => {
                transaction.insert(&triple(
                    cg("outcome"),
                    Literal::new_simple_literal("failed").into(),
                ));
                transaction.insert(&triple(
                    cg("message"),
                    Literal::new_simple_literal(message).into(),
                ));
            }
        }
        transaction.commit()?;
        Ok(())
    }

    /// The newest `limit` records, newest first.
    pub fn records(&self, limit: usize) -> Result<Vec<AuditRecord>> {
        let query = spargebra::SparqlParser::new()
            .parse_query(include_str!("../queries/api/audit-records.rq"))?;
        let QueryResults::Solutions(solutions) = SparqlEvaluator::new()
            .for_query(query)
            .on_store(&self.store)
            .execute()?
        else {
            return Err(Error::Invalid("audit-records.rq is not a SELECT".into()));
        };
        let mut records = Vec::new();
        for solution in solutions.take(limit) {
            let solution = solution?;
            let text = |name: &str| match solution.get(name) {
                Some(Term::Literal(literal)) => Some(literal.value().to_owned()),
                Some(Term::NamedNode(node)) => Some(node.as_str().to_owned()),
                _ => None,
            };
            let number = |name: &str| text(name).and_then(|v| v.parse::<u64>().ok());
            let iris = |name: &str| {
                text(name).map_or_else(Vec::new, |v| {
                    v.split_whitespace().map(str::to_owned).collect::<Vec<_>>()
                })
            };
            records.push(AuditRecord {
                id: text("activity").unwrap_or_default(),
                sequence: number("sequence").unwrap_or_default(),
                operation: text("operation").unwrap_or_default(),
                agent: text("agent").unwrap_or_default(),
                outcome: text("outcome").unwrap_or_default(),
                started_at: text("started").unwrap_or_default(),
                ended_at: text("ended"),
                quads_added: number("added"),
                quads_removed: number("removed"),
                message: text("message"),
                used: iris("used"),
                generated: iris("generated"),
            });
        }
        Ok(records)
    }

    fn iri(&self, path: &str) -> Result<NamedNode> {
        NamedNode::new(format!("{}{path}", self.base))
            .map_err(|e| Error::Invalid(format!("invalid audit IRI {}{path}: {e}", self.base)))
    }
}

fn prov(name: &str) -> NamedNode {
    NamedNode::new_unchecked(format!("{PROV}{name}"))
}

fn cg(name: &str) -> NamedNode {
    NamedNode::new_unchecked(format!("{CG}{name}"))
}

/// The current time as an `xsd:dateTime` in UTC, to the microsecond.
pub(crate) fn now() -> Literal {
    let elapsed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let seconds = elapsed.as_secs();
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    Literal::new_typed_literal(
        format!(
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
            rest / 3600,
            rest % 3600 / 60,
            rest % 60,
            elapsed.subsec_micros()
        ),
        xsd::DATE_TIME,
    )
}

/// Year, month and day of a count of days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// A time [`now`] wrote (`YYYY-MM-DDTHH:MM:SS[.fraction]Z`) back as a time (the inverse of
/// [`civil_from_days`] for the date).
pub(crate) fn parse_time(created: &str) -> Option<std::time::SystemTime> {
    let (whole, fraction) = match created.strip_suffix('Z')?.split_once('.') {
        Some((whole, fraction)) => (whole, fraction),
        None => (created.strip_suffix('Z')?, ""),
    };
    let b = whole.as_bytes();
    if b.len() != 19
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    if !fraction.bytes().all(|c| c.is_ascii_digit()) || fraction.len() > 9 {
        return None;
    }
    let n = |range: std::ops::Range<usize>| whole.get(range)?.parse::<i64>().ok();
    let (year, month, day) = (n(0..4)?, n(5..7)?, n(8..10)?);
    let (hour, minute, second) = (n(11..13)?, n(14..16)?, n(17..19)?);
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second;
    let nanos = if fraction.is_empty() {
        0
    } else {
        format!("{fraction:0<9}").parse::<u32>().ok()?
    };
    Some(std::time::UNIX_EPOCH + std::time::Duration::new(u64::try_from(seconds).ok()?, nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_back() {
        use std::time::{Duration, SystemTime};
        let at =
            |s| parse_time(s).map(|t| t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs());
        assert_eq!(at("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(at("2026-12-05T16:24:28Z"), Some(1_796_487_868));
        assert_eq!(at("2024-02-29T23:59:59Z"), Some(1_709_251_199));
        assert_eq!(at("2026-12-05 16:24:28"), None);
        let micros = parse_time("2026-12-05T16:24:28.250000Z").unwrap();
        assert_eq!(
            micros.duration_since(SystemTime::UNIX_EPOCH).unwrap(),
            Duration::new(1_796_487_868, 250_000_000)
        );
    }

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(19_815), (2024, 4, 2));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }

    #[test]
    fn interrupted_writes_become_unknown_and_numbering_continues() {
        let dir = tempfile::tempdir().unwrap();
        let base = crate::DEFAULT_BASE;
        let actor = Actor::new("alice", "sparql-update");
        {
            let log = AuditLog::open(dir.path(), base).unwrap();
            let first = log.start(&actor, &[], &[]).unwrap();
            log.finish(
                &first,
                &Outcome::Committed {
                    added: 2,
                    removed: 1,
                },
            )
            .unwrap();
            log.start(&actor, &[], &[]).unwrap(); // the process "stops" here
        }
        let log = AuditLog::open(dir.path(), base).unwrap();
        let records = log.records(10).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(
            (records[0].sequence, records[0].outcome.as_str()),
            (2, UNKNOWN)
        );
        assert_eq!(records[1].outcome, "committed");
        assert_eq!(
            (records[1].quads_added, records[1].quads_removed),
            (Some(2), Some(1))
        );
        assert_eq!(records[1].agent, "alice");
        assert_eq!(
            log.start(&actor, &[], &[]).unwrap().as_str(),
            format!("{base}audit/3")
        );
    }
}
