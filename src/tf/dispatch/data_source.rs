//! Data sources as the framework runs them: a read watches the stop
//! signal; a deferred read answers the configuration with its computed
//! attributes unknown, and only when Terraform allows deferral; a read
//! that reports no error must answer a state.

use super::registry::{DataSourceEntry, Dispatcher};
use crate::tf::diag::Diagnostic;
use crate::tf::resource::{ClientCapabilities, ReadDataRequest, ReadDataResponse};
use crate::tf::schema::Block;
use crate::tf::value::Value;

impl Dispatcher {
    /// The data source `type_name`.
    pub fn data_source(&self, type_name: &str) -> Result<&DataSourceEntry, Diagnostic> {
        self.data_sources.get(type_name).ok_or_else(|| {
            let known = if self.data_sources.is_empty() {
                "none".to_string()
            } else {
                self.data_sources
                    .keys()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            Diagnostic::error(
                "Unknown Data Source Type",
                format!(
                    "This provider has no data source named \"{type_name}\". Its data sources are: {known}. \
                     Check the data source type in the configuration, or the provider version if the type \
                     was added recently."
                ),
            )
        })
    }

    /// ReadDataSource on `entry` with its decoded `config`.
    pub async fn read_data_source(
        &self,
        entry: &DataSourceEntry,
        config: Value,
        capabilities: ClientCapabilities,
    ) -> ReadDataResponse {
        let type_name = entry.data_source.type_name();
        let mut resp = entry
            .data_source
            .read(ReadDataRequest {
                config: config.clone(),
                capabilities,
                cancel: self.stop_token(),
            })
            .await;
        if resp.deferred.is_some() {
            if !capabilities.deferral_allowed {
                resp.deferred = None;
                resp.diagnostics.provider_bug(
                    None,
                    "Invalid Deferred Data Source Response",
                    format!(
                        "{type_name} deferred its read although Terraform does not accept deferred answers."
                    ),
                );
            }
            resp.state = unknown_computed(&entry.schema.block, config);
        } else if resp.state.is_null() && !resp.diagnostics.has_error() {
            resp.diagnostics.provider_bug(
                None,
                "Provider Produced No State",
                format!("Reading {type_name} produced neither a state nor an error."),
            );
        }
        resp
    }
}

/// `config` with every computed attribute the configuration leaves null
/// made unknown: what a deferred read answers.
fn unknown_computed(block: &Block, config: Value) -> Value {
    let Value::Object(mut fields) = config else {
        return config;
    };
    for attribute in &block.attributes {
        let field = fields.entry(attribute.name.clone()).or_insert(Value::Null);
        if attribute.computed && field.is_null() {
            *field = Value::UNKNOWN;
        }
    }
    Value::Object(fields)
}
