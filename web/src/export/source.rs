//! Building export entries from ledger transactions: shared by the in-memory
//! [`ledger::Ledger`] (tests, demos) and the store, which both hold [`ledger::Transaction`]s.

use std::collections::BTreeMap;
use std::sync::Arc;

use ledger::{AccountId, Ledger, Transaction};

use super::{AccountInfo, ExportEntry, ExportPosting};

/// What the books know about each ledger account, by id.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    accounts: BTreeMap<AccountId, Arc<AccountInfo>>,
}

impl Directory {
    pub fn new() -> Directory {
        Directory::default()
    }

    pub fn insert(&mut self, info: AccountInfo) {
        self.accounts.insert(info.id(), Arc::new(info));
    }

    pub fn get(&self, id: AccountId) -> Option<&Arc<AccountInfo>> {
        self.accounts.get(&id)
    }

    /// The member with this SIREN (a linear search: for the command line, once).
    pub fn find_siren(&self, siren: &str) -> Option<&Arc<AccountInfo>> {
        self.accounts
            .values()
            .find(|info| info.siren().is_some_and(|s| s.as_str() == siren))
    }

    /// The system accounts of an in-memory ledger plus the member descriptions given.
    pub fn for_ledger(
        ledger: &Ledger,
        members: impl IntoIterator<Item = AccountInfo>,
    ) -> Directory {
        let mut directory = Directory::new();
        for (id, kind) in ledger.system().all() {
            directory.insert(AccountInfo::system(id, kind));
        }
        for member in members {
            directory.insert(member);
        }
        directory
    }
}

/// One transaction as an export entry; `None` when a posting names an account the
/// directory does not know.
pub fn entry_for(tx: &Transaction, directory: &Directory) -> Option<ExportEntry> {
    let postings = tx
        .postings()
        .iter()
        .map(|p| {
            Some(ExportPosting {
                account: directory.get(p.account)?.clone(),
                amount: p.amount,
                leg: p.leg,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    Some(ExportEntry {
        tx: tx.id(),
        kind: tx.kind(),
        time: tx.time(),
        reference: tx.reference().to_owned(),
        memo: tx.memo().to_owned(),
        reverses: tx.reverses(),
        invoice: None,
        postings,
    })
}

/// Every transaction of an in-memory ledger, in (time, id) order.
pub fn ledger_entries(ledger: &Ledger, directory: &Directory) -> Vec<ExportEntry> {
    let mut entries: Vec<ExportEntry> = ledger
        .transactions()
        .map(|tx| entry_for(tx, directory).expect("every account is in the directory"))
        .collect();
    entries.sort_by_key(|e| (e.time, e.tx));
    entries
}
