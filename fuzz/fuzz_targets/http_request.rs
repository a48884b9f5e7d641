//! Arbitrary bytes as a `/sparql` request: the form/URL decoding, the dataset parameters, the
//! size and nesting checks and then Oxigraph's parser, in the server's order and on a stack the
//! size of the server's. It may refuse the request, never panic nor overflow the stack. What
//! the decoder accepts must equal what the `form_urlencoded` crate decodes.
//!
//! Input: byte 0 chooses GET, form POST, direct query or direct update (mod 4); the rest is the
//! query string for GET, or URL query string, a 0xFF byte, then the body for a POST (no 0xFF:
//! all body).
#![no_main]

use claimgraph::fuzzing::{form_pairs, sparql_request, Request};
use libfuzzer_sys::fuzz_target;

/// The server's default `--max-body-bytes`.
const MAX_BYTES: usize = 1024 * 1024;

fuzz_target!(|bytes: &[u8]| {
    let Some((&choice, rest)) = bytes.split_first() else {
        return;
    };
    let request = [
        Request::Get,
        Request::Form,
        Request::DirectQuery,
        Request::DirectUpdate,
    ][usize::from(choice % 4)];
    let (url, body) = match request {
        Request::Get => (rest, &[][..]),
        _ => match rest.iter().position(|&b| b == 0xFF) {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (&[][..], rest),
        },
    };
    for input in [url, body] {
        if let Ok(pairs) = form_pairs(input) {
            let reference: Vec<(String, String)> = form_urlencoded::parse(input)
                .map(|(n, v)| (n.into_owned(), v.into_owned()))
                .collect();
            assert_eq!(pairs, reference, "form decoding of {input:?}");
        }
    }
    let _ = sparql_request(request, url, body, MAX_BYTES);
});
