//! The tray icon and its menu, painted from core's [`TrayView`]: the icon's colour is the worst
//! account's severity, the tooltip names the nearest cliff, and the menu lists every account
//! with what is left and its runway, then Open dashboard, Refresh now, Pause alerts 1 h and
//! Quit. What each says is decided in core; this file only paints.

use cliffwatch_core::alerts::AccountSeverity;
use cliffwatch_core::api::overview::TrayView;
use cliffwatch_core::model::AccountId;
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

/// The colour of each severity (core decides the severity; the tray only paints it).
fn rgb(severity: AccountSeverity) -> [u8; 3] {
    match severity {
        AccountSeverity::Ok => [0x2f, 0x9e, 0x44],
        AccountSeverity::Unknown => [0x86, 0x8e, 0x96],
        AccountSeverity::Error => [0x5c, 0x7c, 0xfa],
        AccountSeverity::Warning => [0xf0, 0x8c, 0x00],
        AccountSeverity::Critical => [0xe0, 0x31, 0x31],
        AccountSeverity::OutOfCredit => [0x86, 0x2e, 0x9c],
    }
}

/// A 32×32 disc in the level's colour, drawn in code so no icon files are needed per state.
pub fn icon(severity: AccountSeverity) -> Image<'static> {
    const N: usize = 32;
    let [r, g, b] = rgb(severity);
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

/// What the tray shows now, kept so a refresh changes only what changed. Rebuilding the menu
/// on every refresh would close it under the user's pointer (the tray host re-reads the whole
/// layout), so while the set of accounts is the same only the account lines' texts change.
struct Shown<R: Runtime> {
    level: Option<AccountSeverity>,
    tooltip: String,
    accounts: AccountLines<R>,
}

/// Account ids in menu order, with their line.
type AccountLines<R> = Vec<(i64, MenuItem<R>)>;

fn menu<R: Runtime>(
    app: &AppHandle<R>,
    view: Option<&TrayView>,
) -> tauri::Result<(Menu<R>, AccountLines<R>)> {
    let menu = Menu::new(app)?;
    let mut accounts = Vec::new();
    if let Some(view) = view {
        for (AccountId(id), text) in &view.lines {
            // Clicking an account's line opens the dashboard at that account.
            let item_id = format!("{MENU_ACCOUNT}{id}");
            let item = MenuItem::with_id(app, item_id, text, true, None::<&str>)?;
            menu.append(&item)?;
            accounts.push((*id, item));
        }
        if !view.lines.is_empty() {
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

/// Paints `view`: colour, tooltip and menu, each only if it changed.
pub fn show<R: Runtime>(app: &AppHandle<R>, view: &TrayView) {
    let Some(tray) = app.tray_by_id(TRAY_ID) else {
        return;
    };
    let Some(shown) = app.try_state::<Mutex<Shown<R>>>() else {
        return;
    };
    let mut shown = shown.lock().unwrap_or_else(|e| e.into_inner());
    if shown.level != Some(view.severity) {
        // Each new icon is a new file for the tray host to read: only when the colour changes.
        if tray.set_icon(Some(icon(view.severity))).is_ok() {
            shown.level = Some(view.severity);
        }
    }
    if shown.tooltip != view.tooltip {
        let _ = tray.set_tooltip(Some(&view.tooltip));
        shown.tooltip.clone_from(&view.tooltip);
    }
    let same_accounts = shown.accounts.len() == view.lines.len()
        && shown
            .accounts
            .iter()
            .zip(&view.lines)
            .all(|((id, _), (AccountId(line), _))| id == line);
    if same_accounts {
        for ((_, item), (_, text)) in shown.accounts.iter().zip(&view.lines) {
            if item.text().ok().as_deref() != Some(text.as_str()) {
                let _ = item.set_text(text);
            }
        }
    } else if let Ok((m, accounts)) = menu(app, Some(view)) {
        if tray.set_menu(Some(m)).is_ok() {
            shown.accounts = accounts;
        }
    }
}

pub fn build<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<TrayIcon<R>> {
    let (menu, accounts) = menu(app, None)?;
    app.manage(Mutex::new(Shown::<R> {
        level: Some(AccountSeverity::Unknown),
        tooltip: "Cliffwatch".into(),
        accounts,
    }));
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon(AccountSeverity::Unknown))
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
                    crate::show_account(app, Some(AccountId(id)));
                }
            }
        })
        .build(app)
}
