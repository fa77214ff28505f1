//! HTTP bodies and slow peers: a polling POST that announces more than the payload limit is
//! refused at once, one whose body trickles is cut after the body timeout, and a polling client
//! that never reads cannot leave its room partner without pongs.

mod common;

use std::time::Duration;

use common::{WAIT, http_client, next_text, raw_ws, start};
use duet_protocol::engineio::Packet;
use duet_protocol::payload;
use futures_util::SinkExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

/// Opens a polling session; returns its sid.
async fn polling_session(base: &str) -> String {
    common::polling_session(base).await.1.sid
}

/// A raw HTTP/1.1 POST head for the polling session `sid`, announcing `length` bytes.
fn post_head(addr: std::net::SocketAddr, sid: &str, length: u64) -> String {
    format!(
        "POST /socket.io/?EIO=3&transport=polling&sid={sid} HTTP/1.1\r\nHost: {addr}\r\n\
         Content-Type: text/plain;charset=UTF-8\r\nContent-Length: {length}\r\n\r\n"
    )
}

/// Reads the response head within [`WAIT`] (the server may reset the connection right after
/// it, when the client is still sending); returns its status line.
async fn read_status(stream: &mut (impl AsyncReadExt + Unpin)) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let read = tokio::time::timeout(WAIT, async {
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "no answer within {WAIT:?}");
    String::from_utf8_lossy(&buf)
        .lines()
        .next()
        .unwrap_or("")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn announced_oversize_polling_body_is_refused_at_once() {
    // A minute of body timeout: only an answer to the announced length can come within WAIT.
    let server = start(&["--body-timeout-ms", "60000"]).await;
    let sid = polling_session(&server.base_url()).await;
    for length in [100_000_000u64, 200_000_000] {
        let mut stream = TcpStream::connect(server.local_addr()).await.unwrap();
        stream
            .write_all(post_head(server.local_addr(), &sid, length).as_bytes())
            .await
            .unwrap();
        // Not one byte of the body is sent.
        let status = read_status(&mut stream).await;
        assert_eq!(status, "HTTP/1.1 413 Payload Too Large", "{length} bytes");
    }
    assert_eq!(server.metrics().rejections("body_too_large"), 2);
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trickled_polling_body_is_cut_after_the_timeout() {
    let server = start(&["--body-timeout-ms", "500"]).await;
    let sid = polling_session(&server.base_url()).await;
    let mut stream = TcpStream::connect(server.local_addr()).await.unwrap();
    stream
        .write_all(post_head(server.local_addr(), &sid, 1000).as_bytes())
        .await
        .unwrap();
    let (mut read, mut write) = stream.into_split();
    // A byte every 50 ms: 1000 bytes would take 50 s, and each byte resets no idle timer.
    let trickle = tokio::spawn(async move {
        for _ in 0..1000 {
            if write.write_all(b"1").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let status = read_status(&mut read).await;
    trickle.abort();
    assert_eq!(status, "HTTP/1.1 408 Request Timeout");
    assert_eq!(server.metrics().rejections("body_timeout"), 1);
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunked_polling_body_over_the_limit_is_refused() {
    let server = start(&["--max-payload", "100000"]).await;
    let sid = polling_session(&server.base_url()).await;
    let mut stream = TcpStream::connect(server.local_addr()).await.unwrap();
    // No Content-Length: the limit is found while reading the chunks.
    let head = format!(
        "POST /socket.io/?EIO=3&transport=polling&sid={sid} HTTP/1.1\r\nHost: {}\r\n\
         Content-Type: text/plain;charset=UTF-8\r\nTransfer-Encoding: chunked\r\n\r\n",
        server.local_addr()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let chunk = format!("{:x}\r\n{}\r\n", 60_000, "a".repeat(60_000));
    for _ in 0..2 {
        // The server may refuse (and reset) before the second chunk is written.
        let _ = stream.write_all(chunk.as_bytes()).await;
    }
    assert_eq!(
        read_status(&mut stream).await,
        "HTTP/1.1 413 Payload Too Large"
    );
    server.shutdown().await.unwrap();
}

/// 20 MB of offers pushed at a partner that polls and never reads: the pusher keeps getting a
/// pong for every ping, and the server drops the partner that stopped reading, telling the
/// pusher with `user_exit`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_that_never_reads_cannot_starve_the_pusher() {
    let server = start(&["--relay-rate", "100000", "--relay-burst", "100000"]).await;
    let base = server.base_url();
    let sid = polling_session(&base).await;
    let join = Packet::message(r#"2["join_room",{"room":"slow","email":"slow"}]"#);
    let res = http_client(None)
        .post(format!(
            "{base}/socket.io/?EIO=3&transport=polling&sid={sid}"
        ))
        .body(payload::encode_text(&[join]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // From here on the polling client never sends a GET.

    let mut pusher = raw_ws(&server).await;
    pusher
        .send(Message::text(
            r#"42["join_room",{"room":"slow","email":"pusher"}]"#,
        ))
        .await
        .unwrap();
    let users = next_text(&mut pusher).await.unwrap();
    assert!(
        users.contains(&sid),
        "pusher joined the slow one's room: {users}"
    );

    let sdp = "a".repeat(60_000);
    let offer = format!(r#"42["offer",{{"type":"offer","sdp":"{sdp}"}}]"#);
    let mut pushed = 0usize;
    let mut pongs = 0usize;
    let mut exit_seen = false;
    while pushed < 20_000_000 {
        for _ in 0..10 {
            pusher.send(Message::text(offer.clone())).await.unwrap();
            pushed += offer.len();
        }
        pusher.send(Message::text("2")).await.unwrap();
        loop {
            let frame = next_text(&mut pusher)
                .await
                .expect("the pusher's connection stays open");
            match frame.as_str() {
                "3" => break,
                f if f.starts_with("42[\"user_exit\"") => exit_seen = true,
                f => panic!("unexpected frame for the pusher: {:.80}", f),
            }
        }
        pongs += 1;
    }
    assert_eq!(pongs, 20_000_000usize.div_ceil(offer.len() * 10));
    if !exit_seen {
        // The last relays may have filled the slow one's buffer just now: it is dropped at
        // the next relay that does not fit.
        pusher.send(Message::text(offer.clone())).await.unwrap();
        let frame = next_text(&mut pusher).await.unwrap();
        assert!(frame.starts_with("42[\"user_exit\""), "{frame:.80}");
    }
    assert_eq!(server.rooms().member_count(), 1);
    server.shutdown().await.unwrap();
}
