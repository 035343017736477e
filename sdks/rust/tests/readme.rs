//! The README example, compiled from README.md by build.rs (examples/readme.rs), run as written
//! against a real relay.
mod common;

use std::process::Command;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readme_example_runs_as_written() {
    let relay = common::Relay::start();
    let token = relay.token().await;
    let exe = std::env::current_exe().unwrap();
    let example = exe.parent().unwrap().parent().unwrap().join("examples").join("readme");
    assert!(example.exists(), "{} was not built (cargo test builds examples)", example.display());
    let output = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::task::spawn_blocking(move || Command::new(example).env("FASTPUBSUB_URL", &relay.url).env("FASTPUBSUB_TOKEN", token).output()),
    )
    .await
    .expect("the README example finished within 30 s")
    .unwrap()
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "README example failed: {stdout} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(stdout.trim(), r#"demo chat.room1 hello ["chat.#"]"#);
}
