//! Settings from a TOML file, under the environment and the flags.
//!
//! Precedence: a flag wins over the environment (`TROC_*`), which wins over the file, which
//! wins over the default. The file is named by `--config FILE` or `TROC_CONFIG`; its keys are
//! the environment variables' names without `TROC_`, in lower case. The file is applied by
//! setting the environment variables it names that are not already set, before the command
//! line is parsed, so clap's own `env` handling gives the precedence above and its
//! validation stops the start with a clear message on an invalid value.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The settings a file may hold, with their defaults (none: required nowhere).
pub const SETTINGS: [(&str, Option<&str>); 20] = [
    ("database_url", Some(crate::store::DATABASE_URL_DEFAULT)),
    ("addr", Some("127.0.0.1:8080")),
    ("base_url", None),
    ("secure_cookies", Some("false")),
    ("open_data", Some("false")),
    ("webhook_targets", Some("public")),
    ("smtp_url", None),
    ("mail_from", None),
    ("key_file", None),
    ("checkpoint_every", Some("1000")),
    ("network_siren", None),
    ("log", Some("info,sqlx=warn")),
    ("log_format", Some("text")),
    ("rate_limit_login", Some("20/1m")),
    ("rate_limit_payments", Some("60/1m")),
    ("rate_limit_api_payments", Some("120/1m")),
    ("trusted_proxies", None),
    ("shutdown_grace_seconds", Some("20")),
    ("batch_ops_max", Some("1024")),
    ("batch_wait_ms", Some("2")),
];
/// Largest configuration file read.
pub const CONFIG_FILE_LEN_MAX: u64 = 64 * 1024;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("the configuration file {path} is larger than {max} bytes")]
    TooLarge { path: PathBuf, max: u64 },
    #[error("the configuration file {path} is not valid TOML: {reason}")]
    Syntax { path: PathBuf, reason: String },
    #[error("unknown setting {key:?} in {path} (known: {known})")]
    Unknown {
        path: PathBuf,
        key: String,
        known: String,
    },
    #[error("setting {key:?} in {path} must be a string, a number or a boolean")]
    BadType { path: PathBuf, key: String },
}

pub fn env_name(key: &str) -> String {
    format!("TROC_{}", key.to_ascii_uppercase())
}

/// Reads and checks a configuration file: known keys only, scalar values.
pub fn read_file(path: &Path) -> Result<BTreeMap<String, String>, ConfigError> {
    let read_error = |e: std::io::Error| ConfigError::Read {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let len = std::fs::metadata(path).map_err(read_error)?.len();
    if len > CONFIG_FILE_LEN_MAX {
        return Err(ConfigError::TooLarge {
            path: path.to_path_buf(),
            max: CONFIG_FILE_LEN_MAX,
        });
    }
    let text = std::fs::read_to_string(path).map_err(read_error)?;
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| ConfigError::Syntax {
            path: path.to_path_buf(),
            reason: e.message().to_owned(),
        })?;
    let mut settings = BTreeMap::new();
    for (key, value) in table {
        if !SETTINGS.iter().any(|(k, _)| *k == key) {
            return Err(ConfigError::Unknown {
                path: path.to_path_buf(),
                key,
                known: SETTINGS.map(|(k, _)| k).join(", "),
            });
        }
        let text = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            _ => {
                return Err(ConfigError::BadType {
                    path: path.to_path_buf(),
                    key,
                })
            }
        };
        settings.insert(key, text);
    }
    Ok(settings)
}

/// The configuration file named by `--config FILE` / `--config=FILE` in `args`, or by
/// `TROC_CONFIG`.
pub fn config_path(args: &[String]) -> Option<PathBuf> {
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        if arg == "--config" {
            return iter.next().map(PathBuf::from);
        }
        if let Some(path) = arg.strip_prefix("--config=") {
            return Some(PathBuf::from(path));
        }
    }
    std::env::var_os("TROC_CONFIG").map(PathBuf::from)
}

/// Sets `TROC_*` for every setting of the file that the environment does not set already.
/// Call it before any thread starts.
pub fn apply_file(path: &Path) -> Result<(), ConfigError> {
    for (key, value) in read_file(path)? {
        let name = env_name(&key);
        if std::env::var_os(&name).is_none() {
            std::env::set_var(name, value);
        }
    }
    Ok(())
}

/// Hides a password in a database or SMTP URL.
pub fn mask_secrets(value: &str) -> String {
    let Some(scheme_end) = value.find("://") else {
        return value.to_owned();
    };
    let rest = &value[scheme_end + 3..];
    let Some(at) = rest.find('@') else {
        return value.to_owned();
    };
    let userinfo = &rest[..at];
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{}{user}:***{}", &value[..scheme_end + 3], &rest[at..]),
        None => value.to_owned(),
    }
}

/// The effective settings (after flags were turned into the environment by the caller, or not
/// given), with where each comes from, secrets masked: what `troc config` prints.
pub fn effective(file: Option<&Path>) -> Result<Vec<(String, String, &'static str)>, ConfigError> {
    let from_file = match file {
        Some(path) => read_file(path)?,
        None => BTreeMap::new(),
    };
    let mut rows = Vec::new();
    for (key, default) in SETTINGS {
        let (value, source) = match std::env::var(env_name(key)) {
            Ok(value) if from_file.get(key) == Some(&value) => (value, "file"),
            Ok(value) => (value, "environment"),
            Err(_) => match default {
                Some(d) => (d.to_owned(), "default"),
                None => ("(unset)".to_owned(), "default"),
            },
        };
        rows.push((key.to_owned(), mask_secrets(&value), source));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_defaults_are_those_of_the_server() {
        let default = |key: &str| SETTINGS.iter().find(|(k, _)| *k == key).unwrap().1;
        let limits = crate::http::limits::LimitSettings::default();
        assert_eq!(
            default("rate_limit_login"),
            Some(limits.login_per_ip.to_string().as_str())
        );
        assert_eq!(
            default("rate_limit_payments"),
            Some(limits.payments_per_ip.to_string().as_str())
        );
        assert_eq!(
            default("rate_limit_api_payments"),
            Some(limits.api_payments_per_token.to_string().as_str())
        );
        assert!(limits.trusted_proxies.is_empty());
        assert_eq!(
            default("shutdown_grace_seconds"),
            Some(
                crate::http::SHUTDOWN_GRACE_DEFAULT
                    .as_secs()
                    .to_string()
                    .as_str()
            )
        );
    }

    #[test]
    fn write_defaults_are_those_of_the_store() {
        let default = |key: &str| SETTINGS.iter().find(|(k, _)| *k == key).unwrap().1;
        let options = crate::store::StoreOptions::default();
        assert_eq!(
            default("batch_ops_max"),
            Some(options.batch_ops_max.to_string().as_str())
        );
        assert_eq!(
            default("batch_wait_ms"),
            Some(options.batch_wait_max.as_millis().to_string().as_str())
        );
    }

    #[test]
    fn masks_passwords_only() {
        assert_eq!(
            mask_secrets("postgres://troc:s3cret@db/troc"),
            "postgres://troc:***@db/troc"
        );
        assert_eq!(
            mask_secrets("postgres://troc@db/troc"),
            "postgres://troc@db/troc"
        );
        assert_eq!(
            mask_secrets("sqlite://data/troc.db"),
            "sqlite://data/troc.db"
        );
    }

    #[test]
    fn finds_the_config_flag() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            config_path(&args(&["troc", "--config", "a.toml", "serve"])),
            Some(PathBuf::from("a.toml"))
        );
        assert_eq!(
            config_path(&args(&["troc", "serve", "--config=b.toml"])),
            Some(PathBuf::from("b.toml"))
        );
    }

    #[test]
    fn reads_known_scalar_settings_and_refuses_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.toml");
        std::fs::write(&good, "addr = \"0.0.0.0:9000\"\nsecure_cookies = true\n").unwrap();
        let settings = read_file(&good).unwrap();
        assert_eq!(settings["addr"], "0.0.0.0:9000");
        assert_eq!(settings["secure_cookies"], "true");
        let unknown = dir.path().join("unknown.toml");
        std::fs::write(&unknown, "adr = \"x\"\n").unwrap();
        assert!(
            matches!(read_file(&unknown), Err(ConfigError::Unknown { key, .. }) if key == "adr")
        );
        let nested = dir.path().join("nested.toml");
        std::fs::write(&nested, "[addr]\nx = 1\n").unwrap();
        assert!(matches!(
            read_file(&nested),
            Err(ConfigError::BadType { .. })
        ));
        let broken = dir.path().join("broken.toml");
        std::fs::write(&broken, "addr = \n").unwrap();
        assert!(matches!(
            read_file(&broken),
            Err(ConfigError::Syntax { .. })
        ));
        let big = dir.path().join("big.toml");
        std::fs::write(
            &big,
            format!("log = \"{}\"\n", "x".repeat(CONFIG_FILE_LEN_MAX as usize)),
        )
        .unwrap();
        assert!(matches!(read_file(&big), Err(ConfigError::TooLarge { .. })));
    }
}
