//! Errors as JSON: `{"error": {"code": "...", "message": "..."}}` with a
//! status mapped once from the error's kind. Every error response of the
//! server has this shape — the router's own (no route, wrong method, a body
//! over the limit, a timeout) are rewritten into it by [`json_errors`].

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cst_workspace::cst::ErrorKind;
use serde::Serialize;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A stable code (`not_found`, `invalid_input`, `outside_workspace`…).
    pub code: &'static str,
    /// What went wrong, for people.
    pub message: String,
    /// Seconds after which the request may succeed (`Retry-After`), for
    /// an answer that is busy rather than wrong.
    pub retry_after: Option<u32>,
}

#[derive(Serialize)]
struct Body_<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'a str,
    message: &'a str,
}

impl ApiError {
    /// An error with a status and code.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// A bad request (400, `invalid_input`).
    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_input", message)
    }
}

/// The status of an error kind.
pub fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::InvalidInput => StatusCode::BAD_REQUEST,
        ErrorKind::Unsupported => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::Busy => StatusCode::CONFLICT,
        ErrorKind::PermissionDenied => StatusCode::FORBIDDEN,
        ErrorKind::Corrupt | ErrorKind::Io | ErrorKind::Internal => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl From<cst_workspace::Error> for ApiError {
    fn from(e: cst_workspace::Error) -> Self {
        let code = match &e {
            cst_workspace::Error::OutsideWorkspace(_) => "outside_workspace",
            cst_workspace::Error::StaleVersion { .. } => "stale_version",
            cst_workspace::Error::NotOpen(_) => "not_open",
            cst_workspace::Error::BadEdit(_) => "bad_edit",
            _ => e.kind().as_str(),
        };
        ApiError {
            status: status_of(e.kind()),
            code,
            message: e.to_string(),
            retry_after: None,
        }
    }
}

impl From<cst_workspace::cst::Error> for ApiError {
    fn from(e: cst_workspace::cst::Error) -> Self {
        cst_workspace::Error::from(e).into()
    }
}

/// How long a client is asked to wait while the workspace's first index
/// runs (`Retry-After`, seconds).
const INDEXING_RETRY_AFTER: u32 = 5;

impl From<cst_symbols::Error> for ApiError {
    fn from(e: cst_symbols::Error) -> Self {
        match e {
            cst_symbols::Error::Workspace(e) => e.into(),
            cst_symbols::Error::Cache(e) => e.into(),
            // Not wrong, only early: as `/readyz` answers before the first
            // index, with the time to ask again.
            cst_symbols::Error::NotReady { .. } => ApiError {
                retry_after: Some(INDEXING_RETRY_AFTER),
                ..ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "indexing", e.to_string())
            },
            e => ApiError {
                status: status_of(e.kind()),
                code: e.kind().as_str(),
                message: e.to_string(),
                retry_after: None,
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&Body_ {
            error: Inner {
                code: self.code,
                message: &self.message,
            },
        })
        .unwrap_or_else(|_| b"{\"error\":{\"code\":\"internal\",\"message\":\"\"}}".to_vec());
        let mut r = Response::new(Body::from(body));
        *r.status_mut() = self.status;
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Some(secs) = self.retry_after {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        r
    }
}

/// Rewrites an error response that is not JSON (axum's and tower's own:
/// no route, wrong method, a body over the limit, a malformed request, a
/// timeout) into the JSON error shape, keeping its status.
pub async fn json_errors(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    // The text axum gave, bounded: it is ours, but never trust a size.
    let text = axum::body::to_bytes(body, 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let code = match status {
        StatusCode::NOT_FOUND => "no_route",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::REQUEST_TIMEOUT | StatusCode::SERVICE_UNAVAILABLE => "timeout",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        s if s.is_client_error() => "invalid_input",
        _ => "internal",
    };
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_string()
    } else {
        text
    };
    let mut r = ApiError::new(status, code, message).into_response();
    for (k, v) in parts.headers.iter() {
        if k != header::CONTENT_TYPE && k != header::CONTENT_LENGTH {
            r.headers_mut().insert(k.clone(), v.clone());
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Before the first index a symbol look-up is busy, not wrong: 503
    /// `indexing` with the time to ask again.
    #[test]
    fn not_ready_is_503_with_retry_after() {
        let e = ApiError::from(cst_symbols::Error::NotReady { done: 1, total: 9 });
        let r = e.into_response();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            r.headers().get(header::RETRY_AFTER).unwrap(),
            &INDEXING_RETRY_AFTER.to_string()
        );
        let e = ApiError::from(cst_symbols::Error::Invalid("no".into()));
        assert_eq!(
            (e.status, e.code),
            (StatusCode::BAD_REQUEST, "invalid_input")
        );
        assert!(e.retry_after.is_none());
    }
}
