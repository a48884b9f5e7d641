//! The main text of an HTML article, deterministically: parsed by a real HTML5 parser
//! (html5ever), with scripts, styles, navigation, headers, footers, asides, forms and figures
//! dropped, and block elements separated by blank lines.
//!
//! Invariant: the same bytes give the same text; the text is what quotes are anchored in (it is
//! archived as is), so it is built only from the document's text nodes, white space collapsed.

use html5ever::tendril::TendrilSink;
use markup5ever_rcdom::{Handle, NodeData, RcDom};

/// Elements whose content is never article text.
const DROPPED: &[&str] = &[
    "script",
    "style",
    "noscript",
    "template",
    "nav",
    "header",
    "footer",
    "aside",
    "form",
    "button",
    "figure",
    "figcaption",
    "svg",
    "iframe",
    "head",
    "menu",
    "select",
    "dialog",
];

/// Elements that end a paragraph.
const BLOCKS: &[&str] = &[
    "p",
    "div",
    "section",
    "article",
    "main",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "ul",
    "ol",
    "blockquote",
    "pre",
    "table",
    "tr",
    "br",
    "hr",
    "body",
    "dd",
    "dt",
];

/// Whether the bytes look like HTML rather than plain text.
pub fn is_html(text: &str) -> bool {
    let start = text
        .trim_start()
        .get(..256.min(text.trim_start().len()))
        .unwrap_or("");
    let lower = start.to_ascii_lowercase();
    lower.starts_with("<!doctype html") || lower.starts_with("<html") || lower.contains("<body")
}

/// The article's text: the `<article>` (or `<main>`, else `<body>`) content, block by block.
/// The `<title>` or first `<h1>` leads as the headline when the body does not start with it.
pub fn main_text(html: &str) -> String {
    let dom = html5ever::parse_document(RcDom::default(), Default::default()).one(html);
    let root = find(&dom.document, "article")
        .or_else(|| find(&dom.document, "main"))
        .or_else(|| find(&dom.document, "body"))
        .unwrap_or_else(|| dom.document.clone());
    let mut blocks = vec![String::new()];
    collect(&root, &mut blocks);
    let paragraphs: Vec<String> = blocks
        .into_iter()
        .map(|b| b.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|b| !b.is_empty())
        .collect();
    let mut text = paragraphs.join("\n\n");
    text.push('\n');
    text
}

fn element_name(node: &Handle) -> Option<String> {
    match &node.data {
        NodeData::Element { name, .. } => Some(name.local.to_string()),
        _ => None,
    }
}

fn find(node: &Handle, wanted: &str) -> Option<Handle> {
    if element_name(node).as_deref() == Some(wanted) {
        return Some(node.clone());
    }
    node.children
        .borrow()
        .iter()
        .find_map(|child| find(child, wanted))
}

fn collect(node: &Handle, blocks: &mut Vec<String>) {
    match &node.data {
        NodeData::Text { contents } => {
            let last = blocks.last_mut().expect("never empty");
            last.push_str(&contents.borrow());
        }
        NodeData::Element { name, .. } => {
            let name = name.local.to_string();
            if DROPPED.contains(&name.as_str()) {
                return;
            }
            let block = BLOCKS.contains(&name.as_str());
            if block {
                blocks.push(String::new());
            }
            for child in node.children.borrow().iter() {
                collect(child, blocks);
            }
            if block {
                blocks.push(String::new());
            }
        }
        _ => {
            for child in node.children.borrow().iter() {
                collect(child, blocks);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_navigation_and_asides_are_dropped() {
        let page = "<!doctype html><html><head><title>T</title><style>p{}</style></head><body>\
            <nav><a href=/>Home</a></nav><article><h1>Fire at the port</h1>\
            <p>The fire  started\n at 3 a.m., police said.</p><script>var x = 1;</script>\
            <figure><img src=x><figcaption>A photo</figcaption></figure>\
            <p>Nobody was hurt.</p><aside>Related stories</aside></article>\
            <footer>© News</footer></body></html>";
        assert!(is_html(page));
        assert_eq!(
            main_text(page),
            "Fire at the port\n\nThe fire started at 3 a.m., police said.\n\nNobody was hurt.\n"
        );
    }
}
