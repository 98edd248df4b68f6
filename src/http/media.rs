//! Media types of GraphQL over HTTP: what a request sends and what the client accepts.
use axum::http::{HeaderMap, header};

/// The JSON flavour of a response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResponseType {
    /// `application/graphql-response+json`: request errors use 4xx statuses.
    GraphqlResponseJson,
    /// `application/json`: well-formed requests always get 200.
    Json,
}

impl ResponseType {
    /// The Content-Type header value.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::GraphqlResponseJson => "application/graphql-response+json; charset=utf-8",
            Self::Json => "application/json; charset=utf-8",
        }
    }
}

/// Splits a media range into lower-cased type and its parameters.
fn parse_media(range: &str) -> (String, Vec<(String, String)>) {
    let mut parts = range.split(';');
    let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let params = parts
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().trim_matches('"').to_ascii_lowercase()))
        .collect();
    (media, params)
}

/// Picks the response type from `Accept`: graphql-response+json when asked for, JSON for
/// `application/json`, `*/*` or no header; `None` when nothing we serve is acceptable.
pub fn negotiate(headers: &HeaderMap) -> Option<ResponseType> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Some(ResponseType::Json);
    };
    if accept.trim().is_empty() {
        return Some(ResponseType::Json);
    }
    let mut json = false;
    for range in accept.split(',') {
        let (media, params) = parse_media(range);
        let refused = params.iter().any(|(k, v)| k == "q" && v.parse::<f32>().is_ok_and(|q| q <= 0.0));
        if refused {
            continue;
        }
        match media.as_str() {
            "application/graphql-response+json" => return Some(ResponseType::GraphqlResponseJson),
            "application/json" | "application/*" | "*/*" => json = true,
            _ => {}
        }
    }
    json.then_some(ResponseType::Json)
}

/// Whether the client prefers an HTML page (a browser), for GraphiQL.
pub fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.split(',').any(|r| parse_media(r).0 == "text/html"))
}

/// Why a request body's Content-Type is refused.
pub enum ContentTypeError {
    /// No Content-Type header.
    Missing,
    /// A type other than JSON, or a charset other than UTF-8.
    Unsupported,
}

/// Accepts `application/json` (and `application/graphql-response+json`) in UTF-8 only:
/// form and text bodies, which browsers send cross-site without a preflight, are refused.
pub fn check_content_type(headers: &HeaderMap) -> Result<(), ContentTypeError> {
    let value = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).ok_or(ContentTypeError::Missing)?;
    let (media, params) = parse_media(value);
    let json = media == "application/json" || media == "application/graphql-response+json";
    let utf8 = params.iter().all(|(k, v)| k != "charset" || v == "utf-8" || v == "utf8");
    if json && utf8 { Ok(()) } else { Err(ContentTypeError::Unsupported) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn accept(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(v) {
            h.insert(header::ACCEPT, v);
        }
        h
    }

    #[test]
    fn accept_header_negotiation_follows_the_spec() {
        assert_eq!(negotiate(&HeaderMap::new()), Some(ResponseType::Json));
        assert_eq!(negotiate(&accept("*/*")), Some(ResponseType::Json));
        assert_eq!(negotiate(&accept("application/json")), Some(ResponseType::Json));
        assert_eq!(
            negotiate(&accept("application/json;q=0.9, application/graphql-response+json")),
            Some(ResponseType::GraphqlResponseJson)
        );
        assert_eq!(negotiate(&accept("text/html")), None);
        assert_eq!(negotiate(&accept("application/json;q=0")), None);
    }
}
