//! `troc config` and the precedence of flags, environment and file, with the real binary.

use std::process::Command;

fn troc() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_troc"));
    for (name, _) in std::env::vars() {
        if name.starts_with("TROC_") {
            command.env_remove(name);
        }
    }
    command
}

/// `troc COMMAND` with `variable=value` stops with exit status 2 and a message holding
/// `expected` and the setting's flag.
fn assert_refused(
    dir: &tempfile::TempDir,
    command: &str,
    variable: &str,
    value: &str,
    expected: &str,
) {
    let output = troc()
        .args([command, "--database-url"])
        .arg(format!("sqlite://{}", dir.path().join("t.db").display()))
        .env(variable, value)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{variable}={value}");
    let stderr = String::from_utf8(output.stderr).unwrap();
    let flag = variable
        .trim_start_matches("TROC_")
        .to_ascii_lowercase()
        .replace('_', "-");
    assert!(
        stderr.contains(expected) && stderr.contains(&format!("--{flag}")),
        "{variable}={value}: {stderr}"
    );
}

#[test]
fn flags_beat_environment_beat_file_beat_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("troc.toml");
    std::fs::write(
        &file,
        "addr = \"0.0.0.0:9000\"\nlog = \"debug\"\ndatabase_url = \"postgres://troc:s3cret@db/troc\"\n",
    )
    .unwrap();
    let output = troc()
        .args(["config", "--config"])
        .arg(&file)
        .env("TROC_LOG", "warn")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("addr = \"0.0.0.0:9000\"  # file"), "{text}");
    assert!(text.contains("log = \"warn\"  # environment"), "{text}");
    assert!(text.contains("log_format = \"text\"  # default"), "{text}");
    assert!(
        text.contains("database_url = \"postgres://troc:***@db/troc\"  # file"),
        "the password is masked: {text}"
    );
    assert!(!text.contains("s3cret"));
    // A flag wins over the file.
    let output = troc()
        .args([
            "config",
            "--database-url",
            "sqlite://elsewhere.db",
            "--config",
        ])
        .arg(&file)
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains("database_url = \"sqlite://elsewhere.db\"  # flag"),
        "{text}"
    );
}

#[test]
fn invalid_settings_stop_the_start_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let unknown = dir.path().join("unknown.toml");
    std::fs::write(&unknown, "adress = \"x\"\n").unwrap();
    let output = troc()
        .args(["config", "--config"])
        .arg(&unknown)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("unknown setting \"adress\""), "{stderr}");

    let bad_addr = dir.path().join("bad_addr.toml");
    std::fs::write(&bad_addr, "addr = \"not an address\"\n").unwrap();
    let output = troc()
        .args(["serve", "--config"])
        .arg(&bad_addr)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("not an address") && stderr.contains("--addr"),
        "{stderr}"
    );

    let output = troc()
        .arg("config")
        .env("TROC_LOG_FORMAT", "xml")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8(output.stderr)
        .unwrap()
        .contains("TROC_LOG_FORMAT"));

    let output = troc()
        .args(["config", "--config"])
        .arg(dir.path().join("missing.toml"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8(output.stderr)
        .unwrap()
        .contains("cannot read"));
}

#[test]
fn limits_are_settings_like_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("troc.toml");
    std::fs::write(
        &file,
        "rate_limit_login = \"5/15m\"\ntrusted_proxies = \"127.0.0.1,::1\"\n",
    )
    .unwrap();
    let output = troc()
        .args(["config", "--config"])
        .arg(&file)
        .env("TROC_RATE_LIMIT_PAYMENTS", "30/1m")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    for line in [
        "rate_limit_login = \"5/15m\"  # file",
        "rate_limit_payments = \"30/1m\"  # environment",
        "rate_limit_api_payments = \"120/1m\"  # default",
        "trusted_proxies = \"127.0.0.1,::1\"  # file",
        "shutdown_grace_seconds = \"20\"  # default",
    ] {
        assert!(text.contains(line), "{line:?} missing from:\n{text}");
    }
    // Invalid values stop the start with a message naming the setting.
    for (variable, value, expected) in [
        ("TROC_RATE_LIMIT_LOGIN", "20 per minute", "COUNT/WINDOW"),
        ("TROC_RATE_LIMIT_PAYMENTS", "0/1m", "1 to 1000000 requests"),
        ("TROC_TRUSTED_PROXIES", "localhost", "not an IP address"),
        ("TROC_SHUTDOWN_GRACE_SECONDS", "3601", "3601"),
    ] {
        assert_refused(&dir, "serve", variable, value, expected);
    }
}

#[test]
fn group_commit_settings_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("troc.toml");
    std::fs::write(&file, "batch_ops_max = 8192\n").unwrap();
    let output = troc()
        .args(["config", "--config"])
        .arg(&file)
        .env("TROC_BATCH_WAIT_MS", "1000")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    for line in [
        "batch_ops_max = \"8192\"  # file",
        "batch_wait_ms = \"1000\"  # environment",
    ] {
        assert!(text.contains(line), "{line:?} missing from:\n{text}");
    }
    // One past each bound, and zero operations, stop the start naming the setting.
    for (variable, value) in [
        ("TROC_BATCH_OPS_MAX", "8193"),
        ("TROC_BATCH_OPS_MAX", "0"),
        ("TROC_BATCH_WAIT_MS", "1001"),
    ] {
        assert_refused(&dir, "migrate", variable, value, value);
    }
    assert!(
        !dir.path().join("t.db").exists(),
        "nothing is created when a setting is invalid"
    );
}

#[test]
fn mail_settings_go_together_and_hide_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("troc.toml");
    std::fs::write(
        &file,
        "smtp_url = \"smtps://mailer:s3cret@smtp.example.org\"\nmail_from = \"Troc <noreply@example.org>\"\n",
    )
    .unwrap();
    let output = troc()
        .args(["config", "--config"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains("smtp_url = \"smtps://mailer:***@smtp.example.org\"  # file"),
        "{text}"
    );
    assert!(
        text.contains("mail_from = \"Troc <noreply@example.org>\"  # file"),
        "{text}"
    );
    assert!(!text.contains("s3cret"), "{text}");

    // One without the other stops the start, naming the missing one.
    let output = troc()
        .args(["serve", "--smtp-url", "smtp://127.0.0.1:25"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("--mail-from"), "{stderr}");

    // A relay URL of another scheme stops it too, its password masked.
    let output = troc()
        .args(["serve", "--addr", "127.0.0.1:0", "--database-url"])
        .arg(format!("sqlite://{}", dir.path().join("t.db").display()))
        .args([
            "--smtp-url",
            "ftp://mailer:s3cret@smtp.example.org",
            "--mail-from",
            "noreply@example.org",
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("invalid SMTP setting"), "{stderr}");
    assert!(!stderr.contains("s3cret"), "{stderr}");
}
