# Volumes from a PersistentVolumeClaim, the node, a Secret and a ConfigMap:
# a log archiver that runs a script from `config_maps` (mounted executable,
# mode 493 = 0755), reads the node's logs through `host_path`, reads upload
# credentials from an existing Secret (mode 256 = 0400) and stages files on
# an existing claim.

resource "planton_kubernetes_job" "log_archive" {
  metadata = {
    name = "log-archive"
  }

  spec = {
    namespace = {
      value = "ops"
    }

    image = {
      repo = "ghcr.io/acme/log-archiver"
      tag  = "1.4.0"
    }

    command = ["/opt/archive/archive.sh"]

    # A ConfigMap named archive-script whose one key is archive-script.
    config_maps = {
      "archive-script" = <<-EOT
        #!/bin/sh
        set -eu
        tar -czf "/staging/logs-$(date +%F).tar.gz" -C /host/var/log .
        /app/upload --credentials /etc/archive/credentials.json /staging
      EOT
    }

    volume_mounts = [
      {
        name       = "script"
        mount_path = "/opt/archive"
        read_only  = true
        config_map = {
          name         = "archive-script"
          key          = "archive-script"
          path         = "archive.sh"
          default_mode = 493 # 0755
        }
      },
      {
        # Gives the pod the node's filesystem: mount read-only, and only what
        # the Job needs.
        name       = "node-logs"
        mount_path = "/host/var/log"
        read_only  = true
        host_path = {
          path = "/var/log"
          type = "Directory"
        }
      },
      {
        name       = "credentials"
        mount_path = "/etc/archive"
        read_only  = true
        secret = {
          name         = "archive-upload-credentials"
          key          = "credentials.json"
          default_mode = 256 # 0400
        }
      },
      {
        name       = "staging"
        mount_path = "/staging"
        pvc = {
          claim_name = "log-archive-staging"
        }
      },
    ]
  }
}
