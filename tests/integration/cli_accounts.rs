//! Accounts through the CLI: add, list, status, remove, with `--json` shapes scripts rely on.

use crate::support::*;

#[test]
fn add_list_status_remove_with_an_env_secret() {
    let tmp = tempfile::tempdir().unwrap();
    let mut add = cliffwatch(tmp.path());
    add.env("CW_IT_SCRAPER_KEY", "scraper-key-0000111122223333")
        .args([
            "--json",
            "account",
            "add",
            "--provider",
            "scraperapi",
            "--label",
            "scraper-prod",
        ])
        .args(["--secret-env", "CW_IT_SCRAPER_KEY"]);
    let added = json(&ok(run(add)));
    assert_eq!(added["label"], "scraper-prod");
    assert_eq!(added["provider"], "scraperapi");
    assert_eq!(
        added["secret"], "env $CW_IT_SCRAPER_KEY",
        "only the variable's name is kept"
    );
    assert_eq!(
        added["state"], "unknown",
        "a new account has not been polled"
    );

    let mut list = cliffwatch(tmp.path());
    list.args(["account", "list", "--json"]);
    let listed = json(&ok(run(list)));
    let arr = listed.as_array().expect("account list --json is an array");
    assert_eq!(arr.len(), 1);
    for field in [
        "id",
        "provider",
        "label",
        "base_url",
        "secret",
        "secret_hint",
        "budget",
        "options",
        "state",
        "created_at",
    ] {
        assert!(
            arr[0].get(field).is_some(),
            "account JSON keeps the documented field `{field}`"
        );
    }

    let mut status = cliffwatch(tmp.path());
    status.args(["status", "--json"]);
    let st = json(&ok(run(status)));
    assert_eq!(st["accounts"][0]["account"]["label"], "scraper-prod");
    assert_eq!(st["accounts"][0]["provider_name"], "ScraperAPI");
    assert!(
        st["accounts"][0]["latest"].is_null(),
        "no reading before the first poll"
    );
    assert_eq!(
        st["accounts"][0]["top_up_url"],
        "https://dashboard.scraperapi.com/billing"
    );

    // The key is rotated: set-key points the same account at another variable.
    let mut set = cliffwatch(tmp.path());
    set.env("CW_IT_SCRAPER_KEY_2", "scraper-key-rotated-4444")
        .args(["--json", "account", "set-key", "scraper-prod"])
        .args(["--secret-env", "CW_IT_SCRAPER_KEY_2"]);
    let replaced = json(&ok(run(set)));
    assert_eq!(replaced["id"], added["id"], "the same account");
    assert_eq!(replaced["secret"], "env $CW_IT_SCRAPER_KEY_2");
    let mut set = cliffwatch(tmp.path());
    set.args(["account", "set-key", "scraper-prod"]);
    let refused = run(set);
    assert!(!refused.status.success(), "a new key is required");
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("--secret-stdin"),
        "says how to give one"
    );

    let mut rm = cliffwatch(tmp.path());
    rm.args(["account", "remove", "scraper-prod"]);
    ok(run(rm));
    let mut list = cliffwatch(tmp.path());
    list.args(["account", "list", "--json"]);
    assert_eq!(json(&ok(run(list))), serde_json::json!([]), "removed");
}

#[test]
fn text_output_is_for_people() {
    let tmp = tempfile::tempdir().unwrap();
    let mut status = cliffwatch(tmp.path());
    status.arg("status");
    let out = stdout(&ok(run(status)));
    assert!(
        out.contains("No accounts yet"),
        "empty state explains what to do: {out}"
    );

    let mut providers = cliffwatch(tmp.path());
    providers.arg("providers");
    let out = stdout(&ok(run(providers)));
    for id in ["openrouter", "scraperapi", "twocaptcha", "custom"] {
        assert!(out.contains(id), "providers lists `{id}`");
    }
}

#[test]
fn providers_json_lists_all_42() {
    let tmp = tempfile::tempdir().unwrap();
    let mut c = cliffwatch(tmp.path());
    c.args(["providers", "--json"]);
    let v = json(&ok(run(c)));
    let arr = v.as_array().unwrap();
    assert_eq!(arr.len(), 42, "41 providers + custom");
    assert!(arr
        .iter()
        .all(|p| p["id"].is_string() && p["top_up_url"].is_string()));
}

#[test]
fn data_dir_comes_from_the_environment_too() {
    let tmp = tempfile::tempdir().unwrap();
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_cliffwatch"));
    c.env("CLIFFWATCH_DATA_DIR", tmp.path())
        .args(["status", "--json"]);
    let v = json(&ok(run(c)));
    assert_eq!(v["data_dir"], tmp.path().display().to_string());
    assert!(
        tmp.path().join("cliffwatch.db").exists(),
        "the database is created there"
    );
}

#[test]
fn provider_options_are_given_as_key_value_and_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let mut add = cliffwatch(tmp.path());
    add.env("CW_IT_XAI_KEY", "xai-test-key")
        .env("CW_IT_HUNTER_KEY", "hunter-test-key");
    add.args([
        "--json",
        "account",
        "add",
        "--provider",
        "xai",
        "--label",
        "grok",
    ])
    .args([
        "--option",
        "team_id=team-42",
        "--secret-env",
        "CW_IT_XAI_KEY",
    ]);
    let added = json(&ok(run(add)));
    assert_eq!(added["options"]["team_id"], "team-42");

    let mut missing = cliffwatch(tmp.path());
    missing
        .env("CW_IT_XAI_KEY", "xai-test-key")
        .env("CW_IT_HUNTER_KEY", "hunter-test-key");
    missing
        .args(["account", "add", "--provider", "xai", "--label", "grok2"])
        .args(["--secret-env", "CW_IT_XAI_KEY"])
        .env("CW_IT_XAI_KEY", "xai-test-key");
    let err = fails(&run(missing));
    assert!(err.contains("team_id"), "names the option it needs: {err}");

    let mut unknown = cliffwatch(tmp.path());
    unknown
        .env("CW_IT_XAI_KEY", "xai-test-key")
        .env("CW_IT_HUNTER_KEY", "hunter-test-key");
    unknown
        .args(["account", "add", "--provider", "hunter", "--label", "h"])
        .args(["--option", "team_id=x", "--secret-env", "CW_IT_HUNTER_KEY"])
        .env("CW_IT_HUNTER_KEY", "hunter-test-key");
    let err = fails(&run(unknown));
    assert!(
        err.contains("team_id"),
        "an option the provider does not take: {err}"
    );

    let mut bad = cliffwatch(tmp.path());
    bad.env("CW_IT_XAI_KEY", "xai-test-key")
        .env("CW_IT_HUNTER_KEY", "hunter-test-key");
    bad.args(["account", "add", "--provider", "xai", "--label", "g3"])
        .args(["--option", "team_id", "--secret-env", "CW_IT_XAI_KEY"])
        .env("CW_IT_XAI_KEY", "xai-test-key");
    let err = fails(&run(bad));
    assert!(err.contains("KEY=VALUE"), "{err}");
}
