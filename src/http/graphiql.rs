//! GraphiQL for browsers, served from the binary: the page, React and GraphiQL bundles
//! (third-party, unmodified, in `graphiql/vendor/`; its `LICENSES.md` names versions and sha256) and a content security policy that allows
//! nothing from elsewhere, so it works offline and under strict policies.
use axum::{
    extract::{Path, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use super::HttpState;

/// Only this server's own scripts, styles and connections (HTTP and its WebSocket); inline
/// styles for the editor's layout, data: URLs for the fonts and icons the stylesheet embeds.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const PAGE: &str = include_str!("graphiql/index.html");

/// One served file: its name under `/graphiql/assets/`, media type and bytes.
struct Asset {
    name: &'static str,
    media_type: &'static str,
    bytes: &'static [u8],
}

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

const ASSETS: &[Asset] = &[
    Asset {
        name: "react.production.min.js",
        media_type: JS,
        bytes: include_bytes!("graphiql/vendor/react.production.min.js"),
    },
    Asset {
        name: "react-dom.production.min.js",
        media_type: JS,
        bytes: include_bytes!("graphiql/vendor/react-dom.production.min.js"),
    },
    Asset { name: "graphiql.min.js", media_type: JS, bytes: include_bytes!("graphiql/vendor/graphiql.min.js") },
    Asset { name: "graphiql.min.css", media_type: CSS, bytes: include_bytes!("graphiql/vendor/graphiql.min.css") },
    Asset { name: "page.css", media_type: CSS, bytes: include_bytes!("graphiql/page.css") },
    Asset { name: "init.js", media_type: JS, bytes: include_bytes!("graphiql/init.js") },
];

/// The GraphiQL page, with its content security policy.
pub fn page() -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8")),
            (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY)),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        PAGE,
    )
        .into_response()
}

/// `GET /graphiql/assets/{file}`: one of the page's scripts or stylesheets; 404 for anything else
/// or when GraphiQL is switched off.
pub async fn asset(State(state): State<HttpState>, Path(file): Path<String>) -> Response {
    let found = ASSETS.iter().find(|a| a.name == file);
    match found {
        Some(asset) if state.app.config.exposure.graphiql => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(asset.media_type)),
                (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
                // Revalidated daily: the names carry no version, an upgrade must reach browsers.
                (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400")),
            ],
            asset.bytes,
        )
            .into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}
