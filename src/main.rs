//! The `claimgraph` command line: serve, load, query, dump.

/// mimalloc, not glibc's malloc: Oxigraph allocates per term and per row, and glibc kept the memory
/// of a big query after it ended (Cargo.toml says more).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use claimgraph::audit::{as_actor, Actor};
use claimgraph::formats::{self, RdfSyntax, ResultsSyntax};
use claimgraph::http::{self, ServeConfig};
use claimgraph::loader::{self, RdfFile};
use claimgraph::store::{DatasetParams, OutputFormat};
use claimgraph::{ClaimStore, Error, Result};
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use oxigraph::io::RdfFormat;
use oxigraph::model::NamedNode;
use oxigraph::sparql::CancellationToken;
use std::io::{BufWriter, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// claimgraph: a fact-checking knowledge graph. Claims with provenance (who asserts what, where,
/// copied from what, rated how), stored in an embedded Oxigraph store and served over SPARQL 1.1.
#[derive(Parser)]
#[command(version, propagate_version = true, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the store over HTTP: SPARQL at /sparql, Graph Store at /store, claims and provenance,
    /// linked data, exports.
    ///
    /// Routes: /sparql (SPARQL 1.1 Protocol), /store (Graph Store Protocol), /claims and
    /// /claims/{id} (claims API, pages), /claims/{id}/provenance and /provenance (where a claim or
    /// a triple comes from), every IRI under --base (linked data), /export, /export/claimreview,
    /// /export/nanopubs, /.well-known/void, /ns (the vocabulary), /drafts and /match (drafting
    /// claims from an article, matching a sentence to known claims), /questions (the library of
    /// questions and their answers), /query (the query editor, YASGUI), /assets (the pages'
    /// scripts), /openapi.json, /healthz, /metrics, / (home page), /audit and /audit/sparql (the
    /// audit trail of writes, for admins).
    ///
    /// On start the RDF files and claim sheets under --data and --ontology are loaded into the
    /// store, and loaded again when they change (replacing exactly the graphs they filled before):
    /// the server looks every --reload-interval seconds, and at once on SIGHUP.
    Serve(ServeArgs),
    /// Load RDF files into the store, each file all or nothing.
    ///
    /// The format is taken from the extension (.ttl .nt .nq .trig .rdf .owl .xml .jsonld .n3,
    /// optionally followed by .gz). Triples go to the graph <BASE>graphs/<file stem> unless --graph
    /// is given; quads keep their graphs. Loading a file again adds nothing new: a graph is a set.
    /// Blank nodes are the exception, as each load makes fresh ones.
    Load(LoadArgs),
    /// Run a SPARQL query against the store and print the results.
    ///
    /// The default graph is the union of all graphs, as on the server.
    Query(QueryArgs),
    /// Write the whole store (or one graph) to stdout or a file, streaming.
    Dump(DumpArgs),
    /// Export the store as a dump, the schema.org ClaimReview feed, nanopublications or its
    /// VoID description, streaming (the same bytes as GET /export… on the server).
    ///
    /// Formats: nquads, trig, jsonld (every graph kept); turtle (the union of all graphs as
    /// triples: graph names are dropped); claimreview (JSON-LD, one schema.org ClaimReview per
    /// review, for Google's fact-check markup); nanopubs (one nanopublication per claim: head,
    /// assertion, provenance and publication-info graphs; TriG, or N-Quads with --rdf-format
    /// nquads); void (VoID + DCAT description with counts taken now; Turtle by default). The
    /// store must not be in use by a running server.
    Export(ExportArgs),
    /// Draft claims from an article: anchored, attributed candidates for a curator to review.
    ///
    /// Reads ARTICLE (UTF-8 text, or HTML whose main text is extracted), archives its text as
    /// DATA/texts/KEY.txt and writes a draft claim sheet (DATA/drafts/KEY.toml unless --out):
    /// one candidate per check-worthy clause with its exact quote, the cue that made it a claim,
    /// a proposed status and claimant, the entities, money and dates it mentions (relative dates
    /// resolved against --date), and the known claims (from the sheets under DATA) it most likely
    /// restates with the differences named. A candidate that restates a known claim is drafted as
    /// a new appearance of that claim. Drafts are never loaded by `serve`; docs/claim-sheets.md
    /// says how a draft becomes a sheet.
    ///
    /// With --evaluate SHEET, drafts the sheet's own archived texts with its claims hidden and
    /// prints recall, precision, status and claimant accuracy, and how many candidates link to
    /// the right known claim.
    ///
    /// Example: `claimgraph draft story.html --key ledger-2024-04-04-netflix --publisher "The
    /// Daily Ledger" --date 2024-04-04 --reposts dailymail-2024-04-02-facebook-netflix-dms`
    Draft(DraftArgs),
    /// Validate claim sheets without touching a store.
    ///
    /// Every quote must occur in its source's archived text (once, or the occurrence the sheet
    /// names); the text's SHA-256 must match; every key must be defined; statuses, types, dates,
    /// prefixed names and IRIs must be valid. Each problem is reported as file:line:col with
    /// what to do; the exit code is non-zero if there is any.
    Check(CheckArgs),
    /// Check claim sheets, then write each to the store in one transaction, replacing exactly the
    /// graphs the same sheet wrote before. A sheet with any error changes nothing.
    ///
    /// The claims index (search, facets, matching) is updated once, after the last sheet; if
    /// `ingest` is killed before, it is rebuilt when the store next opens.
    Ingest(IngestArgs),
    /// Recompute every claim's assertion-graph hash and re-anchor every quote against the
    /// archived texts; report drift (non-zero exit if any).
    Verify(VerifyArgs),
    /// Generate a synthetic claims corpus shaped like the seed, for benchmarks.
    ///
    /// Writes DIR/texts/ (archived texts with the quotes in them), DIR/claims/entities.toml and
    /// DIR/claims/batch-NNNNN.toml (claim sheets, --batch claims each, for `ingest`) and
    /// DIR/corpus.nq (exactly the quads those sheets compile to, for `load`). Documents form
    /// chains of 1 to 4 hops back to court filings and statements; statuses follow the seed's
    /// mix; entities' popularity follows a Zipf law; about one claim in 20 is reviewed. Every
    /// batch goes through the real check and compile before it is written. The same --claims,
    /// --seed and --batch give byte-identical output; memory stays flat as --claims grows.
    /// Ingest or load with --data DIR so the archived texts are found.
    Gen(GenArgs),
    /// Hash a token for an --auth file: reads the token from stdin, prints its SHA-256 (hex) and
    /// a ready-to-paste [[token]] block. The file then holds only the hash.
    ///
    /// Example: `head -c 32 /dev/urandom | base64 | tee alice.token | claimgraph hash-token
    /// --name alice --role writer >> auth.toml`
    HashToken(HashTokenArgs),
    /// Copy the store into a new directory, consistently (a RocksDB checkpoint).
    ///
    /// DIR must not exist. On the same file system the copy hard-links the store's immutable
    /// files, so it is quick and takes little new space; it is a complete store either way.
    /// Restore by using the copy as --store (copy it back, or point the server at it). This
    /// command opens the store, so stop the server first; a running server backs itself up
    /// online with POST /admin/backup?dir=DIR (admin token).
    Backup(BackupArgs),
    /// Publish the store as a new immutable version for read-only replicas (`serve --follow`).
    ///
    /// Writes PUBLISH_DIR/GENERATION-DIGEST/: a consistent copy of the store, its audit trail
    /// and its claims index (RocksDB checkpoint and hard links on one file system, so quick and
    /// small), the archived texts its sources name (from --data), `changes.rdfp` (the RDF Patch
    /// from the previous version) and `manifest.json` (generation, the dataset's SHA-256 digest,
    /// quads, claims, creation time, base IRI, the data directory's git commit, every file with
    /// its size and SHA-256). --data and --ontology are synced into the store first, as `serve`
    /// does at start-up, so a checkout of the data repository is published in one command. The
    /// version is assembled in a hidden directory and renamed into
    /// place when complete; an existing version is never changed. Generations only grow. The
    /// store must not be in use by a running server. See docs/deploy.md.
    ///
    /// Example: `git -C data pull && claimgraph publish --to /srv/claimgraph/versions --keep 5`
    Publish(PublishArgs),
    /// The RDF Patch from one published version to another, on stdout.
    ///
    /// VERSION_A and VERSION_B are version directories (PUBLISH_DIR/GENERATION-DIGEST). The
    /// patch (the format Apache Jena's RDF Delta replicates with) has headers `H id` and `H prev`
    /// naming the two versions, then `TX .`, a `D` line per quad only in A, an `A` line per quad
    /// only in B, and `TC .`: applied to A's quads it gives B's. A replica serves the same
    /// changes at GET /changes?since=GENERATION.
    Diff(DiffArgs),
    /// Rebuild the claims index (`<store>/index`: search, facets, matching) from the store.
    ///
    /// Never needed in normal use: every write updates the index before it returns, and a store
    /// whose index does not follow its last write (a crash between the two, a copied store, a
    /// corrupt index) is reindexed when opened. The store must not be in use by a running server.
    Reindex(ReindexArgs),
    /// Import the world's fact-checks: schema.org ClaimReview feeds, linked to the claims
    /// already in the graph (see docs/import.md).
    #[command(subcommand)]
    Import(ImportCommand),
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Import ClaimReview files: a Data Commons DataFeed (`dataFeedElement`), a dump of one
    /// JSON-LD object per line (each possibly in a `<script type="application/ld+json">` tag),
    /// a Fact Check Tools API `claims:search` answer (`claims`), or JSON-LD as pages embed it
    /// (an object, an array, `@graph`).
    ///
    /// Each file is one import, in the graph `<base>graphs/imports/NAME` (NAME: the file's name
    /// as a slug, or --name), replaced whole when the file changed and left alone when it did not.
    /// Each review's claim is matched against the claims already in the graph and linked
    /// (cg:sameClaimAs) from --threshold on. An item that cannot be imported is skipped and
    /// named (position and reason); a file that cannot be read changes nothing. Prints a summary
    /// (JSON with --json).
    ///
    /// Example: `claimgraph import claimreview --store claimgraph.db feeds/datafeed.json`
    Claimreview(ImportArgs),
    /// List the imports the store holds: name, file, SHA-256, when, reviews.
    List(ImportListArgs),
    /// Remove an import: its graph, with every review, claim and link it brought.
    Remove(ImportRemoveArgs),
}

#[derive(Args)]
struct ImportArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The files to import (JSON, JSON lines, JSON-LD, or script tags of JSON-LD).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// The import's name (a slug), when one file is given; default: the file's name.
    #[arg(long)]
    name: Option<String>,
    /// Link an imported claim to the best known claim scoring at least this (cosine, 0 to 1).
    #[arg(long, default_value_t = claimgraph::import::THRESHOLD)]
    threshold: f64,
    /// Do not match imported claims against known ones.
    #[arg(long)]
    no_link: bool,
    /// Match again the claims an earlier import of the same name brought (by default they keep
    /// the link they got then, so that importing the same file twice changes nothing).
    #[arg(long, conflicts_with = "no_link")]
    relink: bool,
    /// Print each summary as JSON on stdout.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct ImportListArgs {
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Args)]
struct ImportRemoveArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The import's name (see `import list`).
    name: String,
}

#[derive(Args)]
struct ReindexArgs {
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Args)]
struct HashTokenArgs {
    /// The name recorded in the audit trail for this token's writes (never the token itself).
    #[arg(long, default_value = "NAME")]
    name: String,
    /// writer (SPARQL updates, Graph Store writes) or admin (also the audit trail).
    #[arg(long, default_value = "writer", value_parser = ["writer", "admin"])]
    role: String,
}

#[derive(Args)]
struct PublishArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The publish directory (created if absent); replicas follow it with `serve --follow`.
    #[arg(long, value_name = "PUBLISH_DIR")]
    to: PathBuf,
    /// Keep only the N newest versions, removing older ones after publishing.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    keep: Option<u64>,
    /// The data directory: synced into the store first (as `serve` does at start-up: changed
    /// RDF files and claim sheets replace their graphs, all or nothing), then the archived texts
    /// are copied from it; its git commit, if it is a clean checkout, goes into the manifest.
    #[arg(long, env = "CLAIMGRAPH_DATA", default_value = "data")]
    data: PathBuf,
    /// Directory of the ontology files, synced like --data.
    #[arg(long, env = "CLAIMGRAPH_ONTOLOGY", default_value = "ontology")]
    ontology: PathBuf,
    /// Publish the store as it is, without syncing --data and --ontology into it first.
    #[arg(long)]
    no_sync: bool,
}

#[derive(Args)]
struct DiffArgs {
    /// The version the patch goes from.
    version_a: PathBuf,
    /// The version the patch goes to.
    version_b: PathBuf,
}

#[derive(Args)]
struct BackupArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// New directory to write the backup into.
    dir: PathBuf,
}

#[derive(Args)]
struct CheckArgs {
    /// Data directory: archived texts must live under it, and their paths are recorded relative
    /// to it.
    #[arg(long, env = "CLAIMGRAPH_DATA", default_value = "data")]
    data: PathBuf,
    /// Claim sheets (.toml); they may refer to each other's keys.
    #[arg(required = true)]
    sheets: Vec<PathBuf>,
}

#[derive(Args)]
struct DraftArgs {
    /// The article: a UTF-8 text file or an HTML page.
    #[arg(required_unless_present = "evaluate")]
    article: Option<PathBuf>,
    /// Source key for the article (lower-case letters, digits, hyphens); also names its archived
    /// text and the draft.
    #[arg(long, required_unless_present = "evaluate")]
    key: Option<String>,
    /// The publisher: an entity key or name from the data, or a new outlet's name.
    #[arg(long, required_unless_present = "evaluate")]
    publisher: Option<String>,
    /// Publication date, YYYY-MM-DD: relative dates in the text are resolved against it.
    #[arg(long, required_unless_present = "evaluate")]
    date: Option<String>,
    /// Headline (default: the article's first line when it stands alone).
    #[arg(long)]
    title: Option<String>,
    /// The article's URL.
    #[arg(long)]
    url: Option<String>,
    /// Source type: NewsArticle, CourtFiling, Statement or WebPage.
    #[arg(long, default_value = "NewsArticle")]
    kind: String,
    /// Key of the source this article reposts wholesale.
    #[arg(long, conflicts_with = "quotes")]
    reposts: Option<String>,
    /// Key of the source this article quotes from.
    #[arg(long)]
    quotes: Option<String>,
    /// Where to write the draft sheet (default: DATA/drafts/KEY.toml).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Replace an existing draft or archived text of the same key, and allow a key in use.
    #[arg(long)]
    force: bool,
    /// Print the draft as JSON on stdout as well.
    #[arg(long)]
    json: bool,
    /// Data directory: its sheets are what is known; texts and drafts are written under it.
    #[arg(long, env = "CLAIMGRAPH_DATA", default_value = "data")]
    data: PathBuf,
    /// Evaluate drafting against these hand-made sheets instead (see above).
    #[arg(long, num_args = 1.., conflicts_with_all = ["article", "key", "publisher", "date"])]
    evaluate: Vec<PathBuf>,
}

#[derive(Args)]
struct IngestArgs {
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    check: CheckArgs,
}

#[derive(Args)]
struct VerifyArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Data directory holding the archived texts.
    #[arg(long, env = "CLAIMGRAPH_DATA", default_value = "data")]
    data: PathBuf,
}

#[derive(Args)]
struct GenArgs {
    /// Number of claims to generate.
    #[arg(long)]
    claims: usize,
    /// Seed of the pseudo-random generator: the same seed gives the same corpus.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output directory; created if absent, and it must be empty.
    #[arg(long)]
    out: PathBuf,
    /// What to write besides the archived texts: nquads (DIR/corpus.nq), sheets
    /// (DIR/claims/*.toml) or both.
    #[arg(long, default_value = "both")]
    format: String,
    /// Claims per sheet; also what is held in memory at a time.
    #[arg(long, default_value_t = 1000)]
    batch: usize,
    /// Base IRI the quads of corpus.nq are minted under (use the same one to ingest).
    #[arg(long, env = "CLAIMGRAPH_BASE", default_value = claimgraph::DEFAULT_BASE)]
    base: String,
    /// Also write DIR/reviews.json: a schema.org DataFeed of this many ClaimReviews by
    /// fictional fact-checkers (for `import claimreview`; its benchmark).
    #[arg(long)]
    reviews: Option<usize>,
}

#[derive(Args)]
struct StoreArgs {
    /// Directory of the embedded RocksDB store; created if absent.
    #[arg(long, env = "CLAIMGRAPH_STORE", default_value = "claimgraph.db")]
    store: PathBuf,
    /// Base IRI of everything the project mints; relative IRIs in data files and queries
    /// resolve against it.
    #[arg(long, env = "CLAIMGRAPH_BASE", default_value = claimgraph::DEFAULT_BASE)]
    base: String,
}

impl StoreArgs {
    fn open(&self) -> Result<ClaimStore> {
        ClaimStore::open(&self.store, &claimgraph::normalise_base(&self.base)?)
    }
}

#[derive(Args)]
struct ServeArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Address to listen on (port 0 picks a free port; the address is printed on start).
    #[arg(long, env = "CLAIMGRAPH_BIND", default_value = "127.0.0.1:7878")]
    bind: String,
    /// Directory of data files (RDF) to load on start and reload when they change.
    #[arg(long, env = "CLAIMGRAPH_DATA", default_value = "data")]
    data: PathBuf,
    /// Directory of the ontology files, loaded like --data.
    #[arg(long, env = "CLAIMGRAPH_ONTOLOGY", default_value = "ontology")]
    ontology: PathBuf,
    /// Seconds between looks for changed files under --data and --ontology (0: only at start-up
    /// and on SIGHUP). A change is synced like at start-up: all or nothing.
    #[arg(long, env = "CLAIMGRAPH_RELOAD_INTERVAL", default_value_t = 2)]
    reload_interval: u64,
    /// Refuse every write over HTTP (403), even with the write token.
    #[arg(long, env = "CLAIMGRAPH_READ_ONLY")]
    read_only: bool,
    /// TOML file of named tokens with roles, stored as SHA-256 hashes: `[[token]]` tables with
    /// `name`, `role` ("writer" or "admin") and `sha256` (`claimgraph hash-token` makes them).
    /// Sent as `Authorization: Bearer <token>`. Reads need no token; writes (SPARQL updates,
    /// Graph Store PUT/POST/DELETE) need a writer (401 without a token, 403 with too small a
    /// role); the audit trail (/audit, /audit/sparql) an admin.
    #[arg(long, env = "CLAIMGRAPH_AUTH")]
    auth: Option<PathBuf>,
    /// A writer's token, named `write-token` in the audit trail (a shortcut for --auth). Prefer
    /// the environment variable: command lines are visible to other users of the machine.
    #[arg(long, env = "CLAIMGRAPH_WRITE_TOKEN", hide_env_values = true)]
    write_token: Option<String>,
    /// An admin's token, named `admin-token` in the audit trail (a shortcut for --auth).
    #[arg(long, env = "CLAIMGRAPH_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// Seconds a SPARQL query may run, evaluation and streaming together (0: no limit). A query
    /// stopped before its first result gets 500 naming the limit; one stopped while streaming
    /// has its response aborted, never cut short as if complete.
    #[arg(long, env = "CLAIMGRAPH_QUERY_TIMEOUT", default_value_t = 30)]
    query_timeout: u64,
    /// SPARQL queries evaluated or streamed at once (default: 2 x CPU cores, at least 4). More
    /// wait their turn in arrival order, up to --query-timeout (the wait does not count against
    /// the query's own time), then get 503 and Retry-After: 1; other routes keep answering.
    #[arg(long, env = "CLAIMGRAPH_MAX_QUERIES", value_parser = clap::value_parser!(u64).range(1..))]
    max_queries: Option<u64>,
    /// SPARQL queries that may wait for one of the --max-queries slots at once; one more is
    /// refused at once with 503 and Retry-After: 1.
    #[arg(long, env = "CLAIMGRAPH_MAX_QUEUED_QUERIES", default_value_t = http::Limits::DEFAULT_MAX_QUEUED_QUERIES)]
    max_queued_queries: usize,
    /// Lookups run at once: the store work of the claims, provenance, linked-data and audit
    /// routes, except their streamed RDF (default: 6 x CPU cores). More wait their turn in
    /// arrival order, up to --query-timeout, then get 503 and Retry-After: 1.
    #[arg(long, env = "CLAIMGRAPH_MAX_LOOKUPS", value_parser = clap::value_parser!(u64).range(1..))]
    max_lookups: Option<u64>,
    /// Largest request body on /sparql, and largest query or update text, in bytes (413 beyond).
    #[arg(long, env = "CLAIMGRAPH_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    max_body_bytes: usize,
    /// Solutions (or triples) one /sparql result may hold (0: no limit). Beyond it the answer is
    /// 500 naming the limit, or, once results are streaming, an aborted response.
    #[arg(long, env = "CLAIMGRAPH_MAX_RESULT_ROWS", default_value_t = 1_000_000)]
    max_result_rows: u64,
    /// Bytes one serialised /sparql result may take (0: no limit); beyond it, as for rows.
    #[arg(long, env = "CLAIMGRAPH_MAX_RESULT_BYTES", default_value_t = 1 << 30)]
    max_result_bytes: u64,
    /// Largest Graph Store upload (/store PUT and POST, every part together), in bytes (413
    /// beyond). Larger files go in with `claimgraph load`.
    #[arg(long, env = "CLAIMGRAPH_MAX_UPLOAD_BYTES", default_value_t = 64 << 20)]
    max_upload_bytes: usize,
    /// Seconds a client may take to send a request's headers before the connection is closed
    /// (slow clients, slowloris; 0: no limit).
    #[arg(long, env = "CLAIMGRAPH_HEADER_TIMEOUT", default_value_t = 10)]
    header_timeout: u64,
    /// Seconds a client may take to send a request's body, counted from the end of its headers
    /// (0: no limit). A slower one gets 408 and the connection is closed, so a client sending a
    /// byte at a time cannot hold a connection open; a large upload over a slow link needs more.
    #[arg(long, env = "CLAIMGRAPH_BODY_TIMEOUT", default_value_t = 60)]
    body_timeout: u64,
    /// Serve as a read-only replica: the newest published version in PUBLISH_DIR (`claimgraph
    /// publish --to`), moving to each newer one as it appears (requests in flight finish on the
    /// version they began on). --store, --data, --ontology and --base are not used: the version
    /// holds its store, texts and base IRI. A version is opened only when every file its
    /// manifest lists has the listed size and SHA-256. Writes get 403. Every answer names its
    /// version in the Claimgraph-Version header.
    #[arg(long, env = "CLAIMGRAPH_FOLLOW", value_name = "PUBLISH_DIR")]
    follow: Option<PathBuf>,
    /// Seconds between looks at --follow's directory for a newer version.
    #[arg(long, env = "CLAIMGRAPH_FOLLOW_INTERVAL", default_value_t = 1.0)]
    follow_interval: f64,
    /// Where POST /admin/publish (admin token) publishes versions of this server's store for
    /// replicas, while it keeps serving (as `claimgraph publish --to`, without the data sync:
    /// the server syncs on its own).
    #[arg(long, env = "CLAIMGRAPH_PUBLISH_TO", value_name = "PUBLISH_DIR")]
    publish_to: Option<PathBuf>,
    /// With --publish-to: keep only the N newest versions.
    #[arg(long, env = "CLAIMGRAPH_PUBLISH_KEEP", value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    publish_keep: Option<u64>,
    /// The primary's address, named in the 403 a replica answers writes with.
    #[arg(long, env = "CLAIMGRAPH_PRIMARY", value_name = "URL")]
    primary: Option<String>,
    /// Seconds caches may serve an answer without asking again (Cache-Control max-age; default:
    /// 0 on a primary, where any write changes answers, so caches revalidate and get 304 while
    /// nothing changed; 60 on a replica, whose version changes only when one is published).
    #[arg(long, env = "CLAIMGRAPH_CACHE_MAX_AGE")]
    cache_max_age: Option<u64>,
    /// Seconds past max-age a cache may serve a stale answer while it revalidates in the
    /// background (Cache-Control stale-while-revalidate; default 0 on a primary, 300 on a
    /// replica).
    #[arg(long, env = "CLAIMGRAPH_CACHE_STALE_WHILE_REVALIDATE")]
    cache_stale_while_revalidate: Option<u64>,
}

#[derive(Args)]
struct LoadArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Graph IRI for the triples of every file (instead of <BASE>graphs/<file stem>).
    #[arg(long)]
    graph: Option<String>,
    /// RDF files to load.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

#[derive(Args)]
struct QueryArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The SPARQL query text (or use --file).
    #[arg(required_unless_present = "file", conflicts_with = "file")]
    query: Option<String>,
    /// Read the query from this file (`-` for stdin), e.g. one from queries/.
    #[arg(long, short)]
    file: Option<PathBuf>,
    /// Output format. SELECT/ASK: json, xml, csv, tsv (default json). CONSTRUCT/DESCRIBE:
    /// turtle, ntriples, nquads, trig, rdfxml, jsonld, n3 (default turtle).
    #[arg(long)]
    format: Option<String>,
    /// Graph IRI to use as the default graph instead of the union (repeatable).
    #[arg(long = "default-graph")]
    default_graphs: Vec<String>,
    /// Graph IRI available to GRAPH (repeatable); with neither option every graph is.
    #[arg(long = "named-graph")]
    named_graphs: Vec<String>,
}

#[derive(Args)]
struct DumpArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Output format: nquads, trig or jsonld for the whole store; any RDF format with --graph.
    #[arg(long, default_value = "nquads")]
    format: String,
    /// Dump only this graph.
    #[arg(long)]
    graph: Option<String>,
    /// Write to this file instead of stdout.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Write RDFC-1.0 canonical N-Quads (blank nodes relabelled canonically, quads sorted): two
    /// stores hold the same data exactly when their canonical dumps are equal. Built in memory,
    /// so meant for comparisons, not for large stores.
    #[arg(long, conflicts_with = "format")]
    canonical: bool,
}

#[derive(Args)]
struct ExportArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// What to export: nquads, trig, turtle, jsonld, claimreview, nanopubs or void.
    #[arg(long, default_value = "nquads")]
    format: String,
    /// RDF syntax of --format nanopubs (trig, nquads) or void (any RDF format; default turtle).
    #[arg(long)]
    rdf_format: Option<String>,
    /// Write to this file instead of stdout.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Compress the output with gzip (name the file .gz).
    #[arg(long)]
    gzip: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CLAIMGRAPH_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tantivy=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let outcome = match cli.command {
        Command::Serve(args) => serve(args),
        Command::Load(args) => load(args),
        Command::Query(args) => query(args),
        Command::Dump(args) => dump(args),
        Command::Export(args) => export(args),
        Command::Check(args) => check(args),
        Command::Draft(args) => draft(args),
        Command::Ingest(args) => ingest(args),
        Command::Verify(args) => verify(args),
        Command::Gen(args) => synthesise(args),
        Command::HashToken(args) => hash_token(args),
        Command::Backup(args) => backup(args),
        Command::Publish(args) => publish(args),
        Command::Diff(args) => diff(args),
        Command::Reindex(args) => reindex(args),
        Command::Import(ImportCommand::Claimreview(args)) => import_claimreview(args),
        Command::Import(ImportCommand::List(args)) => import_list(args),
        Command::Import(ImportCommand::Remove(args)) => import_remove(args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            for line in explain(&error).lines() {
                eprintln!("error: {line}");
            }
            ExitCode::FAILURE
        }
    }
}

/// The error message, with advice where a common cause is known.
fn explain(error: &Error) -> String {
    let message = error.to_string();
    if matches!(error, Error::Storage(_)) && message.contains("lock") {
        format!("{message}\n(the store is in use by another process: is `claimgraph serve` running on it?)")
    } else {
        message
    }
}

/// A concurrency cap from the command line, or its default.
fn cap(given: Option<u64>, default: fn() -> usize) -> usize {
    given.map_or_else(default, |n| usize::try_from(n).unwrap_or(usize::MAX))
}

fn serve(args: ServeArgs) -> Result<()> {
    let config = ServeConfig {
        base: claimgraph::normalise_base(&args.store.base)?,
        store: args.store.store,
        bind: args.bind,
        data_dirs: vec![args.ontology, args.data],
        reload_interval: (args.reload_interval > 0)
            .then(|| std::time::Duration::from_secs(args.reload_interval)),
        read_only: args.read_only,
        write_token: args.write_token.filter(|t| !t.is_empty()),
        admin_token: args.admin_token.filter(|t| !t.is_empty()),
        auth_file: args.auth,
        limits: http::Limits {
            query_timeout: (args.query_timeout > 0)
                .then(|| std::time::Duration::from_secs(args.query_timeout)),
            max_queries: cap(args.max_queries, http::Limits::default_max_queries),
            max_lookups: cap(args.max_lookups, http::Limits::default_max_lookups),
            max_body_bytes: args.max_body_bytes,
            max_result_rows: (args.max_result_rows > 0).then_some(args.max_result_rows),
            max_result_bytes: (args.max_result_bytes > 0).then_some(args.max_result_bytes),
            max_upload_bytes: args.max_upload_bytes,
            header_timeout: (args.header_timeout > 0)
                .then(|| std::time::Duration::from_secs(args.header_timeout)),
            body_timeout: (args.body_timeout > 0)
                .then(|| std::time::Duration::from_secs(args.body_timeout)),
            max_queued_queries: args.max_queued_queries,
        },
        caching: {
            let default = if args.follow.is_some() {
                http::Caching::REPLICA
            } else {
                http::Caching::PRIMARY
            };
            Some(http::Caching {
                max_age: args.cache_max_age.unwrap_or(default.max_age),
                stale_while_revalidate: args
                    .cache_stale_while_revalidate
                    .unwrap_or(default.stale_while_revalidate),
            })
        },
        publish_to: args.publish_to,
        publish_keep: args
            .publish_keep
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
        follow: match args.follow {
            Some(dir) => {
                if !(args.follow_interval > 0.0 && args.follow_interval.is_finite()) {
                    return Err(Error::Invalid(format!(
                        "--follow-interval {} is not a positive number of seconds",
                        args.follow_interval
                    )));
                }
                Some(http::FollowConfig {
                    dir,
                    interval: std::time::Duration::from_secs_f64(args.follow_interval),
                    primary: args.primary,
                })
            }
            None => None,
        },
    };
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("cannot start the async runtime", e))?
        .block_on(http::serve(config))
}

fn load(args: LoadArgs) -> Result<()> {
    let store = args.store.open()?;
    let graph = args.graph.as_deref().map(parse_iri).transpose()?;
    // Check every file before loading any, so a typo in the last name wastes no time.
    let files = args
        .files
        .iter()
        .map(|path| RdfFile::detect_or_explain(path))
        .collect::<Result<Vec<_>>>()?;
    for file in &files {
        let started = Instant::now();
        let size = std::fs::metadata(&file.path)
            .map_err(|e| Error::io(format!("cannot read {}", file.path.display()), e))?
            .len();
        let bar = ProgressBar::new(size).with_style(
            ProgressStyle::with_template(
                "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar.set_message(file.path.display().to_string());
        let count = as_actor(Actor::os_user("cli-load"), || {
            loader::load_file(&store, file, graph.as_ref(), |read| bar.set_position(read))
        });
        bar.finish_and_clear();
        let count = count?;
        eprintln!(
            "loaded {count} quads from {} in {:.1?}",
            file.path.display(),
            started.elapsed()
        );
    }
    Ok(())
}

fn query(args: QueryArgs) -> Result<()> {
    let text = match (&args.query, &args.file) {
        (Some(text), _) => text.clone(),
        (None, Some(path)) if path.as_os_str() == "-" => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| Error::io("cannot read the query from stdin", e))?;
            text
        }
        (None, Some(path)) => std::fs::read_to_string(path)
            .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?,
        (None, None) => return Err(Error::Invalid("no query given".into())),
    };
    let store = args.store.open()?;
    let query = store.parse_query(&text)?;
    let graph_result = matches!(
        query,
        spargebra::Query::Construct { .. } | spargebra::Query::Describe { .. }
    );
    let format = match (graph_result, args.format.as_deref()) {
        (false, None) => OutputFormat::Results(formats::RESULTS_SYNTAXES[0].format),
        (true, None) => OutputFormat::Rdf(formats::RDF_SYNTAXES[0].format),
        (false, Some(name)) => OutputFormat::Results(
            ResultsSyntax::by_name(name)
                .ok_or_else(|| {
                    Error::Invalid(format!(
                        "--format {name}: SELECT and ASK results can be {}",
                        formats::results_names()
                    ))
                })?
                .format,
        ),
        (true, Some(name)) => OutputFormat::Rdf(
            RdfSyntax::by_name(name)
                .ok_or_else(|| {
                    Error::Invalid(format!(
                        "--format {name}: CONSTRUCT and DESCRIBE results can be {}",
                        formats::rdf_names()
                    ))
                })?
                .format,
        ),
    };
    let dataset = DatasetParams {
        default_graphs: args
            .default_graphs
            .iter()
            .map(|g| parse_iri(g))
            .collect::<Result<_>>()?,
        named_graphs: args
            .named_graphs
            .iter()
            .map(|g| parse_iri(g))
            .collect::<Result<_>>()?,
    };
    let stdout = std::io::stdout().lock();
    let mut out = store
        .start_query(query, &dataset, format, CancellationToken::new())?
        .write_to(BufWriter::new(stdout))?;
    out.flush()
        .map_err(|e| Error::io("cannot write to stdout", e))
}

fn dump(args: DumpArgs) -> Result<()> {
    let syntax = RdfSyntax::by_name(&args.format).ok_or_else(|| {
        Error::Invalid(format!(
            "--format {}: choose one of {}",
            args.format,
            formats::rdf_names()
        ))
    })?;
    let graph = args.graph.as_deref().map(parse_iri).transpose()?;
    let store = args.store.open()?;
    let mut writer = output(args.output.as_deref())?;
    if args.canonical {
        let nquads = store.dump(RdfFormat::NQuads, graph.as_ref(), Vec::new())?;
        let nquads = String::from_utf8(nquads)
            .map_err(|e| Error::Invalid(format!("the dump is not UTF-8: {e}")))?;
        writer
            .write_all(claimgraph::canonical::canonical_nquads(&nquads)?.as_bytes())
            .map_err(|e| Error::io("cannot write the dump", e))?;
    } else {
        writer = store.dump(syntax.format, graph.as_ref(), writer)?;
    }
    writer
        .flush()
        .map_err(|e| Error::io("cannot write the dump", e))
}

/// Where `dump` and `export` write: the `--output` file (created), or stdout; buffered.
fn output(path: Option<&std::path::Path>) -> Result<BufWriter<Box<dyn Write>>> {
    let writer: Box<dyn Write> = match path {
        Some(path) => Box::new(
            std::fs::File::create(path)
                .map_err(|e| Error::io(format!("cannot create {}", path.display()), e))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    Ok(BufWriter::new(writer))
}

fn export(args: ExportArgs) -> Result<()> {
    let export = claimgraph::export::Export::by_name(&args.format, args.rdf_format.as_deref())?;
    if args.rdf_format.is_some()
        && !matches!(
            args.format.to_ascii_lowercase().as_str(),
            "nanopubs" | "void"
        )
    {
        return Err(Error::Invalid(format!(
            "--rdf-format applies to --format nanopubs or void, not {}",
            args.format
        )));
    }
    let store = args.store.open()?;
    let mut writer = output(args.output.as_deref())?;
    export.write(&store, &CancellationToken::new(), args.gzip, &mut writer)?;
    writer
        .flush()
        .map_err(|e| Error::io("cannot write the export", e))
}

fn check(args: CheckArgs) -> Result<()> {
    let compiled = claimgraph::claims::prepare(&args.sheets, &args.data, claimgraph::DEFAULT_BASE)
        .map_err(Error::Multiple)?;
    let claims: usize = compiled.iter().map(|s| s.claims).sum();
    eprintln!(
        "ok: {} sheet(s), {claims} claims, {} quads",
        compiled.len(),
        compiled.iter().map(|s| s.quads.len()).sum::<usize>()
    );
    Ok(())
}

fn draft(args: DraftArgs) -> Result<()> {
    use claimgraph::draft::{evaluate, files};
    if !args.evaluate.is_empty() {
        let mut sheets = files::sheets_under(&args.data)?;
        for path in &args.evaluate {
            let canonical = path.canonicalize().ok();
            if !sheets
                .iter()
                .any(|s| s.path.canonicalize().ok() == canonical)
            {
                sheets.extend(
                    claimgraph::claims::read_sheets(std::slice::from_ref(path))
                        .map_err(Error::Multiple)?,
                );
            }
        }
        for path in &args.evaluate {
            let canonical = path.canonicalize().ok();
            let index = sheets
                .iter()
                .position(|s| s.path.canonicalize().ok() == canonical)
                .expect("read above");
            let figures = evaluate::evaluate(&sheets, index)?;
            if args.json {
                println!("{}", serde_json::to_string(&figures).expect("serialisable"));
            } else {
                println!("{figures}");
            }
        }
        return Ok(());
    }
    let path = args.article.expect("required by clap");
    let bytes = std::fs::read(&path)
        .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
    let text = files::article_text(&path.display().to_string(), &bytes)?;
    let options = files::Options {
        key: args.key.unwrap_or_default(),
        publisher: args.publisher.unwrap_or_default(),
        date: args.date.unwrap_or_default(),
        title: args.title,
        url: args.url,
        kind: Some(args.kind),
        reposts: args.reposts,
        quotes: args.quotes,
        force: args.force,
    };
    let known = files::known_under(&args.data)?;
    let started = Instant::now();
    let draft = files::draft_article(text.clone(), &options, &known)?;
    let elapsed = started.elapsed();
    let (text_path, sheet_path) =
        files::write(&args.data, &draft, &text, args.out.as_deref(), args.force)?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&draft).expect("serialisable")
        );
    }
    let restating = draft
        .candidates
        .iter()
        .filter(|c| c.restates.is_some())
        .count();
    eprintln!(
        "drafted {} candidates ({restating} restating known claims) in {:.1} ms: {}\narchived the text as {}",
        draft.candidates.len(),
        elapsed.as_secs_f64() * 1000.0,
        sheet_path.display(),
        text_path.display()
    );
    Ok(())
}

fn ingest(args: IngestArgs) -> Result<()> {
    let store = args.store.open()?;
    let compiled = claimgraph::claims::prepare(&args.check.sheets, &args.check.data, store.base())
        .map_err(Error::Multiple)?;
    // The claims index follows once, after the last sheet (each claim's document read once).
    let claims = compiled.iter().map(|sheet| sheet.claims).sum();
    store.with_index_deferred(
        claims,
        || {
            // Each compiled sheet is dropped once written.
            for sheet in compiled {
                let key = claimgraph::loader::record_key(&args.check.data, &sheet.path);
                let quads = as_actor(Actor::os_user("cli-ingest"), || {
                    claimgraph::claims::ingest(&store, &sheet, &key)
                })?;
                eprintln!(
                    "ingested {}: {} claims, {quads} quads",
                    sheet.path.display(),
                    sheet.claims
                );
            }
            Ok(())
        },
        |claims| match claims {
            0 => eprintln!("rebuilding the claims index"),
            n => eprintln!("updating the claims index: {n} claims"),
        },
    )
}

fn import_claimreview(args: ImportArgs) -> Result<()> {
    use claimgraph::import;
    if args.name.is_some() && args.files.len() > 1 {
        return Err(Error::Invalid(
            "--name names one import: give one file with it".into(),
        ));
    }
    if !(0.0..=1.0).contains(&args.threshold) {
        return Err(Error::Invalid(format!(
            "--threshold {} is not between 0 and 1",
            args.threshold
        )));
    }
    let store = args.store.open()?;
    for path in &args.files {
        let file = std::fs::File::open(path)
            .map_err(|e| Error::io(format!("cannot open {}", path.display()), e))?;
        let size = std::fs::metadata(path)
            .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?
            .len();
        let options = import::Options {
            name: args
                .name
                .clone()
                .unwrap_or_else(|| import::name_of_file(path)),
            file_name: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            threshold: (!args.no_link).then_some(args.threshold),
            relink: args.relink,
        };
        let bar = ProgressBar::new(size).with_style(
            ProgressStyle::with_template(
                "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar.set_message(path.display().to_string());
        let started = Instant::now();
        let report = as_actor(Actor::os_user("cli-import"), || {
            import::import(
                &store,
                std::io::BufReader::new(file),
                &options,
                &mut |read| bar.set_position(read),
            )
        });
        bar.finish_and_clear();
        let report = report.map_err(|e| match e {
            Error::Invalid(message) if !message.starts_with(&path.display().to_string()) => {
                Error::Invalid(format!("{}: {message}", path.display()))
            }
            other => other,
        })?;
        store.flush()?;
        if args.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&report).expect("a report serialises")
            );
        }
        eprintln!("{}", import_summary(&report, started.elapsed()));
    }
    Ok(())
}

fn import_summary(report: &claimgraph::import::Report, took: std::time::Duration) -> String {
    let mut out = format!(
        "{} ({}): {} reviews, {} claims, {} organisations; ratings: {} normalised, {} unknown; \
         {} linked to known claims; {} item(s) skipped; {} in {:.1?}",
        report.file,
        report.name,
        report.reviews,
        report.claims,
        report.organizations,
        report.normalized,
        report.unknown_ratings,
        report.links,
        report.skipped.len(),
        if report.changed {
            format!("{} quads written to {}", report.quads, report.graph)
        } else {
            "unchanged since the last import, nothing written".to_owned()
        },
        took
    );
    for (label, count) in &report.unknown_labels {
        out.push_str(&format!("\n  unknown rating label {label:?}: {count}"));
    }
    for skipped in &report.skipped {
        out.push_str(&format!(
            "\n  skipped {}: {}",
            skipped.position, skipped.reason
        ));
    }
    out
}

fn import_list(args: ImportListArgs) -> Result<()> {
    let store = args.store.open()?;
    let imports = claimgraph::import::list(&store)?;
    if imports.is_empty() {
        eprintln!("no imports");
    }
    for listed in imports {
        println!(
            "{}\t{}\t{}\t{}\t{} reviews",
            listed.name,
            listed.file.unwrap_or_default(),
            listed.sha256.unwrap_or_default(),
            listed.ended.unwrap_or_default(),
            listed.reviews.unwrap_or_default()
        );
    }
    Ok(())
}

fn import_remove(args: ImportRemoveArgs) -> Result<()> {
    let store = args.store.open()?;
    let removed = as_actor(Actor::os_user("cli-import"), || {
        claimgraph::import::remove(&store, &args.name)
    })?;
    store.flush()?;
    if !removed {
        return Err(Error::Invalid(format!(
            "there is no import named {:?} (see `claimgraph import list`)",
            args.name
        )));
    }
    eprintln!("removed the import {}", args.name);
    Ok(())
}

fn verify(args: VerifyArgs) -> Result<()> {
    let store = args.store.open()?;
    let drift = claimgraph::claims::verify(&store, &args.data)?;
    for problem in &drift.problems {
        println!("drift: {problem}");
    }
    eprintln!(
        "verified {} claims and {} appearances: {} problem(s)",
        drift.checked_claims,
        drift.checked_appearances,
        drift.problems.len()
    );
    if drift.problems.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "{} problem(s) found",
            drift.problems.len()
        )))
    }
}

fn synthesise(args: GenArgs) -> Result<()> {
    use claimgraph::synth::{GenConfig, GenFormat};
    let format = GenFormat::by_name(&args.format).ok_or_else(|| {
        Error::Invalid(format!(
            "--format {}: choose one of nquads, sheets, both",
            args.format
        ))
    })?;
    let config = GenConfig {
        claims: args.claims,
        seed: args.seed,
        out: args.out,
        format,
        batch: args.batch,
        base: claimgraph::normalise_base(&args.base)?,
    };
    let started = Instant::now();
    let bar = ProgressBar::new(config.claims as u64).with_style(
        ProgressStyle::with_template("gen [{bar:30}] {pos}/{len} claims {per_sec} eta {eta}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let summary = claimgraph::synth::generate(&config, |done| bar.set_position(done as u64));
    bar.finish_and_clear();
    let summary = summary?;
    if let Some(reviews) = args.reviews {
        let path = config.out.join("reviews.json");
        let bytes = claimgraph::synth::write_review_feed(&path, reviews, config.seed)?;
        eprintln!(
            "generated {reviews} ClaimReviews ({bytes} bytes) into {}",
            path.display()
        );
    }
    eprintln!(
        "generated {} claims, {} quads, {} documents ({} archived texts), {} entities, {} reviews, \
         {} sheets, {} bytes in {:.1}s into {}",
        summary.claims,
        summary.quads,
        summary.documents,
        summary.texts,
        summary.entities,
        summary.reviews,
        summary.sheets,
        summary.bytes,
        started.elapsed().as_secs_f64(),
        config.out.display()
    );
    Ok(())
}

fn hash_token(args: HashTokenArgs) -> Result<()> {
    let mut token = String::new();
    std::io::stdin()
        .read_to_string(&mut token)
        .map_err(|e| Error::io("cannot read the token from stdin", e))?;
    // The server trims the token it is sent, so a trailing newline from `echo` does not count.
    let token = token.trim();
    if token.is_empty() {
        return Err(Error::Invalid(
            "no token on stdin: pipe the token in, e.g. `claimgraph hash-token < alice.token`"
                .into(),
        ));
    }
    let (hex, block) = http::auth::hash_token_block(token, &args.name, &args.role);
    eprintln!("sha256: {hex}");
    print!("{block}");
    Ok(())
}

fn backup(args: BackupArgs) -> Result<()> {
    let store = args.store.open()?;
    eprintln!(
        "backing up {} into {}",
        args.store.store.display(),
        args.dir.display()
    );
    let summary = store.backup(&args.dir)?;
    eprintln!(
        "backed up {} quads, {} bytes in {:.1?} into {}",
        summary.quads,
        summary.bytes,
        summary.elapsed,
        args.dir.display()
    );
    Ok(())
}

fn publish(args: PublishArgs) -> Result<()> {
    let store = args.store.open()?;
    if !args.no_sync {
        let dirs = [args.ontology.clone(), args.data.clone()];
        let report = claimgraph::audit::as_actor(
            claimgraph::audit::Actor::os_user("publish (data sync)"),
            || claimgraph::loader::sync_dirs(&store, &dirs),
        )?;
        eprintln!(
            "synced {} and {}: {} files loaded, {} removed, {} unchanged",
            args.ontology.display(),
            args.data.display(),
            report.loaded.len(),
            report.removed.len(),
            report.unchanged
        );
        store.flush()?;
    }
    eprintln!(
        "publishing {} into {}",
        args.store.store.display(),
        args.to.display()
    );
    let options = claimgraph::store::PublishOptions {
        keep: args.keep.map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
        data_dirs: vec![args.data.clone()],
        source_commit: claimgraph::store::source_commit(&args.data),
    };
    let published = store.publish(&args.to, &options, &|step| eprintln!("  {step}"))?;
    for missing in &published.missing_texts {
        eprintln!(
            "warning: the archived text {missing} is not under {}: the version has no copy",
            args.data.display()
        );
    }
    let manifest = &published.manifest;
    eprintln!(
        "published version {} ({} quads, {} claims; {} added, {} removed since the previous \
         version; {} bytes) in {:.1?} into {}",
        manifest.generation,
        manifest.quads,
        manifest.claims,
        published.added,
        published.removed,
        published.bytes,
        published.elapsed,
        published.dir.display()
    );
    for pruned in &published.pruned {
        eprintln!("removed the old version {}", pruned.display());
    }
    println!("{}", published.dir.display());
    Ok(())
}

fn diff(args: DiffArgs) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let (removed, added) =
        claimgraph::store::diff_versions(&args.version_a, &args.version_b, &mut out)?;
    std::io::Write::flush(&mut out).map_err(|e| Error::io("cannot write the patch", e))?;
    eprintln!("{removed} quads removed, {added} added");
    Ok(())
}

fn reindex(args: ReindexArgs) -> Result<()> {
    let started = std::time::Instant::now();
    eprintln!("reindexing the claims of {}", args.store.store.display());
    let store = args.store.open()?;
    // An index that did not follow the store has just been rebuilt by opening it.
    let claims = if store.index_rebuilt_at_open() {
        store.index().len()
    } else {
        store.reindex()?
    };
    eprintln!(
        "indexed {claims} claims in {:.1?} into {}",
        started.elapsed(),
        store.index().dir().display()
    );
    Ok(())
}

fn parse_iri(iri: &str) -> Result<NamedNode> {
    NamedNode::new(iri).map_err(|e| Error::Invalid(format!("{iri} is not an absolute IRI: {e}")))
}
