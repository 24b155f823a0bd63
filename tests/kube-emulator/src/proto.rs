//! Decoding of Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`)
//! for the simple kinds kubectl's typed commands send that way (`kubectl create
//! namespace|configmap|secret|serviceaccount`): Namespace, ConfigMap, Secret,
//! ServiceAccount. Other kinds in protobuf are refused with 415.
//!
//! The envelope is the four bytes `k8s\0` followed by a `runtime.Unknown`
//! message (typeMeta = 1, raw = 2); `raw` is the object's message.

use base64::Engine;
use serde_json::{Map, Value, json};

use crate::status::ApiError;

/// The protobuf media type.
pub const MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

enum Field<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Other,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    fn varint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self.buf.get(self.pos)?;
            self.pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }

    fn next(&mut self) -> Option<Result<(u64, Field<'a>), ()>> {
        if self.pos >= self.buf.len() {
            return None;
        }
        let Some(key) = self.varint() else {
            return Some(Err(()));
        };
        let (num, wire) = (key >> 3, key & 7);
        let field = match wire {
            0 => match self.varint() {
                Some(v) => Field::Varint(v),
                None => return Some(Err(())),
            },
            2 => {
                let Some(len) = self.varint() else {
                    return Some(Err(()));
                };
                let end = self
                    .pos
                    .checked_add(len as usize)
                    .filter(|e| *e <= self.buf.len());
                let Some(end) = end else { return Some(Err(())) };
                let b = &self.buf[self.pos..end];
                self.pos = end;
                Field::Bytes(b)
            }
            1 => {
                self.pos += 8;
                Field::Other
            }
            5 => {
                self.pos += 4;
                Field::Other
            }
            _ => return Some(Err(())),
        };
        if self.pos > self.buf.len() {
            return Some(Err(()));
        }
        Some(Ok((num, field)))
    }
}

fn bad() -> ApiError {
    ApiError::bad_request("the protobuf body could not be decoded")
}

fn text(b: &[u8]) -> Result<String, ApiError> {
    String::from_utf8(b.to_vec()).map_err(|_| bad())
}

fn fields(buf: &[u8]) -> Result<Vec<(u64, Field<'_>)>, ApiError> {
    let mut r = Reader::new(buf);
    let mut out = Vec::new();
    while let Some(f) = r.next() {
        out.push(f.map_err(|_| bad())?);
    }
    Ok(out)
}

fn map_entry(buf: &[u8], bytes_value: bool) -> Result<(String, Value), ApiError> {
    let mut k = String::new();
    let mut v = Value::String(String::new());
    for (num, f) in fields(buf)? {
        match (num, f) {
            (1, Field::Bytes(b)) => k = text(b)?,
            (2, Field::Bytes(b)) if bytes_value => {
                v = json!(base64::engine::general_purpose::STANDARD.encode(b))
            }
            (2, Field::Bytes(b)) => v = json!(text(b)?),
            _ => {}
        }
    }
    Ok((k, v))
}

fn object_meta(buf: &[u8]) -> Result<Value, ApiError> {
    let mut m = Map::new();
    let mut labels = Map::new();
    let mut annotations = Map::new();
    let mut finalizers = Vec::new();
    for (num, f) in fields(buf)? {
        match (num, f) {
            (1, Field::Bytes(b)) => {
                m.insert("name".into(), json!(text(b)?));
            }
            (2, Field::Bytes(b)) => {
                m.insert("generateName".into(), json!(text(b)?));
            }
            (3, Field::Bytes(b)) => {
                m.insert("namespace".into(), json!(text(b)?));
            }
            (5, Field::Bytes(b)) => {
                m.insert("uid".into(), json!(text(b)?));
            }
            (6, Field::Bytes(b)) => {
                m.insert("resourceVersion".into(), json!(text(b)?));
            }
            (11, Field::Bytes(b)) => {
                let (k, v) = map_entry(b, false)?;
                labels.insert(k, v);
            }
            (12, Field::Bytes(b)) => {
                let (k, v) = map_entry(b, false)?;
                annotations.insert(k, v);
            }
            (14, Field::Bytes(b)) => finalizers.push(json!(text(b)?)),
            _ => {}
        }
    }
    if !labels.is_empty() {
        m.insert("labels".into(), Value::Object(labels));
    }
    if !annotations.is_empty() {
        m.insert("annotations".into(), Value::Object(annotations));
    }
    if !finalizers.is_empty() {
        m.insert("finalizers".into(), Value::Array(finalizers));
    }
    Ok(Value::Object(m))
}

/// Decode a protobuf body for `kind` into JSON.
pub fn decode(kind: &str, api_version: &str, body: &[u8]) -> Result<Value, ApiError> {
    let unsupported = || {
        ApiError::unsupported_media_type(&["application/json", "application/yaml"]).with_message(
            format!("protobuf bodies for {kind} are not emulated; send application/json"),
        )
    };
    let inner = body.strip_prefix(b"k8s\0").ok_or_else(bad)?;
    let mut raw: Option<&[u8]> = None;
    for (num, f) in fields(inner)? {
        if let (2, Field::Bytes(b)) = (num, f) {
            raw = Some(b);
        }
    }
    let raw = raw.ok_or_else(bad)?;
    let mut obj = Map::new();
    obj.insert("apiVersion".into(), json!(api_version));
    obj.insert("kind".into(), json!(kind));
    let mut data = Map::new();
    let mut binary = Map::new();
    let mut string_data = Map::new();
    let mut secrets = Vec::new();
    let mut pull = Vec::new();
    for (num, f) in fields(raw)? {
        match (kind, num, f) {
            (_, 1, Field::Bytes(b)) => {
                obj.insert("metadata".into(), object_meta(b)?);
            }
            ("Namespace", 2, Field::Bytes(b)) => {
                let fins: Result<Vec<Value>, ApiError> = fields(b)?
                    .into_iter()
                    .filter_map(|(n, f)| match (n, f) {
                        (1, Field::Bytes(x)) => Some(text(x).map(Value::String)),
                        _ => None,
                    })
                    .collect();
                obj.insert("spec".into(), json!({"finalizers": fins?}));
            }
            ("ConfigMap", 2, Field::Bytes(b)) => {
                let (k, v) = map_entry(b, false)?;
                data.insert(k, v);
            }
            ("ConfigMap", 3, Field::Bytes(b)) => {
                let (k, v) = map_entry(b, true)?;
                binary.insert(k, v);
            }
            ("ConfigMap", 4, Field::Varint(v)) | ("Secret", 5, Field::Varint(v)) => {
                obj.insert("immutable".into(), json!(v != 0));
            }
            ("Secret", 2, Field::Bytes(b)) => {
                let (k, v) = map_entry(b, true)?;
                data.insert(k, v);
            }
            ("Secret", 3, Field::Bytes(b)) => {
                obj.insert("type".into(), json!(text(b)?));
            }
            ("Secret", 4, Field::Bytes(b)) => {
                let (k, v) = map_entry(b, false)?;
                string_data.insert(k, v);
            }
            ("ServiceAccount", 2, Field::Bytes(b)) => secrets.push(local_ref(b)?),
            ("ServiceAccount", 3, Field::Bytes(b)) => pull.push(local_ref(b)?),
            ("ServiceAccount", 4, Field::Varint(v)) => {
                obj.insert("automountServiceAccountToken".into(), json!(v != 0));
            }
            ("Namespace" | "ConfigMap" | "Secret" | "ServiceAccount", _, _) => {}
            _ => return Err(unsupported()),
        }
    }
    if !matches!(
        kind,
        "Namespace" | "ConfigMap" | "Secret" | "ServiceAccount"
    ) {
        return Err(unsupported());
    }
    for (key, m) in [
        ("data", data),
        ("binaryData", binary),
        ("stringData", string_data),
    ] {
        if !m.is_empty() {
            obj.insert(key.into(), Value::Object(m));
        }
    }
    if !secrets.is_empty() {
        obj.insert("secrets".into(), Value::Array(secrets));
    }
    if !pull.is_empty() {
        obj.insert("imagePullSecrets".into(), Value::Array(pull));
    }
    Ok(Value::Object(obj))
}

fn local_ref(b: &[u8]) -> Result<Value, ApiError> {
    let mut name = String::new();
    for (n, f) in fields(b)? {
        if let (1, Field::Bytes(x)) = (n, f) {
            name = text(x)?;
        }
    }
    Ok(json!({"name": name}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(num: u64, bytes: &[u8]) -> Vec<u8> {
        let mut out = vec![((num << 3) | 2) as u8, bytes.len() as u8];
        out.extend_from_slice(bytes);
        out
    }

    #[test]
    fn decodes_a_configmap_envelope() {
        let meta = field(1, b"cfg");
        let entry = [field(1, b"a"), field(2, b"1")].concat();
        let raw = [field(1, &meta), field(2, &entry)].concat();
        let body = [b"k8s\0".to_vec(), field(2, &raw)].concat();
        let v = decode("ConfigMap", "v1", &body).unwrap_or_default();
        assert_eq!(v["metadata"]["name"], "cfg");
        assert_eq!(v["data"]["a"], "1");
        assert!(decode("Job", "batch/v1", &body).is_err());
        assert!(decode("ConfigMap", "v1", b"nope").is_err());
    }
}
