//! End-to-end tests of the real desktop app: the built `cliffwatch-desktop` binary in a real
//! WebKitGTK window, driven through tauri-driver + WebKitWebDriver. CI runs them under Xvfb
//! (scripts/with-desktop-session); elsewhere they skip when there is no display or driver.
//! Screenshots of each screen land in target/screenshots/ for the README. Each test uses its
//! own ports (tests run in parallel) and its own data directory.

mod driver;
mod loopback;
mod receiver;
mod seed;
mod tray;

use driver::Session;
use fantoccini::key::Key;
use fantoccini::Locator;

#[tokio::test]
async fn empty_dashboard_explains_how_to_add_an_account() {
    let Some(session) = Session::start(4610).await else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let session = session.with_data_dir(tmp.path()).await;
    let c = &session.client;
    assert_eq!(
        c.title().await.unwrap(),
        "Cliffwatch",
        "the window is the dashboard"
    );
    let empty = session.wait_for(Locator::Id("empty-state")).await;
    let text = empty.text().await.unwrap();
    assert!(
        text.contains("No accounts yet"),
        "empty state headline: {text}"
    );
    assert!(
        text.contains("cliffwatch account add"),
        "says how to add one: {text}"
    );
    session.screenshot("empty-dashboard").await;
    session.close().await;
}

#[tokio::test]
async fn dashboard_lists_accounts_nearest_cliff_first() {
    let Some(session) = Session::start(4620).await else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    seed::seed(tmp.path()).await;
    let session = session.with_data_dir(tmp.path()).await;
    let table = session.wait_for(Locator::Id("accounts")).await;
    let row = table
        .find(Locator::Css("tr[data-account='scraper-prod']"))
        .await
        .expect("account row");
    let text = row.text().await.unwrap();
    assert!(text.contains("ScraperAPI"), "provider name: {text}");
    assert!(
        text.contains("4,820 credits"),
        "remaining with unit, from the stored sample: {text}"
    );
    assert!(text.contains("/day"), "burn per day: {text}");
    let row = table
        .find(Locator::Css("tr[data-account='llm-main']"))
        .await
        .expect("account row");
    assert!(
        row.text().await.unwrap().contains("$12.50"),
        "money is shown as money"
    );
    let order: Vec<String> = {
        let mut v = Vec::new();
        for r in table.find_all(Locator::Css("tbody tr")).await.unwrap() {
            v.push(r.attr("data-account").await.unwrap().unwrap_or_default());
        }
        v
    };
    assert_eq!(
        order,
        ["captcha", "llm-main", "scraper-prod", "search"],
        "nearest cliff first: out of credit, then by median runway"
    );
    let spark = table
        .find_all(Locator::Css("tr[data-account='search'] .spark canvas"))
        .await
        .unwrap();
    assert!(
        !spark.is_empty(),
        "a sparkline is drawn from the week of readings"
    );
    session
        .wait_text(Locator::Id("summary"), "Nearest cliff")
        .await;
    session.screenshot("dashboard").await;
    session.close().await;
}

#[tokio::test]
async fn account_detail_opens_by_keyboard_and_draws_the_forecast_band() {
    let Some(session) = Session::start(4630).await else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    seed::seed(tmp.path()).await;
    let session = session.with_data_dir(tmp.path()).await;
    // Keyboard: focus the first row, ↓ to the second (llm-main), Enter opens it.
    let first = session.wait_for(Locator::Css("#accounts tbody tr")).await;
    session
        .client
        .execute(
            "arguments[0].focus()",
            vec![serde_json::to_value(&first).unwrap()],
        )
        .await
        .unwrap();
    let active = session.client.active_element().await.unwrap();
    active
        .send_keys(&char::from(Key::Down).to_string())
        .await
        .unwrap();
    let active = session.client.active_element().await.unwrap();
    assert_eq!(
        active.attr("data-account").await.unwrap().as_deref(),
        Some("llm-main"),
        "↓ moves to the next account"
    );
    active
        .send_keys(&char::from(Key::Enter).to_string())
        .await
        .unwrap();
    session
        .wait_text(Locator::Id("account-detail"), "llm-main")
        .await;
    let remaining = session
        .wait_text(Locator::Id("detail-remaining"), "$")
        .await;
    assert_eq!(remaining, "$12.50", "the detail shows the latest remaining");
    session
        .wait_for(Locator::Css("#history-chart canvas"))
        .await;
    let legend = session
        .wait_text(Locator::Id("history-chart"), "Forecast P50")
        .await;
    assert!(
        legend.to_lowercase().contains("top-up"),
        "top-ups are marked: {legend}"
    );
    let err = session
        .wait_text(Locator::Id("latest-error"), "Insufficient credits")
        .await;
    assert!(err.contains("HTTP 402"), "the latest parsed error: {err}");
    session.screenshot("account-detail").await;
    // The proxy's breaker: off by default; switched on in the window, core says whether it is
    // open (llm-main's 402 came before its top-up, so it is closed) and the CLI's status agrees.
    session
        .wait_text(Locator::Id("breaker-state"), "Off: the proxy forwards")
        .await;
    let el = session.wait_for(Locator::Id("breaker")).await;
    session
        .client
        .execute(
            "arguments[0].scrollIntoView({block: 'center'})",
            vec![serde_json::to_value(&el).unwrap()],
        )
        .await
        .unwrap();
    session.click(Locator::Id("breaker-on")).await;
    let state = session
        .wait_text(Locator::Id("breaker-state"), "pass through")
        .await;
    assert!(state.starts_with("Closed"), "on and closed: {state}");
    session.screenshot("account-breaker").await;
    // Edit: a base-URL override is checked, normalised and shown.
    session.click(Locator::Id("edit-account")).await;
    session
        .type_into(Locator::Id("edit-base-url"), "http://127.0.0.1:9/v1/")
        .await;
    session.click(Locator::Id("edit-save")).await;
    session
        .wait_text(Locator::Css(".detail-head"), "127.0.0.1:9/v1 ·")
        .await;
    session.close().await;
}

#[tokio::test]
async fn history_402_lists_events_and_guards_payment_links() {
    let Some(session) = Session::start(4640).await else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    seed::seed(tmp.path()).await;
    let session = session.with_data_dir(tmp.path()).await;
    session.wait_for(Locator::Id("accounts")).await;
    session.click(Locator::Id("nav-events")).await;
    let text = session
        .wait_text(Locator::Id("events"), "ERROR_ZERO_BALANCE")
        .await;
    assert!(
        text.contains("Insufficient credits"),
        "poll and log events of every account: {text}"
    );
    assert!(text.contains("balance poll"), "where each was seen: {text}");
    assert!(
        text.contains("0.01 USDC") && text.contains("x402"),
        "a price asked shows its protocol and price: {text}"
    );
    session.screenshot("402-history").await;
    // A price asked is its own outcome.
    session
        .wait_for(Locator::Id("filter-outcome"))
        .await
        .select_by_value("payment_required")
        .await
        .unwrap();
    let prices = session
        .wait_text_without(Locator::Id("events"), "0.01 USDC", "ERROR_ZERO_BALANCE")
        .await;
    assert!(
        prices.contains("payment required"),
        "the filter keeps only prices asked: {prices}"
    );
    // Filter by outcome: nothing was rate-limited.
    session
        .wait_for(Locator::Id("filter-outcome"))
        .await
        .select_by_value("rate_limited")
        .await
        .unwrap();
    session
        .wait_text(Locator::Id("events-view"), "No 402s match these filters")
        .await;
    session
        .wait_for(Locator::Id("filter-outcome"))
        .await
        .select_by_value("")
        .await
        .unwrap();
    // An untrusted payment link opens only after a dialog that names its domain.
    session.click(Locator::Css("#events .btn-warn")).await;
    let dialog = session
        .wait_text(Locator::Id("payment-confirm"), "pay.example-gateway.io")
        .await;
    assert!(
        dialog.contains("not the provider's own domain"),
        "a foreign domain is flagged: {dialog}"
    );
    session.screenshot("payment-link-confirm").await;
    session.close().await;
}

#[tokio::test]
async fn wizard_adds_a_custom_loopback_account_then_sees_it_run_out() {
    let Some(session) = Session::start(4650).await else {
        return;
    };
    let server = loopback::Loopback::start(4659, 200, r#"{"credits": 1234}"#).await;
    let tmp = tempfile::tempdir().unwrap();
    let session = session.with_data_dir(tmp.path()).await;
    session.click(Locator::Id("add-account")).await;
    session
        .type_into(Locator::Id("provider-search"), "custom")
        .await;
    session.screenshot("add-account-wizard").await;
    session
        .click(Locator::Css("button[data-provider='custom']"))
        .await;
    session
        .type_into(Locator::Id("acc-label"), "loopback")
        .await;
    session
        .type_into(Locator::Id("acc-secret"), "e2e-secret-key-wxyz")
        .await;
    session
        .type_into(
            Locator::Id("acc-opt-spec"),
            r#"{"url": "/balance", "auth": {"type": "bearer"}, "remaining": "/credits", "unit": "credits"}"#,
        )
        .await;
    session
        .type_into(
            Locator::Id("acc-base-url"),
            &format!("http://127.0.0.1:{}", server.port),
        )
        .await;
    session.click(Locator::Id("acc-save")).await;
    let done = session
        .wait_text(Locator::Id("wizard-done"), "loopback")
        .await;
    assert!(
        done.contains("…wxyz"),
        "only the last 4 characters come back: {done}"
    );
    assert!(
        !done.contains("e2e-secret-key"),
        "the key itself never comes back: {done}"
    );
    session.click(Locator::Id("test-connection")).await;
    session
        .wait_text(Locator::Id("poll-result"), "1,234 credits")
        .await;
    session.screenshot("add-account-tested").await;
    session.click(Locator::Id("wizard-close")).await;

    // Poll it for real from its detail page; the table then shows the reading with its unit.
    session
        .click(Locator::Css("tr[data-account='loopback'] .acc-label"))
        .await;
    session.click(Locator::Id("poll-now")).await;
    session
        .wait_text(Locator::Id("detail-remaining"), "1,234 credits")
        .await;
    session
        .wait_for(Locator::Css("#history-chart canvas"))
        .await;
    session.click(Locator::Id("nav-accounts")).await;
    let row = session
        .wait_text(Locator::Css("tr[data-account='loopback']"), "1,234 credits")
        .await;
    assert!(row.contains("Custom"), "provider name: {row}");
    // The tray says so too: its menu line for the account, and a green (ok) icon.
    let tray_host = tray::host_present();
    if tray_host {
        tray::wait_for("· loopback:", "the ok colour and the reading", |v| {
            v.rgb == tray::OK && v.menu.iter().any(|l| l.contains("1,234 credits"))
        })
        .await;
    } else {
        driver::no_tray_host();
    }

    // The endpoint runs dry: the state chip and the 402 history say so.
    server.set(402, r#"{"error": {"message": "Insufficient credits: top up your balance", "code": "insufficient_quota"}}"#);
    session
        .click(Locator::Css("tr[data-account='loopback'] .acc-label"))
        .await;
    session.click(Locator::Id("poll-now")).await;
    session
        .wait_text(Locator::Id("poll-result"), "out of credit")
        .await;
    session
        .wait_text(Locator::Css(".detail-title"), "out of credit")
        .await;
    session.click(Locator::Id("nav-events")).await;
    let events = session
        .wait_text(Locator::Id("events"), "Insufficient credits")
        .await;
    assert!(
        events.contains("loopback"),
        "the event names the account: {events}"
    );
    session.screenshot("402-history-loopback").await;
    if tray_host {
        let v = tray::wait_for("· loopback:", "the out-of-credit colour", |v| {
            v.rgb == tray::OUT_OF_CREDIT
        })
        .await;
        assert!(
            v.menu
                .iter()
                .any(|l| l.contains("· loopback: out of credit")),
            "the menu line says out of credit: {:?}",
            v.menu
        );
    }

    // The user tops up and rotates the key: replaced in place from the edit dialog, the next
    // poll carries the new key and the account is back to green, its history kept.
    assert_eq!(
        server.last_auth().as_deref(),
        Some("Bearer e2e-secret-key-wxyz")
    );
    server.set(200, r#"{"credits": 5000}"#);
    session.click(Locator::Id("nav-accounts")).await;
    session
        .click(Locator::Css("tr[data-account='loopback'] .acc-label"))
        .await;
    session.click(Locator::Id("edit-account")).await;
    session
        .type_into(Locator::Id("edit-secret"), "e2e-rotated-key-5678")
        .await;
    session.screenshot("edit-account-replace-key").await;
    session.click(Locator::Id("edit-save")).await;
    session.wait_gone(Locator::Id("edit-secret")).await;
    session.click(Locator::Id("poll-now")).await;
    session
        .wait_text(Locator::Id("detail-remaining"), "5,000 credits")
        .await;
    assert_eq!(
        server.last_auth().as_deref(),
        Some("Bearer e2e-rotated-key-5678"),
        "the poll after the edit sends the new key"
    );
    let page = session.client.source().await.expect("page source");
    assert!(
        !page.contains("e2e-rotated-key") && !page.contains("e2e-secret-key"),
        "no key is left in the page"
    );
    if tray_host {
        let v = tray::wait_for("· loopback:", "the ok colour again", |v| {
            v.rgb == tray::OK && v.menu.iter().any(|l| l.contains("5,000 credits"))
        })
        .await;
        // Picking the account's line in the tray menu opens the dashboard at that account.
        session.click(Locator::Id("nav-events")).await;
        session.wait_gone(Locator::Id("detail-remaining")).await;
        v.click("· loopback:");
        session
            .wait_text(Locator::Id("detail-remaining"), "5,000 credits")
            .await;
    }
    session.close().await;
}

#[tokio::test]
async fn logs_preview_detection_and_settings_theme() {
    let Some(session) = Session::start(4660).await else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    std::fs::write(
        logs.path().join("access.log"),
        "127.0.0.1 - - [21/Nov/2026:10:00:00 +0000] \"GET /v1/scrape HTTP/1.1\" 200 512 \"-\" \"scrapy\"\n\
         127.0.0.1 - - [21/Nov/2026:10:00:01 +0000] \"GET /v1/scrape HTTP/1.1\" 402 87 \"-\" \"scrapy\"\n",
    )
    .unwrap();
    let session = session.with_data_dir(tmp.path()).await;
    session.click(Locator::Id("nav-logs")).await;
    let pattern = format!("{}/*.log", logs.path().display());
    session
        .type_into(Locator::Id("log-pattern"), &pattern)
        .await;
    session.click(Locator::Id("log-preview")).await;
    let preview = session
        .wait_text(Locator::Id("log-preview-result"), "combined")
        .await;
    assert!(
        preview.contains("1 failed request"),
        "the 402 line is found before adding: {preview}"
    );
    session.screenshot("logs-preview").await;
    session.click(Locator::Id("log-add")).await;
    session.wait_text(Locator::Id("log-sources"), "*.log").await;
    session.click(Locator::Id("nav-settings")).await;
    session.click(Locator::Id("theme-dark")).await;
    session.click(Locator::Id("settings-save")).await;
    session
        .wait_text(Locator::Id("settings-saved"), "Saved")
        .await;
    let theme = session
        .client
        .execute("return document.documentElement.dataset.theme", vec![])
        .await
        .unwrap();
    assert_eq!(
        theme,
        serde_json::json!("dark"),
        "the theme applies at once"
    );
    session.screenshot("settings-dark").await;
    session.close().await;
}

/// `GET /metrics` on 127.0.0.1:`port`, as Prometheus would ask: the whole answer, or why none.
fn get_metrics(port: u16) -> std::io::Result<String> {
    use std::io::{Read, Write};
    let mut sock = std::net::TcpStream::connect(("127.0.0.1", port))?;
    sock.set_read_timeout(Some(std::time::Duration::from_secs(10)))?;
    write!(
        sock,
        "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )?;
    let mut out = String::new();
    sock.read_to_string(&mut out)?;
    Ok(out)
}

#[tokio::test]
async fn settings_adds_a_webhook_channel_tests_it_and_switches_the_read_api_on() {
    let Some(session) = Session::start(4670).await else {
        return;
    };
    let hook = receiver::Receiver::start();
    let tmp = tempfile::tempdir().unwrap();
    let session = session.with_data_dir(tmp.path()).await;
    session.wait_for(Locator::Id("empty-state")).await;
    session.click(Locator::Id("nav-settings")).await;

    // A webhook channel: the URL is the secret (it goes to the keychain, only its last four
    // characters come back).
    let url = format!("http://127.0.0.1:{}/hook/e2e-secret-path-b3f9", hook.port);
    session
        .type_into(Locator::Id("channel-label"), "ops-hook")
        .await;
    session.type_into(Locator::Id("channel-secret"), &url).await;
    session.click(Locator::Id("channel-add")).await;
    let row = session
        .wait_text(Locator::Css("tr[data-channel='ops-hook']"), "b3f9")
        .await;
    assert!(
        row.contains("keychain"),
        "the list says where the secret lives: {row}"
    );
    assert!(row.contains("nothing sent yet"), "no delivery yet: {row}");
    let page = session.client.source().await.expect("page source");
    assert!(
        !page.contains("e2e-secret-path"),
        "the secret is not left in the page (the form is cleared, the list shows a hint)"
    );

    session
        .click(Locator::Css("tr[data-channel='ops-hook'] .channel-test"))
        .await;
    session
        .wait_text(
            Locator::Css("tr[data-channel='ops-hook'] .channel-result"),
            "delivered",
        )
        .await;
    let got = hook.requests();
    assert_eq!(got.len(), 1, "one test message: {got:?}");
    assert_eq!(
        got[0].request_line, "POST /hook/e2e-secret-path-b3f9 HTTP/1.1",
        "POSTed to the URL as given"
    );
    assert!(
        got[0]
            .headers
            .iter()
            .any(|(k, v)| k == "x-cliffwatch-event" && v == "test"),
        "marked as a test: {:?}",
        got[0].headers
    );
    let body: serde_json::Value =
        serde_json::from_slice(&got[0].body).expect("the webhook gets JSON");
    assert_eq!(body["test"], true, "{body}");
    assert_eq!(body["version"], 1, "the message format's version: {body}");
    session
        .client
        .execute(
            "document.getElementById('channels-section').scrollIntoView()",
            vec![],
        )
        .await
        .unwrap();
    session.screenshot("settings-channels").await;

    // The read API switch: on at a free loopback port, saved, and /metrics answers there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    assert!(get_metrics(port).is_err(), "nothing listens there yet");
    session.click(Locator::Id("listen-on")).await;
    session
        .type_into(Locator::Id("listen-address"), &format!("127.0.0.1:{port}"))
        .await;
    session.click(Locator::Id("settings-save")).await;
    session
        .wait_text(Locator::Id("settings-saved"), "Saved")
        .await;
    session
        .wait_text(
            Locator::Id("listen-status"),
            &format!("127.0.0.1:{port}/metrics"),
        )
        .await;
    let mut answer = Err(std::io::Error::other("not asked yet"));
    for _ in 0..50 {
        answer = get_metrics(port);
        if answer.is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let answer = answer.expect("/metrics answers once the switch is saved");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains("application/openmetrics-text") && answer.contains("# EOF"),
        "OpenMetrics text: {answer}"
    );
    // Off again: the port refuses.
    session.click(Locator::Id("listen-on")).await;
    session.wait_gone(Locator::Id("listen-address")).await;
    session.click(Locator::Id("settings-save")).await;
    let mut refused = false;
    for _ in 0..50 {
        if get_metrics(port).is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(refused, "the listener stops when the switch is saved off");
    session.close().await;
}
