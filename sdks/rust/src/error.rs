//! The SDK's error type. Every error carries a stable [`ErrorCode`] (the same strings in every
//! FastPubSub SDK); an `ERR` from the edge keeps its wire code in [`Error::server_code`].
use std::fmt;

/// Stable error codes, shared by every FastPubSub SDK.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// Invalid tenant, channel, pattern, payload or option given to the SDK; nothing was sent.
    BadArgument,
    /// The publish queue is full.
    QueueFull,
    /// The client or subscription is closed.
    Closed,
    /// The operation was cancelled.
    Aborted,
    /// A bounded wait expired.
    Timeout,
    /// No candidate edge answered `GET /ping`.
    NoEdge,
    /// A discovery document was unusable.
    DiscoveryFailed,
    /// The transport could not open (or the connection broke).
    ConnectFailed,
    /// The edge refused the token (401, or AUTH refused on QUIC).
    Unauthorized,
    /// The edge answered 403.
    Forbidden,
    /// The edge broke the protocol.
    Protocol,
    /// The token provider failed.
    TokenProvider,
    /// A REST call answered non-2xx.
    Http,
    /// An `ERR` from the edge; see [`Error::server_code`].
    Server,
}

impl ErrorCode {
    /// The wire string of the code (`bad_argument`, `unauthorized`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadArgument => "bad_argument",
            ErrorCode::QueueFull => "queue_full",
            ErrorCode::Closed => "closed",
            ErrorCode::Aborted => "aborted",
            ErrorCode::Timeout => "timeout",
            ErrorCode::NoEdge => "no_edge",
            ErrorCode::DiscoveryFailed => "discovery_failed",
            ErrorCode::ConnectFailed => "connect_failed",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::Protocol => "protocol",
            ErrorCode::TokenProvider => "token_provider",
            ErrorCode::Http => "http",
            ErrorCode::Server => "server",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An SDK error: a stable code, a human message and, when known, the edge's wire code and the
/// HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    code: ErrorCode,
    message: String,
    server_code: Option<String>,
    detail: Option<String>,
    status: Option<u16>,
}

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
            server_code: None,
            detail: None,
            status: None,
        }
    }

    /// An `ERR:{code}[:{detail}]` from the edge.
    pub fn server(server_code: impl Into<String>, detail: Option<String>) -> Self {
        let server_code = server_code.into();
        let message = match &detail {
            Some(d) => format!("edge error: {server_code}: {d}"),
            None => format!("edge error: {server_code}"),
        };
        Error {
            code: ErrorCode::Server,
            message,
            server_code: Some(server_code),
            detail,
            status: None,
        }
    }

    pub(crate) fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    pub(crate) fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub(crate) fn bad_argument(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::BadArgument, message)
    }

    pub(crate) fn closed() -> Self {
        Error::new(ErrorCode::Closed, "client closed")
    }

    pub fn code(&self) -> ErrorCode {
        self.code
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// For [`ErrorCode::Server`]: the wire code, e.g. `permission_denied`, `payload_too_large`.
    pub fn server_code(&self) -> Option<&str> {
        self.server_code.as_deref()
    }

    /// Extra detail: the rest of an `ERR` line, an HTTP body, …
    pub fn detail(&self) -> Option<&str> {
        self.detail.as_deref()
    }

    /// The HTTP status, when the error came from one.
    pub fn status(&self) -> Option<u16> {
        self.status
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Error {}

/// Result with the SDK's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
