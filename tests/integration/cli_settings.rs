//! `cliffwatch settings`: what the Settings screen shows and saves, for a machine without a
//! window, checked as the screen's save is.

use crate::support::*;

#[test]
fn settings_are_read_and_set_one_key_at_a_time() {
    let tmp = tempfile::tempdir().unwrap();
    let mut get = cliffwatch(tmp.path());
    get.args(["settings", "--json"]);
    let s = json(&ok(run(get)));
    assert_eq!(s["poll_interval_s"], 300, "the default: five minutes");
    assert_eq!(s["notifications"], true);

    let mut set = cliffwatch(tmp.path());
    set.args(["--json", "settings", "set", "poll_interval_s", "900"]);
    assert_eq!(json(&ok(run(set)))["poll_interval_s"], 900);
    let mut set = cliffwatch(tmp.path());
    set.args(["settings", "set", "rules.runway_warning_hours", "96"]);
    let text = stdout(&ok(run(set)));
    assert!(
        text.contains("rules.runway_warning_hours") && text.contains("96 h"),
        "the text output lists every key with its value: {text}"
    );

    let mut bad = cliffwatch(tmp.path());
    bad.args(["settings", "set", "poll_interval_s", "5"]);
    let err = fails(&run(bad));
    assert!(err.contains("30 s"), "says the allowed range: {err}");
    let mut unknown = cliffwatch(tmp.path());
    unknown.args(["settings", "set", "poll.interval", "60"]);
    let err = fails(&run(unknown));
    assert!(
        err.contains("poll_interval_s"),
        "lists the keys there are: {err}"
    );

    let mut get = cliffwatch(tmp.path());
    get.args(["settings", "--json"]);
    let s = json(&ok(run(get)));
    assert_eq!(s["poll_interval_s"], 900, "a refused set changed nothing");
    assert_eq!(s["rules"]["runway_warning_hours"], 96.0);
}

/// `settings set listen`: the read API becomes a setting the engine (of `watch` and the app)
/// obeys; loopback only, since a token stays a command-line-only `--token-env` feature.
#[test]
fn the_read_api_address_is_a_loopback_setting() {
    let tmp = tempfile::tempdir().unwrap();
    let mut get = cliffwatch(tmp.path());
    get.args(["settings", "--json"]);
    assert_eq!(
        json(&ok(run(get)))["listen"],
        serde_json::Value::Null,
        "off by default"
    );
    let mut set = cliffwatch(tmp.path());
    set.args(["--json", "settings", "set", "listen", "127.0.0.1:9402"]);
    assert_eq!(json(&ok(run(set)))["listen"], "127.0.0.1:9402");
    let mut text = cliffwatch(tmp.path());
    text.arg("settings");
    let shown = stdout(&ok(run(text)));
    assert!(
        shown
            .lines()
            .any(|l| l.starts_with("listen") && l.contains("127.0.0.1:9402")),
        "the table shows the address: {shown}"
    );
    for (value, says) in [
        ("0.0.0.0:9402", "loopback"),
        ("192.168.1.5:9402", "--token-env"),
        ("localhost", "port"),
        ("127.0.0.1:0", "fixed port"),
    ] {
        let mut bad = cliffwatch(tmp.path());
        bad.args(["settings", "set", "listen", value]);
        let err = fails(&run(bad));
        assert!(err.contains(says), "{value} is refused and says why: {err}");
    }
    let mut off = cliffwatch(tmp.path());
    off.args(["--json", "settings", "set", "listen", "off"]);
    assert_eq!(
        json(&ok(run(off)))["listen"],
        serde_json::Value::Null,
        "off again"
    );
}
