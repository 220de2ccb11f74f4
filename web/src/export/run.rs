//! `troc export`: the command-line export of the stored ledger, with a progress indicator.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{NaiveDate, Utc};
use ledger::{AccountId, AccountKind};

use super::{AccountMapping, ExportHeader, Format, Period, Scope, Siren};
use crate::store::{ExportProgress, Store};

/// Largest mapping file read, in bytes.
pub const MAPPING_FILE_BYTES_MAX: u64 = 1024 * 1024;

/// What `troc export` was asked for.
#[derive(Debug, Clone)]
pub struct ExportCommand {
    pub format: Format,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// A member, by SIREN or by account id: that member's books; none: the network's.
    pub member: Option<String>,
    /// A file, or an existing directory (the file is then named after the books: the FEC's
    /// legal name `<SIREN>FEC<AAAAMMJJ>.txt`).
    pub out: PathBuf,
    /// The network operator's SIREN (the FEC file name and the OFX bank id); `None`: the
    /// one a manager stored (migration 0014).
    pub siren: Option<String>,
    /// A JSON account mapping (`AccountMapping`); otherwise the one stored on the web
    /// (`Store::account_mapping`: the French defaults when nothing is stored).
    pub mapping: Option<PathBuf>,
}

fn read_mapping(path: &Path) -> anyhow::Result<AccountMapping> {
    let size = std::fs::metadata(path)?.len();
    if size > MAPPING_FILE_BYTES_MAX {
        anyhow::bail!("the mapping file is larger than {MAPPING_FILE_BYTES_MAX} bytes");
    }
    Ok(AccountMapping::from_json(&std::fs::read_to_string(path)?)?)
}

/// Runs the export; progress goes to `progress_out` (stderr for the CLI). Returns the path
/// written. The file appears only when the export is complete (written to `.part`, then
/// renamed), so a failed export never leaves a truncated file behind.
pub async fn run_export(
    store: &Store,
    command: ExportCommand,
    progress_out: &mut (impl Write + Send),
) -> anyhow::Result<PathBuf> {
    let mapping = match &command.mapping {
        Some(path) => read_mapping(path)?,
        None => store.account_mapping().await?,
    };
    let siren = match &command.siren {
        Some(siren) => Siren::new(siren)?,
        None => store.network_siren().await?.ok_or_else(|| {
            anyhow::anyhow!(
                "the network's SIREN is not set: give --siren (or TROC_NETWORK_SIREN), or set \
                 it on the web's accounting page"
            )
        })?,
    };
    let period = Period::new(command.from, command.to)?;
    let network_name = store
        .network_name()
        .await?
        .ok_or_else(|| anyhow::anyhow!("the database holds no network yet"))?;
    let directory = store.export_directory().await?;
    let scope = match &command.member {
        None => Scope::Network,
        Some(member) => {
            let info = directory
                .find_siren(member)
                .or_else(|| {
                    member
                        .parse()
                        .ok()
                        .and_then(|id| directory.get(AccountId(id)))
                })
                .ok_or_else(|| {
                    anyhow::anyhow!("no member with the SIREN or account id {member}")
                })?;
            let id = info.id();
            if info.kind() != AccountKind::Member {
                anyhow::bail!("account {id} is not a member account");
            }
            Scope::Member(info.clone())
        }
    };
    let locks = store.period_locks().await?;
    let header = ExportHeader::new(siren, &network_name, period, scope, locks, Utc::now())?;
    let path = if command.out.is_dir() {
        command.out.join(header.file_name(command.format))
    } else {
        command.out.clone()
    };
    let partial = path.with_extension("part");
    let file = std::fs::File::create(&partial)?;
    let result = store
        .export(
            header,
            &mapping,
            command.format,
            &directory,
            BufWriter::new(file),
            |p: ExportProgress| {
                let percent = (p.done * 100).checked_div(p.total).unwrap_or(100);
                let _ = write!(
                    progress_out,
                    "\rexport: {}/{} transactions ({percent} %)",
                    p.done, p.total
                );
                let _ = progress_out.flush();
            },
        )
        .await;
    let _ = writeln!(progress_out);
    match result {
        Ok((writer, summary)) => {
            writer
                .into_inner()
                .map_err(|e| e.into_error())?
                .sync_all()?;
            std::fs::rename(&partial, &path)?;
            let _ = writeln!(
                progress_out,
                "export: {} transactions, {} entries, {} lines written to {}",
                summary.transactions,
                summary.entries,
                summary.lines,
                path.display()
            );
            Ok(path)
        }
        Err(error) => {
            let _ = std::fs::remove_file(&partial);
            Err(error.into())
        }
    }
}
