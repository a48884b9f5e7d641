//! Arbitrary bytes as a claim sheet `data/claims/fuzz.toml`, through everything `claimgraph
//! check` runs (TOML, validation against the real archived texts in `data/texts/`, compilation
//! to quads, SHACL): it may refuse the sheet, never panic; its errors must format.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::LazyLock;

static DATA: LazyLock<PathBuf> =
    LazyLock::new(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../data")));

fuzz_target!(|bytes: &[u8]| {
    // The CLI reads sheets as UTF-8 and refuses other bytes before parsing.
    let Ok(source) = std::str::from_utf8(bytes) else {
        return;
    };
    let path = DATA.join("claims/fuzz.toml");
    if let Err(errors) = claimgraph::fuzzing::claim_sheet(&path, source.to_owned(), &DATA) {
        assert!(!errors.is_empty(), "a refused sheet names at least one error");
        for error in errors {
            let _ = error.to_string();
        }
    }
});
