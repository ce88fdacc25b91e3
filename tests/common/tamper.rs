//! Stands between our provider client and the sandbox and rewrites fields of the 3-D Secure answers, to give
//! results no sandbox test card gives (a Y whose signature did not verify); everything else passes through.

use axum::{
    body::{Body, Bytes},
    extract::State,
    http::{HeaderMap, Method, Uri},
    response::Response,
};
use serde_json::Value;
use std::sync::{Arc, Mutex, OnceLock};

pub struct Tamper {
    pub url: String,
    /// The sandbox, once the app serving it is up.
    pub target: Arc<OnceLock<String>>,
    /// Fields to overwrite in answers from paths ending with the given suffix.
    rewrites: Arc<Mutex<Vec<(&'static str, Value)>>>,
}

#[derive(Clone)]
struct TamperState {
    target: Arc<OnceLock<String>>,
    rewrites: Arc<Mutex<Vec<(&'static str, Value)>>>,
    http: reqwest::Client,
}

impl Tamper {
    pub async fn start() -> Tamper {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = TamperState {
            target: Arc::new(OnceLock::new()),
            rewrites: Arc::new(Mutex::new(Vec::new())),
            http: reqwest::Client::new(),
        };
        let tamper = Tamper { url, target: state.target.clone(), rewrites: state.rewrites.clone() };
        let app = axum::Router::new().fallback(forward).with_state(state);
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        tamper
    }

    /// Where the app sends what it would send to `{sandbox}/{prefix}`.
    pub fn base(&self, prefix: &str) -> String {
        format!("{}/{prefix}", self.url)
    }

    pub fn rewrite(&self, rewrites: Vec<(&'static str, Value)>) {
        *self.rewrites.lock().unwrap() = rewrites;
    }
}

async fn forward(State(s): State<TamperState>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let mut target = None;
    for _ in 0..500 {
        target = s.target.get().cloned();
        if target.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut request = s.http.request(method, format!("{}{path}", target.expect("the tamper proxy has a target")));
    for (name, value) in headers.iter().filter(|(n, _)| !matches!(n.as_str(), "host" | "content-length")) {
        request = request.header(name, value);
    }
    let answer = request.body(body).send().await.unwrap();
    let status = answer.status();
    let mut bytes = answer.bytes().await.unwrap().to_vec();
    let patch = s.rewrites.lock().unwrap().iter().find(|(suffix, _)| uri.path().ends_with(suffix)).cloned();
    if let (Some((_, Value::Object(fields))), true) = (patch, status.is_success()) {
        let mut json: Value = serde_json::from_slice(&bytes).unwrap();
        merge(&mut json, fields);
        bytes = serde_json::to_vec(&json).unwrap();
    }
    Response::builder().status(status).header("content-type", "application/json").body(Body::from(bytes)).unwrap()
}

/// Sets each field, descending into objects: `{"validation_result": {"cavv": ""}}` changes that one field.
fn merge(json: &mut Value, fields: serde_json::Map<String, Value>) {
    for (k, v) in fields {
        match (json.get_mut(&k), v) {
            (Some(inner @ Value::Object(_)), Value::Object(nested)) => merge(inner, nested),
            (_, v) => json[k] = v,
        }
    }
}
