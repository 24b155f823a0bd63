//! Kubernetes API-server emulator (placeholder).
