//! End-to-end tests of the real desktop app: the built `cliffwatch-desktop` binary in a real
//! WebKitGTK window, driven through tauri-driver + WebKitWebDriver. CI runs them under Xvfb
//! (scripts/with-desktop-session); elsewhere they skip when there is no display or driver.
//! Screenshots of each screen land in target/screenshots/ for the README.

mod driver;

use chrono::TimeZone;
use cliffwatch_core::clock::ManualClock;
use cliffwatch_core::model::{BalanceSample, Unit};
use cliffwatch_core::secrets::{MemoryStore, Secret};
use cliffwatch_core::{Cliffwatch, NewAccount, SecretInput};
use driver::Session;
use fantoccini::Locator;
use std::sync::Arc;

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
async fn dashboard_lists_accounts_from_the_real_database() {
    let Some(session) = Session::start(4620).await else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    seed(tmp.path()).await;
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
    let row = table
        .find(Locator::Css("tr[data-account='llm-main']"))
        .await
        .expect("account row");
    assert!(
        row.text().await.unwrap().contains("$12.50"),
        "money is shown as money"
    );
    session.screenshot("dashboard").await;
    session.close().await;
}

/// Two accounts and a reading each, written through core into the data directory the app opens.
async fn seed(dir: &std::path::Path) {
    let now = chrono::Utc
        .with_ymd_and_hms(2026, 11, 21, 12, 0, 0)
        .unwrap();
    let cw = Cliffwatch::open(
        dir,
        Arc::new(MemoryStore::new()),
        Arc::new(ManualClock::new(now)),
    )
    .await
    .unwrap();
    for (provider, label, remaining, unit) in [
        ("scraperapi", "scraper-prod", 4820.0, Unit::credits()),
        ("openrouter", "llm-main", 12.5, Unit::usd()),
    ] {
        let acc = cw
            .add_account(NewAccount {
                provider: provider.into(),
                label: label.into(),
                base_url: None,
                secret: SecretInput::Keychain(Secret::new("e2e-key-0123456789").unwrap()),
                budget: None,
                options: Default::default(),
            })
            .await
            .unwrap();
        let mut tx = cw.pool().begin().await.unwrap();
        cliffwatch_core::db::balance_samples::insert(
            &mut tx,
            BalanceSample {
                account_id: acc.id,
                observed_at: now,
                remaining: Some(remaining),
                limit: None,
                used: None,
                unit,
                resets_at: None,
                is_topup: false,
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    cw.pool().close().await;
}
