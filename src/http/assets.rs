//! `GET /assets/{name}`: the files the pages load, embedded in the binary at build time, so the
//! pages work with no network and no CDN: YASGUI's build (`vendor/yasgui/build/`, the npm
//! package pinned in `vendor/yasgui/package.json`, checked by `./dev test`) and the pages' own
//! scripts and stylesheet (`src/http/assets/`).
//!
//! Invariants: only the files of [`ASSETS`] are served; each answer carries a strong `ETag` (the
//! file's SHA-256) and is revalidated on every use (`no-cache`), so a new binary's files are
//! picked up at once, while an unchanged file costs a 304; a client that accepts gzip gets the
//! gzip copy, compressed once per process.

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::OnceLock;

struct Asset {
    name: &'static str,
    media_type: &'static str,
    bytes: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "yasgui.min.js",
        media_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../vendor/yasgui/build/yasgui.min.js"),
    },
    Asset {
        name: "yasgui.min.css",
        media_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../vendor/yasgui/build/yasgui.min.css"),
    },
    Asset {
        name: "favicon.svg",
        media_type: "image/svg+xml",
        bytes: include_bytes!("assets/favicon.svg"),
    },
    Asset {
        name: "query.css",
        media_type: "text/css; charset=utf-8",
        bytes: include_bytes!("assets/query.css"),
    },
    Asset {
        name: "review.js",
        media_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("assets/review.js"),
    },
    Asset {
        name: "query.js",
        media_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("assets/query.js"),
    },
];

/// An asset's `ETag` and gzip copy, made at its first request.
struct Prepared {
    etag: HeaderValue,
    gzip: Vec<u8>,
}

fn prepared(index: usize) -> &'static Prepared {
    static PREPARED: OnceLock<Vec<OnceLock<Prepared>>> = OnceLock::new();
    let slots = PREPARED.get_or_init(|| ASSETS.iter().map(|_| OnceLock::new()).collect());
    slots[index].get_or_init(|| {
        use sha2::Digest;
        use std::io::Write;
        let bytes = ASSETS[index].bytes;
        let hash = sha2::Sha256::digest(bytes);
        let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(bytes).expect("writing to a Vec");
        Prepared {
            etag: HeaderValue::try_from(format!("\"{hex}\"")).expect("hex is ASCII"),
            gzip: encoder.finish().expect("writing to a Vec"),
        }
    })
}

/// The path a page loads an asset from.
pub fn path(name: &str) -> String {
    debug_assert!(ASSETS.iter().any(|asset| asset.name == name), "{name}");
    format!("/assets/{name}")
}

/// Whether `Accept-Encoding` takes gzip (named with a nonzero q, or through `*`).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    value.split(',').any(|coding| {
        let mut parts = coding.split(';');
        let name = parts.next().unwrap_or("").trim();
        let refused = parts.any(|param| {
            param
                .trim()
                .strip_prefix("q=")
                .and_then(|q| q.trim().parse::<f32>().ok())
                .is_some_and(|q| q == 0.0)
        });
        (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
    })
}

pub async fn serve(Path(name): Path<String>, headers: HeaderMap) -> Response {
    let Some(index) = ASSETS.iter().position(|asset| asset.name == name) else {
        return super::error::ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no asset is named {name:?}"),
        )
        .into_response();
    };
    let asset = &ASSETS[index];
    let prepared = prepared(index);
    let common = [
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (header::ETAG, prepared.etag.clone()),
        (header::VARY, HeaderValue::from_static("Accept-Encoding")),
    ];
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|tags| super::caching::matches_tag(tags, &prepared.etag));
    if matches {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    let content_type = [(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.media_type),
    )];
    if accepts_gzip(&headers) {
        let encoding = [(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"))];
        (common, content_type, encoding, prepared.gzip.as_slice()).into_response()
    } else {
        (common, content_type, asset.bytes).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_is_taken_unless_refused() {
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(
                header::ACCEPT_ENCODING,
                HeaderValue::from_str(value).unwrap(),
            );
            accepts_gzip(&headers)
        };
        assert!(with("gzip, deflate, br"));
        assert!(with("br;q=1.0, GZIP;q=0.5"));
        assert!(with("*"));
        assert!(!with("gzip;q=0, br"));
        assert!(!with("identity"));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }
}
