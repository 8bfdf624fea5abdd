//! `cliffwatch watch`: the foreground daemon — polls, watches logs, forecasts, alerts — until
//! Ctrl-C or SIGTERM, then shuts down cleanly.

use crate::output::clean;
use crate::Context;
use cliffwatch_core::alerts::desktop::DesktopNotifier;
use cliffwatch_core::alerts::{Notification, Notifier, StoreActions, UrlOpener};
use cliffwatch_core::engine::{Engine, EngineEvent, EngineSink, Mode, ProxyRun, ReadApi};
use cliffwatch_core::logs::WatcherEvent;
use cliffwatch_core::Cliffwatch;
use std::sync::Arc;

/// Desktop notifications when a notification service answers; always a line on stdout too, so
/// a server without a desktop still sees its alerts.
#[derive(Debug)]
struct Notify {
    desktop: Option<DesktopNotifier>,
}

impl Notifier for Notify {
    fn notify(&self, n: &Notification) -> cliffwatch_core::Result<()> {
        println!(
            "ALERT [{:?}] {} — {}",
            n.severity,
            clean(&n.title),
            clean(&n.body)
        );
        if let Some(d) = &self.desktop {
            d.notify(n)?;
        }
        Ok(())
    }
}

/// "Top up" on a notification opens the billing page in the browser the desktop is set up
/// with (xdg-open and friends, given the URL as an argument; no shell). The notification was
/// clicked on that desktop, so a browser is what the user expects; the URL is printed too, in
/// case none opens.
#[derive(Debug)]
struct Browser;

impl UrlOpener for Browser {
    fn open(&self, url: &str) -> cliffwatch_core::Result<()> {
        println!("top up: opening {}", clean(url));
        open::that_detached(url).map_err(|e| {
            cliffwatch_core::Error::Notify(format!(
                "cannot start a browser ({e}): open {url} yourself"
            ))
        })
    }
}

/// The desktop notifier, its buttons wired to the store ("Snooze") and the browser ("Top up").
fn desktop_notifier(cw: &Cliffwatch, json: bool) -> DesktopNotifier {
    let sink: EngineSink = Arc::new(move |e| match &e {
        EngineEvent::Alerts(snoozed) if !json => {
            for a in snoozed {
                println!(
                    "snoozed alert #{} until {}",
                    a.id,
                    a.snoozed_until.map(|t| t.to_rfc3339()).unwrap_or_default()
                );
            }
        }
        _ => print_event(&e, json),
    });
    let actions = StoreActions::new(
        cw,
        tokio::runtime::Handle::current(),
        Arc::new(Browser),
        sink,
    );
    DesktopNotifier::with_actions(Arc::new(actions)).unwrap_or_else(|e| {
        eprintln!(
            "cliffwatch: notifications without buttons: {}",
            clean(&e.to_string())
        );
        DesktopNotifier::new()
    })
}

/// Where to serve the read API, and the variable its token is in.
#[derive(Debug)]
pub struct Listen {
    pub addr: std::net::SocketAddr,
    pub token_env: Option<String>,
}

pub async fn run(
    ctx: &Context,
    no_desktop: bool,
    demo: bool,
    demo_tick_ms: Option<u64>,
    listen: Option<Listen>,
    proxy: Option<(std::net::SocketAddr, Vec<String>)>,
) -> cliffwatch_core::Result<()> {
    let json = ctx.json;
    let sink: EngineSink = Arc::new(move |e| print_event(&e, json));
    let (cw, mode, demo_dir) = if demo {
        // An isolated temporary data directory: the demo never touches real data or keys.
        let dir = std::env::temp_dir().join(format!("cliffwatch-demo-cli-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        use cliffwatch_core::clock::Clock;
        let start = cliffwatch_core::clock::SystemClock.now();
        let mut d = cliffwatch_core::demo::setup(&dir, start).await?;
        if let Some(ms) = demo_tick_ms {
            d.tick = std::time::Duration::from_millis(ms.max(10));
        }
        eprintln!(
            "cliffwatch: DEMO mode — loopback providers at {}, data in {}",
            d.server.base_url(),
            dir.display()
        );
        (d.cliffwatch.clone(), Mode::Demo(Box::new(d)), Some(dir))
    } else {
        let cw = ctx.open().await?;
        // The engine reads the poll interval and the notifications switch from the settings
        // (`cliffwatch settings`), as the app's does.
        (cw, Mode::Live, None)
    };
    let notifier = Arc::new(Notify {
        desktop: (!no_desktop).then(|| desktop_notifier(&cw, json)),
    });
    // `--listen` wins over the `listen` setting for this run (the engine then binds nothing
    // itself), and stops with the engine.
    let read_api = match listen {
        Some(l) => {
            let token = match &l.token_env {
                Some(var) => Some(
                    std::env::var(var)
                        .map_err(|_| cliffwatch_core::Error::SecretEnvMissing(var.clone()))?,
                ),
                None => None,
            };
            let config = cliffwatch_core::listen::ListenConfig {
                addr: l.addr,
                token,
            };
            let started = cliffwatch_core::listen::start(cw.clone(), config).await?;
            eprintln!(
                "cliffwatch: read API on http://{}/ (/metrics, /v1/…)",
                started.addr
            );
            ReadApi::Given(started)
        }
        None => ReadApi::FromSettings,
    };
    let proxy = match proxy {
        Some((addr, upstreams)) => {
            let started = super::proxy::start(&cw, addr, &upstreams).await?;
            ProxyRun::Given(started)
        }
        None => ProxyRun::FromSettings,
    };
    let engine = Engine::start_hosts(cw, mode, notifier, sink, read_api, proxy)?;
    eprintln!("cliffwatch: watching (Ctrl-C to stop)");
    shutdown_signal().await;
    eprintln!("cliffwatch: stopping");
    engine.stop().await;
    if let Some(dir) = demo_dir {
        let _ = std::fs::remove_dir_all(dir);
    }
    Ok(())
}

fn print_event(e: &EngineEvent, json: bool) {
    if json {
        let v = match e {
            EngineEvent::Polled(r) => serde_json::json!({"event": "polled", "result": r}),
            EngineEvent::Alerts(a) => serde_json::json!({"event": "alerts", "alerts": a}),
            EngineEvent::Logs(WatcherEvent::Scanned(r)) => {
                serde_json::json!({"event": "logs", "events_new": r.events_new, "usage_records": r.usage_records})
            }
            // A failed log scan too: a watcher that cannot store (a full disk) must say so
            // in JSON mode as it does in text.
            EngineEvent::Logs(WatcherEvent::Failed(err)) | EngineEvent::Failed(err) => {
                serde_json::json!({"event": "error", "error": err})
            }
            _ => return,
        };
        println!("{v}");
        return;
    }
    match e {
        EngineEvent::Polled(r) => match &r.error {
            Some(err) => println!(
                "poll {} ({}): {}",
                clean(&r.account),
                clean(&r.provider),
                clean(&err.message)
            ),
            None => println!(
                "poll {} ({}): {}",
                clean(&r.account),
                clean(&r.provider),
                crate::output::amount(r.remaining, r.unit.as_ref().map_or("", |u| u.as_str()))
            ),
        },
        EngineEvent::Logs(WatcherEvent::Scanned(r)) => {
            println!(
                "logs: {} new event(s), {} usage record(s)",
                r.events_new, r.usage_records
            )
        }
        EngineEvent::Logs(WatcherEvent::Failed(err)) | EngineEvent::Failed(err) => {
            eprintln!("error: {}", clean(&err.message))
        }
        _ => {}
    }
}

pub(crate) async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
