//! The WebTransport part of the JS-facing endpoint (wt.rs does the work).

use napi::{Error, Result, Status};
use napi_derive::napi;

use crate::endpoint::{rt, NativeEndpoint};
use crate::wt;

fn no_session() -> Error {
    Error::new(Status::InvalidArg, "not a WebTransport connection")
}

#[napi]
impl NativeEndpoint {
    /// Answers a received CONNECT (SESSION event): 200 opens the session, any other status
    /// refuses it. False when the connection is gone.
    #[napi]
    pub fn respond_session(&self, conn: u32, status: u32) -> Result<bool> {
        if !(200..=599).contains(&status) {
            return Err(Error::new(Status::InvalidArg, format!("status must be in [200, 599]: {status}")));
        }
        let Some(c) = self.shared.conn(conn) else { return Ok(false) };
        let w = c.wt.clone().ok_or_else(no_session)?;
        let _guard = rt().enter();
        Ok(wt::respond(&c, &w, status as u16))
    }

    /// Closes the WebTransport session with a code (u32) and reason (CLOSE_WEBTRANSPORT_SESSION),
    /// then the connection. CONN_CLOSED reports the code.
    #[napi]
    pub fn close_session(&self, conn: u32, code: u32, reason: String) -> Result<()> {
        let Some(c) = self.shared.conn(conn) else { return Ok(()) };
        let w = c.wt.clone().ok_or_else(no_session)?;
        let _guard = rt().enter();
        wt::close_session(&c, &w, code, reason);
        Ok(())
    }
}

/// WebTransport application error codes as HTTP/3 stream error codes (what a WebTransport
/// stream's reset or stop carries on the wire), and back (null: not a WebTransport code).
#[napi]
pub fn webtransport_code_to_http3(code: u32) -> f64 {
    crate::wt_wire::wt_to_h3(code) as f64
}

#[napi]
pub fn http3_code_to_webtransport(code: f64) -> Option<u32> {
    if !(0.0..9_007_199_254_740_992.0).contains(&code) {
        return None;
    }
    crate::wt_wire::h3_to_wt(code as u64)
}
