//! Brokering help: members with large positive balances need to buy, members deep in debt
//! need to sell. For each, the listings that could help, matched by category and city.
//!
//! **Matching.** A creditor (among the [`BROKERING_MEMBERS_MAX`] largest positive balances)
//! is shown open offers of other members in the categories of its own open wants (any
//! category when it has none), offers in its city first, then from sellers deepest in debt
//! (a purchase helps both). A debtor (among the largest debts) is shown open wants of other
//! members in its sector and the categories of its own open offers, wants in its city first,
//! then from buyers with the largest balances. Sellers must not be closed; buyers must be
//! active. At most [`BROKERING_MATCHES_MAX`] listings per member.
//!
//! **Leaving members first.** A member whose notice of departure waits
//! (`console::departures`) must bring its balance to zero before its account can close: on
//! each side it comes before the others, whatever its balance, and is marked as leaving.

use ledger::{Account, AccountKind, AccountStatus, Amount};
use sqlx::Row;

use super::{require, Access, NetworkResult};
use crate::actor::Actor;
use crate::dispatch;
use crate::market::{self, Kind, Listing};
use crate::people::{self, Member};
use crate::store::{BackendKind, Store, StoreError, StoreResult};

/// Members listed on each side at most.
pub const BROKERING_MEMBERS_MAX: usize = 20;
/// Listings suggested per member at most.
pub const BROKERING_MATCHES_MAX: i64 = 5;
/// Categories of a member's own listings considered at most.
pub const CATEGORIES_MAX: i64 = 50;

/// A listing suggested to a member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    pub listing: Listing,
    /// Who posted it.
    pub counterparty: Member,
    pub counterparty_balance: Amount,
    pub same_city: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    pub member: Member,
    pub balance: Amount,
    /// Whether it gave notice that it leaves the network (listed first).
    pub leaving: bool,
    pub matches: Vec<Match>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Brokering {
    /// Largest positive balances first: offers they could buy.
    pub creditors: Vec<Suggestion>,
    /// Largest debts first: wants they could fill.
    pub debtors: Vec<Suggestion>,
}

/// The brokering lists (managers only). `today` is `YYYY-MM-DD`, for the listings' expiry.
pub async fn brokering(store: &Store, actor: &Actor, today: &str) -> NetworkResult<Brokering> {
    require(actor, Access::Act)?;
    let accounts = store.accounts().await?;
    let mut open: Vec<&Account> = accounts
        .iter()
        .filter(|a| a.kind() == AccountKind::Member && a.status() != AccountStatus::Closed)
        .collect();
    let leaving = crate::console::departures::leaving_accounts(store).await?;
    let is_leaving = |a: &Account| leaving.contains(&a.id());
    // Leaving members first, then the largest balances (creditors) or debts (debtors).
    open.sort_by_key(|a| (!is_leaving(a), std::cmp::Reverse(a.balance()), a.id()));
    let top: Vec<&Account> = open
        .iter()
        .filter(|a| a.balance().is_positive())
        .take(BROKERING_MEMBERS_MAX)
        .copied()
        .collect();
    open.sort_by_key(|a| (!is_leaving(a), a.balance(), a.id()));
    let bottom: Vec<&Account> = open
        .iter()
        .filter(|a| a.balance().is_negative())
        .take(BROKERING_MEMBERS_MAX)
        .copied()
        .collect();
    // The members of the listed accounts only, in one read.
    let listed = top.iter().chain(&bottom).map(|a| a.id()).collect();
    let members = people::members_of_accounts(store, &listed).await?;
    let with_member = |accounts: Vec<&Account>| -> Vec<(Member, Amount, bool)> {
        accounts
            .into_iter()
            .filter_map(|a| {
                members
                    .get(&a.id())
                    .map(|m| (m.clone(), a.balance(), is_leaving(a)))
            })
            .collect()
    };
    let creditors = with_member(top);
    let debtors = with_member(bottom);
    let mut result = Brokering {
        creditors: Vec::with_capacity(creditors.len()),
        debtors: Vec::with_capacity(debtors.len()),
    };
    for (member, balance, leaving) in creditors {
        let categories = own_categories(store, &member, Kind::Want, today).await?;
        let matches =
            matching(store, &member, Kind::Offer, &categories, today, Posted::ANY).await?;
        result.creditors.push(Suggestion {
            member,
            balance,
            leaving,
            matches,
        });
    }
    for (member, balance, leaving) in debtors {
        let mut categories = own_categories(store, &member, Kind::Offer, today).await?;
        if !categories.contains(&member.sector) {
            categories.push(member.sector.clone());
        }
        let matches = matching(store, &member, Kind::Want, &categories, today, Posted::ANY).await?;
        result.debtors.push(Suggestion {
            member,
            balance,
            leaving,
            matches,
        });
    }
    Ok(result)
}

/// What the network suggests to one member (its own page, `/market/for-you`): open offers of
/// other members in the categories of its open wants (any category when it has none) — what
/// it could buy —, and open wants of other members in its sector and the categories of its
/// open offers — what it could sell —, ranked as for the managers' lists, at most
/// [`BROKERING_MATCHES_MAX`] each. Any member may read its own; nothing is stored.
pub async fn for_member(
    store: &Store,
    member: &Member,
    today: &str,
) -> StoreResult<(Vec<Match>, Vec<Match>)> {
    for_member_posted(store, member, today, Posted::ANY).await
}

/// When the listings considered were posted: `[from, until)` in Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Posted {
    pub from: i64,
    pub until: i64,
}

impl Posted {
    /// Any time.
    pub const ANY: Posted = Posted {
        from: i64::MIN,
        until: i64::MAX,
    };
}

/// What [`for_member`] suggests among the listings posted in `posted` only: what is new for
/// the member (the weekly e-mail, `http::notices::weekly_matches`).
pub async fn for_member_posted(
    store: &Store,
    member: &Member,
    today: &str,
    posted: Posted,
) -> StoreResult<(Vec<Match>, Vec<Match>)> {
    let wants = own_categories(store, member, Kind::Want, today).await?;
    let to_buy = matching(store, member, Kind::Offer, &wants, today, posted).await?;
    let mut offered = own_categories(store, member, Kind::Offer, today).await?;
    if !offered.contains(&member.sector) {
        offered.push(member.sector.clone());
    }
    let to_sell = matching(store, member, Kind::Want, &offered, today, posted).await?;
    Ok((to_buy, to_sell))
}

/// The categories of a member's own open listings of `kind`.
async fn own_categories(
    store: &Store,
    member: &Member,
    kind: Kind,
    today: &str,
) -> StoreResult<Vec<String>> {
    let sql = "SELECT DISTINCT category FROM listings WHERE member_id = $1 AND kind = $2 \
               AND status = 'open' AND active_until >= $3 ORDER BY category LIMIT $4";
    let categories: Vec<String> = dispatch!(store.backend(), pool => {
        sqlx::query_scalar(sql)
            .bind(member.id).bind(kind.as_str()).bind(today).bind(CATEGORIES_MAX)
            .fetch_all(pool).await.map_err(StoreError::from)?
    });
    Ok(categories)
}

fn in_text_list(kind: BackendKind, column: &str, param: u32) -> String {
    match kind {
        BackendKind::Sqlite => format!("{column} IN (SELECT value FROM json_each(${param}))"),
        BackendKind::Postgres => {
            format!("{column} = ANY(ARRAY(SELECT jsonb_array_elements_text(${param}::jsonb)))")
        }
    }
}

/// Other members' open listings of `kind` in `categories` (any when empty), ranked as the
/// module says.
async fn matching(
    store: &Store,
    member: &Member,
    kind: Kind,
    categories: &[String],
    today: &str,
    posted: Posted,
) -> StoreResult<Vec<Match>> {
    let backend = store.kind();
    let (status, order) = match kind {
        // Offers: sellers in debt first; wants: the richest buyers first.
        Kind::Offer => ("a.status <> 'closed'", "a.balance ASC"),
        Kind::Want => ("a.status = 'active'", "a.balance DESC"),
    };
    let sql = format!(
        "SELECT l.id, LOWER(l.city) = $4 AS same_city FROM listings l \
         JOIN members m ON m.id = l.member_id JOIN accounts a ON a.id = m.account_id \
         WHERE l.status = 'open' AND l.active_until >= $1 AND l.kind = $2 \
         AND l.member_id <> $3 AND {status} AND ($5 = '[]' OR {}) \
         AND l.created_at >= $7 AND l.created_at < $8 \
         ORDER BY same_city DESC, {order}, l.id DESC LIMIT $6",
        in_text_list(backend, "l.category", 5)
    );
    let list = serde_json::to_string(categories).expect("strings serialise");
    let city = member.city.trim().to_lowercase();
    let rows: Vec<(i64, bool)> = dispatch!(store.backend(), pool => {
        let rows = sqlx::query(&sql)
            .bind(today).bind(kind.as_str()).bind(member.id).bind(&city).bind(&list)
            .bind(BROKERING_MATCHES_MAX).bind(posted.from).bind(posted.until)
            .fetch_all(pool).await.map_err(StoreError::from)?;
        rows.iter()
            .map(|r| Ok((r.try_get::<i64, _>(0)?, r.try_get::<bool, _>(1)?)))
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(StoreError::from)?
    });
    let mut matches = Vec::with_capacity(rows.len());
    for (id, same_city) in rows {
        let Some(listing) = market::get(store, id).await? else {
            continue;
        };
        let counterparty = crate::people::member(store, listing.member_id).await?;
        let Some(counterparty) = counterparty else {
            continue;
        };
        let balance = store
            .account(counterparty.account())
            .await?
            .map(|a| a.balance())
            .unwrap_or(Amount::ZERO);
        matches.push(Match {
            listing,
            counterparty,
            counterparty_balance: balance,
            same_city,
        });
    }
    Ok(matches)
}
