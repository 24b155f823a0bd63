//! Actions as the framework runs them: an invocation runs on its own task,
//! watching the stop signal, and sends its progress messages in order,
//! then its diagnostics last. Terraform hanging up (the receiver dropped)
//! stops it like StopProvider does.

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::registry::{ActionEntry, Dispatcher};
use crate::tf::action::{InvokeActionRequest, Progress};
use crate::tf::diag::Diagnostics;
use crate::tf::value::Value;

/// One event of an invocation, in order.
#[derive(Debug, Clone)]
pub enum ActionEvent {
    /// A progress message.
    Progress(String),
    /// The action ended with these diagnostics (last).
    Done(Diagnostics),
}

impl Dispatcher {
    /// Starts `entry` with its decoded `config`; its events arrive on the
    /// receiver. Dropping the receiver stops the action.
    pub fn start_action(&self, entry: &ActionEntry, config: Value) -> mpsc::Receiver<ActionEvent> {
        let action = entry.action.clone();
        let stop = self.stop_token();
        let (tx, rx) = mpsc::channel(16);
        tokio::spawn(async move {
            // Cancelled by StopProvider, or when Terraform stops listening.
            let cancel = CancellationToken::new();
            let (progress, mut messages) = Progress::channel();
            let req = InvokeActionRequest {
                config,
                cancel: cancel.clone(),
            };
            let run = action.invoke(req, &progress);
            tokio::pin!(run);
            let diagnostics = loop {
                tokio::select! {
                    biased;
                    () = stop.cancelled(), if !cancel.is_cancelled() => cancel.cancel(),
                    () = tx.closed(), if !cancel.is_cancelled() => cancel.cancel(),
                    Some(message) = messages.recv() => {
                        if tx.send(ActionEvent::Progress(message)).await.is_err() {
                            cancel.cancel();
                        }
                    }
                    d = &mut run => break d,
                }
            };
            // Messages said before the end go first.
            while let Ok(message) = messages.try_recv() {
                let _ = tx.send(ActionEvent::Progress(message)).await;
            }
            let _ = tx.send(ActionEvent::Done(diagnostics)).await;
        });
        rx
    }
}
