//! What the network publishes so that members and auditors can hold it to its history: its
//! public keys and its signed checkpoints, as JSON for machines and a page for people. The
//! HTTP routes (`GET /audit/checkpoints.json`, `/audit`) mount these.

use serde::Serialize;

use crate::store::{NetworkKey, SignedCheckpoint, Store, StoreResult, CHECKPOINTS_PAGE_SIZE_MAX};

/// The published document: every network key (active and retired) and a page of
/// checkpoints after `after`.
#[derive(Debug, Clone, Serialize)]
pub struct Published {
    pub format: &'static str,
    pub network_keys: Vec<NetworkKey>,
    pub checkpoints: Vec<SignedCheckpoint>,
    /// Pass as `after` to get the next page; absent on the last page.
    pub next_after: Option<u64>,
}

pub async fn published(store: &Store, after: u64, page_size: usize) -> StoreResult<Published> {
    let page_size = page_size.clamp(1, CHECKPOINTS_PAGE_SIZE_MAX);
    let mut checkpoints = store.checkpoints(after, page_size + 1).await?;
    let next_after = if checkpoints.len() > page_size {
        checkpoints.truncate(page_size);
        checkpoints.last().map(|c| c.checkpoint.seq)
    } else {
        None
    };
    Ok(Published {
        format: "troc-checkpoints-v1",
        network_keys: store.network_keys().await?,
        checkpoints,
        next_after,
    })
}

/// `GET /audit/checkpoints.json`.
pub async fn checkpoints_json(store: &Store, after: u64, page_size: usize) -> StoreResult<String> {
    let document = published(store, after, page_size).await?;
    Ok(serde_json::to_string_pretty(&document).expect("the document serialises"))
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A plain page for members: the keys and the latest checkpoints, with how to check them.
pub fn page_html(document: &Published) -> String {
    let mut html = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>Troc: published keys and checkpoints</title></head><body>\
         <h1>Published keys and checkpoints</h1>\
         <p>The network signs the head of its transaction chain with these keys. Keep a copy: \
         an auditor checks any export against them with <code>troc verify --bundle</code> \
         (see docs/audit.md).</p><h2>Network keys</h2><table><tr><th>Public key</th>\
         <th>Since</th><th>Retired</th></tr>",
    );
    for key in &document.network_keys {
        html.push_str(&format!(
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            escape(&key.public_key),
            key.created_at.to_rfc3339(),
            key.retired_at.map(|t| t.to_rfc3339()).unwrap_or_default()
        ));
    }
    html.push_str(
        "</table><h2>Checkpoints</h2><table><tr><th>Seq</th><th>Head</th><th>Time</th>\
         <th>Credit sum (cents)</th><th>Key</th><th>Signature</th></tr>",
    );
    for c in &document.checkpoints {
        html.push_str(&format!(
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td>\
             <td><code>{}</code></td><td><code>{}</code></td></tr>",
            c.checkpoint.seq,
            escape(&c.checkpoint.head),
            c.checkpoint.time.to_rfc3339(),
            c.checkpoint.credit_sum,
            escape(&c.checkpoint.public_key),
            escape(&c.signature)
        ));
    }
    html.push_str("</table><p><a href=\"/audit/checkpoints.json\">JSON</a></p></body></html>");
    html
}
