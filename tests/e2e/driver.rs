//! A WebDriver session on the real app through tauri-driver, killed as a whole process group
//! on drop (a bare kill leaves WebKitWebDriver behind, and the next run hangs on it).

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Group(Child);

impl Drop for Group {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.0.id())])
            .status();
        let _ = self.0.wait();
    }
}

pub struct Session {
    pub client: Client,
    _driver: Group,
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false")
}

/// In CI a missing display or driver is a broken harness; elsewhere the test skips.
fn unavailable<T>(reason: &str) -> Option<T> {
    if in_ci() {
        panic!("CI must provide this: {reason}");
    }
    eprintln!("SKIP: {reason}");
    None
}

/// No tray host (StatusNotifierWatcher) in this session: the tray checks are skipped outside CI.
pub fn no_tray_host() {
    let _: Option<()> =
        unavailable("no tray host (scripts/with-desktop-session starts xfce4-panel)");
}

impl Session {
    /// Starts tauri-driver on `port` (and `port + 1` for WebKitWebDriver). Returns `None` to
    /// skip outside CI when there is no display or driver.
    pub async fn start(port: u16) -> Option<PendingSession> {
        if std::env::var_os("DISPLAY").is_none() {
            return unavailable("no DISPLAY (run under scripts/with-desktop-session)");
        }
        if Command::new("tauri-driver")
            .arg("--help")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_err()
        {
            return unavailable("tauri-driver is not installed (scripts/setup installs it)");
        }
        Some(PendingSession { port })
    }

    /// Waits up to 20 s for an element (the app loads its data asynchronously).
    pub async fn wait_for(&self, loc: Locator<'_>) -> Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(loc)
            .await
            .unwrap_or_else(|e| panic!("element {loc:?} never appeared: {e}"))
    }

    /// Waits up to 20 s until the element's text contains `needle`; returns the text.
    pub async fn wait_text(&self, loc: Locator<'_>, needle: &str) -> String {
        let mut last = String::new();
        for _ in 0..100 {
            if let Ok(el) = self.client.find(loc).await {
                last = el.text().await.unwrap_or_default();
                if last.to_lowercase().contains(&needle.to_lowercase()) {
                    return last;
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("{loc:?} never contained {needle:?}; last text: {last:?}");
    }

    /// [`Self::wait_text`], until the text also no longer holds `absent` (a filter applied).
    pub async fn wait_text_without(&self, loc: Locator<'_>, needle: &str, absent: &str) -> String {
        let mut last = String::new();
        for _ in 0..100 {
            if let Ok(el) = self.client.find(loc).await {
                last = el.text().await.unwrap_or_default().to_lowercase();
                if last.contains(&needle.to_lowercase()) && !last.contains(&absent.to_lowercase()) {
                    return last;
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("{loc:?} never held {needle:?} without {absent:?}; last text: {last:?}");
    }

    /// Waits (up to 10 s) until no element matches (a dialog has closed).
    pub async fn wait_gone(&self, loc: Locator<'_>) {
        for _ in 0..50 {
            if self.client.find(loc).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("{loc:?} is still there");
    }

    /// Clicks an element once it is there.
    pub async fn click(&self, loc: Locator<'_>) {
        self.wait_for(loc)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {loc:?}: {e}"));
    }

    /// Types into an input once it is there.
    pub async fn type_into(&self, loc: Locator<'_>, text: &str) {
        let el = self.wait_for(loc).await;
        el.clear().await.unwrap();
        el.send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("type into {loc:?}: {e}"));
    }

    /// Saves a PNG of the window to target/screenshots/<name>.png (for the README).
    pub async fn screenshot(&self, name: &str) {
        // WebDriver screenshots can lag a frame behind the DOM.
        tokio::time::sleep(Duration::from_millis(800)).await;
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}

/// A driver that has not started the app yet: the data directory is decided per test.
pub struct PendingSession {
    port: u16,
}

impl PendingSession {
    pub async fn with_data_dir(self, dir: &Path) -> Session {
        let port = self.port;
        let driver = Group(
            Command::new("tauri-driver")
                .args([
                    "--port",
                    &port.to_string(),
                    "--native-port",
                    &(port + 1).to_string(),
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .process_group(0)
                .spawn()
                .expect("spawn tauri-driver"),
        );
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), "wry".into());
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({
                "application": env!("CARGO_BIN_EXE_cliffwatch-desktop"),
                "args": ["--data-dir", dir.display().to_string()],
            }),
        );
        // The port can accept before the driver answers (seen once in CI as hyper's
        // IncompleteMessage): a new session is tried a few times before the test fails.
        let mut tries = 0;
        let client = loop {
            tries += 1;
            match ClientBuilder::rustls()
                .expect("rustls client")
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(c) => break c,
                Err(e) if tries < 5 => {
                    eprintln!("tauri-driver not ready ({e}); retrying");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(e) => panic!("connect to tauri-driver: {e:?}"),
            }
        };
        Session {
            client,
            _driver: driver,
        }
    }
}
