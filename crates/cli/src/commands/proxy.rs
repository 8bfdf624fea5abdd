//! `cliffwatch proxy`: the recording proxy in the foreground, until Ctrl-C or SIGTERM. The
//! engine does not run here (`watch --proxy` runs both); what the proxy records is stored and a
//! running `watch` or the app hears of it.

use crate::output::clean;
use crate::Context;
use cliffwatch_core::proxy::{self, Proxy, ProxyConfig};
use cliffwatch_core::Cliffwatch;
use std::sync::atomic::Ordering;

/// Starts the proxy and says where, with the base-URL line to give an SDK.
pub async fn start(
    cw: &Cliffwatch,
    addr: std::net::SocketAddr,
    upstreams: &[String],
) -> cliffwatch_core::Result<Proxy> {
    let upstreams = upstreams
        .iter()
        .map(|u| cliffwatch_core::api::proxy::upstream(u))
        .collect::<cliffwatch_core::Result<Vec<_>>>()?;
    let names: Vec<String> = upstreams.iter().map(|(n, _)| n.clone()).collect();
    let started = proxy::start(cw.clone(), ProxyConfig { addr, upstreams }).await?;
    eprintln!(
        "cliffwatch: proxy on http://{}/ — set an SDK's base URL to http://{}/a/<account label>/…",
        started.addr, started.addr
    );
    for n in names {
        eprintln!(
            "cliffwatch: proxy route http://{}/u/{}/…",
            started.addr,
            clean(&n)
        );
    }
    Ok(started)
}

pub async fn run(
    ctx: &Context,
    listen: std::net::SocketAddr,
    upstreams: Vec<String>,
) -> cliffwatch_core::Result<()> {
    let cw = ctx.open().await?;
    let p = start(&cw, listen, &upstreams).await?;
    super::watch::shutdown_signal().await;
    // What the last answers amounted to is written within the writer's gathering time.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let s = &p.stats;
    let n = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    let summary = serde_json::json!({
        "requests": n(&s.requests),
        "forwarded": n(&s.forwarded),
        "breaker_answers": n(&s.breaker_answers),
        "upstream_errors": n(&s.upstream_errors),
        "refused": n(&s.refused),
        "events": n(&s.events),
        "usage_records": n(&s.usage_records),
        "not_recorded": n(&s.not_recorded),
    });
    p.task.abort();
    if ctx.json {
        println!("{summary}");
    } else {
        eprintln!(
            "cliffwatch: proxy stopped: {} request(s), {} forwarded, {} answered by a breaker, {} event(s) and {} usage record(s) stored",
            n(&s.requests),
            n(&s.forwarded),
            n(&s.breaker_answers),
            n(&s.events),
            n(&s.usage_records)
        );
    }
    Ok(())
}
