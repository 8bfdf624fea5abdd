//! The tray icon and its menu. The icon's colour is the worst state across accounts, the
//! tooltip names the nearest cliff, and the menu lists every account with what is left and its
//! runway, then Open dashboard, Refresh now, Pause alerts 1 h and Quit.

use cliffwatch_core::dashboard::{AccountRow, Dashboard};
use cliffwatch_core::forecast::ForecastState;
use cliffwatch_core::model::AccountState;
use std::sync::Mutex;
use tauri::image::Image;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{TrayIcon, TrayIconBuilder};
use tauri::{AppHandle, Manager, Runtime};

pub const TRAY_ID: &str = "cliffwatch-tray";
const MENU_OPEN: &str = "open";
const MENU_REFRESH: &str = "refresh";
const MENU_PAUSE: &str = "pause";
const MENU_QUIT: &str = "quit";
/// Prefix of an account line's id: `account:<id>`.
const MENU_ACCOUNT: &str = "account:";

/// Runway thresholds of the tray colour, the same as the default alert rules: P10 under 72 h
/// is a warning, under 24 h critical.
const WARNING_HOURS: f64 = 72.0;
const CRITICAL_HOURS: f64 = 24.0;

/// The worst state across accounts, as the tray shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TrayLevel {
    Ok,
    Unknown,
    Error,
    Warning,
    Critical,
    OutOfCredit,
}

impl TrayLevel {
    fn rgb(self) -> [u8; 3] {
        match self {
            TrayLevel::Ok => [0x2f, 0x9e, 0x44],
            TrayLevel::Unknown => [0x86, 0x8e, 0x96],
            TrayLevel::Error => [0x5c, 0x7c, 0xfa],
            TrayLevel::Warning => [0xf0, 0x8c, 0x00],
            TrayLevel::Critical => [0xe0, 0x31, 0x31],
            TrayLevel::OutOfCredit => [0x86, 0x2e, 0x9c],
        }
    }

    /// One account's level: its state first, then its runway's early (P10) end.
    pub fn of(row: &AccountRow) -> Self {
        match row.account.state {
            AccountState::OutOfCredit => return TrayLevel::OutOfCredit,
            AccountState::InvalidKey => return TrayLevel::Critical,
            AccountState::Error => return TrayLevel::Error,
            AccountState::Unknown if row.latest.is_none() => return TrayLevel::Unknown,
            _ => {}
        }
        if row.forecast.state == ForecastState::OutOfCredit {
            return TrayLevel::OutOfCredit;
        }
        match row.forecast.runway_hours {
            Some(r) if r.p10 < CRITICAL_HOURS => TrayLevel::Critical,
            Some(r) if r.p10 < WARNING_HOURS => TrayLevel::Warning,
            _ => TrayLevel::Ok,
        }
    }

    /// The worst level across accounts; `Unknown` when there are none.
    pub fn worst(d: &Dashboard) -> Self {
        d.accounts
            .iter()
            .map(Self::of)
            .max()
            .unwrap_or(TrayLevel::Unknown)
    }
}

/// A 32×32 disc in the level's colour, drawn in code so no icon files are needed per state.
pub fn icon(level: TrayLevel) -> Image<'static> {
    const N: usize = 32;
    let [r, g, b] = level.rgb();
    let mut rgba = vec![0u8; N * N * 4];
    for y in 0..N {
        for x in 0..N {
            let dx = x as f32 + 0.5 - N as f32 / 2.0;
            let dy = y as f32 + 0.5 - N as f32 / 2.0;
            let d = (dx * dx + dy * dy).sqrt();
            let alpha = (13.5 - d).clamp(0.0, 1.0);
            let i = (y * N + x) * 4;
            rgba[i..i + 4].copy_from_slice(&[r, g, b, (alpha * 255.0) as u8]);
        }
    }
    Image::new_owned(rgba, N as u32, N as u32)
}

/// "ScraperAPI · main: ~14 h left" for the account nearest its cliff (the dashboard's order).
pub fn tooltip(d: &Dashboard, demo: bool) -> String {
    let prefix = if demo {
        "Cliffwatch (demo)"
    } else {
        "Cliffwatch"
    };
    match d.accounts.first() {
        None => format!("{prefix}: no accounts yet"),
        Some(row) => format!("{prefix} · {}", line(row)),
    }
}

/// One account in words: "ScraperAPI · main: ~14 h left".
fn line(row: &AccountRow) -> String {
    let what = match row.account.state {
        AccountState::OutOfCredit => "out of credit".to_owned(),
        AccountState::InvalidKey => "key rejected".to_owned(),
        _ => row.forecast.headline(),
    };
    format!("{} · {}: {what}", row.provider_name, row.account.label)
}

/// What the tray shows now, kept so a refresh changes only what changed. Rebuilding the menu
/// on every refresh would close it under the user's pointer (the tray host re-reads the whole
/// layout), so while the set of accounts is the same only the account lines' texts change.
struct Shown<R: Runtime> {
    level: Option<TrayLevel>,
    tooltip: String,
    accounts: AccountLines<R>,
}

/// Account ids in menu order, with their line.
type AccountLines<R> = Vec<(i64, MenuItem<R>)>;

fn account_text(row: &AccountRow) -> String {
    let remaining = row
        .latest
        .as_ref()
        .and_then(|l| l.remaining.map(|v| amount(v, l.unit.as_str())))
        .unwrap_or_else(|| "—".into());
    format!("{}  ·  {remaining}", line(row))
}

fn menu<R: Runtime>(
    app: &AppHandle<R>,
    d: Option<&Dashboard>,
) -> tauri::Result<(Menu<R>, AccountLines<R>)> {
    let menu = Menu::new(app)?;
    let mut accounts = Vec::new();
    if let Some(d) = d {
        for row in &d.accounts {
            // Clicking an account's line opens the dashboard at that account.
            let id = format!("{MENU_ACCOUNT}{}", row.account.id.0);
            let item = MenuItem::with_id(app, id, account_text(row), true, None::<&str>)?;
            menu.append(&item)?;
            accounts.push((row.account.id.0, item));
        }
        if !d.accounts.is_empty() {
            menu.append(&PredefinedMenuItem::separator(app)?)?;
        }
    }
    for (id, text) in [
        (MENU_OPEN, "Open dashboard"),
        (MENU_REFRESH, "Refresh now"),
        (MENU_PAUSE, "Pause alerts 1 h"),
    ] {
        menu.append(&MenuItem::with_id(app, id, text, true, None::<&str>)?)?;
    }
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    menu.append(&MenuItem::with_id(
        app,
        MENU_QUIT,
        "Quit Cliffwatch",
        true,
        None::<&str>,
    )?)?;
    Ok((menu, accounts))
}

fn amount(v: f64, unit: &str) -> String {
    match unit {
        "usd" => format!("${v:.2}"),
        "eur" => format!("€{v:.2}"),
        "cny" => format!("¥{v:.2}"),
        u if u.len() == 3 => format!("{v:.2} {}", u.to_uppercase()),
        u => format!("{v:.0} {u}"),
    }
}

/// Repaints the tray from a fresh dashboard: colour, tooltip and menu, each only if it changed.
pub fn show<R: Runtime>(app: &AppHandle<R>, d: &Dashboard, demo: bool) {
    let Some(tray) = app.tray_by_id(TRAY_ID) else {
        return;
    };
    let Some(shown) = app.try_state::<Mutex<Shown<R>>>() else {
        return;
    };
    let mut shown = shown.lock().unwrap_or_else(|e| e.into_inner());
    let level = TrayLevel::worst(d);
    if shown.level != Some(level) {
        // Each new icon is a new file for the tray host to read: only when the colour changes.
        if tray.set_icon(Some(icon(level))).is_ok() {
            shown.level = Some(level);
        }
    }
    let tip = tooltip(d, demo);
    if shown.tooltip != tip {
        let _ = tray.set_tooltip(Some(&tip));
        shown.tooltip = tip;
    }
    let same_accounts = shown.accounts.len() == d.accounts.len()
        && shown
            .accounts
            .iter()
            .zip(&d.accounts)
            .all(|((id, _), row)| *id == row.account.id.0);
    if same_accounts {
        for ((_, item), row) in shown.accounts.iter().zip(&d.accounts) {
            let text = account_text(row);
            if item.text().ok().as_deref() != Some(text.as_str()) {
                let _ = item.set_text(text);
            }
        }
    } else if let Ok((m, accounts)) = menu(app, Some(d)) {
        if tray.set_menu(Some(m)).is_ok() {
            shown.accounts = accounts;
        }
    }
}

pub fn build<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<TrayIcon<R>> {
    let (menu, accounts) = menu(app, None)?;
    app.manage(Mutex::new(Shown::<R> {
        level: Some(TrayLevel::Unknown),
        tooltip: "Cliffwatch".into(),
        accounts,
    }));
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon(TrayLevel::Unknown))
        .tooltip("Cliffwatch")
        .menu(&menu)
        .show_menu_on_left_click(true)
        .on_menu_event(|app, event| match event.id().as_ref() {
            MENU_OPEN => crate::show_main_window(app),
            MENU_REFRESH => crate::refresh_now(app),
            MENU_PAUSE => crate::pause_alerts(app, chrono::Duration::hours(1)),
            MENU_QUIT => app.exit(0),
            other => {
                if let Some(id) = other
                    .strip_prefix(MENU_ACCOUNT)
                    .and_then(|id| id.parse().ok())
                {
                    crate::show_account(app, Some(cliffwatch_core::model::AccountId(id)));
                }
            }
        })
        .build(app)
}
