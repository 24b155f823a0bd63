//! The names of the resource's top-level attributes, each written once:
//! the schema declares them with these constants, and every part that
//! reads or writes a plan or state (apply, read, the plan, import) uses
//! them, so that a name cannot drift between the schema and its readers.
//! The attributes inside `metadata` and `spec` are named by the typed model
//! ([`super::spec`]), whose fields are the schema's names.

/// Planton's `metadata`.
pub const METADATA: &str = "metadata";
/// Planton's `spec`.
pub const SPEC: &str = "spec";
/// `id`: `<namespace>/<name>` once created.
pub const ID: &str = "id";
/// `outputs`: what other resources read.
pub const OUTPUTS: &str = "outputs";
/// `status`: the Job's status as last read.
pub const STATUS: &str = "status";
/// `objects`: the Kubernetes objects this resource manages.
pub const OBJECTS: &str = "objects";
/// `drift`: what the last refresh found changed outside Terraform.
pub const DRIFT: &str = "drift";
/// `docker_config_json`: the image pull credentials.
pub const DOCKER_CONFIG_JSON: &str = "docker_config_json";
/// `rerun_triggers`: values whose change runs the Job again.
pub const RERUN_TRIGGERS: &str = "rerun_triggers";
/// `wait_for_completion`: whether apply waits for the Job.
pub const WAIT_FOR_COMPLETION: &str = "wait_for_completion";
/// `timeouts`: how long operations may take.
pub const TIMEOUTS: &str = "timeouts";
/// `after_ttl_deletion`: what read does when the TTL deleted the Job.
pub const AFTER_TTL_DELETION: &str = "after_ttl_deletion";
/// `delete_propagation`: how destroy deletes the Job's pods.
pub const DELETE_PROPAGATION: &str = "delete_propagation";
