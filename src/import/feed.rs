//! Reading ClaimReview files in the shapes they are published in, one item at a time: the Data
//! Commons `DataFeed` (`dataFeedElement[]`), the older dump of one JSON-LD object per line (each
//! possibly inside a `<script type="application/ld+json">` tag, as are the blocks of a saved web
//! page), the Fact Check Tools API's `claims:search` answer (`claims[]`), and JSON-LD as web pages
//! embed it (one object, an array, or `@graph`).
//!
//! Invariant: the file is read as a stream (each item is parsed, handed over and dropped before
//! the next one is read), so memory does not grow with the file; an item carries the JSON-LD
//! `@context` in force where it stood, and its position in the file.

use crate::error::{Error, Result};
use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::cell::Cell;
use std::io::{BufRead, Read};
use std::rc::Rc;

/// One item of a file: a JSON-LD document to read as RDF, or an entry of the Fact Check Tools
/// API (plain JSON, no context).
#[derive(Debug)]
pub enum Item {
    JsonLd(Value),
    Api(Value),
    /// A block of a script-tag file that is not JSON: skipped with this reason.
    Unreadable(String),
}

/// An item and where it stands in the file (`dataFeedElement[3]`, `line 7`).
#[derive(Debug)]
pub struct Located {
    pub position: String,
    pub item: Item,
}

/// Reads `reader` (the file `name`), handing each item to `on_item` in file order. `on_read`
/// learns how many bytes have been read so far (for a progress bar). A file that is not JSON
/// (nor lines or script tags of JSON), or whose top level is none of the shapes above, is an
/// error naming the file and the place.
pub fn read(
    name: &str,
    reader: impl BufRead,
    on_read: &mut dyn FnMut(u64),
    on_item: &mut dyn FnMut(Located) -> Result<()>,
) -> Result<()> {
    let lines = Rc::new(Cell::new(1u64));
    let counted = lines.clone();
    let mut bytes = 0u64;
    let mut reader: Watched<'_, _> = Tap {
        inner: reader,
        seen: Box::new(move |consumed: &[u8]| {
            let newlines = consumed.iter().filter(|b| **b == b'\n').count() as u64;
            counted.set(counted.get() + newlines);
            let before = bytes >> 16;
            bytes += consumed.len() as u64;
            if bytes >> 16 != before {
                on_read(bytes);
            }
        }),
    };
    let first = loop {
        let buffer = reader
            .inner
            .fill_buf()
            .map_err(|e| Error::io(format!("cannot read {name}"), e))?;
        match buffer.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(byte) => break Some(*byte),
            None if buffer.is_empty() => break None,
            None => {
                let n = buffer.len();
                reader.consume(n);
            }
        }
    };
    match first {
        None => Err(Error::Invalid(format!("{name} is empty"))),
        Some(b'<') => read_lines(name, reader, 0, on_item),
        Some(b'{') => {
            // A dump of one object per line (some lines may be script tags) starts with a line
            // that is a whole JSON object and has more after it; a feed does not. A first line
            // longer than a review is not a dump's.
            let mut line = Vec::new();
            (&mut reader)
                .take(MAX_LINE)
                .read_until(b'\n', &mut line)
                .map_err(|e| Error::io(format!("cannot read {name}"), e))?;
            let more = reader
                .fill_buf()
                .map_err(|e| Error::io(format!("cannot read {name}"), e))?
                .iter()
                .any(|b| !b.is_ascii_whitespace());
            if line.ends_with(b"\n") && more && serde_json::from_slice::<Value>(&line).is_ok() {
                let text = String::from_utf8_lossy(&line);
                on_item(json_ld_item("line 1".to_owned(), text.trim()))?;
                read_lines(name, reader, 1, on_item)
            } else {
                // Read again from its start: the first line's lines count again.
                lines.set(1 - line.iter().filter(|b| **b == b'\n').count() as u64);
                let chained: Watched<'_, _> = Tap {
                    inner: std::io::Cursor::new(line).chain(reader.inner),
                    seen: reader.seen,
                };
                read_json(name, chained, lines, on_item)
            }
        }
        Some(b'[') => read_json(name, reader, lines, on_item),
        Some(_) => Err(Error::Invalid(format!(
            "{name} is not JSON: a ClaimReview file starts with {{ (a DataFeed, a Fact Check Tools \
             answer, JSON-LD, or one JSON-LD object per line), [ (JSON-LD objects), or a \
             <script type=\"application/ld+json\"> tag"
        ))),
    }
}

/// A reader that shows each byte consumed through it, once, to `seen` (to count lines and
/// bytes, to hash the file). serde_json reads through `read`, which consumes what it copies.
pub struct Tap<R, F> {
    pub inner: R,
    pub seen: F,
}

impl<R: BufRead, F: FnMut(&[u8])> Read for Tap<R, F> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = {
            let available = self.inner.fill_buf()?;
            let n = available.len().min(out.len());
            out[..n].copy_from_slice(&available[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead, F: FnMut(&[u8])> BufRead for Tap<R, F> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, n: usize) {
        if let Ok(buffer) = self.inner.fill_buf() {
            (self.seen)(&buffer[..n.min(buffer.len())]);
        }
        self.inner.consume(n);
    }
}

/// A [`Tap`] whose watcher is a closure (the file is read through one that counts lines, for
/// positions, and bytes, for progress).
pub type Watched<'a, R> = Tap<R, Box<dyn FnMut(&[u8]) + 'a>>;

/// The longest first line a dump of one review per line is taken to have.
const MAX_LINE: u64 = 1 << 20;

/// A file of lines: JSON objects on lines of their own and `<script type="application/ld+json">`
/// blocks (a saved page, or a dump wrapping some lines in one). `number` lines were read before.
fn read_lines<R: BufRead>(
    name: &str,
    mut reader: Watched<'_, R>,
    mut number: u64,
    on_item: &mut dyn FnMut(Located) -> Result<()>,
) -> Result<()> {
    const OPEN: &str = "<script type=\"application/ld+json\">";
    let mut script: Option<(u64, String)> = None;
    let mut line = String::new();
    let mut seen = number > 0;
    loop {
        line.clear();
        let n = reader
            .read_line(&mut line)
            .map_err(|e| Error::Invalid(format!("{name}: not UTF-8 text ({e})")))?;
        if n == 0 {
            break;
        }
        number += 1;
        let mut rest = line.as_str();
        loop {
            if let Some((start, text)) = &mut script {
                match rest.find("</script>") {
                    Some(end) => {
                        text.push_str(&rest[..end]);
                        rest = &rest[end + "</script>".len()..];
                        let (start, text) = (*start, std::mem::take(text));
                        script = None;
                        seen = true;
                        on_item(json_ld_item(format!("line {start}"), &text))?;
                    }
                    None => {
                        text.push_str(rest);
                        break;
                    }
                }
            } else if let Some(open) = find_ignoring_case(rest, OPEN) {
                rest = &rest[open + OPEN.len()..];
                script = Some((number, String::new()));
            } else {
                let trimmed = rest.trim();
                if trimmed.starts_with('{') {
                    seen = true;
                    on_item(json_ld_item(format!("line {number}"), trimmed))?;
                }
                break;
            }
        }
    }
    if let Some((start, _)) = script {
        return Err(Error::Invalid(format!(
            "{name}:{start}: a <script type=\"application/ld+json\"> tag is never closed"
        )));
    }
    if !seen {
        return Err(Error::Invalid(format!(
            "{name} holds no <script type=\"application/ld+json\"> block and no JSON object"
        )));
    }
    Ok(())
}

fn find_ignoring_case(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// A block that is not JSON is still an item (skipped with its reason): only the file's own
/// structure is a file-level problem.
fn json_ld_item(position: String, text: &str) -> Located {
    let item = match serde_json::from_str::<Value>(text) {
        Ok(value) => Item::JsonLd(value),
        Err(e) => Item::Unreadable(format!("not JSON ({e})")),
    };
    Located { position, item }
}

/// A JSON file: one top-level value (object or array), or several objects one after another
/// (one per line).
fn read_json<R: BufRead>(
    name: &str,
    reader: Watched<'_, R>,
    lines: Rc<Cell<u64>>,
    on_item: &mut dyn FnMut(Located) -> Result<()>,
) -> Result<()> {
    let mut deserializer = serde_json::Deserializer::from_reader(reader);
    let mut failure: Option<Error> = None;
    loop {
        let top = TopLevel {
            lines: &lines,
            on_item: &mut *on_item,
            failure: &mut failure,
        };
        let outcome = top.deserialize(&mut deserializer);
        if let Some(error) = failure.take() {
            return Err(error);
        }
        outcome.map_err(|e| json_error(name, &e))?;
        if deserializer.end().is_ok() {
            return Ok(());
        }
    }
}

fn json_error(name: &str, e: &serde_json::Error) -> Error {
    let what = match e.classify() {
        serde_json::error::Category::Eof => "the file ends in the middle of a JSON value",
        serde_json::error::Category::Syntax => "not JSON",
        serde_json::error::Category::Io => "cannot be read",
        serde_json::error::Category::Data => "not a ClaimReview file",
    };
    // serde_json's message ends with its own " at line L column C".
    let detail = e.to_string();
    let detail = detail
        .split(" at line ")
        .next()
        .unwrap_or_default()
        .to_owned();
    Error::Invalid(format!(
        "{name}:{}:{}: {what} ({detail})",
        e.line(),
        e.column()
    ))
}

/// A top-level JSON value: dispatched on its keys as they come, so that the long arrays
/// (`dataFeedElement`, `claims`, `@graph`) are read an element at a time.
struct TopLevel<'a> {
    lines: &'a Rc<Cell<u64>>,
    on_item: &'a mut dyn FnMut(Located) -> Result<()>,
    /// The error that stopped the reading (an item's consumer failed, or the shape is wrong).
    failure: &'a mut Option<Error>,
}

impl TopLevel<'_> {
    fn stop<E: serde::de::Error>(&mut self, error: Error) -> E {
        let message = error.to_string();
        *self.failure = Some(error);
        E::custom(message)
    }
}

impl<'de> DeserializeSeed<'de> for TopLevel<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TopLevel<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a DataFeed, a Fact Check Tools answer or ClaimReview JSON-LD")
    }

    /// `[ {ClaimReview}, … ]`: JSON-LD objects, each with its own context.
    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0;
        while let Some(value) = seq.next_element::<Value>()? {
            let located = Located {
                position: format!("[{i}]"),
                item: Item::JsonLd(value),
            };
            if let Err(error) = (self.on_item)(located) {
                return Err(self.stop(error));
            }
            i += 1;
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let mut context: Option<Value> = None;
        let mut rest = Map::new();
        let mut streamed: Option<&'static str> = None;
        while let Some(key) = map.next_key::<String>()? {
            let array = match key.as_str() {
                "dataFeedElement" => "dataFeedElement",
                "claims" => "claims",
                "@graph" => "@graph",
                "@context" => {
                    if let Some(list) = streamed {
                        let error = Error::Invalid(format!(
                            "the top-level @context comes after {list}: it must come first, \
                             since the items are read as they come"
                        ));
                        return Err(self.stop(error));
                    }
                    context = Some(map.next_value()?);
                    continue;
                }
                _ => {
                    let value: Value = map.next_value()?;
                    rest.insert(key, value);
                    continue;
                }
            };
            streamed = Some(array);
            let elements = Elements {
                list: array,
                context: context.clone(),
                on_item: &mut *self.on_item,
                failure: &mut *self.failure,
            };
            map.next_value_seed(elements)?;
        }
        if streamed.is_some() {
            return Ok(());
        }
        // One JSON-LD object: a page's ClaimReview, or one line of a dump.
        let is_node = rest.contains_key("@type") || rest.contains_key("@id");
        if !is_node {
            let keys: Vec<&str> = rest.keys().map(String::as_str).take(5).collect();
            let error = Error::Invalid(format!(
                "not a ClaimReview file: the top-level object has no dataFeedElement (a \
                 DataFeed), no claims (a Fact Check Tools answer), no @graph and no @type \
                 (JSON-LD); its keys: {}",
                if keys.is_empty() {
                    "none".to_owned()
                } else {
                    keys.join(", ")
                }
            ));
            return Err(self.stop(error));
        }
        if let Some(context) = context {
            rest.insert("@context".to_owned(), context);
        }
        let located = Located {
            position: format!("line {}", self.lines.get()),
            item: Item::JsonLd(Value::Object(rest)),
        };
        if let Err(error) = (self.on_item)(located) {
            return Err(self.stop(error));
        }
        Ok(())
    }

    fn visit_str<E: serde::de::Error>(mut self, _: &str) -> Result<(), E> {
        Err(self.stop(shape_error("a string")))
    }
    fn visit_i64<E: serde::de::Error>(mut self, _: i64) -> Result<(), E> {
        Err(self.stop(shape_error("a number")))
    }
    fn visit_u64<E: serde::de::Error>(mut self, _: u64) -> Result<(), E> {
        Err(self.stop(shape_error("a number")))
    }
    fn visit_f64<E: serde::de::Error>(mut self, _: f64) -> Result<(), E> {
        Err(self.stop(shape_error("a number")))
    }
    fn visit_bool<E: serde::de::Error>(mut self, _: bool) -> Result<(), E> {
        Err(self.stop(shape_error("a boolean")))
    }
    fn visit_unit<E: serde::de::Error>(mut self) -> Result<(), E> {
        Err(self.stop(shape_error("null")))
    }
}

fn shape_error(what: &str) -> Error {
    Error::Invalid(format!(
        "not a ClaimReview file: its top level is {what}, not an object or an array"
    ))
}

/// The elements of one of the long arrays, each handed over as soon as it is read.
struct Elements<'a> {
    list: &'static str,
    context: Option<Value>,
    on_item: &'a mut dyn FnMut(Located) -> Result<()>,
    failure: &'a mut Option<Error>,
}

impl<'de> DeserializeSeed<'de> for Elements<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Elements<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "an array ({})", self.list)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0;
        while let Some(value) = seq.next_element::<Value>()? {
            let item = if self.list == "claims" {
                Item::Api(value)
            } else {
                Item::JsonLd(with_context(value, self.context.as_ref()))
            };
            let located = Located {
                position: format!("{}[{i}]", self.list),
                item,
            };
            if let Err(error) = (self.on_item)(located) {
                let message = error.to_string();
                *self.failure = Some(error);
                return Err(serde::de::Error::custom(message));
            }
            i += 1;
        }
        Ok(())
    }
}

/// An element of a feed read on its own: the feed's context, then its own if it has one
/// (JSON-LD applies an inner context on top of the outer one).
fn with_context(value: Value, context: Option<&Value>) -> Value {
    let (Value::Object(mut object), Some(context)) = (value.clone(), context) else {
        return value;
    };
    let merged = match object.remove("@context") {
        None => context.clone(),
        Some(own) => Value::Array(vec![context.clone(), own]),
    };
    object.insert("@context".to_owned(), merged);
    Value::Object(object)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(text: &str) -> Result<Vec<(String, String)>> {
        let mut out = Vec::new();
        read("test", text.as_bytes(), &mut |_| {}, &mut |located| {
            let kind = match located.item {
                Item::JsonLd(v) => format!("jsonld {v}"),
                Item::Api(v) => format!("api {v}"),
                Item::Unreadable(why) => format!("unreadable {why}"),
            };
            out.push((located.position, kind));
            Ok(())
        })?;
        Ok(out)
    }

    #[test]
    fn each_shape_is_read_an_item_at_a_time() {
        let feed = r#"{"@context": "https://schema.org", "@type": "DataFeed",
            "dataFeedElement": [{"item": [{"@type": "ClaimReview"}]}, {"@type": "ClaimReview"}]}"#;
        let read = items(feed).unwrap();
        assert_eq!(read.len(), 2);
        assert_eq!(read[1].0, "dataFeedElement[1]");
        assert!(read[0].1.contains(r#""@context":"https://schema.org""#));

        let api = r#"{"claims": [{"text": "a"}, {"text": "b"}], "nextPageToken": "x"}"#;
        let read = items(api).unwrap();
        assert_eq!(read[1], ("claims[1]".into(), r#"api {"text":"b"}"#.into()));

        let lines = "{\"@type\": \"ClaimReview\", \"url\": \"1\"}\n{\"@type\": \"ClaimReview\"}\n";
        let read = items(lines).unwrap();
        assert_eq!(read.len(), 2);
        assert_eq!(read[1].0, "line 2");

        let scripts = "<script type=\"application/ld+json\">{\"@type\": \"ClaimReview\"}</script>\n\
                       {\"@type\": \"ClaimReview\"}\n<SCRIPT type=\"application/ld+json\">\n{\"a\":\n1}</script>";
        let read = items(scripts).unwrap();
        assert_eq!(
            read.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(),
            ["line 1", "line 2", "line 3"]
        );

        let array = r#"[{"@type": "ClaimReview"}, {"@type": "ClaimReview"}]"#;
        assert_eq!(items(array).unwrap()[1].0, "[1]");
        let graph = r#"{"@context": "https://schema.org", "@graph": [{"@type": "ClaimReview"}]}"#;
        assert_eq!(items(graph).unwrap()[0].0, "@graph[0]");
    }

    #[test]
    fn file_level_problems_name_the_file_and_place() {
        let error = |text: &str| items(text).unwrap_err().to_string();
        assert!(error("Fact checks of the week").contains("is not JSON"));
        assert!(error("").contains("is empty"));
        assert!(error(r#"{"items": [1]}"#).contains("not a ClaimReview file"));
        assert!(error("{\"dataFeedElement\": [{}, {\"a\": ").contains("test:1:"));
        assert!(error(r#"{"dataFeedElement": [], "@context": "x"}"#).contains("must come first"));
        assert!(error("[1, 2] 3").contains("not an object or an array"));
    }
}
