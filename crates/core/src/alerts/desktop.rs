//! [`DesktopNotifier`]: alerts as desktop notifications through `notify-rust` (the session
//! bus's `org.freedesktop.Notifications` on Linux, the notification centre elsewhere).
//! Behind the `desktop-notify` feature so that a headless build needs no D-Bus client.
//!
//! With an [`ActionHandler`] the notifications carry "Top up" and "Snooze" buttons, and one
//! thread of the notifier's own listens for the clicks (on Linux and the BSDs: notify-rust
//! reports clicks only through the freedesktop D-Bus interface, so elsewhere the buttons are
//! left out rather than shown dead). Each shown notification is awaited on that thread until
//! it is clicked or closed — the daemon signals `NotificationClosed` when it expires or is
//! dismissed — and for [`ACTION_WAIT`] at most, after which it is closed. Dropping the last
//! clone of the notifier stops the thread.
//!
//! Why ~670 lines: the D-Bus notification protocol (actions, closing, the daemon's capabilities)
//! and its tests against a real notification daemon belong together; nothing else uses it.

use super::actions::ActionHandler;
use super::{Notification, Notifier, Severity};
use crate::{Error, Result};
use std::sync::Arc;

/// The action keys the shell listens for: "Top up" opens the provider's billing page (never a
/// link from a 402 body), "Snooze" snoozes the alert.
pub const ACTION_TOP_UP: &str = "top-up";
pub const ACTION_SNOOZE: &str = "snooze";
/// The freedesktop key of a click on the notification's body: the shell shows the account.
pub const ACTION_OPEN: &str = "default";

/// How long a shown notification's buttons are listened for. Most daemons close a
/// notification (expired or dismissed) well before, which ends the wait at once; this bounds
/// the ones that keep it (dunst keeps critical ones, GNOME keeps them in its message list).
pub const ACTION_WAIT: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Shows each alert as a desktop notification.
#[derive(Debug, Default, Clone)]
pub struct DesktopNotifier {
    clicks: Option<Arc<clicks::Listener>>,
}

impl DesktopNotifier {
    /// Plain notifications, without buttons.
    pub fn new() -> Self {
        Self::default()
    }

    /// Notifications with "Top up" and "Snooze" buttons whose clicks go to `handler`. Starts
    /// the listening thread (where clicks can be heard; elsewhere this is [`Self::new`]).
    pub fn with_actions(handler: Arc<dyn ActionHandler>) -> Result<Self> {
        Ok(DesktopNotifier {
            clicks: clicks::Listener::start(handler)?.map(Arc::new),
        })
    }

    /// Notifications still listened for (shown, neither clicked nor closed yet).
    pub fn listening(&self) -> usize {
        self.clicks.as_ref().map_or(0, |c| c.listening())
    }

    /// The notification as notify-rust builds it (without showing it). `buttons`: with the
    /// "Top up" (when there is a billing page) and "Snooze" actions.
    pub fn build(n: &Notification, buttons: bool) -> notify_rust::Notification {
        let mut d = notify_rust::Notification::new();
        d.appname("Cliffwatch").summary(&n.title).body(&n.body);
        if buttons {
            if n.top_up_url.is_some() {
                d.action(ACTION_TOP_UP, "Top up");
            }
            d.action(ACTION_SNOOZE, "Snooze");
            // Not a button: daemons run it when the body is clicked.
            d.action(ACTION_OPEN, "Open in Cliffwatch");
        }
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

    /// Shows `n`; returns the daemon's id for it where there is one (D-Bus).
    pub fn show(&self, n: &Notification) -> Result<Option<u32>> {
        let shown = Self::build(n, self.clicks.is_some())
            .show()
            .map_err(|e| Error::Notify(e.to_string()))?;
        Ok(clicks::listen(self.clicks.as_deref(), shown, n))
    }
}

impl Notifier for DesktopNotifier {
    fn notify(&self, n: &Notification) -> Result<()> {
        self.show(n).map(|_| ())
    }
}

/// Listening for clicks, where notify-rust can hear them: the freedesktop D-Bus interface.
#[cfg(all(unix, not(target_os = "macos")))]
mod clicks {
    use super::{ActionHandler, ACTION_OPEN, ACTION_SNOOZE, ACTION_TOP_UP, ACTION_WAIT};
    use crate::alerts::Notification;
    use crate::model::{AccountId, AlertId};
    use crate::{Error, Result};
    use notify_rust::{NotificationHandle, NotificationResponse};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use tokio::sync::mpsc;

    /// One shown notification to wait on.
    struct Wait {
        handle: NotificationHandle,
        alert: AlertId,
        account: Option<AccountId>,
        top_up_url: Option<String>,
        _count: Counted,
    }

    /// Counts a notification as listened for while it lives.
    struct Counted(Arc<AtomicUsize>);

    impl Counted {
        fn new(n: &Arc<AtomicUsize>) -> Self {
            n.fetch_add(1, Ordering::AcqRel);
            Counted(n.clone())
        }
    }

    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// The sending end of the listening thread; the thread ends when this is dropped.
    #[derive(Debug)]
    pub(super) struct Listener {
        waits: mpsc::UnboundedSender<Wait>,
        listening: Arc<AtomicUsize>,
    }

    impl Listener {
        pub(super) fn start(handler: Arc<dyn ActionHandler>) -> Result<Option<Self>> {
            let (tx, rx) = mpsc::unbounded_channel();
            // A current-thread runtime of its own: the waits are D-Bus signal streams, and a
            // blocking wait per notification would need a thread each that nothing can end
            // early. Here one thread waits on all of them, each with a deadline.
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .map_err(|e| Error::Notify(format!("cannot start the click listener: {e}")))?;
            std::thread::Builder::new()
                .name("cliffwatch-notification-clicks".into())
                .spawn(move || {
                    let local = tokio::task::LocalSet::new();
                    local.block_on(&runtime, run(rx, handler));
                })
                .map_err(|e| Error::Notify(format!("cannot start the click listener: {e}")))?;
            Ok(Some(Listener {
                waits: tx,
                listening: Arc::default(),
            }))
        }

        pub(super) fn listening(&self) -> usize {
            self.listening.load(Ordering::Acquire)
        }
    }

    /// Hands a shown notification to the listener (if any); returns its id.
    pub(super) fn listen(
        listener: Option<&Listener>,
        handle: NotificationHandle,
        n: &Notification,
    ) -> Option<u32> {
        let id = handle.id();
        if let Some(l) = listener {
            let _ = l.waits.send(Wait {
                handle,
                alert: n.alert_id,
                account: n.account_id,
                top_up_url: n.top_up_url.clone(),
                _count: Counted::new(&l.listening),
            });
        }
        Some(id)
    }

    /// Waits on every notification handed over until the notifier is dropped; the waits still
    /// running then are dropped with the runtime.
    async fn run(mut waits: mpsc::UnboundedReceiver<Wait>, handler: Arc<dyn ActionHandler>) {
        let mut running = tokio::task::JoinSet::new();
        loop {
            tokio::select! {
                wait = waits.recv() => match wait {
                    Some(w) => {
                        running.spawn_local(wait_for_click(w, handler.clone()));
                    }
                    None => break,
                },
                Some(_) = running.join_next(), if !running.is_empty() => {}
            }
        }
    }

    async fn wait_for_click(w: Wait, handler: Arc<dyn ActionHandler>) {
        let mut clicked = None;
        let waited = tokio::time::timeout(
            ACTION_WAIT,
            w.handle.wait_for_action_async(|response| {
                match response {
                    NotificationResponse::Action(action) => clicked = Some(action.clone()),
                    // notify-rust reports the "default" action (a click on the body) apart.
                    NotificationResponse::Default => clicked = Some(ACTION_OPEN.to_owned()),
                    _ => {}
                }
            }),
        )
        .await;
        if waited.is_err() {
            // Still on screen after a day: take it away rather than leave dead buttons.
            w.handle.close_async().await;
        }
        match clicked.as_deref() {
            Some(ACTION_TOP_UP) => {
                if let Some(url) = &w.top_up_url {
                    handler.top_up(w.account, url);
                }
            }
            Some(ACTION_SNOOZE) => handler.snooze(w.alert),
            Some(ACTION_OPEN) => handler.open(w.account),
            // Closed without a click.
            _ => {}
        }
    }
}

/// Elsewhere (macOS, Windows) notify-rust does not report clicks: no buttons, no listener.
#[cfg(not(all(unix, not(target_os = "macos"))))]
mod clicks {
    use super::ActionHandler;
    use crate::alerts::Notification;
    use crate::Result;
    use std::sync::Arc;

    #[derive(Debug)]
    pub(super) enum Listener {}

    impl Listener {
        pub(super) fn start(_handler: Arc<dyn ActionHandler>) -> Result<Option<Self>> {
            Ok(None)
        }

        pub(super) fn listening(&self) -> usize {
            match *self {}
        }
    }

    pub(super) fn listen<H>(
        _listener: Option<&Listener>,
        _shown: H,
        _n: &Notification,
    ) -> Option<u32> {
        None
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

    /// Whether a session bus with a notification daemon is there (else says why, or fails in
    /// CI).
    fn session_bus() -> bool {
        if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
            unavailable("DBUS_SESSION_BUS_ADDRESS is not set (run under dbus-run-session)");
            return false;
        }
        if let Err(e) = notify_rust::get_server_information() {
            unavailable(&format!(
                "no notification daemon answers on the session bus: {e}"
            ));
            return false;
        }
        true
    }

    /// Counts the clicks it hears.
    #[derive(Debug, Default)]
    struct Clicks(std::sync::Mutex<Vec<String>>);

    impl ActionHandler for Clicks {
        fn top_up(&self, _account: Option<AccountId>, url: &str) {
            self.0.lock().unwrap().push(format!("top up {url}"));
        }
        fn snooze(&self, alert: AlertId) {
            self.0.lock().unwrap().push(format!("snooze #{alert}"));
        }
        fn open(&self, account: Option<AccountId>) {
            self.0.lock().unwrap().push(format!("open {account:?}"));
        }
    }

    #[test]
    fn a_notification_reaches_the_session_bus() {
        if !session_bus() {
            return;
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
        let sent = DesktopNotifier::with_actions(Arc::new(Clicks::default()))
            .unwrap()
            .notify(&n);
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

    /// `gdbus` sends what the daemon sends when a button is clicked or a notification closes.
    fn gdbus(args: &[&str]) -> bool {
        match Command::new("gdbus").args(args).output() {
            Ok(out) => out.status.success(),
            Err(_) => false,
        }
    }

    /// The daemon's `ActionInvoked(id, action)` signal, as a click on a button sends it.
    fn click(id: u32, action: &str) -> bool {
        gdbus(&[
            "emit",
            "--session",
            "--object-path",
            "/org/freedesktop/Notifications",
            "--signal",
            "org.freedesktop.Notifications.ActionInvoked",
            &format!("uint32 {id}"),
            &format!("'{action}'"),
        ])
    }

    fn gdbus_available() -> bool {
        if Command::new("gdbus").arg("help").output().is_err() {
            unavailable("gdbus (libglib2.0-bin) is not installed: it sends the click");
            return false;
        }
        true
    }

    /// An alert of the account `alerts::actions::tests::low_balance_alert` creates, with a
    /// payment link from a (made-up) 402 body that must never be opened by a click.
    fn alert(cw_alert: AlertId, tag: &str) -> Notification {
        Notification {
            alert_id: cw_alert,
            account_id: Some(AccountId(1)),
            kind: AlertKind::LowBalance,
            severity: Severity::Warning,
            // Unique per test: dunst stacks identical notifications into one, closing the
            // others, and the click tests run in parallel.
            title: format!(
                "OpenRouter · main: balance is low ({}, {tag})",
                std::process::id()
            ),
            body: "9.00 USD left.".into(),
            top_up_url: Some("https://openrouter.ai/settings/credits".into()),
            payment_link: crate::alerts::payment_link(
                "https://pay.example.net/checkout/9",
                Some("https://openrouter.ai/settings/credits"),
            ),
        }
    }

    /// Clicks `action` on notification `id` until `done` says it was handled: the listener
    /// subscribes to the daemon's signals just after the notification is shown, so a click
    /// sent in that instant is not heard (nor would a user's be; nobody clicks that fast).
    async fn click_until<F, Fut>(id: u32, action: &str, mut done: F) -> bool
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = std::time::Instant::now() + WAIT;
        while std::time::Instant::now() < deadline {
            assert!(click(id, action), "gdbus emit failed");
            for _ in 0..10 {
                tokio::time::sleep(Duration::from_millis(20)).await;
                if done().await {
                    return true;
                }
            }
        }
        false
    }

    async fn until(mut done: impl FnMut() -> bool) -> bool {
        let deadline = std::time::Instant::now() + WAIT;
        while !done() {
            if std::time::Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        true
    }

    fn store_actions(
        cw: &crate::Cliffwatch,
    ) -> (DesktopNotifier, Arc<crate::alerts::actions::tests::Opened>) {
        let opened = Arc::new(crate::alerts::actions::tests::Opened::default());
        let actions = crate::alerts::StoreActions::new(
            cw,
            tokio::runtime::Handle::current(),
            opened.clone(),
            Arc::new(|_| {}),
        );
        let notifier = DesktopNotifier::with_actions(Arc::new(actions)).unwrap();
        (notifier, opened)
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn clicking_the_body_asks_the_shell_to_show_the_account() {
        if !session_bus() || !gdbus_available() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let (cw, alert_id) = crate::alerts::actions::tests::low_balance_alert(dir.path()).await;
        let asked = Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink_asked = asked.clone();
        let actions = crate::alerts::StoreActions::new(
            &cw,
            tokio::runtime::Handle::current(),
            Arc::new(crate::alerts::actions::tests::Opened::default()),
            Arc::new(move |e| {
                if let crate::engine::EngineEvent::OpenRequested(a) = e {
                    sink_asked.lock().unwrap().push(a);
                }
            }),
        );
        let notifier = DesktopNotifier::with_actions(Arc::new(actions)).unwrap();
        let id = notifier
            .show(&alert(alert_id, "open"))
            .unwrap()
            .expect("the daemon's id");
        let heard = click_until(id, ACTION_OPEN, || {
            let asked = asked.clone();
            async move { !asked.lock().unwrap().is_empty() }
        })
        .await;
        assert!(heard, "the body click reached the shell");
        assert_eq!(
            asked.lock().unwrap()[0],
            Some(AccountId(1)),
            "for its account"
        );
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn clicking_snooze_snoozes_the_alert_for_a_day() {
        if !session_bus() || !gdbus_available() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let (cw, alert_id) = crate::alerts::actions::tests::low_balance_alert(dir.path()).await;
        let (notifier, opened) = store_actions(&cw);
        let id = notifier
            .show(&alert(alert_id, "snooze"))
            .unwrap()
            .expect("the daemon's id");
        let pool = cw.pool().clone();
        let snoozed = click_until(id, ACTION_SNOOZE, || {
            let pool = pool.clone();
            async move {
                let a = crate::db::alerts::get(&pool, alert_id).await.unwrap();
                a.is_some_and(|a| a.state == "snoozed")
            }
        })
        .await;
        assert!(snoozed, "the Snooze click reached the store");
        let stored = crate::db::alerts::get(cw.pool(), alert_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            stored.snoozed_until,
            Some(cw.clock().now() + chrono::Duration::days(1)),
            "snoozed for a day"
        );
        assert!(opened.0.lock().unwrap().is_empty(), "and nothing opened");
        assert!(
            until(|| notifier.listening() == 0).await,
            "the click ended the wait"
        );
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn clicking_top_up_opens_the_providers_billing_page_not_the_402_link() {
        if !session_bus() || !gdbus_available() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let (cw, alert_id) = crate::alerts::actions::tests::low_balance_alert(dir.path()).await;
        let (notifier, opened) = store_actions(&cw);
        let n = alert(alert_id, "top up");
        assert!(
            n.payment_link.is_some(),
            "the 402 body's link is on the alert"
        );
        let id = notifier.show(&n).unwrap().expect("the daemon's id");
        let heard = click_until(id, ACTION_TOP_UP, || {
            let seen = !opened.0.lock().unwrap().is_empty();
            async move { seen }
        })
        .await;
        assert!(heard, "the Top up click reached the opener");
        assert_eq!(
            *opened.0.lock().unwrap(),
            ["https://openrouter.ai/settings/credits"],
            "the provider's known billing page, once"
        );
        let stored = crate::db::alerts::get(cw.pool(), alert_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.state, "open", "top up does not snooze");
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_notification_closed_without_a_click_stops_being_listened_for() {
        if !session_bus() || !gdbus_available() {
            return;
        }
        let clicks = Arc::new(Clicks::default());
        let notifier = DesktopNotifier::with_actions(clicks.clone()).unwrap();
        let mut n = alert(AlertId(7), "closed");
        // Critical: dunst keeps it on screen until it is closed.
        n.severity = Severity::Critical;
        let id = notifier.show(&n).unwrap().expect("the daemon's id");
        assert_eq!(notifier.listening(), 1, "listened for once shown");
        // Let the listener subscribe, then have the daemon close it, as a dismissal does.
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(notifier.listening(), 1, "still listened for");
        assert!(
            gdbus(&[
                "call",
                "--session",
                "--dest",
                "org.freedesktop.Notifications",
                "--object-path",
                "/org/freedesktop/Notifications",
                "--method",
                "org.freedesktop.Notifications.CloseNotification",
                &id.to_string(),
            ]),
            "the daemon closed notification {id}"
        );
        assert!(
            until(|| notifier.listening() == 0).await,
            "NotificationClosed ended the wait"
        );
        assert!(click(id, ACTION_SNOOZE));
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(
            clicks.0.lock().unwrap().is_empty(),
            "a click after the close is not acted on: {:?}",
            clicks.0.lock().unwrap()
        );
    }

    #[test]
    fn without_a_handler_there_are_no_buttons() {
        let n = alert(AlertId(1), "plain");
        let plain = DesktopNotifier::build(&n, false);
        let with = DesktopNotifier::build(&n, true);
        assert!(plain.actions.is_empty(), "{:?}", plain.actions);
        assert_eq!(
            with.actions,
            [
                ACTION_TOP_UP,
                "Top up",
                ACTION_SNOOZE,
                "Snooze",
                ACTION_OPEN,
                "Open in Cliffwatch"
            ],
            "buttons only where clicks are heard"
        );
    }
}
