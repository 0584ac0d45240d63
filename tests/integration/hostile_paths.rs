//! Traffic goes only where the plan's `host` says. Paths, queries and headers rendered
//! from hostile values (an authority after `@`, `//host`, `http://other`, backslashes,
//! CR/LF, encoded slashes, unicode dots) either reach the plan's host or fail as a
//! `template` failure naming the request; a second listener on another port never sees
//! a connection, and no name is looked up (a lookup would fail as `dns`, or connect).
//! A `host` with credentials, a query or a fragment is refused before anything is sent.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use planrun::compile::Overrides;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::support::{check_file, options, run, write_plan};

/// A listener that answers every request `200` (closing after it), counting connections
/// and keeping each request's head.
struct Listener {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    heads: Arc<Mutex<Vec<String>>>,
}

async fn listen() -> Listener {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let heads = Arc::new(Mutex::new(Vec::new()));
    let (count, kept) = (connections.clone(), heads.clone());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            let kept = kept.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    // A TLS handshake (the `https` case): close, as a plain server would.
                    if buf.first() == Some(&0x16) {
                        return;
                    }
                    match socket.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                kept.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&buf).into_owned());
                let _ = socket
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await;
            });
        }
    });
    Listener {
        addr,
        connections,
        heads,
    }
}

/// The hostile values; `OTHER` becomes the second listener's address. The first row is
/// harmless: `check`'s dry render reads it.
fn hostile_values(other: SocketAddr) -> Vec<String> {
    [
        "/ok",
        "@OTHER/x",
        "@abc1234",
        "@abc1234.invalid/x",
        "user:pw@OTHER/x",
        "//OTHER/x",
        "///OTHER/x",
        "http://OTHER/x",
        "https://OTHER/x",
        "HTTP://OTHER/x",
        "\\\\OTHER\\x",
        "/\\OTHER/x",
        "/x\r\nHost: OTHER",
        "/x\nGET http://OTHER/ HTTP/1.1",
        "/x\u{0}",
        "%2F%2FOTHER/x",
        "/%2F%2FOTHER/x",
        "OTHER/x",
        "127。0。0。1/x",
        "/127。0。0。1/x",
        "//abc1234。invalid/x",
        "/?u=http://OTHER/",
        "/#@OTHER",
        "",
    ]
    .iter()
    .map(|v| v.replace("OTHER", &other.to_string()))
    .collect()
}

/// Runs a plan whose path, query and headers render from the hostile values against a
/// host on `target`; the second listener must never be contacted.
async fn run_hostile(scheme: &str) {
    let target = listen().await;
    let other = listen().await;
    let rows: Vec<serde_json::Value> = hostile_values(other.addr)
        .into_iter()
        .map(|v| serde_json::json!({ "v": v }))
        .collect();
    let plan = write_plan(
        "hostile-paths.yaml",
        &format!(
            r#"host: {scheme}://{target}
timeout: 2s
data:
  hostile: {{ file: hostile.json }}
classes:
  A:
    tasks:
      whole-path: {{ path: "{{{{ hostile.v }}}}" }}
      after-prefix: {{ path: "/p{{{{ hostile.v }}}}" }}
      in-query: {{ path: /q, query: {{ v: "{{{{ hostile.v }}}}" }} }}
      in-header: {{ path: /h, headers: {{ X-Value: "{{{{ hostile.v }}}}" }} }}
load: {{ users: 2, spawn-rate: 100/s, run-time: 1s, graceful-stop: 1s }}
"#,
            target = target.addr
        ),
    );
    std::fs::write(
        plan.dir.path().join("hostile.json"),
        serde_json::to_string(&rows).unwrap(),
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let outcome = run(planrun::RunOptions {
        sample_api: None,
        preflight: false,
        overrides: Overrides::default(),
        ..options(plan.path.clone(), out.path().to_path_buf())
    })
    .await;
    let summary = &outcome.summary;

    assert_eq!(
        other.connections.load(Ordering::SeqCst),
        0,
        "the second listener was contacted"
    );
    assert!(
        target.connections.load(Ordering::SeqCst) > 0,
        "the plan's host was never contacted"
    );
    assert!(summary.total.count > 20, "{}", summary.total.count);
    // Only `template` failures (refused before sending), and over plain HTTP none at
    // all besides them: no `dns`, no `connect`, no failure of another host.
    let categories: BTreeSet<&str> = summary
        .failures
        .iter()
        .map(|f| f.category.as_str())
        .collect();
    let allowed: BTreeSet<&str> = if scheme == "https" {
        // The plan's host speaks plain HTTP: a TLS client fails there, but it got there.
        ["template", "connection", "connect", "other", "tls"].into()
    } else {
        ["template"].into()
    };
    assert!(
        categories.is_subset(&allowed),
        "{categories:?}: {:#?}",
        summary.failures
    );
    let template: Vec<_> = summary
        .failures
        .iter()
        .filter(|f| f.category == "template")
        .collect();
    assert!(!template.is_empty(), "{:#?}", summary.failures);
    for failure in &template {
        assert!(
            ["whole-path", "after-prefix", "in-header"].contains(&failure.name.as_str()),
            "{failure:?}"
        );
        // The message names the request and does not echo raw control characters.
        assert!(
            failure.reason.contains(&format!("`{}`", failure.name)) || failure.name == "in-header",
            "{failure:?}"
        );
        assert!(
            !failure.reason.contains('\r') && !failure.reason.contains('\n'),
            "{failure:?}"
        );
    }
    // Every request that arrived is an origin-form request for a path of the host.
    if scheme == "http" {
        let heads = target.heads.lock().unwrap();
        assert!(!heads.is_empty());
        for head in heads.iter() {
            let line = head.lines().next().unwrap_or_default();
            let target_path = line.split(' ').nth(1).unwrap_or_default();
            assert!(
                target_path.starts_with('/') && !target_path.starts_with("//"),
                "{line}"
            );
            assert!(
                head.to_ascii_lowercase()
                    .contains(&format!("host: {}\r\n", target.addr)),
                "{head}"
            );
        }
        // The harmless values went through, in the path and in the query.
        assert!(heads.iter().any(|h| h.starts_with("GET /ok ")));
        assert!(heads.iter().any(|h| h.starts_with("GET /q?v=")));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_rendered_values_never_leave_the_plans_http_host() {
    run_hostile("http").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_rendered_values_never_leave_the_plans_https_host() {
    run_hostile("https").await;
}

/// `planrun check` on a plan with this `host`: exit code and stderr.
fn check_host(host: &str) -> (Option<i32>, String) {
    let plan = write_plan(
        "host.yaml",
        &format!(
            "host: \"{host}\"\nclasses:\n  A:\n    tasks:\n      home: {{ path: /x }}\nload: {{ users: 1, run-time: 1s }}\n"
        ),
    );
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_planrun"))
        .env_remove("PLANRUN_HOST")
        .arg("check")
        .arg(&plan.path)
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_host_with_a_query_or_a_fragment_is_refused() {
    for (host, says) in [
        ("http://127.0.0.1:8000/base#frag", "fragment"),
        ("http://127.0.0.1:8000/base?x=1", "query"),
        ("http://127.0.0.1:8000?x=1", "query"),
    ] {
        let (code, stderr) = check_host(host);
        assert_eq!(code, Some(3), "{host}: {stderr}");
        assert!(stderr.contains("host.yaml:1:7"), "{stderr}");
        assert!(stderr.contains(says), "{host}: {stderr}");
    }
}

#[test]
fn a_host_with_credentials_is_refused_and_the_password_is_not_repeated() {
    // From the environment, as CI would pass it: the message must not print it.
    let plan = write_plan(
        "host.yaml",
        "classes:\n  A:\n    tasks:\n      home: { path: /x }\nload: { users: 1, run-time: 1s }\n",
    );
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_planrun"))
        .env("PLANRUN_HOST", "http://admin:hunter2@127.0.0.1:8000")
        .arg(&plan.path)
        .args(["--no-preflight", "--progress", "off", "--out"])
        .arg(plan.dir.path().join("reports"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(3), "{stdout}{stderr}");
    assert!(stderr.contains("credentials"), "{stderr}");
    assert!(stderr.contains("Authorization"), "{stderr}");
    assert!(
        !stderr.contains("hunter2") && !stdout.contains("hunter2"),
        "{stderr}"
    );
    // Refused before the run: nothing sent, no report to print it in.
    assert!(!plan.dir.path().join("reports").exists());
}

#[test]
fn a_static_path_that_names_another_host_is_refused() {
    for path in ["//127.0.0.1:9/x", "/x\\y"] {
        let plan = write_plan(
            "path.yaml",
            &format!(
                "host: http://127.0.0.1:8000\nclasses:\n  A:\n    tasks:\n      home: {{ path: '{path}' }}\nload: {{ users: 1, run-time: 1s }}\n"
            ),
        );
        let (code, stderr) = check_file(&plan.path);
        assert_eq!(code, Some(3), "{path}: {stderr}");
        assert!(stderr.contains("path.yaml:5:"), "{stderr}");
    }
}
