//! msgpack codec (Terraform's wire format for values).

use super::{CodecError, Value};
use crate::tf::types::Type;

/// Encodes `value` as msgpack according to `ty`.
pub fn encode(value: &Value, ty: &Type) -> Result<Vec<u8>, CodecError> {
    let _ = (value, ty);
    Err(CodecError::Malformed { format: "msgpack", path: String::new(), message: "not implemented".into() })
}

/// Decodes msgpack `bytes` according to `ty`.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, CodecError> {
    let _ = (bytes, ty);
    Err(CodecError::Malformed { format: "msgpack", path: String::new(), message: "not implemented".into() })
}
