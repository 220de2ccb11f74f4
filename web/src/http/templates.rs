//! What every page shares: the layout's data ([`Chrome`]), the error page and the HTML
//! response helper. Page templates live beside their handlers.

use askama::Template;
use axum::response::{Html, IntoResponse, Response};

use super::error::AppError;
use super::i18n::Tr;
use crate::people::{Role, SessionRow};

/// The data `_layout.html` needs: the translator, the CSRF token for the logout and
/// language forms, and who is logged in.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub t: Tr,
    pub csrf: String,
    pub user_name: Option<String>,
    pub role: Option<Role>,
}

impl Chrome {
    pub fn new(t: Tr, session: Option<&SessionRow>) -> Chrome {
        let user = session.and_then(|s| s.user.as_ref());
        Chrome {
            t,
            csrf: session.map(|s| s.csrf_token.clone()).unwrap_or_default(),
            user_name: user.map(|u| u.display_name.clone()),
            role: user.map(|u| u.role),
        }
    }

    /// The CSRF token for a form on a page that created the session itself (login page).
    pub fn with_csrf(mut self, csrf: &str) -> Chrome {
        self.csrf = csrf.to_owned();
        self
    }

    pub fn is_member(&self) -> bool {
        matches!(self.role, Some(Role::Owner | Role::Staff))
    }

    pub fn is_owner(&self) -> bool {
        self.role == Some(Role::Owner)
    }

    pub fn is_manager(&self) -> bool {
        self.role == Some(Role::Manager)
    }

    pub fn is_network_staff(&self) -> bool {
        matches!(self.role, Some(Role::Manager | Role::Accountant))
    }

    /// A member company's accountant (read-only, one company).
    pub fn is_member_accountant(&self) -> bool {
        self.role == Some(Role::MemberAccountant)
    }

    /// Who sees the accounting pages (downloads, reports): network staff, owners and member
    /// accountants.
    pub fn sees_accounting(&self) -> bool {
        matches!(
            self.role,
            Some(Role::Manager | Role::Accountant | Role::Owner | Role::MemberAccountant)
        )
    }

    pub fn role_label(&self) -> &'static str {
        match self.role {
            Some(role) => role_label(self.t, role),
            None => "",
        }
    }
}

pub fn role_label(t: Tr, role: Role) -> &'static str {
    match role {
        Role::Manager => t.role_manager(),
        Role::Accountant => t.role_accountant(),
        Role::Owner => t.role_owner(),
        Role::Staff => t.role_staff(),
        Role::MemberAccountant => t.role_member_accountant(),
    }
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorTemplate<'a> {
    pub c: Chrome,
    pub message: &'a str,
}

/// Renders a template into an HTML response.
pub fn page<T: Template>(template: T) -> Result<Response, AppError> {
    Ok(Html(template.render()?).into_response())
}
