//! Tenant, channel and pattern syntax (spec/protocol.md §6). The SDK checks names before it
//! sends anything, so bad input fails fast with `bad_argument` instead of an `ERR` later.

pub const MAX_TENANT_BYTES: usize = 128;
pub const MAX_CHANNEL_BYTES: usize = 256;
pub const MAX_PATTERN_BYTES: usize = 256;
/// Largest application payload, in bytes.
pub const MAX_PAYLOAD: usize = 65_535;

/// Why a name is invalid: the wire code (`invalid_name` or `invalid_pattern`) and a reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameError {
    pub code: &'static str,
    pub reason: String,
}

fn allowed(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'~' | b'@' | b'.')
}

fn name_error(what: &str, value: &str, why: &str) -> NameError {
    NameError {
        code: "invalid_name",
        reason: format!("{what} {value:?}: {why}"),
    }
}

pub fn validate_tenant(tenant: &str) -> Result<(), NameError> {
    if tenant.is_empty() || tenant.len() > MAX_TENANT_BYTES {
        return Err(name_error("tenant", tenant, "must be 1-128 bytes"));
    }
    if !tenant.bytes().all(allowed) {
        return Err(name_error("tenant", tenant, "only A-Z a-z 0-9 _ - ~ @ . are allowed"));
    }
    Ok(())
}

pub fn validate_channel(channel: &str) -> Result<(), NameError> {
    if channel.is_empty() || channel.len() > MAX_CHANNEL_BYTES {
        return Err(name_error("channel", channel, "must be 1-256 bytes"));
    }
    if channel.bytes().any(|b| matches!(b, b'*' | b'#' | b'>')) {
        return Err(name_error("channel", channel, "a publish channel cannot hold a wildcard (*, #, >)"));
    }
    if !channel.bytes().all(allowed) {
        return Err(name_error("channel", channel, "only A-Z a-z 0-9 _ - ~ @ . are allowed"));
    }
    if channel.split('.').any(str::is_empty) {
        return Err(name_error("channel", channel, "empty token (leading, trailing or double dot)"));
    }
    Ok(())
}

pub fn validate_pattern(pattern: &str) -> Result<(), NameError> {
    let bad = |why: &str| NameError {
        code: "invalid_pattern",
        reason: format!("pattern {pattern:?}: {why}"),
    };
    if pattern.is_empty() || pattern.len() > MAX_PATTERN_BYTES {
        return Err(bad("must be 1-256 bytes"));
    }
    let tokens: Vec<&str> = pattern.split('.').collect();
    let last = tokens.len() - 1;
    for (i, token) in tokens.iter().enumerate() {
        let bytes = token.as_bytes();
        let Some((&tail, head)) = bytes.split_last() else {
            return Err(bad("empty token (leading, trailing or double dot)"));
        };
        if !head.iter().all(|&b| allowed(b)) {
            return Err(bad("a wildcard must be the last character of its token"));
        }
        match tail {
            b'*' => {}
            b'#' | b'>' if i == last => {}
            b'#' | b'>' => return Err(bad("# and > are allowed in the last token only")),
            b if allowed(b) => {}
            _ => return Err(bad("only A-Z a-z 0-9 _ - ~ @ . and wildcards are allowed")),
        }
    }
    Ok(())
}
