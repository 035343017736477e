//! The client task's timers (ping, drain, resubscribe, backoff) and token refresh.
use super::{AfterToken, Cmd, Core, Role, Timer};
use crate::error::{Error, ErrorCode, Result};
use crate::options::{ClientEvent, Token, TokenReason};
use crate::transport::LinkCmd;
use std::time::{Duration, Instant, SystemTime};

impl Core {
    // ---- timers -----------------------------------------------------------------------------

    pub(super) fn on_timer(&mut self, timer: Timer) {
        match timer {
            Timer::Ping(id, seq) => {
                let Some(conn) = self.conns.get_mut(&id) else { return };
                if self.active != Some(id) || conn.ping_seq != seq {
                    return;
                }
                conn.ping_sent = Some(Instant::now());
                conn.link.send(LinkCmd::Ping);
                if let Some((_, timeout)) = self.opts.ping {
                    self.after(timeout, Timer::PingTimeout(id, seq));
                }
            }
            Timer::PingTimeout(id, seq) => {
                let lost = self
                    .conns
                    .get(&id)
                    .is_some_and(|c| c.ping_seq == seq && c.ping_sent.is_some() && self.active == Some(id));
                if lost {
                    self.on_link_closed(id, Some(Error::new(ErrorCode::Timeout, "no PONG in time")));
                }
            }
            Timer::Drain(id) => {
                if self.conns.get(&id).is_some_and(|c| c.role == Role::Draining) {
                    self.drop_conn(id);
                }
            }
            Timer::Resubscribe(id) => {
                if self.conns.get(&id).is_some_and(|c| c.role == Role::Pending) {
                    self.drop_conn(id);
                    self.attempt_failed(Error::new(ErrorCode::Timeout, "not every OK:SUB arrived in time"));
                }
            }
            Timer::Backoff => {
                let reselect = self.candidates.len() > 1;
                self.begin_open(reselect);
            }
            Timer::TokenRefresh(gen) => {
                if gen == self.token_gen {
                    self.refresh_token(TokenReason::Expiring, AfterToken::Migrate);
                }
            }
        }
    }

    // ---- tokens -----------------------------------------------------------------------------

    pub(super) fn refresh_token(&mut self, reason: TokenReason, after: AfterToken) {
        let Some(provider) = self.opts.token_provider.clone() else {
            if after == AfterToken::Open {
                self.shutdown(Some(Error::new(ErrorCode::TokenProvider, "no token provider to get a token")));
            }
            return;
        };
        if let Some(pending) = self.token_refreshing {
            // One call at a time; remember the strongest follow-up.
            if after == AfterToken::Open || pending == AfterToken::Nothing {
                self.token_refreshing = Some(after);
            }
            return;
        }
        self.token_refreshing = Some(after);
        let tx = self.cmd_tx.clone();
        tokio::spawn(async move {
            let result = provider(reason).await.map_err(|e| {
                if e.code() == ErrorCode::TokenProvider {
                    e
                } else {
                    Error::new(ErrorCode::TokenProvider, format!("token provider failed: {e}"))
                }
            });
            let _ = tx.send(Cmd::TokenDone(result, after));
        });
    }

    pub(super) fn on_token(&mut self, result: Result<Token>, _after: AfterToken) {
        let after = self.token_refreshing.take().unwrap_or(AfterToken::Nothing);
        match result {
            Ok(token) if !token.token.is_empty() => {
                self.token = Some(token.token);
                self.token_expires_at = token.expires_at;
                self.schedule_token_refresh();
                match after {
                    AfterToken::Open => self.begin_open(true),
                    AfterToken::Migrate if self.active.is_some() => self.begin_open(false),
                    _ => {}
                }
            }
            other => {
                let error = match other {
                    Err(e) => e,
                    Ok(_) => Error::new(ErrorCode::TokenProvider, "the token provider returned an empty token"),
                };
                if after == AfterToken::Open {
                    return self.attempt_failed(error);
                }
                self.emit(ClientEvent::Error(error));
                // The current connection keeps working (contract §10.4); try again shortly.
                self.token_gen += 1;
                self.after(Duration::from_secs(2), Timer::TokenRefresh(self.token_gen));
            }
        }
    }

    pub(super) fn schedule_token_refresh(&mut self) {
        self.token_gen += 1;
        let (Some(expires_at), Some(_)) = (self.token_expires_at, &self.opts.token_provider) else {
            return;
        };
        let remaining = expires_at.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO);
        let margin = self.opts.token_refresh_margin.min(remaining / 2);
        // A floor, so a provider handing out already-expired tokens cannot spin this loop.
        self.after((remaining - margin).max(Duration::from_millis(200)), Timer::TokenRefresh(self.token_gen));
    }
}
