//! The `/metrics` endpoint survives its clients (loopback only, every loop bounded): slowloris
//! connections, a client that never reads its responses, and file descriptor exhaustion do
//! not stop other scrapes, and the endpoint recovers by itself.
//!
//! One test, in phases: exhausting descriptors affects the whole process.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use mcp_gateway_metrics::{record, CacheType, Config};
use tests::tracing_capture::Captured;

fn scrape(address: SocketAddr) -> String {
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(3))
        .build()
        .unwrap();
    let response = client
        .get(format!("http://{address}/metrics"))
        .send()
        .expect("a scrape is answered");
    assert!(response.status().is_success());
    response.text().unwrap()
}

/// Whether the server closed `stream` within `within`.
fn closed_by_server(stream: &mut TcpStream, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut buf = [0u8; 1024];
    while Instant::now() < deadline {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => return true,
        }
    }
    false
}

fn nofile_limit() -> libc::rlimit {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own.
    assert_eq!(
        unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) },
        0
    );
    limit
}

fn set_nofile_limit(limit: &libc::rlimit) {
    // SAFETY: setrlimit reads the struct we own.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, limit) }, 0);
}

#[test]
fn slowloris_a_client_that_never_reads_and_descriptor_exhaustion_do_not_stop_scrapes() {
    let captured = Captured::default();
    tracing::subscriber::set_global_default(captured.subscriber()).unwrap();
    let guard = Config::builder()
        .prometheus_address("127.0.0.1:0")
        .install()
        .unwrap();
    let address = guard.prometheus_address().unwrap();
    record::cache_hit(CacheType::Tools);
    assert!(scrape(address).contains("enkrypt_cache_hits_total{cache_type=\"tools\"} 1"));

    // 1. Slowloris: 100 connections that never finish their headers.
    let mut slow: Vec<TcpStream> = (0..100)
        .map(|_| {
            let mut s = TcpStream::connect(address).unwrap();
            s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
                .unwrap();
            s
        })
        .collect();
    assert!(scrape(address).contains("enkrypt_cache_hits_total"));
    // Each is cut off after the header timeout (5 s).
    for s in &mut slow {
        assert!(
            closed_by_server(s, Duration::from_secs(15)),
            "a slow client was kept"
        );
    }
    drop(slow);

    // 2. A client that sends requests and never reads the responses.
    let mut greedy = TcpStream::connect(address).unwrap();
    greedy
        .set_write_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let request = b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
    for _ in 0..20_000 {
        if greedy.write_all(request).is_err() {
            break; // the server stopped reading: its writes to us are blocked
        }
    }
    for _ in 0..3 {
        assert!(scrape(address).contains("enkrypt_cache_hits_total"));
    }
    drop(greedy);

    // 3. File descriptor exhaustion: no descriptor left for the server to accept with.
    let original = nofile_limit();
    let mut low = original;
    low.rlim_cur = 512.min(original.rlim_max);
    set_nofile_limit(&low);
    let mut hog = Vec::new();
    for _ in 0..low.rlim_cur {
        match std::fs::File::open("/dev/null") {
            Ok(f) => hog.push(f),
            Err(_) => break,
        }
    }
    assert!(
        std::fs::File::open("/dev/null").is_err(),
        "descriptors exhausted"
    );
    hog.pop(); // exactly one free: for our side of the connection
    let mut waiting = TcpStream::connect(address).expect("the kernel queues the connection");
    waiting.write_all(request).unwrap();
    // The server's accept fails (EMFILE) and backs off; once the warning is out, free them.
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline
        && !captured
            .events()
            .iter()
            .any(|e| e.message.contains("cannot accept a connection"))
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        captured
            .events()
            .iter()
            .any(|e| e.level == tracing::Level::WARN
                && e.message.contains("cannot accept a connection")),
        "the failed accept is reported"
    );
    drop(hog);
    set_nofile_limit(&original);
    // Recovered by itself: the queued connection is answered, and new scrapes work.
    waiting
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut head = [0u8; 12];
    waiting
        .read_exact(&mut head)
        .expect("the queued request is answered");
    assert_eq!(&head, b"HTTP/1.1 200");
    assert!(scrape(address).contains("enkrypt_cache_hits_total"));
    drop(guard);
}
