//! The SDK against real relays, over the WebSocket edge and the QUIC edge.
mod common;

use common::Relay;
use fastpubsub_client::{Client, ClientEvent, ClientState, DeliveryMode, ErrorCode, Options, ReconnectOptions, Subscription, Token};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

const WAIT: Duration = Duration::from_secs(10);

fn options(relay: &Relay, quic: bool) -> Options {
    let o = Options::new();
    if quic {
        o.quic(relay.quic())
    } else {
        o
    }
}

async fn next(sub: &mut Subscription) -> fastpubsub_client::Message {
    tokio::time::timeout(WAIT, sub.next())
        .await
        .expect("a message within 10 s")
        .expect("the subscription is open")
}

async fn nothing_for(sub: &mut Subscription, wait: Duration) {
    if let Ok(Some(m)) = tokio::time::timeout(wait, sub.next()).await {
        panic!("unexpected message on {}: {:?}", m.channel(), m.payload());
    }
}

async fn pubsub_roundtrip(quic: bool) {
    let relay = Relay::start();
    let client = Client::connect(&relay.url, options(&relay, quic).token(relay.token().await)).await.unwrap();
    assert_eq!(client.state(), ClientState::Connected);
    assert_eq!(client.edge().as_deref(), Some(relay.url.as_str()));

    let mut all = client.subscribe("demo", "chat.#").await.unwrap();
    let mut rooms = client.subscribe("demo", "chat.*").await.unwrap();
    client.publish("demo", "chat.room1", b"hello").await.unwrap();
    let m = next(&mut all).await;
    assert_eq!((m.tenant(), m.channel(), m.payload()), ("demo", "chat.room1", &b"hello"[..]));
    assert!(m.patterns().contains(&"chat.#".to_owned()));
    assert!(next(&mut rooms).await.patterns().contains(&"chat.*".to_owned()));

    // `chat.*` matches one token only.
    client.publish("demo", "chat.a.b", b"deep").await.unwrap();
    assert_eq!(next(&mut all).await.channel(), "chat.a.b");
    nothing_for(&mut rooms, Duration::from_millis(300)).await;

    // Byte-exact payloads at the edges of the range.
    for size in [0usize, 1, 65_535] {
        let payload: Vec<u8> = (0..size).map(|i| (i * 7 % 256) as u8).collect();
        client.publish("demo", "chat.bin", &payload).await.unwrap();
        let got = next(&mut all).await;
        assert_eq!(got.payload(), &payload[..], "{size}-byte payload");
        next(&mut rooms).await;
    }

    // Refused before sending, and the connection lives on.
    let too_big = vec![0u8; 65_536];
    for err in [
        client.publish("demo", "chat.room1", &too_big).await.unwrap_err(),
        client.publish("demo", "chat.*", b"x").await.unwrap_err(),
        client.publish("", "chat.room1", b"x").await.unwrap_err(),
        client.subscribe("demo", "  ").await.unwrap_err(),
    ] {
        assert_eq!(err.code(), ErrorCode::BadArgument, "{err}");
    }
    // Outside the grants: the edge refuses, typed, and nothing breaks.
    let denied = client.subscribe("demo", "other.#").await.unwrap_err();
    assert_eq!(
        (denied.code(), denied.server_code()),
        (ErrorCode::Server, Some("permission_denied")),
        "{denied}"
    );

    // Unsubscribe stops delivery.
    rooms.unsubscribe();
    client.publish("demo", "chat.after", b"x").await.unwrap();
    assert_eq!(next(&mut all).await.channel(), "chat.after");
    client.flush(WAIT).await.unwrap();
    assert!(client.stats().published >= 6);

    client.close().await;
    assert_eq!(client.state(), ClientState::Closed);
    assert_eq!(client.publish("demo", "chat.room1", b"x").await.unwrap_err().code(), ErrorCode::Closed);
    assert!(tokio::time::timeout(WAIT, all.next()).await.unwrap().is_none(), "subscriptions end on close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_pubsub() {
    pubsub_roundtrip(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quic_pubsub() {
    pubsub_roundtrip(true).await;
}

async fn deliver_one_and_rtt(quic: bool) {
    let relay = Relay::start();
    let token = relay.token().await;
    let opts = || {
        options(&relay, quic)
            .token(token.clone())
            .ping(Duration::from_millis(200), Duration::from_secs(5))
    };
    let a = Client::connect(&relay.url, opts()).await.unwrap();
    let b = Client::connect(&relay.url, opts()).await.unwrap();
    let mut sa = a.subscribe("demo", "chat.one").await.unwrap();
    let mut sb = b.subscribe("demo", "chat.one").await.unwrap();
    for i in 0..20u8 {
        a.publish_with("demo", "chat.one", [i], DeliveryMode::OneRandom).await.unwrap();
    }
    let mut got = 0;
    while got < 20 {
        tokio::select! {
            Some(_) = sa.next() => got += 1,
            Some(_) = sb.next() => got += 1,
            _ = tokio::time::sleep(WAIT) => panic!("only {got} of 20 deliver-one messages arrived"),
        }
    }
    nothing_for(&mut sa, Duration::from_millis(300)).await;
    nothing_for(&mut sb, Duration::from_millis(10)).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while a.rtt().is_none() {
        assert!(tokio::time::Instant::now() < deadline, "no RTT measured");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(a.rtt().unwrap() < Duration::from_secs(2));
    a.close().await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_deliver_one_and_rtt() {
    deliver_one_and_rtt(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quic_deliver_one_and_rtt() {
    deliver_one_and_rtt(true).await;
}

/// The relay restarts (SIGTERM, then a new process on the same port and data dir): the client
/// reconnects on its own, restores the subscription and sends what it queued meanwhile.
async fn survives_relay_restart(quic: bool) {
    let mut relay = Relay::start_fixed();
    let token = relay.token().await;
    let states = Arc::new(Mutex::new(Vec::new()));
    let seen = states.clone();
    // QUIC: no address given, so the SDK dials the edge's HTTP port + 1 (the relay's default).
    let mut quic_options = relay.quic();
    quic_options.address = None;
    let opts = if quic { Options::new().quic(quic_options) } else { Options::new() };
    let opts = opts
        .token(token)
        .reconnect(ReconnectOptions {
            base_delay: Duration::from_millis(50),
            max_delay: Duration::from_millis(500),
            ..Default::default()
        })
        .publish_queue(3)
        .on_event(move |e| {
            if let ClientEvent::State(s) = e {
                seen.lock().unwrap().push(*s);
            }
        });
    let client = Client::connect(&relay.url, opts).await.unwrap();
    let mut sub = client.subscribe("demo", "chat.#").await.unwrap();
    let (port, dir) = (relay.port, relay.data_dir.clone());
    relay.stop();
    let deadline = tokio::time::Instant::now() + WAIT;
    while client.state() == ClientState::Connected {
        assert!(tokio::time::Instant::now() < deadline, "the client did not notice the relay went away");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for i in 0..5u8 {
        client.publish("demo", "chat.queued", [i]).await.unwrap();
    }
    assert_eq!((client.stats().queued, client.stats().queue_dropped), (3, 2), "bounded queue, oldest dropped");
    let _relay = Relay::start_at(port, dir);
    let mut got = Vec::new();
    for _ in 0..3 {
        got.push(next(&mut sub).await.payload()[0]);
    }
    assert_eq!(got, vec![2, 3, 4], "the queue keeps the newest, in order");
    client.publish("demo", "chat.after", b"x").await.unwrap();
    assert_eq!(next(&mut sub).await.channel(), "chat.after");
    assert_eq!(client.stats().reconnects, 1);
    assert!(states.lock().unwrap().contains(&ClientState::Reconnecting));
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_survives_relay_restart() {
    survives_relay_restart(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quic_survives_relay_restart() {
    survives_relay_restart(true).await;
}

/// A revoked token and no provider: the client ends with `unauthorized`, no endless retry.
async fn revoked_token_is_terminal(quic: bool) {
    let relay = Relay::start();
    let token = relay.token().await;
    let opts = options(&relay, quic).token(token.clone()).reconnect(ReconnectOptions {
        base_delay: Duration::from_millis(50),
        max_delay: Duration::from_millis(200),
        ..Default::default()
    });
    let client = Client::connect(&relay.url, opts).await.unwrap();
    relay.admin().revoke_token(&token).await.unwrap();
    let end = tokio::time::timeout(WAIT, client.closed()).await.expect("the client ends within 10 s");
    assert_eq!(end.map(|e| e.code()), Some(ErrorCode::Unauthorized));
    // And a fresh connect with it is refused the same way.
    let again = Client::connect(&relay.url, options(&relay, quic).token(token)).await.unwrap_err();
    assert_eq!(again.code(), ErrorCode::Unauthorized, "{again}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_revoked_token_is_terminal() {
    revoked_token_is_terminal(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quic_revoked_token_is_terminal() {
    revoked_token_is_terminal(true).await;
}

/// Tokens that live 4 s: the provider is asked again before expiry and the client migrates to
/// the new token without losing or duplicating a message of a steady stream.
async fn token_provider_refreshes(quic: bool) {
    let relay = Relay::start();
    let admin = relay.admin();
    let calls = Arc::new(AtomicU32::new(0));
    let counter = calls.clone();
    let opts = options(&relay, quic).token_provider(move |_reason| {
        let admin = admin.clone();
        counter.fetch_add(1, Ordering::Relaxed);
        async move {
            let expires = SystemTime::now() + Duration::from_secs(4);
            let grant = fastpubsub_client::TenantGrant::new("demo", &["chat.#"], &["chat.#"]);
            Ok(Token::new(admin.create_token(&[grant], expires, "rust-sdk-tests").await?, Some(expires)))
        }
    });
    let client = Client::connect(&relay.url, opts).await.unwrap();
    let publisher = Client::connect(&relay.url, options(&relay, quic).token(relay.token().await)).await.unwrap();
    let mut sub = client.subscribe("demo", "chat.steady").await.unwrap();
    for i in 0..100u32 {
        publisher.publish("demo", "chat.steady", i.to_be_bytes()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for i in 0..100u32 {
        assert_eq!(next(&mut sub).await.payload(), &i.to_be_bytes()[..], "message {i} in order, once");
    }
    nothing_for(&mut sub, Duration::from_millis(300)).await;
    assert!(
        calls.load(Ordering::Relaxed) >= 3,
        "provider called {} times in 5 s",
        calls.load(Ordering::Relaxed)
    );
    assert!(client.stats().reconnects >= 2);
    client.close().await;
    publisher.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_token_provider_refreshes() {
    token_provider_refreshes(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quic_token_provider_refreshes() {
    token_provider_refreshes(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fastest_edge_and_token_rest_helpers() {
    let relay = Relay::start();
    let admin = relay.admin();
    let token = relay.token().await;
    let client = Client::connect_fastest(&["http://127.0.0.1:9", &relay.url], Options::new().token(token.clone()))
        .await
        .unwrap();
    assert_eq!(client.edge().as_deref(), Some(relay.url.as_str()));
    client.close().await;
    let none = Client::connect_fastest(&["http://127.0.0.1:9", "http://127.0.0.1:10"], Options::new().token(token.clone()))
        .await
        .unwrap_err();
    assert_eq!(none.code(), ErrorCode::NoEdge);

    let moved = admin.refresh_token(&token, SystemTime::now() + Duration::from_secs(600)).await.unwrap();
    assert!(!moved.is_empty());
    let bad = fastpubsub_client::Admin::new(&relay.url, "not-the-master-token-at-all-0123456789").unwrap();
    assert_eq!(bad.revoke_token(&token).await.unwrap_err().code(), ErrorCode::Unauthorized);
    assert!(!admin.revoke_token(&token).await.unwrap().is_empty());
    let refused = Client::connect(&relay.url, Options::new().token(token)).await.unwrap_err();
    assert_eq!((refused.code(), refused.status()), (ErrorCode::Unauthorized, Some(401)));
}
