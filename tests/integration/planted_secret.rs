//! The planted-secret test: a known key goes in through the real OS keychain (Secret Service
//! in CI: gnome-keyring on a private D-Bus), every command runs, and the key must appear in no
//! file of the data directory and in no output — only its last 4 characters may.

use crate::support::*;

/// The planted key; tests/integration/mcp_python.rs plants it too.
pub const PLANTED: &str = "sk-or-v1-PLANTED-7f3e9c2a41b86d05e1aa";
const ROTATED: &str = "sk-or-v1-ROTATED-0a9d8e7c6b5a4f3e2d1cb2c4";
/// A webhook on a loopback port nobody listens on: every test of it fails to connect.
const CHANNEL_SECRET: &str = "http://127.0.0.1:9/hooks/PLANTEDCHANNEL-9c1e5b77d0aa";
const CHANNEL_TOKEN: &str = "PLANTEDCHANNEL-9c1e5b77d0aa";

#[test]
fn planted_secret_never_leaks() {
    let tmp = tempfile::tempdir().unwrap();
    let service = format!("cliffwatch-planted-{}", std::process::id());
    let cmd = |args: &[&str]| {
        let mut c = cliffwatch(tmp.path());
        c.env("CLIFFWATCH_KEYRING_SERVICE", &service).args(args);
        c
    };
    let add = run_with_stdin(
        cmd(&[
            "account",
            "add",
            "--provider",
            "openrouter",
            "--label",
            "planted",
            "--secret-stdin",
        ]),
        &format!("{PLANTED}\n"),
    );
    if !add.status.success() && stderr(&add).contains("keychain is not available") {
        return skip_or_fail(&format!("no unlocked Secret Service: {}", stderr(&add)));
    }
    let mut outputs = vec![ok(add)];

    // The key really is in the OS keychain, under the id the database references.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let secret_ref: String = rt.block_on(async {
        let pool = sqlx::SqlitePool::connect(&format!(
            "sqlite://{}",
            tmp.path().join("cliffwatch.db").display()
        ))
        .await
        .unwrap();
        let (r,): (String,) =
            sqlx::query_as("SELECT secret_ref FROM accounts WHERE label = 'planted'")
                .fetch_one(&pool)
                .await
                .unwrap();
        pool.close().await;
        r
    });
    let id = secret_ref
        .strip_prefix("keychain:")
        .expect("stored as a keychain reference");
    let from_os = cliffwatch_core::secrets::KeyringStore::new(service.clone());
    use cliffwatch_core::secrets::SecretStore;
    assert_eq!(
        from_os
            .get(id)
            .expect("the OS keychain holds the key")
            .expose(),
        PLANTED
    );

    for args in [
        &["account", "list"][..],
        &["account", "list", "--json"],
        &["status"],
        &["status", "--json"],
        &["providers", "--json"],
        &[
            "--json",
            "account",
            "add",
            "--provider",
            "openrouter",
            "--label",
            "planted",
            "--secret-env",
            "NOPE_NOT_SET",
        ],
        &["account", "remove", "nobody"],
    ] {
        outputs.push(run(cmd(args)));
    }
    // A duplicate add through stdin: the error must not echo the key either.
    outputs.push(run_with_stdin(
        cmd(&[
            "account",
            "add",
            "--provider",
            "openrouter",
            "--label",
            "planted",
            "--secret-stdin",
        ]),
        &format!("{PLANTED}\n"),
    ));

    let listed = json(&run(cmd(&["account", "list", "--json"])));
    assert_eq!(
        listed[0]["secret_hint"], "…e1aa",
        "the UI sees the last 4 characters at most"
    );

    for o in &outputs {
        assert!(
            !contains(&o.stdout, PLANTED),
            "key leaked to stdout: {}",
            stdout(o)
        );
        assert!(
            !contains(&o.stderr, PLANTED),
            "key leaked to stderr: {}",
            stderr(o)
        );
    }
    // The key is rotated in place: the new one goes to the OS keychain under a new entry and
    // the old entry is deleted.
    let rotated = run_with_stdin(
        cmd(&["--json", "account", "set-key", "planted", "--secret-stdin"]),
        &format!("{ROTATED}\n"),
    );
    assert_eq!(json(&ok(rotated.clone()))["secret_hint"], "…b2c4");
    outputs.push(rotated);
    assert!(
        from_os.get(id).is_err(),
        "set-key deletes the old key from the OS keychain"
    );
    let new_ref = json(&run(cmd(&["account", "list", "--json"])))[0]["secret"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(new_ref, "keychain", "still kept in the keychain: {new_ref}");
    for o in &outputs {
        assert!(!contains(&o.stdout, ROTATED) && !contains(&o.stderr, ROTATED));
    }

    // A channel's secret (a webhook URL with its token in the path) goes the same way: into
    // the OS keychain, shown nowhere, not in an error when the receiver cannot be reached.
    let added = run_with_stdin(
        cmd(&[
            "--json",
            "channel",
            "add",
            "--kind",
            "webhook",
            "--label",
            "hook",
            "--secret-stdin",
        ]),
        &format!("{CHANNEL_SECRET}\n"),
    );
    let added = ok(added);
    assert!(
        json(&added)["secret"]
            .as_str()
            .unwrap_or_default()
            .starts_with("keychain"),
        "{}",
        stdout(&added)
    );
    let mut channel_outputs = vec![added];
    for args in [
        &["channel", "list"][..],
        &["--json", "channel", "list"],
        &["--json", "channel", "test", "hook"],
        &["channel", "test", "hook"],
        &["--json", "alerts", "--all"],
    ] {
        channel_outputs.push(run(cmd(args)));
    }
    ok(run(cmd(&["channel", "remove", "hook"])));
    for o in &channel_outputs {
        for needle in [CHANNEL_SECRET, CHANNEL_TOKEN] {
            assert!(
                !contains(&o.stdout, needle) && !contains(&o.stderr, needle),
                "the channel's secret leaked: {}{}",
                stdout(o),
                stderr(o)
            );
        }
    }

    ok(run(cmd(&["account", "remove", "planted"])));
    for f in files_under(tmp.path()) {
        let bytes = std::fs::read(&f).unwrap();
        for key in [PLANTED, ROTATED, CHANNEL_TOKEN] {
            assert!(!contains(&bytes, key), "key found in {}", f.display());
            assert!(
                !contains(&bytes, &key[..key.len() - 4]),
                "most of the key found in {}",
                f.display()
            );
        }
    }
}
