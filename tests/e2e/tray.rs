//! The tray as a tray host sees it. The test session's panel (xfce4-panel, started by
//! scripts/with-desktop-session) is a StatusNotifierWatcher: the app's tray icon registers
//! there as a D-Bus object whose icon is a PNG file and whose menu is a `com.canonical.dbusmenu`
//! layout. Reading those is reading what the user sees. `gdbus` does the D-Bus calls.

use std::process::Command;
use std::time::Duration;

/// One tray icon: the colour of its disc and the labels of its menu.
#[derive(Debug, Clone)]
pub struct TrayView {
    pub rgb: [u8; 3],
    pub menu: Vec<String>,
    /// Where its menu lives on the bus, and each labelled item's dbusmenu id.
    bus: String,
    menu_path: String,
    items: Vec<(i32, String)>,
}

impl TrayView {
    /// Clicks the menu item whose label contains `label`, as the tray host does when the user
    /// picks it (`com.canonical.dbusmenu.Event` "clicked").
    pub fn click(&self, label: &str) {
        let (id, _) = self
            .items
            .iter()
            .find(|(_, l)| l.contains(label))
            .unwrap_or_else(|| panic!("no menu item {label:?} in {:?}", self.items));
        gdbus(&[
            "--dest",
            &self.bus,
            "--object-path",
            &self.menu_path,
            "--method",
            "com.canonical.dbusmenu.Event",
            "--",
            &id.to_string(),
            "clicked",
            "<0>",
            "0",
        ])
        .unwrap_or_else(|| panic!("dbusmenu Event on item {id} failed"));
    }
}

/// The tray colours of `src-tauri/src/tray.rs`.
pub const OK: [u8; 3] = [0x2f, 0x9e, 0x44];
pub const OUT_OF_CREDIT: [u8; 3] = [0x86, 0x2e, 0x9c];

fn gdbus(args: &[&str]) -> Option<String> {
    let out = Command::new("gdbus")
        .args(["call", "--session"])
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Strings in single quotes of a GVariant text (`'…'`), unescaped enough for comparisons.
fn quoted(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (&mut cur, c) {
            (None, '\'') => cur = Some(String::new()),
            (Some(_), '\'') => out.push(cur.take().unwrap_or_default()),
            (Some(s), '\\') => {
                if let Some(n) = chars.next() {
                    s.push(n);
                }
            }
            (Some(s), c) => s.push(c),
            (None, _) => {}
        }
    }
    out
}

/// Is a tray host running? Without one the app falls back to an XEmbed icon nothing can read.
pub fn host_present() -> bool {
    gdbus(&[
        "--dest",
        "org.freedesktop.DBus",
        "--object-path",
        "/org/freedesktop/DBus",
        "--method",
        "org.freedesktop.DBus.NameHasOwner",
        "org.kde.StatusNotifierWatcher",
    ])
    .is_some_and(|o| o.contains("true"))
}

fn prop(bus: &str, path: &str, name: &str) -> Option<String> {
    let out = gdbus(&[
        "--dest",
        bus,
        "--object-path",
        path,
        "--method",
        "org.freedesktop.DBus.Properties.Get",
        "org.kde.StatusNotifierItem",
        name,
    ])?;
    quoted(&out).into_iter().next()
}

fn view(item: &str) -> Option<TrayView> {
    let slash = item.find('/')?;
    let (bus, path) = item.split_at(slash);
    // An object path prints as `objectpath '/…'`: the first quoted string either way.
    let menu_path = prop(bus, path, "Menu")?;
    let layout = gdbus(&[
        "--dest",
        bus,
        "--object-path",
        &menu_path,
        "--method",
        "com.canonical.dbusmenu.GetLayout",
        "--",
        "0",
        "-1",
        "[]",
    ])?;
    let parts = quoted(&layout);
    let menu = parts
        .windows(2)
        .filter(|w| w[0] == "label")
        .map(|w| w[1].clone())
        .collect();
    // Items print as `<(108, {'label': <'…'>, …}, @av [])>`: the id, then its properties.
    let items = layout
        .split("<(")
        .skip(1)
        .filter_map(|chunk| {
            let id = chunk.split(',').next()?.trim().parse().ok()?;
            let q = quoted(chunk);
            let label = q.windows(2).find(|w| w[0] == "label")?[1].clone();
            Some((id, label))
        })
        .collect();
    let mut icon = std::path::PathBuf::from(prop(bus, path, "IconName")?);
    if icon.is_relative() {
        icon = std::path::Path::new(&prop(bus, path, "IconThemePath")?)
            .join(format!("{}.png", icon.display()));
    }
    Some(TrayView {
        rgb: centre_rgb(&icon)?,
        menu,
        bus: bus.to_owned(),
        menu_path,
        items,
    })
}

/// The colour at the centre of the icon (the disc).
fn centre_rgb(path: &std::path::Path) -> Option<[u8; 3]> {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).ok()?));
    let mut reader = decoder.read_info().ok()?;
    let mut buf = vec![0; reader.output_buffer_size()?];
    let info = reader.next_frame(&mut buf).ok()?;
    let channels = info.color_type.samples();
    let (w, h) = (info.width as usize, info.height as usize);
    let i = (h / 2 * w + w / 2) * channels;
    Some([buf[i], buf[i + 1], buf[i + 2]])
}

/// Every registered tray icon (each app under test registers its own).
fn items() -> Vec<String> {
    gdbus(&[
        "--dest",
        "org.kde.StatusNotifierWatcher",
        "--object-path",
        "/StatusNotifierWatcher",
        "--method",
        "org.freedesktop.DBus.Properties.Get",
        "org.kde.StatusNotifierWatcher",
        "RegisteredStatusNotifierItems",
    ])
    .map(|o| quoted(&o))
    .unwrap_or_default()
}

/// Waits (up to 20 s) for a tray icon whose menu has a line containing `line` and whose view
/// satisfies `ok`; panics with the last views seen otherwise.
pub async fn wait_for(line: &str, what: &str, ok: impl Fn(&TrayView) -> bool) -> TrayView {
    let mut seen = Vec::new();
    for _ in 0..80 {
        seen = items().iter().filter_map(|i| view(i)).collect::<Vec<_>>();
        if let Some(v) = seen
            .iter()
            .find(|v| v.menu.iter().any(|l| l.contains(line)) && ok(v))
        {
            return v.clone();
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("no tray icon with a menu line {line:?} and {what}; tray icons seen: {seen:#?}");
}
