//! `PUT /sheets/{key}`: a reviewed draft saved as a claim sheet in the data directory, checked
//! with every sheet there, and loaded; refused with the field named, and nothing written, when
//! it does not check; never over an existing sheet without `If-Match`.

use crate::common::{copy_dir, repo, Options, TestServer, TOKEN};
use serde_json::{json, Value};

const KEY: &str = "wire-2024-05-06-netflix";

fn review(quote: &str) -> Value {
    json!({
        "source": {"key": KEY, "kind": "NewsArticle", "headline": "Netflix paid", "publisher": "zerohedge",
                   "published": "2024-05-06", "upstream": null},
        "text": "Netflix paid Meta one dollar, a filing says.\n",
        "claims": [{"candidate": "c1", "key": "netflix-paid-one-dollar",
                    "text": "Netflix paid Meta one dollar.", "claimant": "zerohedge", "status": "Reported",
                    "about": ["netflix", "meta-platforms"],
                    "content": [{"s": "netflix", "p": "cg:amount", "value": "1", "datatype": "xsd:decimal"}],
                    "quote": quote}],
    })
}

async fn put(server: &TestServer, key: &str, body: &Value, if_match: Option<&str>) -> (u16, Value) {
    let mut request = server
        .client
        .put(server.url(&format!("sheets/{key}")))
        .bearer_auth(TOKEN)
        .json(body);
    if let Some(etag) = if_match {
        request = request.header("If-Match", etag);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reviewed_sheet_is_saved_checked_and_loaded_and_never_replaced_unasked() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    copy_dir(&repo().join("data"), &data);
    let server = TestServer::start(Options {
        data_dirs: vec![data.clone()],
        ..Options::default()
    })
    .await;
    let sheet = data.join(format!("claims/{KEY}.toml"));

    // No token: refused, nothing written.
    let response = server
        .client
        .put(server.url(&format!("sheets/{KEY}")))
        .json(&review("Netflix paid Meta one dollar"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    // The path's key must be the body's; a key that is not a slug never becomes a path.
    let (status, _) = put(&server, "other-key", &review("Netflix paid"), None).await;
    assert_eq!(status, 400);
    let mut evil = review("Netflix paid");
    evil["source"]["key"] = json!("../evil");
    let (status, body) = put(&server, "..%2Fevil", &evil, None).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "source.key");
    // A quote that is not in the text: the field is named, nothing is written.
    let (status, body) = put(&server, KEY, &review("Netflix paid Meta two dollars"), None).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["candidate"], "c1", "{body}");
    assert_eq!(body["errors"][0]["field"], "quote", "{body}");
    assert!(!sheet.exists());
    assert!(!data.join(format!("texts/{KEY}.txt")).exists());

    // Saved: the sheet checks on its own with the others, and the claim is served.
    let (status, saved) = put(&server, KEY, &review("Netflix paid Meta one dollar"), None).await;
    assert_eq!(status, 201, "{saved}");
    assert!(sheet.exists());
    let (status, claim) = server
        .get_json("claims/netflix-paid-one-dollar", "application/json")
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        claim["appearances"][0]["exact"],
        "Netflix paid Meta one dollar"
    );

    // Saving again needs the sheet's current hash.
    let changed = review("Netflix paid Meta");
    let (status, refused) = put(&server, KEY, &changed, None).await;
    assert_eq!(status, 412);
    assert_eq!(refused["etag"], saved["etag"]);
    let (status, _) = put(&server, KEY, &changed, Some("\"0000\"")).await;
    assert_eq!(status, 412);
    let before = std::fs::read(&sheet).unwrap();
    let (status, _) = put(&server, KEY, &changed, saved["etag"].as_str()).await;
    assert_eq!(status, 201);
    assert_ne!(std::fs::read(&sheet).unwrap(), before);
    let (_, claim) = server
        .get_json("claims/netflix-paid-one-dollar", "application/json")
        .await;
    assert_eq!(claim["appearances"][0]["exact"], "Netflix paid Meta");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_without_a_data_directory_saves_nothing() {
    let server = TestServer::start(Options::default()).await;
    let (status, body) = put(&server, KEY, &review("Netflix paid"), None).await;
    assert_eq!(status, 409, "{body}");
}
