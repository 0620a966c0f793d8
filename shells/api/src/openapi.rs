//! The OpenAPI document, generated from the handlers' annotations and the body types
//! in `ode_sdk::api`, and a plain HTML page made from it.

use std::collections::HashMap;
use std::sync::OnceLock;

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes::{documents, exports, fonts, ops, render, webhook};

/// The API's description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "ODE API",
        description = "Render documents, templates with data and Markdown to PDF, SVG and PNG; store documents, templates and fonts; run exports one at a time or by the thousand.",
        version = "1"
    ),
    paths(
        render::render,
        documents::create, documents::list, documents::get_one, documents::replace,
        documents::remove, documents::put_asset, documents::list_assets,
        exports::create, exports::list, exports::get_one, exports::download,
        fonts::upload, fonts::list, fonts::remove,
        webhook::set, webhook::get_one, webhook::remove,
        ops::health, ops::ready, ops::metrics, ops::openapi,
    ),
    components(schemas(ode_sdk::api::WebhookEvent)),
    modifiers(&BearerAuth),
    tags(
        (name = "render", description = "Synchronous renders"),
        (name = "documents", description = "Stored documents, templates and Markdown"),
        (name = "exports", description = "Asynchronous renders and batches"),
        (name = "fonts", description = "The tenant's fonts"),
        (name = "webhook", description = "Export events"),
        (name = "operations", description = "Health, readiness, metrics"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API key: `Authorization: Bearer ode_…`"))
                    .build(),
            ),
        );
    }
}

/// The methods (`GET, PUT`) the document lists for an actix route pattern, whose
/// `{name:regex}` segments read as `{name}`; `None` for a path it does not describe.
pub fn allowed_methods(pattern: &str) -> Option<String> {
    static METHODS: OnceLock<HashMap<String, String>> = OnceLock::new();
    let methods = METHODS.get_or_init(|| {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
        let mut map = HashMap::new();
        if let Some(paths) = doc["paths"].as_object() {
            for (path, ops) in paths {
                if let Some(ops) = ops.as_object() {
                    let list: Vec<String> = ops.keys().map(|m| m.to_uppercase()).collect();
                    map.insert(path.clone(), list.join(", "));
                }
            }
        }
        map
    });
    let mut path = String::with_capacity(pattern.len());
    let (mut in_name, mut in_regex) = (false, false);
    for c in pattern.chars() {
        match c {
            '{' => in_name = true,
            ':' if in_name => in_regex = true,
            '}' => (in_name, in_regex) = (false, false),
            _ => {}
        }
        if !in_regex {
            path.push(c);
        }
    }
    methods.get(&path).cloned()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An HTML page listing every operation with its description, parameters and answers.
pub fn docs_page(doc: &utoipa::openapi::OpenApi) -> String {
    let value = serde_json::to_value(doc).unwrap_or_default();
    let mut html = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>ODE API</title>\
         <style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}\
         code{background:#f3f3f3;padding:0 .2rem}.op{border-top:1px solid #ddd;padding:.5rem 0}\
         .m{font-weight:700;text-transform:uppercase;display:inline-block;width:4.5rem}</style></head><body>",
    );
    html.push_str(&format!(
        "<h1>{}</h1><p>{}</p><p>Machine-readable: <a href=\"/v1/openapi.json\">/v1/openapi.json</a>. \
         Authenticate with <code>Authorization: Bearer &lt;API key&gt;</code>.</p>",
        escape(value["info"]["title"].as_str().unwrap_or("")),
        escape(value["info"]["description"].as_str().unwrap_or(""))
    ));
    if let Some(paths) = value["paths"].as_object() {
        for (path, ops) in paths {
            let Some(ops) = ops.as_object() else { continue };
            for (method, op) in ops {
                html.push_str(&format!(
                    "<div class=\"op\"><span class=\"m\">{}</span><code>{}</code><p>{}</p>",
                    escape(method),
                    escape(path),
                    escape(
                        op["description"]
                            .as_str()
                            .or(op["summary"].as_str())
                            .unwrap_or("")
                    )
                ));
                if let Some(responses) = op["responses"].as_object() {
                    html.push_str("<ul>");
                    for (code, r) in responses {
                        html.push_str(&format!(
                            "<li><b>{}</b> {}</li>",
                            escape(code),
                            escape(r["description"].as_str().unwrap_or(""))
                        ));
                    }
                    html.push_str("</ul>");
                }
                html.push_str("</div>");
            }
        }
    }
    html.push_str("</body></html>");
    html
}
