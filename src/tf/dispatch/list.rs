//! ListResource as the framework runs it: the list finds objects and sends
//! them one at a time; the framework forwards them until Terraform's limit,
//! drops the whole object unless Terraform asked for it, tells the list to
//! stop once Terraform stops reading, and sends the list's own diagnostics
//! last (never after the limit).

use tokio::sync::mpsc;

use super::registry::{Dispatcher, ListEntry, unsupported};
use crate::tf::diag::{Diagnostic, Diagnostics};
use crate::tf::resource::{ListRequest, ListResult, ListSink};
use crate::tf::types::Type;
use crate::tf::value::Value;

/// One event of a list, in order.
#[derive(Debug, Clone)]
pub enum ListEvent {
    /// An object found.
    Found(ListResult),
    /// Diagnostics of the list that concern no single object (last).
    Done(Diagnostics),
}

/// What a list needs: its entry and the managed resource's types its
/// results are sent with.
pub struct ListTypes<'a> {
    /// The list resource.
    pub entry: &'a ListEntry,
    /// The identity type of the managed resource of the same name.
    pub identity_ty: &'a Type,
    /// The state type of that resource.
    pub resource_ty: &'a Type,
}

impl Dispatcher {
    /// The list resource `type_name` and the types of its results.
    pub fn list_types(&self, type_name: &str) -> Result<ListTypes<'_>, Diagnostic> {
        let entry = self.list(type_name)?;
        let resource = self.resource(type_name)?;
        let Some((_, identity_ty)) = &resource.identity else {
            return Err(unsupported("List Resource", "list resources", type_name));
        };
        Ok(ListTypes {
            entry,
            identity_ty,
            resource_ty: &resource.ty,
        })
    }

    /// Starts a list of `entry` with its decoded `config`; events arrive on
    /// the receiver as the list finds objects. Dropping the receiver stops
    /// the list.
    pub fn start_list(
        &self,
        entry: &ListEntry,
        config: Value,
        include_resource_object: bool,
        limit: i64,
    ) -> mpsc::Receiver<ListEvent> {
        let list = entry.list.clone();
        let (sink, mut results) = ListSink::channel(16);
        let request = ListRequest {
            config,
            include_resource_object,
            limit,
            cancel: self.stop_token(),
        };
        let (events, stream) = mpsc::channel::<ListEvent>(16);
        tokio::spawn(async move {
            let producer = async move {
                let diags = list.list(request, &sink).await;
                // Closing the sink ends the forwarding below.
                drop(sink);
                diags
            };
            let forwarder = {
                let events = events.clone();
                async move {
                    let mut sent: i64 = 0;
                    while let Some(mut result) = results.recv().await {
                        if !include_resource_object {
                            result.resource_object = None;
                        }
                        if events.send(ListEvent::Found(result)).await.is_err() {
                            return true;
                        }
                        sent += 1;
                        if limit > 0 && sent >= limit {
                            return true;
                        }
                    }
                    // `results` is dropped on return, which tells the list
                    // to stop.
                    false
                }
            };
            let (diags, stopped) = tokio::join!(producer, forwarder);
            // Terraform reads nothing after the limit.
            if !stopped && !diags.is_empty() {
                let _ = events.send(ListEvent::Done(diags)).await;
            }
        });
        stream
    }
}
