//! `ode serve` run as people run it: the lines it prints and the viewer it serves at `/`.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A running `ode serve` on a free port; stopped with SIGTERM when dropped.
struct Serve {
    child: Child,
    /// `127.0.0.1:PORT`.
    addr: String,
    /// What it printed on standard error up to "Stop with Ctrl-C.".
    banner: String,
}

impl Serve {
    fn start(data_dir: &Path, viewer_dir: Option<&Path>) -> Serve {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ode"));
        cmd.args(["serve", "--port", "0", "--data-dir"])
            .arg(data_dir)
            .env_remove("ODE_CONFIG")
            .env_remove("ODE__API__VIEWER_DIR")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(dir) = viewer_dir {
            cmd.env("ODE__API__VIEWER_DIR", dir);
        }
        let mut child = cmd.spawn().expect("ode serve starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            // Reads to the end, so that the process never writes to a closed pipe.
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut banner = String::new();
        loop {
            match rx.recv_timeout(Duration::from_secs(60)) {
                Ok(line) => {
                    banner.push_str(&line);
                    banner.push('\n');
                    if line.starts_with("Stop with Ctrl-C.") {
                        break;
                    }
                }
                Err(e) => {
                    let _ = child.kill();
                    panic!("ode serve did not start ({e}): {banner}");
                }
            }
        }
        let addr = banner
            .lines()
            .find_map(|l| l.strip_prefix("ODE is running at http://"))
            .and_then(|rest| rest.strip_suffix('/'))
            .unwrap_or_else(|| panic!("no address in: {banner}"))
            .to_string();
        Serve {
            child,
            addr,
            banner,
        }
    }

    /// `GET path`: the status and the body.
    fn get(&self, path: &str) -> (u16, String) {
        let mut s = std::net::TcpStream::connect(&self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.addr
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        let status = out
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or_else(|| panic!("no status line: {out}"));
        let body = out
            .split_once("\r\n\r\n")
            .map_or("", |(_, b)| b)
            .to_string();
        (status, body)
    }

    /// Stops it as Ctrl-C or Kubernetes would; whether it exited cleanly.
    fn stop(mut self) -> bool {
        let stopped = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        for _ in 0..300 {
            if let Ok(Some(status)) = self.child.try_wait() {
                return stopped && status.success();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[test]
fn serve_serves_the_viewer_dir_at_the_root_and_says_so() {
    let tmp = tempfile_dir("viewer");
    let viewer = tmp.join("dist");
    std::fs::create_dir_all(viewer.join("assets")).unwrap();
    let index = "<!doctype html><title>ODE viewer under test</title><div id=\"root\"></div>";
    std::fs::write(viewer.join("index.html"), index).unwrap();
    std::fs::write(viewer.join("assets/app-1.js"), "console.log(1)").unwrap();
    let serve = Serve::start(&tmp.join("data"), Some(&viewer));
    let line = format!("  Viewer:    http://{}/", serve.addr);
    assert!(
        serve.banner.lines().any(|l| l == line),
        "no `{line}` in:\n{}",
        serve.banner
    );
    assert!(
        serve.banner.contains("  API docs:  http://"),
        "{}",
        serve.banner
    );
    assert!(serve.banner.contains("  data:      "), "{}", serve.banner);
    assert_eq!(serve.get("/"), (200, index.to_string()));
    assert_eq!(serve.get("/documents/42"), (200, index.to_string()));
    assert_eq!(
        serve.get("/assets/app-1.js"),
        (200, "console.log(1)".into())
    );
    let (status, body) = serve.get("/v1/nope");
    assert_eq!(status, 404);
    assert!(body.contains("not_found"), "{body}");
    assert!(serve.stop(), "ode serve exits cleanly on SIGTERM");
    let _ = std::fs::remove_dir_all(&tmp);
}

#[test]
fn serve_without_a_viewer_dir_uses_the_built_one_or_says_how_to_build_it() {
    let tmp = tempfile_dir("no-viewer");
    let serve = Serve::start(&tmp.join("data"), None);
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("../viewer/dist/index.html");
    let (status, body) = serve.get("/");
    assert_eq!(status, 200);
    if built.is_file() {
        let line = format!("  Viewer:    http://{}/", serve.addr);
        assert!(serve.banner.lines().any(|l| l == line), "{}", serve.banner);
        assert_eq!(body, std::fs::read_to_string(&built).unwrap());
    } else {
        assert!(
            serve
                .banner
                .lines()
                .any(|l| l == "  Viewer:    not built (./scripts/build-viewer.sh builds it)"),
            "{}",
            serve.banner
        );
        assert!(body.contains("./scripts/build-viewer.sh"), "{body}");
        assert!(body.contains("href=\"/docs\""), "{body}");
    }
    assert!(serve.stop(), "ode serve exits cleanly on SIGTERM");
    let _ = std::fs::remove_dir_all(&tmp);
}

fn tempfile_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "ode-cli-serve-{}-{name}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
