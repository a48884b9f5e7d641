//! Who is calling, and what they may do: bearer tokens with roles (anonymous reads, `writer`,
//! `admin` ⊇ `writer`), and the CORS policy that keeps browsers on other origins to reads.
//!
//! Invariant: the only place credentials are read and roles decided. Tokens are kept only as
//! SHA-256 digests (from the `--auth` file, or hashed at start-up from `--write-token` /
//! `--admin-token`) and compared in constant time; a token's name, never the token, goes to logs
//! and the audit trail. Handlers ask [`AppState::authorise`] after parsing the request, with what
//! it does ([`Need`]); every refusal is logged with the caller and the reason.

use super::error::ApiError;
use super::AppState;
use crate::error::{Error, Result};
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::path::Path;
use subtle::ConstantTimeEq;

/// What a caller may do. Ordered: each role may do what the ones before it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Anonymous,
    Writer,
    Admin,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::Anonymous => "anonymous",
            Role::Writer => "writer",
            Role::Admin => "admin",
        }
    }
}

/// The caller of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's name (`None` for anonymous callers).
    pub name: Option<String>,
    pub role: Role,
}

impl Caller {
    /// How logs and the audit trail name the caller.
    pub fn agent(&self) -> String {
        self.name.clone().unwrap_or_else(|| "anonymous".to_owned())
    }
}

/// What a request needs, decided after parsing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// A change to the store (an update, a Graph Store write).
    Write,
    /// An admin action that changes nothing (reading the audit trail).
    AdminRead,
    /// An admin action that writes (`LOAD`).
    AdminWrite,
}

/// The tokens a server accepts.
#[derive(Debug, Clone, Default)]
pub struct Tokens {
    entries: Vec<Token>,
}

#[derive(Debug, Clone)]
struct Token {
    name: String,
    role: Role,
    sha256: [u8; 32],
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthFile {
    #[serde(default)]
    token: Vec<toml::Spanned<TokenEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenEntry {
    name: toml::Spanned<String>,
    role: toml::Spanned<String>,
    sha256: toml::Spanned<String>,
}

impl Tokens {
    /// Reads an `--auth` file: `[[token]]` tables with `name`, `role` (`writer` or `admin`) and
    /// `sha256` (64 hex digits). Every problem is reported as `file:line:col`.
    pub fn load(path: &Path) -> Result<Self> {
        let source = std::fs::read_to_string(path)
            .map_err(|e| Error::io(format!("cannot read the auth file {}", path.display()), e))?;
        let at = |offset: usize, message: String| {
            let (line, column) = crate::claims::sheet::line_col(&source, offset);
            Error::Parse {
                path: path.to_owned(),
                line,
                column,
                message,
            }
        };
        let file: AuthFile = toml::from_str(&source).map_err(|error| {
            let offset = error.span().map_or(0, |span| span.start);
            at(offset, error.message().trim().to_owned())
        })?;
        let mut tokens = Self::default();
        for entry in file.token {
            let start = entry.span().start;
            let entry = entry.into_inner();
            let role = match entry.role.get_ref().as_str() {
                "writer" => Role::Writer,
                "admin" => Role::Admin,
                other => {
                    return Err(at(
                        entry.role.span().start,
                        format!("unknown role {other:?}: use \"writer\" or \"admin\""),
                    ))
                }
            };
            let sha256 = parse_hex(entry.sha256.get_ref()).ok_or_else(|| {
                at(
                    entry.sha256.span().start,
                    "sha256 must be 64 hexadecimal digits (the SHA-256 of the token; \
                     `claimgraph hash-token` prints it)"
                        .to_owned(),
                )
            })?;
            let name = entry.name.into_inner();
            if name.trim().is_empty() {
                return Err(at(start, "a token needs a non-empty name".to_owned()));
            }
            tokens
                .add(name, role, sha256)
                .map_err(|message| at(start, message))?;
        }
        Ok(tokens)
    }

    /// Accepts `token` (given in clear, kept hashed) as `name` with `role`.
    pub fn add_token(&mut self, name: &str, role: Role, token: &str) -> Result<()> {
        self.add(name.to_owned(), role, digest(token))
            .map_err(Error::Invalid)
    }

    fn add(&mut self, name: String, role: Role, sha256: [u8; 32]) -> Result<(), String> {
        if let Some(other) = self.entries.iter().find(|t| t.name == name) {
            return Err(format!("the token name {:?} is used twice", other.name));
        }
        if let Some(other) = self
            .entries
            .iter()
            .find(|t| bool::from(t.sha256.ct_eq(&sha256)))
        {
            return Err(format!(
                "the token {name:?} has the same hash as {:?}: give each its own token",
                other.name
            ));
        }
        self.entries.push(Token { name, role, sha256 });
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The caller a request's `Authorization` header names: anonymous without one; 401 for a
    /// header that is not a bearer token or a token that is not known. Every known hash is
    /// compared, in constant time, so the time taken says nothing about which one matched.
    fn caller(&self, headers: &HeaderMap) -> Result<Caller, ApiError> {
        let Some(value) = headers.get(header::AUTHORIZATION) else {
            return Ok(Caller {
                name: None,
                role: Role::Anonymous,
            });
        };
        let token = value.to_str().ok().and_then(bearer_token).ok_or_else(|| {
            invalid_token("the Authorization header must be Bearer <token>".to_owned())
        })?;
        let given = digest(token);
        let mut found: Option<&Token> = None;
        for entry in &self.entries {
            if bool::from(entry.sha256.ct_eq(&given)) {
                found = Some(entry);
            }
        }
        found
            .map(|entry| Caller {
                name: Some(entry.name.clone()),
                role: entry.role,
            })
            .ok_or_else(|| invalid_token("the bearer token is not valid".to_owned()))
    }
}

/// The token of an `Authorization: Bearer <token>` value. The scheme is matched without regard
/// to case (RFC 7235 §2.1: `bearer` and `BEARER` are `Bearer`), and one or more spaces may follow.
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("Bearer") && !token.is_empty()).then_some(token)
}

/// SHA-256 of a token, as the auth file stores it.
pub fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Lower-case hex of a token's SHA-256, and the `[[token]]` block to paste into an auth file.
pub fn hash_token_block(token: &str, name: &str, role: &str) -> (String, String) {
    let hex: String = digest(token).iter().map(|b| format!("{b:02x}")).collect();
    let block = format!("[[token]]\nname = {name:?}\nrole = {role:?}\nsha256 = \"{hex}\"\n");
    (hex, block)
}

fn parse_hex(text: &str) -> Option<[u8; 32]> {
    let text = text.trim();
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut bytes = [0; 32];
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(bytes)
}

fn invalid_token(message: String) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, message).with_header(
        header::WWW_AUTHENTICATE,
        "Bearer realm=\"claimgraph\", error=\"invalid_token\"",
    )
}

impl AppState {
    /// Decides whether the caller of a parsed request may do what it asks (`what` names it in
    /// messages and logs): a read-only server refuses every write (403) whatever the token; no
    /// credentials → 401 with `WWW-Authenticate: Bearer`; an invalid token → 401; a valid one
    /// with too small a role → 403. Refusals are logged, and change nothing.
    pub(crate) fn authorise(
        &self,
        headers: &HeaderMap,
        need: Need,
        what: &str,
    ) -> Result<Caller, ApiError> {
        let outcome = self.decide(headers, need, what);
        if let Err(error) = &outcome {
            let caller = self
                .tokens
                .caller(headers)
                .map_or_else(|_| "an invalid token".to_owned(), |c| c.agent());
            tracing::warn!(
                caller,
                status = error.status.as_u16(),
                reason = %error.message,
                "refused: {what}"
            );
        }
        outcome
    }

    fn decide(&self, headers: &HeaderMap, need: Need, what: &str) -> Result<Caller, ApiError> {
        if let (Some(version), true) = (&self.version, need != Need::AdminRead) {
            let primary = match &self.primary {
                Some(primary) => format!("send it to the primary, {primary}"),
                None => format!(
                    "send it to the primary that publishes into {}",
                    version.publish_dir.display()
                ),
            };
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!(
                    "this server is a read-only replica serving published version {}: {what} is \
                     refused; {primary}",
                    version.manifest.generation
                ),
            ));
        }
        if self.read_only && need != Need::AdminRead {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!("this server is read-only (--read-only): {what} is refused"),
            ));
        }
        let caller = self.tokens.caller(headers)?;
        let required = match need {
            Need::Write => Role::Writer,
            Need::AdminRead | Need::AdminWrite => Role::Admin,
        };
        if caller.role >= required {
            return Ok(caller);
        }
        if caller.role == Role::Anonymous {
            let hint = if self.tokens.is_empty() {
                " (this server accepts no tokens: start it with --auth FILE, --write-token or \
                 --admin-token)"
            } else {
                ""
            };
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                format!(
                    "{what} needs a token with the {} role, sent as Authorization: Bearer \
                     <token>{hint}",
                    required.name()
                ),
            )
            .with_header(header::WWW_AUTHENTICATE, "Bearer realm=\"claimgraph\""));
        }
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "{what} needs the {} role; the token {:?} has the {} role",
                required.name(),
                caller.agent(),
                caller.role.name()
            ),
        ))
    }
}

/// Marks a response to a `POST` as a read (a SPARQL query), which other origins may read too.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CrossOriginRead;

/// Request headers a cross-origin read may send. `Authorization` is not among them: a browser on
/// another origin then cannot send a token, so it cannot write, whatever it asks.
const ALLOWED_HEADERS: &str = "Accept, Content-Type";

/// CORS for reads only: `Access-Control-Allow-Origin: *` on responses to `GET`/`HEAD`, and to a
/// `POST` that was a query ([`CrossOriginRead`]); never on writes. A preflight is granted for
/// `GET`/`HEAD` anywhere and `POST /sparql` (browsers POST queries), with only the headers of a
/// read, so a cross-origin `Authorization` header, and any other method, is refused.
pub(crate) async fn cors(request: Request, next: Next) -> Response {
    let headers = request.headers();
    if request.method() == Method::OPTIONS && headers.contains_key(header::ORIGIN) {
        if let Some(method) = headers.get(header::ACCESS_CONTROL_REQUEST_METHOD) {
            return preflight(request.uri().path(), method, headers);
        }
    }
    let read = matches!(*request.method(), Method::GET | Method::HEAD);
    let mut response = next.run(request).await;
    if read || response.extensions().get::<CrossOriginRead>().is_some() {
        response.headers_mut().insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
    }
    response
}

fn preflight(path: &str, method: &HeaderValue, headers: &HeaderMap) -> Response {
    let method = method.to_str().unwrap_or("");
    let post_allowed = path == "/sparql" || path == "/audit/sparql";
    let method_allowed = matches!(method, "GET" | "HEAD") || (method == "POST" && post_allowed);
    let requested = headers
        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let headers_allowed = requested
        .split(',')
        .map(|h| h.trim().to_ascii_lowercase())
        .filter(|h| !h.is_empty())
        .all(|h| matches!(h.as_str(), "accept" | "content-type"));
    if !(method_allowed && headers_allowed) {
        // No Access-Control-Allow-Origin: the browser does not send the request.
        tracing::warn!(path, method, requested, "refused a cross-origin preflight");
        return ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "cross-origin requests may only read (GET, HEAD, POST of a SPARQL query, with \
                 the headers {ALLOWED_HEADERS}); {method} {path} with headers [{requested}] is \
                 not allowed"
            ),
        )
        .into_response();
    }
    let methods = if post_allowed {
        "GET, HEAD, POST"
    } else {
        "GET, HEAD"
    };
    (
        StatusCode::NO_CONTENT,
        [
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
            (header::ACCESS_CONTROL_ALLOW_METHODS, methods),
            (header::ACCESS_CONTROL_ALLOW_HEADERS, ALLOWED_HEADERS),
            (header::ACCESS_CONTROL_MAX_AGE, "86400"),
        ],
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> Result<Tokens> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("auth.toml");
        std::fs::write(&path, text).unwrap();
        Tokens::load(&path)
    }

    fn bearer(token: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
        );
        headers
    }

    #[test]
    fn tokens_from_a_file() {
        let (_, alice) = hash_token_block("alice-secret", "alice", "writer");
        let (_, root) = hash_token_block("root-secret", "root", "admin");
        let tokens = file(&format!("{alice}\n{root}")).unwrap();
        let caller = tokens.caller(&bearer("alice-secret")).unwrap();
        assert_eq!(caller.name.as_deref(), Some("alice"));
        assert_eq!(caller.role, Role::Writer);
        assert_eq!(
            tokens.caller(&bearer("root-secret")).unwrap().role,
            Role::Admin
        );
        assert_eq!(
            tokens.caller(&HeaderMap::new()).unwrap().role,
            Role::Anonymous
        );
        assert_eq!(tokens.caller(&bearer("nope")).unwrap_err().status, 401);
    }

    #[test]
    fn the_scheme_is_case_insensitive() {
        let (_, alice) = hash_token_block("alice-secret", "alice", "writer");
        let tokens = file(&alice).unwrap();
        for value in [
            "Bearer alice-secret",
            "bearer alice-secret",
            "BEARER  alice-secret",
        ] {
            let mut headers = HeaderMap::new();
            headers.insert(header::AUTHORIZATION, HeaderValue::from_static(value));
            assert_eq!(
                tokens.caller(&headers).unwrap().role,
                Role::Writer,
                "{value}"
            );
        }
        for value in [
            "Basic alice-secret",
            "Bearer",
            "Bearer ",
            "Beareralice-secret",
        ] {
            let mut headers = HeaderMap::new();
            headers.insert(header::AUTHORIZATION, HeaderValue::from_static(value));
            assert_eq!(tokens.caller(&headers).unwrap_err().status, 401, "{value}");
        }
    }

    #[test]
    fn bad_files_name_the_place() {
        let problem = |text: &str| file(text).unwrap_err().to_string();
        let bad_role = problem("[[token]]\nname = \"a\"\nrole = \"root\"\nsha256 = \"00\"\n");
        assert!(
            bad_role.contains("auth.toml:3:8: unknown role"),
            "{bad_role}"
        );
        let bad_hash = problem("[[token]]\nname = \"a\"\nrole = \"writer\"\nsha256 = \"00\"\n");
        assert!(
            bad_hash.contains("auth.toml:4:10: sha256 must be"),
            "{bad_hash}"
        );
        let syntax = problem("[[token]]\nname = \n");
        assert!(syntax.contains("auth.toml:2:"), "{syntax}");
        let unknown = problem("[[token]]\nname = \"a\"\nrole = \"writer\"\ntoken = \"x\"\n");
        assert!(unknown.contains("auth.toml:"), "{unknown}");
        let (_, a) = hash_token_block("same", "a", "writer");
        let (_, b) = hash_token_block("same", "b", "admin");
        assert!(problem(&format!("{a}{b}")).contains("same hash"));
    }
}
