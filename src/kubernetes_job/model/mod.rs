//! What a `planton_kubernetes_job` is, as data: the attribute tree and its
//! descriptions ([`schema`]) with the top-level attribute names ([`attr`]),
//! the typed spec read from a configuration, plan or state ([`spec`]), the
//! resource's own settings ([`options`]) and computed attributes
//! ([`state`]), Kubernetes quantities ([`quantity`]), Planton's
//! CloudResourceKind names ([`kinds`]), the rules about names that several
//! parts apply ([`names`]), who owns which object ([`ownership`]), and the
//! write-only secrets kept only as hashes ([`write_only`]). Nothing here
//! talks to a cluster.

pub mod attr;
pub mod kinds;
pub mod names;
pub mod options;
pub mod ownership;
pub mod quantity;
pub mod schema;
pub mod spec;
pub mod state;
pub mod write_only;
