//! [`DesktopNotifier`]: alerts as desktop notifications through `notify-rust` (the session
//! bus's `org.freedesktop.Notifications` on Linux, the notification centre elsewhere).
//! Behind the `desktop-notify` feature so that a headless build needs no D-Bus client.

use super::{Notification, Notifier, Severity};
use crate::{Error, Result};

/// The action keys the shell listens for: "Top up" opens the provider's billing page (never a
/// link from a 402 body), "Snooze" snoozes the alert.
pub const ACTION_TOP_UP: &str = "top-up";
pub const ACTION_SNOOZE: &str = "snooze";

/// Shows each alert as a desktop notification.
#[derive(Debug, Default, Clone, Copy)]
pub struct DesktopNotifier;

impl DesktopNotifier {
    /// The notification as notify-rust builds it (without showing it).
    pub fn build(n: &Notification) -> notify_rust::Notification {
        let mut d = notify_rust::Notification::new();
        d.appname("Cliffwatch").summary(&n.title).body(&n.body);
        if n.top_up_url.is_some() {
            d.action(ACTION_TOP_UP, "Top up");
        }
        d.action(ACTION_SNOOZE, "Snooze");
        #[cfg(all(unix, not(target_os = "macos")))]
        {
            d.urgency(match n.severity {
                Severity::Critical => notify_rust::Urgency::Critical,
                Severity::Warning => notify_rust::Urgency::Normal,
                Severity::Info => notify_rust::Urgency::Low,
            });
        }
        #[cfg(not(all(unix, not(target_os = "macos"))))]
        let _ = n.severity;
        d
    }
}

impl Notifier for DesktopNotifier {
    fn notify(&self, n: &Notification) -> Result<()> {
        Self::build(n)
            .show()
            .map(|_| ())
            .map_err(|e| Error::Notify(e.to_string()))
    }
}

/// On a real session bus: `dbus-monitor` watches `Notify` calls while the notifier sends one,
/// and the test asserts that the call carried our title and body. CI runs it under
/// `dbus-run-session` with `dunst` as the daemon (`CI=true`: a missing bus or daemon fails the
/// test); elsewhere it skips, saying why, when there is no bus or no daemon.
#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use crate::alerts::AlertKind;
    use crate::model::{AccountId, AlertId};
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    use std::sync::mpsc;
    use std::time::Duration;

    /// How long to wait for the monitor to start and for the call to show up. Generous: this
    /// is a deadline for an event, not a measured time.
    const WAIT: Duration = Duration::from_secs(20);

    fn unavailable(why: &str) {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI must run this test on a session bus with a notification daemon: {why}");
        }
        eprintln!("skipped: {why}");
    }

    #[test]
    fn a_notification_reaches_the_session_bus() {
        if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
            return unavailable("DBUS_SESSION_BUS_ADDRESS is not set (run under dbus-run-session)");
        }
        if let Err(e) = notify_rust::get_server_information() {
            return unavailable(&format!(
                "no notification daemon answers on the session bus: {e}"
            ));
        }
        let monitor = Command::new("dbus-monitor")
            .args([
                "--session",
                "type='method_call',interface='org.freedesktop.Notifications',member='Notify'",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn();
        let mut monitor = match monitor {
            Ok(m) => m,
            Err(e) => return unavailable(&format!("dbus-monitor cannot be started: {e}")),
        };
        let (tx, rx) = mpsc::channel();
        let stdout = monitor.stdout.take().expect("piped stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(|l| l.ok()) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        // dbus-monitor prints its own NameAcquired signal once it is listening.
        let ready = rx.recv_timeout(WAIT);
        assert!(
            ready.is_ok(),
            "dbus-monitor printed nothing: it is not watching the bus"
        );

        let marker = format!("cliffwatch-test-{}", std::process::id());
        let n = Notification {
            alert_id: AlertId(1),
            account_id: Some(AccountId(1)),
            kind: AlertKind::RunwayCritical,
            severity: Severity::Critical,
            title: format!("OpenRouter · {marker}: may run out within a day"),
            body: "5.20 USD left — ~14 h left, between 9 and 20 h.".into(),
            top_up_url: Some("https://openrouter.ai/settings/credits".into()),
            payment_link: None,
        };
        let sent = DesktopNotifier.notify(&n);
        let mut seen = Vec::new();
        let deadline = std::time::Instant::now() + WAIT;
        // The call's arguments arrive line by line; the actions array ends with "Snooze".
        while !seen.iter().any(|l: &String| l.contains("\"Snooze\"")) {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => seen.push(line),
                Err(_) => break,
            }
        }
        let _ = monitor.kill();
        let _ = monitor.wait();
        sent.expect("the daemon accepted the notification");
        let text = seen.join("\n");
        assert!(
            text.contains(&marker),
            "the Notify call carries our title:\n{text}"
        );
        assert!(
            text.contains("between 9 and 20 h"),
            "and the runway in plain words:\n{text}"
        );
        assert!(
            text.contains(ACTION_TOP_UP) && text.contains("Top up"),
            "and the Top up action:\n{text}"
        );
        assert!(
            text.contains("\"Cliffwatch\""),
            "sent as the Cliffwatch app:\n{text}"
        );
    }
}
