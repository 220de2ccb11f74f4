//! Who acts: the user behind a manager's or accountant's action, as the domain functions and
//! the action log need it (web pages and the JSON API build one from their session or token).

use crate::people::{Role, User};
use crate::store::{ActionNote, StoreResult};

/// A user acting on the network: their id (none for the command line), email and role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    user_id: Option<i64>,
    email: String,
    role: Role,
}

impl Actor {
    pub fn new(user_id: Option<i64>, email: &str, role: Role) -> Actor {
        Actor {
            user_id,
            email: email.trim().to_owned(),
            role,
        }
    }

    /// The logged-in user.
    pub fn from_user(user: &User) -> Actor {
        Actor::new(Some(user.id), &user.email, user.role)
    }

    pub fn user_id(&self) -> Option<i64> {
        self.user_id
    }

    pub fn email(&self) -> &str {
        &self.email
    }

    pub fn role(&self) -> Role {
        self.role
    }

    /// Managers and accountants work for the network (accountants read, managers act).
    pub fn is_network_staff(&self) -> bool {
        matches!(self.role, Role::Manager | Role::Accountant)
    }

    /// The start of this actor's action-log record for `action` (a dotted code such as
    /// `fees.schedule`), with its reason.
    pub fn note(&self, action: &str, reason: &str) -> StoreResult<ActionNote> {
        ActionNote::new(self.user_id, &self.email, action, reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_actor_writes_its_notes() {
        let actor = Actor::new(Some(7), " gestion@reseau.fr ", Role::Manager);
        assert_eq!(actor.email(), "gestion@reseau.fr");
        assert!(actor.is_network_staff());
        let note = actor.note("fees.schedule", "annual review").unwrap();
        assert_eq!(note.actor(), "gestion@reseau.fr");
        assert_eq!(note.action(), "fees.schedule");
        assert!(actor.note("Not A Code", "x").is_err());
        assert!(!Actor::new(None, "o@a.fr", Role::Owner).is_network_staff());
    }
}
