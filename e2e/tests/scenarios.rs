//! The end-to-end scenarios of issue 5. Each starts its own servers and browsers; run one with
//! cargo's name filter, e.g. `cargo test -p duet-e2e --test scenarios -- seed_clients`.

use std::time::Duration;

use anyhow::Result;
use duet_e2e::{App, Permission, ServerKind, Test, run};

/// Page load, media, signaling and ICE on a busy 2-core machine.
const CALL_WITHIN: Duration = Duration::from_secs(30);

/// Two seed clients call each other through `kind`: proves the harness, the peers and, through
/// duet-server, that it speaks to an unmodified socket.io-client 2.3.0.
async fn seed_clients(t: &mut Test, kind: ServerKind) -> Result<()> {
    let server = t.server(kind).await?;
    let a = t
        .open("seed-a", App::Seed, &server, "room1", Permission::Grant)
        .await?;
    let b = t
        .open("seed-b", App::Seed, &server, "room1", Permission::Grant)
        .await?;
    a.wait_playing(CALL_WITHIN).await?;
    b.wait_playing(CALL_WITHIN).await?;
    Ok(())
}

#[tokio::test]
async fn seed_clients_through_seed_server() {
    run("seed_clients_through_seed_server", |t| {
        Box::pin(seed_clients(t, ServerKind::Seed))
    })
    .await;
}

#[tokio::test]
async fn seed_clients_through_duet_server() {
    run("seed_clients_through_duet_server", |t| {
        Box::pin(seed_clients(t, ServerKind::Duet))
    })
    .await;
}
