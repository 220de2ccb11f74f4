//! The network's Ed25519 signing key, kept OUTSIDE the database in a file only its owner may
//! read (mode 0600), so that a database dump or a database operator cannot forge checkpoints.
//! Format: the 32-byte secret seed as 64 lowercase hex digits and a newline.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;

/// The key file's name, next to the SQLite database (or under `data/` for PostgreSQL).
pub const KEY_FILE_NAME: &str = "network-key.ed25519";

#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("key file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("key file {0}: not 64 hex digits")]
    Malformed(PathBuf),
    #[error(
        "key file {path} is readable or writable by others (mode {mode:o}); run `chmod 600` on it"
    )]
    TooOpen { path: PathBuf, mode: u32 },
    #[error("key file {0} does not exist; start the server once, or run `troc checkpoint`")]
    Missing(PathBuf),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyFileError + '_ {
    move |source| KeyFileError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The default key file for a database URL: next to the SQLite file, else `data/`.
pub fn default_key_file(database_url: &str) -> PathBuf {
    match crate::store::sqlite_path(database_url)
        .as_deref()
        .and_then(Path::parent)
    {
        Some(dir) => dir.join(KEY_FILE_NAME),
        None => Path::new("data").join(KEY_FILE_NAME),
    }
}

/// Reads the key, refusing a file others may read.
pub fn load_key(path: &Path) -> Result<SigningKey, KeyFileError> {
    let metadata = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(KeyFileError::Missing(path.to_path_buf()))
        }
        Err(e) => return Err(io(path)(e)),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = metadata.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyFileError::TooOpen {
                path: path.to_path_buf(),
                mode,
            });
        }
    }
    #[cfg(not(unix))]
    let _ = metadata;
    let text = fs::read_to_string(path).map_err(io(path))?;
    let seed: [u8; 32] = hex::decode(text.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| KeyFileError::Malformed(path.to_path_buf()))?;
    Ok(SigningKey::from_bytes(&seed))
}

/// Creates `path` with mode 0600 (never overwriting) and writes `key` into it, durably.
pub(crate) fn write_new(path: &Path, key: &SigningKey) -> Result<(), KeyFileError> {
    if let Some(dir) = path.parent() {
        if !dir.as_os_str().is_empty() {
            fs::create_dir_all(dir).map_err(io(path))?;
        }
    }
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(io(path))?;
    file.write_all(format!("{}\n", hex::encode(key.to_bytes())).as_bytes())
        .map_err(io(path))?;
    file.sync_all().map_err(io(path))?;
    Ok(())
}

/// Loads the key, generating it (from the OS's random source) on first start. The flag
/// says whether it was just created.
pub fn load_or_create_key(path: &Path) -> Result<(SigningKey, bool), KeyFileError> {
    match load_key(path) {
        Ok(key) => Ok((key, false)),
        Err(KeyFileError::Missing(_)) => {
            let key = SigningKey::generate(&mut rand::rngs::OsRng);
            write_new(path, &key)?;
            Ok((key, true))
        }
        Err(e) => Err(e),
    }
}

/// A new key written next to the current one, installed by [`PendingKey::install`] once the
/// database knows it (so a crash in between leaves the old key in force).
pub struct PendingKey {
    key: SigningKey,
    temporary: PathBuf,
    path: PathBuf,
}

impl PendingKey {
    pub fn generate(path: &Path) -> Result<PendingKey, KeyFileError> {
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        let mut temporary = path.as_os_str().to_owned();
        temporary.push(".new");
        let temporary = PathBuf::from(temporary);
        // A leftover from an interrupted rotation was never installed: replace it.
        let _ = fs::remove_file(&temporary);
        write_new(&temporary, &key)?;
        Ok(PendingKey {
            key,
            temporary,
            path: path.to_path_buf(),
        })
    }

    pub fn key(&self) -> &SigningKey {
        &self.key
    }

    /// Atomically replaces the key file with the new key.
    pub fn install(self) -> Result<SigningKey, KeyFileError> {
        fs::rename(&self.temporary, &self.path).map_err(io(&self.path))?;
        Ok(self.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_with_owner_only_mode_and_reloaded() {
        let dir = tempfile_dir();
        let path = dir.join("k").join(KEY_FILE_NAME);
        let (key, created) = load_or_create_key(&path).unwrap();
        assert!(created);
        let (again, created) = load_or_create_key(&path).unwrap();
        assert!(!created);
        assert_eq!(key.to_bytes(), again.to_bytes());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
            fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
            assert!(matches!(load_key(&path), Err(KeyFileError::TooOpen { .. })));
            fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        }
        let pending = PendingKey::generate(&path).unwrap();
        assert_eq!(load_key(&path).unwrap().to_bytes(), key.to_bytes());
        let new = pending.install().unwrap();
        assert_eq!(load_key(&path).unwrap().to_bytes(), new.to_bytes());
        assert_ne!(new.to_bytes(), key.to_bytes());
        fs::write(&path, "zz\n").unwrap();
        assert!(matches!(load_key(&path), Err(KeyFileError::Malformed(_))));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn default_path_is_next_to_the_sqlite_file() {
        assert_eq!(
            default_key_file("sqlite://data/troc.db"),
            Path::new("data").join(KEY_FILE_NAME)
        );
        assert_eq!(
            default_key_file("sqlite:///var/lib/troc/troc.db?mode=rwc"),
            Path::new("/var/lib/troc").join(KEY_FILE_NAME)
        );
        assert_eq!(
            default_key_file("postgres://u@h/db"),
            Path::new("data").join(KEY_FILE_NAME)
        );
    }

    fn tempfile_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "troc-key-test-{}-{}",
            std::process::id(),
            rand::random::<u64>()
        ));
        fs::create_dir_all(&dir).unwrap();
        dir
    }
}
