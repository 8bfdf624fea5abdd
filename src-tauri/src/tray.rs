//! The tray icon and its menu. The icon's colour says the worst state across accounts.

use tauri::image::Image;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{TrayIcon, TrayIconBuilder};
use tauri::{AppHandle, Runtime};

pub const TRAY_ID: &str = "cliffwatch-tray";
const MENU_OPEN: &str = "open";
const MENU_QUIT: &str = "quit";

/// The worst state across accounts, as the tray shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TrayLevel {
    Ok,
    Unknown,
    Warning,
    Critical,
    OutOfCredit,
}

impl TrayLevel {
    fn rgb(self) -> [u8; 3] {
        match self {
            TrayLevel::Ok => [0x2f, 0x9e, 0x44],
            TrayLevel::Unknown => [0x86, 0x8e, 0x96],
            TrayLevel::Warning => [0xf0, 0x8c, 0x00],
            TrayLevel::Critical => [0xe0, 0x31, 0x31],
            TrayLevel::OutOfCredit => [0x86, 0x2e, 0x9c],
        }
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

impl TrayLevel {
    /// The tray level of one account state; the icon shows the worst across accounts.
    pub fn of(state: cliffwatch_core::model::AccountState) -> Self {
        use cliffwatch_core::model::AccountState as S;
        match state {
            S::Ok => TrayLevel::Ok,
            S::Unknown => TrayLevel::Unknown,
            S::Error => TrayLevel::Warning,
            S::InvalidKey => TrayLevel::Critical,
            S::OutOfCredit => TrayLevel::OutOfCredit,
        }
    }

    /// The worst level across a report's accounts; `Unknown` when there are none.
    pub fn worst(report: &cliffwatch_core::model::StatusReport) -> Self {
        report
            .accounts
            .iter()
            .map(|a| Self::of(a.account.state))
            .max()
            .unwrap_or(TrayLevel::Unknown)
    }
}

/// Sets the tray icon's colour and tooltip from a status report.
pub fn show_status<R: Runtime>(app: &AppHandle<R>, report: &cliffwatch_core::model::StatusReport) {
    let Some(tray) = app.tray_by_id(TRAY_ID) else {
        return;
    };
    let level = TrayLevel::worst(report);
    let _ = tray.set_icon(Some(icon(level)));
    let n = report.accounts.len();
    let tip = match n {
        0 => "Cliffwatch: no accounts yet".to_owned(),
        1 => "Cliffwatch: 1 account".to_owned(),
        n => format!("Cliffwatch: {n} accounts"),
    };
    let _ = tray.set_tooltip(Some(tip));
}

pub fn build<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<TrayIcon<R>> {
    let open = MenuItem::with_id(app, MENU_OPEN, "Open dashboard", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, MENU_QUIT, "Quit Cliffwatch", true, None::<&str>)?;
    let sep = PredefinedMenuItem::separator(app)?;
    let menu = Menu::with_items(app, &[&open, &sep, &quit])?;
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon(TrayLevel::Unknown))
        .tooltip("Cliffwatch")
        .menu(&menu)
        .show_menu_on_left_click(true)
        .on_menu_event(|app, event| match event.id().as_ref() {
            MENU_OPEN => crate::show_main_window(app),
            MENU_QUIT => app.exit(0),
            _ => {}
        })
        .build(app)
}
