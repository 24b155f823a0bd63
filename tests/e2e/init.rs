//! `terraform init` against the filesystem mirror.

use crate::harness::{FULL_SOURCE, SOURCE, Tf, VERSION};

/// `terraform init` installs the provider from the mirror with no network
/// access and records it, at the crate's version, in the lock file.
#[test]
fn init_installs_from_mirror_offline() {
    let tf = Tf::new("init");
    tf.config("");
    let out = tf.init();
    assert!(
        out.stdout
            .contains(&format!("Installed {SOURCE} v{VERSION}")),
        "init did not report installing the provider:\n{out}"
    );
    let lock = tf.read(".terraform.lock.hcl");
    assert!(
        lock.contains(&format!("provider \"{FULL_SOURCE}\" {{")),
        "lock file does not record {FULL_SOURCE}:\n{lock}"
    );
    assert!(
        lock.contains(&format!("version = \"{VERSION}\"")),
        "lock file does not record version {VERSION}:\n{lock}"
    );
    assert!(
        lock.contains("\"h1:"),
        "lock file records no h1: hash:\n{lock}"
    );
}
