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
