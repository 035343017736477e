//! Unit tests of the send buffer's pump (send_buf.rs) against a fake send stream.
use super::*;
use std::task::Waker;

/// A send stream that takes `budget` more bytes, then refuses (Pending) until given more.
#[derive(Default)]
struct FakeSink {
    budget: usize,
    written: Vec<u8>,
    finished: bool,
    reset: Option<u64>,
    stopped: Option<u32>,
}

impl ChunkSink for FakeSink {
    fn poll_write(&mut self, _cx: &mut Context<'_>, chunks: &mut [Bytes]) -> Poll<Result<Written, WriteError>> {
        if let Some(code) = self.stopped {
            return Poll::Ready(Err(WriteError::Stopped(VarInt::from_u32(code))));
        }
        let mut w = Written::default();
        for c in chunks.iter_mut() {
            if self.budget == 0 {
                break;
            }
            let n = c.len().min(self.budget);
            self.written.extend_from_slice(&c[..n]);
            self.budget -= n;
            w.bytes += n;
            if n == c.len() {
                w.chunks += 1;
            } else {
                *c = c.slice(n..);
                break;
            }
        }
        if w.bytes == 0 {
            Poll::Pending
        } else {
            Poll::Ready(Ok(w))
        }
    }
    fn finish(&mut self) {
        self.finished = true;
    }
    fn reset(&mut self, code: VarInt) {
        self.reset = Some(code.into_inner());
    }
}

fn buf(budget: usize, chunks: &[&'static [u8]]) -> SendBuf<FakeSink> {
    let mut b = SendBuf::<FakeSink> { stream: Some(FakeSink { budget, ..FakeSink::default() }), ..SendBuf::default() };
    for c in chunks {
        b.bytes += c.len();
        b.chunks.push_back(Bytes::from_static(c));
    }
    b
}

fn pump(b: &mut SendBuf<FakeSink>, hwm: usize) -> (Pumped, bool) {
    b.pump(&mut Context::from_waker(Waker::noop()), hwm)
}

#[test]
fn writes_until_refused_and_keeps_the_rest_in_order() {
    let mut b = buf(5, &[b"abc", b"defg", b"hi"]);
    let (out, drained) = pump(&mut b, 100);
    assert!(matches!(out, Pumped::Blocked));
    assert!(!drained);
    let sink = b.stream.as_ref().unwrap();
    assert_eq!(sink.written, b"abcde");
    // The partly written chunk was advanced in place; accounting matches what is left.
    assert_eq!(b.chunks.iter().map(|c| c.to_vec()).collect::<Vec<_>>(), vec![b"fg".to_vec(), b"hi".to_vec()]);
    assert_eq!(b.bytes, 4);
    b.stream.as_mut().unwrap().budget = 100;
    assert!(matches!(pump(&mut b, 100).0, Pumped::Idle));
    assert_eq!(b.stream.as_ref().unwrap().written, b"abcdefghi");
    assert_eq!((b.bytes, b.chunks.len()), (0, 0));
}

#[test]
fn signals_drain_once_when_falling_below_the_high_water_mark() {
    let mut b = buf(0, &[b"0123456789"]);
    b.need_drain = true;
    assert!(!pump(&mut b, 4).1, "still above the mark: no drain");
    b.stream.as_mut().unwrap().budget = 7;
    let (out, drained) = pump(&mut b, 4);
    assert!(matches!(out, Pumped::Blocked));
    assert!(drained, "3 bytes left < 4: drain");
    assert!(!b.need_drain);
    assert!(!pump(&mut b, 4).1, "drain is reported once");
}

#[test]
fn finishes_only_after_everything_is_written() {
    let mut b = buf(2, &[b"abcd"]);
    b.finish = true;
    assert!(matches!(pump(&mut b, 100).0, Pumped::Blocked));
    assert!(!b.stream.as_ref().unwrap().finished);
    b.stream.as_mut().unwrap().budget = 2;
    assert!(matches!(pump(&mut b, 100).0, Pumped::Exit(Exit::Finished)));
    assert!(b.stream.as_ref().unwrap().finished);
}

#[test]
fn reset_wins_over_queued_data() {
    let mut b = buf(100, &[b"abcd"]);
    b.reset = Some(0x10);
    assert!(matches!(pump(&mut b, 100).0, Pumped::Exit(Exit::Reset)));
    let sink = b.stream.as_ref().unwrap();
    assert_eq!(sink.reset, Some(0x10));
    assert!(sink.written.is_empty());
}

#[test]
fn a_stop_from_the_peer_ends_the_send_side() {
    let mut b = buf(100, &[b"abcd"]);
    b.stream.as_mut().unwrap().stopped = Some(7);
    assert!(matches!(pump(&mut b, 100).0, Pumped::Exit(Exit::Stopped(c)) if c.into_inner() == 7));
}

#[test]
fn idle_until_the_stream_is_open() {
    let mut b = SendBuf::<FakeSink>::default();
    b.chunks.push_back(Bytes::from_static(b"x"));
    b.bytes = 1;
    assert!(matches!(pump(&mut b, 100).0, Pumped::Idle));
    assert_eq!(b.bytes, 1);
}

#[test]
fn signals_drain_when_empty_if_asked() {
    let mut b = buf(0, &[b"0123456789"]);
    b.need_empty = true;
    b.stream.as_mut().unwrap().budget = 4;
    assert!(!pump(&mut b, 100).1, "6 bytes left: not empty yet");
    b.stream.as_mut().unwrap().budget = 100;
    let (out, drained) = pump(&mut b, 100);
    assert!(matches!(out, Pumped::Idle));
    assert!(drained, "empty: drain");
    assert!(!b.need_empty);
    assert!(!pump(&mut b, 100).1, "reported once");
}
