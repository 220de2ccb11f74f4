//! An export as a streamed HTTP download, shared by the web front (`/accounting/export`) and
//! the JSON API: the same [`Store::export_paged`] and writers as `troc export`, with a body
//! that is produced page by page while the client reads it.
//!
//! Memory stays constant whatever the size of the books: the export runs in its own task and
//! hands each page's bytes to the response body through a bounded channel
//! ([`CHUNKS_QUEUED_MAX`] chunks); when the client reads slowly the export waits, and when it
//! goes away the export stops. Everything that can be refused (period, scope, lock, SIREN) is
//! checked before the response starts, so a refusal is a clear 4xx; a failure in the middle
//! (a database error) aborts the body, so the client never takes a truncated file for a
//! complete one. At most [`DownloadLimiter`]'s number of downloads run at once; a permit is
//! held by the response body until it is finished or dropped.

use std::io::Write;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use ledger::AccountId;
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};

use super::source::Directory;
use super::{ExportError, ExportHeader, Exporter, Format, PagedWrite, Period, Scope};
use crate::store::{ExportFailure, Store, StoreError};

/// Downloads that may run at the same time (each is a long read of the ledger).
pub const DOWNLOADS_CONCURRENT_MAX: usize = 4;
/// Pages of output waiting for a slow reader at most.
pub const CHUNKS_QUEUED_MAX: usize = 2;

/// Bounds the number of exports streaming at once (one per process, in `AppState`).
#[derive(Debug, Clone)]
pub struct DownloadLimiter {
    permits: Arc<Semaphore>,
    max: usize,
}

impl DownloadLimiter {
    pub fn new(max: usize) -> DownloadLimiter {
        DownloadLimiter {
            permits: Arc::new(Semaphore::new(max)),
            max,
        }
    }

    pub fn max(&self) -> usize {
        self.max
    }

    /// Downloads that could start now.
    pub fn available(&self) -> usize {
        self.permits.available_permits()
    }

    /// A permit for one more download, if one is free; held until the body ends.
    pub fn try_permit(&self) -> Option<OwnedSemaphorePermit> {
        self.permits.clone().try_acquire_owned().ok()
    }
}

impl Default for DownloadLimiter {
    fn default() -> DownloadLimiter {
        DownloadLimiter::new(DOWNLOADS_CONCURRENT_MAX)
    }
}

/// Whose books, once the caller has decided that the user may have them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Books {
    /// The network operator's books.
    Network,
    /// One member company's books, by its ledger account.
    Member(AccountId),
}

impl Books {
    /// The export scope of these books, with the member's directory entry; the account
    /// back when it is not a member's.
    pub fn scope(self, directory: &Directory) -> Result<Scope, AccountId> {
        match self {
            Books::Network => Ok(Scope::Network),
            Books::Member(account) => match directory.get(account) {
                Some(info) if info.kind() == ledger::AccountKind::Member => {
                    Ok(Scope::Member(info.clone()))
                }
                _ => Err(account),
            },
        }
    }
}

/// One download, as asked for (already authorised).
#[derive(Debug, Clone, Copy)]
pub struct DownloadRequest {
    pub format: Format,
    pub books: Books,
    pub period: Period,
}

/// Why a download cannot start. `code()` is stable (API problem codes); the web front turns
/// each into a sentence in the user's language.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    #[error("the network is not created yet")]
    NoNetwork,
    #[error("the network's SIREN is not set (a manager sets it on the accounting page)")]
    NoSiren,
    #[error("no member account {0}")]
    UnknownMember(AccountId),
    #[error("{max} downloads are already running; try again in a moment")]
    Busy { max: usize },
    #[error(transparent)]
    Export(#[from] ExportError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl DownloadError {
    pub fn code(&self) -> &'static str {
        match self {
            DownloadError::NoNetwork => "no_network",
            DownloadError::NoSiren => "no_siren",
            DownloadError::UnknownMember(_) => "unknown_member",
            DownloadError::Busy { .. } => "busy",
            DownloadError::Export(ExportError::NotLocked { .. }) => "period_not_locked",
            DownloadError::Export(ExportError::OfxNeedsMember) => "ofx_needs_member",
            DownloadError::Export(_) => "invalid_export",
            DownloadError::Store(_) => "internal",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            DownloadError::UnknownMember(_) => StatusCode::NOT_FOUND,
            DownloadError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            DownloadError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
}

/// A download ready to be sent: its headers are known, its body is being produced.
pub struct Download {
    pub file_name: String,
    pub content_type: &'static str,
    pub body: Body,
}

impl IntoResponse for Download {
    fn into_response(self) -> Response {
        (
            [
                (CONTENT_TYPE, self.content_type.to_owned()),
                (
                    CONTENT_DISPOSITION,
                    // The name is the SIREN (or M<id>), dates and an extension: plain ASCII.
                    format!("attachment; filename=\"{}\"", self.file_name),
                ),
                (CACHE_CONTROL, "no-store".to_owned()),
                (X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            ],
            self.body,
        )
            .into_response()
    }
}

type Chunk = Result<Bytes, std::io::Error>;

/// The exporter's output: bytes accumulate during a page and go to the body when the page
/// is done (awaiting room in the bounded channel: the back-pressure).
struct ChannelWriter {
    buffer: Vec<u8>,
    tx: mpsc::Sender<Chunk>,
}

impl Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl PagedWrite for ChannelWriter {
    async fn page_done(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::take(&mut self.buffer));
        self.tx.send(Ok(chunk)).await.map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away")
        })
    }
}

/// Starts a download: checks everything that can be refused, then streams the export.
pub async fn download(
    store: &Store,
    limiter: &DownloadLimiter,
    request: DownloadRequest,
) -> Result<Download, DownloadError> {
    let permit = limiter
        .permits
        .clone()
        .try_acquire_owned()
        .map_err(|_| DownloadError::Busy { max: limiter.max })?;
    let network_name = store
        .network_name()
        .await?
        .ok_or(DownloadError::NoNetwork)?;
    let siren = store.network_siren().await?.ok_or(DownloadError::NoSiren)?;
    let directory = store.export_directory().await?;
    let scope = request
        .books
        .scope(&directory)
        .map_err(DownloadError::UnknownMember)?;
    let locks = store.period_locks().await?;
    // The stored mapping (the defaults when nothing is stored): read before the response
    // starts, so that a broken one is a refusal and not a failed body.
    let mapping = store.account_mapping().await?;
    let header = ExportHeader::new(
        siren,
        &network_name,
        request.period,
        scope,
        locks,
        Utc::now(),
    )?;
    Exporter::<Vec<u8>>::check(&header, request.format)?;
    let file_name = header.file_name(request.format);
    let (tx, rx) = mpsc::channel::<Chunk>(CHUNKS_QUEUED_MAX);
    let failed = tx.clone();
    let store = store.clone();
    let format = request.format;
    tokio::spawn(async move {
        let writer = ChannelWriter {
            buffer: Vec::new(),
            tx,
        };
        let result = store
            .export_paged(header, &mapping, format, &directory, writer, |_| {})
            .await;
        let result = match result {
            Ok((mut writer, summary)) => writer
                .page_done()
                .await
                .map(|()| summary)
                .map_err(|e| ExportFailure::Export(ExportError::Io(e))),
            Err(error) => Err(error),
        };
        match result {
            Ok(summary) => tracing::debug!(
                format = format.name(),
                transactions = summary.transactions,
                lines = summary.lines,
                "export downloaded"
            ),
            Err(error) => {
                tracing::warn!(%error, format = format.name(), "export download failed");
                // Aborts the body: the client sees a failed transfer, not a short file.
                let _ = failed
                    .send(Err(std::io::Error::other("the export failed")))
                    .await;
            }
        }
    });
    // The permit lives in the stream's state: it is released when the body ends or is
    // dropped (a client that went away), not when the export task ends.
    let stream = futures_util::stream::unfold(
        (rx, permit),
        |(mut rx, permit): (mpsc::Receiver<Chunk>, OwnedSemaphorePermit)| async move {
            rx.recv().await.map(|chunk| (chunk, (rx, permit)))
        },
    );
    Ok(Download {
        file_name,
        content_type: format.content_type(),
        body: Body::from_stream(stream),
    })
}
