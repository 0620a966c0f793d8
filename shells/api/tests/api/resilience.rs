//! PostgreSQL going away and coming back: `/ready` and the API answer 503 quickly
//! while it is down, and recover by themselves. The test runs its own PostgreSQL
//! server (initdb in a temporary folder, as the `postgres` user) so that stopping it
//! disturbs no other test.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::helpers::{Backend, spawn_with};

struct OwnPostgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
}

fn pg_bin() -> PathBuf {
    let root = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<_> = std::fs::read_dir(root)
        .expect("PostgreSQL is installed (the test command installs it)")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop().expect("an initdb")
}

fn as_postgres(bin: &Path, args: &[&str]) {
    let out = Command::new("runuser")
        .args(["-u", "postgres", "--"])
        .arg(bin)
        .args(args)
        .output()
        .expect("runuser runs");
    assert!(
        out.status.success(),
        "{} {args:?}: {}{}",
        bin.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl OwnPostgres {
    fn start() -> OwnPostgres {
        let dir = tempfile::tempdir().expect("temp dir");
        let ok = Command::new("chown")
            .args(["postgres:postgres", dir.path().to_str().unwrap()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "chown the data folder");
        let bin = pg_bin();
        let data = dir.path().join("data");
        as_postgres(
            &bin.join("initdb"),
            &[
                "-D",
                data.to_str().unwrap(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let pg = OwnPostgres { dir, bin, port };
        pg.up();
        pg
    }

    fn data(&self) -> String {
        self.dir.path().join("data").to_str().unwrap().to_string()
    }

    fn up(&self) {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("log").to_str().unwrap().to_string();
        as_postgres(
            &self.bin.join("pg_ctl"),
            &["start", "-w", "-D", &self.data(), "-o", &opts, "-l", &log],
        );
    }

    fn down(&self) {
        as_postgres(
            &self.bin.join("pg_ctl"),
            &["stop", "-w", "-m", "immediate", "-D", &self.data()],
        );
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join("pg_ctl"))
            .args(["stop", "-m", "immediate", "-D", &self.data()])
            .output();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_postgres_down_the_api_answers_503_quickly_and_recovers() {
    let pg = OwnPostgres::start();
    let url = pg.url();
    let app = spawn_with(Backend::Production, move |s| {
        s.database.url = ode_sdk::config::Secret::new(url);
        s.database.connect_timeout_ms = 1000;
    })
    .await;
    let http = app.http();
    let ready = format!("{}/ready", app.address);
    let docs = format!("{}/v1/documents", app.address);
    assert_eq!(http.get(&ready).send().await.unwrap().status(), 200);
    assert_eq!(
        http.get(&docs)
            .bearer_auth(&app.key)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    pg.down();
    let t = Instant::now();
    let r = http.get(&ready).send().await.unwrap();
    assert_eq!(r.status(), 503);
    let body: ode_sdk::api::ReadyInfo = r.json().await.unwrap();
    assert_ne!(body.checks["database"], "ok");
    assert_eq!(body.checks["queue"], "ok");
    assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
    let t = Instant::now();
    let r = http.get(&docs).bearer_auth(&app.key).send().await.unwrap();
    assert_eq!(r.status(), 503);
    assert!(r.headers().contains_key("retry-after"));
    let e: ode_sdk::api::ErrorBody = r.json().await.unwrap();
    assert_eq!(e.errors[0].code, "unavailable");
    assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());

    pg.up();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if http.get(&ready).send().await.unwrap().status() == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "/ready never recovered");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let r = http.get(&docs).bearer_auth(&app.key).send().await.unwrap();
    assert_eq!(r.status(), 200, "the API recovered by itself");
}
