//! msgpack codec (Terraform's wire format for values), as cty's msgpack
//! package defines it.
//!
//! - null is nil; an unknown is an extension. A plain unknown is written
//!   as fixext1 type 0 with payload 0; a refined unknown is extension 12
//!   whose payload is a map of refinements, kept as raw bytes and written
//!   back unchanged (or dropped when it cannot apply to the type, never
//!   invented). Any extension decodes as unknown.
//! - numbers are ints when they are integers that fit 64 bits, floats when a
//!   float holds them exactly, otherwise strings in plain decimal notation.
//! - lists, sets and tuples are arrays; maps and objects are maps with string
//!   keys; an object is written with every attribute of its type, in name order.
//! - a known value of a dynamic attribute is the array `[type JSON as bin,
//!   value]`; a null or unknown one is written bare.
//!
//! Decoding never panics: lengths are checked against the input before
//! anything is allocated, and nesting depth is limited.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use super::codec::{Fault, Step, check_depth, check_encodable, wrong_value};
use super::number::{exact_f64, from_f64_exact, parse_decimal, plain_text};
use super::{CodecError, Number, Value};
use crate::tf::types::Type;

/// Extension type of an unknown value that carries refinements.
const REFINED_UNKNOWN_EXT: i8 = 12;
/// Longest refinement payload kept. cty refuses larger ones as abusive.
const MAX_REFINEMENTS_LEN: usize = 1024;

/// Encodes `value` as msgpack according to `ty`.
pub fn encode(value: &Value, ty: &Type) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::new();
    encode_value(&mut out, value, ty, 0).map_err(|f| f.into_error("msgpack"))?;
    Ok(out)
}

/// Decodes msgpack `bytes` according to `ty`.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, CodecError> {
    let mut reader = Reader { bytes, pos: 0 };
    let value = decode_value(&mut reader, ty, 0).map_err(|f| f.into_error("msgpack"))?;
    let trailing = reader.remaining();
    if trailing != 0 {
        return Err(
            Fault::malformed(format!("{trailing} unexpected bytes after the value"))
                .into_error("msgpack"),
        );
    }
    Ok(value)
}

// ---------------------------------------------------------------------------
// Encoding

fn encode_value(out: &mut Vec<u8>, value: &Value, ty: &Type, depth: usize) -> Result<(), Fault> {
    check_depth(depth)?;
    // From here on, tuples have the right length and objects no extra
    // attributes.
    check_encodable(ty, value)?;
    match (ty, value) {
        (_, Value::Null) => out.push(0xc0),
        (_, Value::Unknown(refinements)) => write_unknown(out, refinements.as_deref(), ty),
        (Type::Dynamic, Value::Dynamic(Type::Dynamic, inner)) => {
            // A "dynamic" concrete type says nothing: write the inner value as is.
            encode_value(out, inner, ty, depth + 1)?;
        }
        (Type::Dynamic, Value::Dynamic(concrete, inner)) => {
            write_array_len(out, 2)?;
            write_bin(out, &concrete.to_json_bytes())?;
            encode_value(out, inner, concrete, depth + 1)?;
        }
        // A value already tagged with exactly the expected type.
        (_, Value::Dynamic(concrete, inner)) if concrete == ty => {
            encode_value(out, inner, ty, depth)?;
        }
        (Type::String, Value::String(s)) => write_str(out, s)?,
        (Type::Number, Value::Number(n)) => write_number(out, n)?,
        (Type::Bool, Value::Bool(b)) => out.push(if *b { 0xc3 } else { 0xc2 }),
        (Type::List(elem), Value::List(items)) | (Type::Set(elem), Value::Set(items)) => {
            write_array_len(out, items.len())?;
            for (i, item) in items.iter().enumerate() {
                encode_value(out, item, elem, depth + 1).map_err(|f| f.at(Step::Index(i)))?;
            }
        }
        (Type::Tuple(elems), Value::Tuple(items)) => {
            write_array_len(out, items.len())?;
            for (i, (item, elem)) in items.iter().zip(elems).enumerate() {
                encode_value(out, item, elem, depth + 1).map_err(|f| f.at(Step::Index(i)))?;
            }
        }
        (Type::Map(elem), Value::Map(entries)) => {
            write_map_len(out, entries.len())?;
            for (key, item) in entries {
                write_str(out, key)?;
                encode_value(out, item, elem, depth + 1)
                    .map_err(|f| f.at(Step::Key(key.clone())))?;
            }
        }
        (Type::Object(attrs), Value::Object(entries)) => {
            write_map_len(out, attrs.len())?;
            for (name, attr_ty) in attrs {
                write_str(out, name)?;
                let item = entries.get(name).unwrap_or(&Value::Null);
                encode_value(out, item, attr_ty, depth + 1)
                    .map_err(|f| f.at(Step::Attr(name.clone())))?;
            }
        }
        (_, other) => return Err(wrong_value(ty, other)),
    }
    Ok(())
}

/// A refined unknown keeps its refinements when they still apply to `ty`;
/// otherwise it becomes a plain unknown (refinements may be lost, never made up).
fn write_unknown(out: &mut Vec<u8>, refinements: Option<&[u8]>, ty: &Type) {
    match refinements {
        Some(payload) if refinements_fit(payload, ty) => {
            // The header form cty's encoder picks; refinements_fit bounds the
            // length to MAX_REFINEMENTS_LEN, so 16 bits always suffice.
            let len = u16::try_from(payload.len()).unwrap_or(u16::MAX);
            match len {
                2 => out.push(0xd5),
                4 => out.push(0xd6),
                8 => out.push(0xd7),
                16 => out.push(0xd8),
                _ => match u8::try_from(len) {
                    Ok(len8) => out.extend_from_slice(&[0xc7, len8]),
                    Err(_) => {
                        out.push(0xc8);
                        out.extend_from_slice(&len.to_be_bytes());
                    }
                },
            }
            out.extend_from_slice(&REFINED_UNKNOWN_EXT.to_be_bytes());
            out.extend_from_slice(payload);
        }
        _ => out.extend_from_slice(&[0xd4, 0, 0]),
    }
}

fn write_number(out: &mut Vec<u8>, n: &Number) -> Result<(), Fault> {
    if let Some(i) = n.as_i64() {
        write_int(out, i);
    } else if let Some(u) = n.as_u64() {
        write_uint(out, u);
    } else if let Some(f) = exact_f64(n) {
        out.push(0xcb);
        out.extend_from_slice(&f.to_bits().to_be_bytes());
    } else {
        // Too large or too precise for 64 bits: cty's decimal string form.
        write_str(out, &plain_text(n).map_err(Fault::malformed)?)?;
    }
    Ok(())
}

fn write_int(out: &mut Vec<u8>, i: i64) {
    if let Ok(u) = u64::try_from(i) {
        return write_uint(out, u);
    }
    if i >= -32 {
        out.extend_from_slice(&(i as i8).to_be_bytes());
    } else if let Ok(v) = i8::try_from(i) {
        out.push(0xd0);
        out.extend_from_slice(&v.to_be_bytes());
    } else if let Ok(v) = i16::try_from(i) {
        out.push(0xd1);
        out.extend_from_slice(&v.to_be_bytes());
    } else if let Ok(v) = i32::try_from(i) {
        out.push(0xd2);
        out.extend_from_slice(&v.to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&i.to_be_bytes());
    }
}

fn write_uint(out: &mut Vec<u8>, u: u64) {
    if u < 0x80 {
        out.push(u as u8);
    } else if let Ok(v) = u8::try_from(u) {
        out.extend_from_slice(&[0xcc, v]);
    } else if let Ok(v) = u16::try_from(u) {
        out.push(0xcd);
        out.extend_from_slice(&v.to_be_bytes());
    } else if let Ok(v) = u32::try_from(u) {
        out.push(0xce);
        out.extend_from_slice(&v.to_be_bytes());
    } else {
        out.push(0xcf);
        out.extend_from_slice(&u.to_be_bytes());
    }
}

/// Writes a length-prefixed item: `fix` when the length fits `fix_max`,
/// otherwise the 8-bit (when `m8` exists), 16-bit or 32-bit form.
fn write_len(
    out: &mut Vec<u8>,
    len: usize,
    fix: Option<(u8, usize)>,
    m8: Option<u8>,
    m16: u8,
    m32: u8,
) -> Result<(), Fault> {
    if let Some((base, max)) = fix
        && len <= max
    {
        out.push(base | len as u8);
    } else if let (Some(m8), Ok(v)) = (m8, u8::try_from(len)) {
        out.extend_from_slice(&[m8, v]);
    } else if let Ok(v) = u16::try_from(len) {
        out.push(m16);
        out.extend_from_slice(&v.to_be_bytes());
    } else if let Ok(v) = u32::try_from(len) {
        out.push(m32);
        out.extend_from_slice(&v.to_be_bytes());
    } else {
        return Err(Fault::malformed(format!(
            "{len} is too long for msgpack (at most 2^32-1)"
        )));
    }
    Ok(())
}

fn write_str(out: &mut Vec<u8>, s: &str) -> Result<(), Fault> {
    write_len(out, s.len(), Some((0xa0, 31)), Some(0xd9), 0xda, 0xdb)?;
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

fn write_bin(out: &mut Vec<u8>, b: &[u8]) -> Result<(), Fault> {
    write_len(out, b.len(), None, Some(0xc4), 0xc5, 0xc6)?;
    out.extend_from_slice(b);
    Ok(())
}

fn write_array_len(out: &mut Vec<u8>, len: usize) -> Result<(), Fault> {
    write_len(out, len, Some((0x90, 15)), None, 0xdc, 0xdd)
}

fn write_map_len(out: &mut Vec<u8>, len: usize) -> Result<(), Fault> {
    write_len(out, len, Some((0x80, 15)), None, 0xde, 0xdf)
}

// ---------------------------------------------------------------------------
// Decoding

/// A cursor over the input; every read is bounds-checked.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

/// One msgpack item as read from its header. Strings, binaries and
/// extensions are borrowed from the input; arrays and maps carry only their
/// length, their contents follow.
enum Head<'a> {
    Nil,
    Bool(bool),
    Uint(u64),
    Int(i64),
    Float(f64),
    Str(&'a [u8]),
    Bin(&'a [u8]),
    Array(usize),
    Map(usize),
    Ext(i8, &'a [u8]),
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Fault> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|end| *end <= self.bytes.len());
        match end {
            Some(end) => {
                let slice = &self.bytes[self.pos..end];
                self.pos = end;
                Ok(slice)
            }
            None => Err(Fault::malformed(format!(
                "unexpected end of input: {n} more bytes needed at offset {}, {} left",
                self.pos,
                self.remaining()
            ))),
        }
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], Fault> {
        let mut buf = [0u8; N];
        buf.copy_from_slice(self.take(N)?);
        Ok(buf)
    }

    fn u8(&mut self) -> Result<u8, Fault> {
        Ok(self.array::<1>()?[0])
    }

    fn len(&mut self, width: usize) -> Result<usize, Fault> {
        let n = match width {
            1 => u64::from(self.u8()?),
            2 => u64::from(u16::from_be_bytes(self.array()?)),
            _ => u64::from(u32::from_be_bytes(self.array()?)),
        };
        usize::try_from(n).map_err(|_| Fault::malformed("length does not fit this platform"))
    }

    fn ext(&mut self, len: usize) -> Result<Head<'a>, Fault> {
        let code = i8::from_be_bytes(self.array()?);
        Ok(Head::Ext(code, self.take(len)?))
    }

    fn head(&mut self) -> Result<Head<'a>, Fault> {
        let marker = self.u8()?;
        Ok(match marker {
            0x00..=0x7f => Head::Uint(u64::from(marker)),
            0x80..=0x8f => Head::Map(usize::from(marker & 0x0f)),
            0x90..=0x9f => Head::Array(usize::from(marker & 0x0f)),
            0xa0..=0xbf => {
                let len = usize::from(marker & 0x1f);
                Head::Str(self.take(len)?)
            }
            0xc0 => Head::Nil,
            0xc1 => return Err(Fault::malformed("reserved msgpack marker 0xc1")),
            0xc2 => Head::Bool(false),
            0xc3 => Head::Bool(true),
            0xc4..=0xc6 => {
                let len = self.len(1 << (marker - 0xc4))?;
                Head::Bin(self.take(len)?)
            }
            0xc7..=0xc9 => {
                let len = self.len(1 << (marker - 0xc7))?;
                self.ext(len)?
            }
            0xca => Head::Float(f64::from(f32::from_be_bytes(self.array()?))),
            0xcb => Head::Float(f64::from_be_bytes(self.array()?)),
            0xcc => Head::Uint(u64::from(self.u8()?)),
            0xcd => Head::Uint(u64::from(u16::from_be_bytes(self.array()?))),
            0xce => Head::Uint(u64::from(u32::from_be_bytes(self.array()?))),
            0xcf => Head::Uint(u64::from_be_bytes(self.array()?)),
            0xd0 => Head::Int(i64::from(i8::from_be_bytes(self.array()?))),
            0xd1 => Head::Int(i64::from(i16::from_be_bytes(self.array()?))),
            0xd2 => Head::Int(i64::from(i32::from_be_bytes(self.array()?))),
            0xd3 => Head::Int(i64::from_be_bytes(self.array()?)),
            0xd4..=0xd8 => self.ext(1 << (marker - 0xd4))?,
            0xd9..=0xdb => {
                let len = self.len(1 << (marker - 0xd9))?;
                Head::Str(self.take(len)?)
            }
            0xdc | 0xdd => Head::Array(self.len(if marker == 0xdc { 2 } else { 4 })?),
            0xde | 0xdf => Head::Map(self.len(if marker == 0xde { 2 } else { 4 })?),
            0xe0..=0xff => Head::Int(i64::from(i8::from_be_bytes([marker]))),
        })
    }

    /// A map key or string value: str (or, tolerantly, bin) holding UTF-8.
    fn string(&mut self) -> Result<Result<&'a str, &'static str>, Fault> {
        Ok(match self.head()? {
            Head::Str(b) | Head::Bin(b) => match std::str::from_utf8(b) {
                Ok(s) => Ok(s),
                Err(_) => return Err(Fault::malformed("string is not valid UTF-8")),
            },
            other => Err(describe_head(&other)),
        })
    }

    /// Skips one complete item (used for refinements we do not interpret).
    fn skip(&mut self, depth: usize) -> Result<(), Fault> {
        check_depth(depth)?;
        match self.head()? {
            Head::Array(n) => {
                for _ in 0..n {
                    self.skip(depth + 1)?;
                }
            }
            Head::Map(n) => {
                for _ in 0..n {
                    self.skip(depth + 1)?;
                    self.skip(depth + 1)?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

fn describe_head(head: &Head<'_>) -> &'static str {
    match head {
        Head::Nil => "nil",
        Head::Bool(_) => "a bool",
        Head::Uint(_) | Head::Int(_) => "an integer",
        Head::Float(_) => "a float",
        Head::Str(_) => "a string",
        Head::Bin(_) => "binary data",
        Head::Array(_) => "an array",
        Head::Map(_) => "a map",
        Head::Ext(..) => "an extension",
    }
}

/// Room for at most this many items: each takes at least one byte, so a
/// length header cannot make us allocate more than the input could hold.
fn capacity(claimed: usize, reader: &Reader<'_>) -> usize {
    claimed.min(reader.remaining())
}

fn decode_value(r: &mut Reader<'_>, ty: &Type, depth: usize) -> Result<Value, Fault> {
    check_depth(depth)?;
    let head = r.head()?;
    // Like cty: any extension is an unknown, and nil is null, whatever the type.
    match head {
        Head::Ext(code, payload) => return Ok(Value::Unknown(kept_refinements(code, payload, ty))),
        Head::Nil => return Ok(Value::Null),
        _ => {}
    }
    let found = describe_head(&head);
    let mismatch = |what: &str| Fault::mismatch(ty, format!("expected {what}, found {found}"));
    match ty {
        Type::Dynamic => decode_dynamic(r, head, depth),
        Type::String => match head {
            Head::Str(b) | Head::Bin(b) => match std::str::from_utf8(b) {
                Ok(s) => Ok(Value::String(s.to_owned())),
                Err(_) => Err(Fault::malformed("string is not valid UTF-8")),
            },
            _ => Err(mismatch("a string")),
        },
        Type::Number => match head {
            Head::Uint(u) => Ok(Value::Number(Number::from(u))),
            Head::Int(i) => Ok(Value::Number(Number::from(i))),
            Head::Float(f) => match from_f64_exact(f) {
                Some(n) => Ok(Value::Number(n)),
                None => Err(Fault::mismatch(ty, format!("{f} is not a finite number"))),
            },
            Head::Str(b) | Head::Bin(b) => {
                let text = std::str::from_utf8(b)
                    .map_err(|_| Fault::malformed("number string is not valid UTF-8"))?;
                parse_decimal(text)
                    .map(Value::Number)
                    .map_err(|e| Fault::mismatch(ty, e))
            }
            _ => Err(mismatch("a number")),
        },
        Type::Bool => match head {
            Head::Bool(b) => Ok(Value::Bool(b)),
            _ => Err(mismatch("a bool")),
        },
        Type::List(elem) | Type::Set(elem) => {
            let Head::Array(n) = head else {
                return Err(mismatch("an array"));
            };
            let mut items = Vec::with_capacity(capacity(n, r));
            for i in 0..n {
                items.push(decode_value(r, elem, depth + 1).map_err(|f| f.at(Step::Index(i)))?);
            }
            Ok(if matches!(ty, Type::Set(_)) {
                Value::Set(items)
            } else {
                Value::List(items)
            })
        }
        Type::Tuple(elems) => {
            let Head::Array(n) = head else {
                return Err(mismatch("an array"));
            };
            if n != elems.len() {
                return Err(Fault::mismatch(
                    ty,
                    format!("expected {} tuple elements, found {n}", elems.len()),
                ));
            }
            let mut items = Vec::with_capacity(n);
            for (i, elem) in elems.iter().enumerate() {
                items.push(decode_value(r, elem, depth + 1).map_err(|f| f.at(Step::Index(i)))?);
            }
            Ok(Value::Tuple(items))
        }
        Type::Map(elem) => {
            let Head::Map(n) = head else {
                return Err(mismatch("a map"));
            };
            let mut entries = BTreeMap::new();
            for _ in 0..n {
                let key = r.string()?.map_err(|found| {
                    Fault::malformed(format!("map keys must be strings, found {found}"))
                })?;
                let item = decode_value(r, elem, depth + 1)
                    .map_err(|f| f.at(Step::Key(key.to_owned())))?;
                match entries.entry(key.to_owned()) {
                    Entry::Vacant(slot) => {
                        slot.insert(item);
                    }
                    Entry::Occupied(_) => {
                        return Err(
                            Fault::malformed("duplicate map key").at(Step::Key(key.to_owned()))
                        );
                    }
                }
            }
            Ok(Value::Map(entries))
        }
        Type::Object(attrs) => {
            let Head::Map(n) = head else {
                return Err(mismatch("a map (object)"));
            };
            let mut entries = BTreeMap::new();
            for _ in 0..n {
                let name = r.string()?.map_err(|found| {
                    Fault::malformed(format!("attribute names must be strings, found {found}"))
                })?;
                let step = || Step::Attr(name.to_owned());
                let Some(attr_ty) = attrs.get(name) else {
                    return Err(Fault::no_such_attribute(ty, name.to_owned()));
                };
                let item = decode_value(r, attr_ty, depth + 1).map_err(|f| f.at(step()))?;
                if entries.insert(name.to_owned(), item).is_some() {
                    return Err(Fault::malformed("duplicate attribute").at(step()));
                }
            }
            // Attributes left out are null.
            for name in attrs.keys() {
                if !entries.contains_key(name) {
                    entries.insert(name.clone(), Value::Null);
                }
            }
            Ok(Value::Object(entries))
        }
    }
}

/// `[type JSON, value]`: the concrete type travels with the value.
fn decode_dynamic(r: &mut Reader<'_>, head: Head<'_>, depth: usize) -> Result<Value, Fault> {
    let Head::Array(2) = head else {
        return Err(Fault::mismatch(
            &Type::Dynamic,
            format!(
                "expected a [type, value] array, found {}",
                match head {
                    Head::Array(n) => format!("an array of {n}"),
                    other => describe_head(&other).to_owned(),
                }
            ),
        ));
    };
    let type_json = match r.head()? {
        Head::Bin(b) | Head::Str(b) => b,
        other => {
            return Err(Fault::malformed(format!(
                "a dynamic value's type must be JSON in bin or str, found {}",
                describe_head(&other)
            )));
        }
    };
    let concrete = Type::from_json_bytes(type_json)
        .map_err(|e| Fault::malformed(format!("a dynamic value's type: {e}")))?;
    let inner = decode_value(r, &concrete, depth + 1)?;
    Ok(match concrete {
        // Already null, unknown or enveloped itself.
        Type::Dynamic => inner,
        concrete => Value::Dynamic(concrete, Box::new(inner)),
    })
}

/// The refinement payload to keep for an unknown, if any: only extension 12
/// with a payload that applies to `ty`. Everything else is a plain unknown.
fn kept_refinements(code: i8, payload: &[u8], ty: &Type) -> Option<Vec<u8>> {
    (code == REFINED_UNKNOWN_EXT && refinements_fit(payload, ty)).then(|| payload.to_vec())
}

/// Whether `payload` is a refinement map Terraform would accept for `ty`:
/// 1 nullness (bool, any type), 2 string prefix (strings), 3/4 number bounds
/// (`[number, bool]`, numbers), 5/6 length bounds (int, collections).
/// Unknown keys are allowed, as cty allows them. Dynamic values carry no
/// refinements.
fn refinements_fit(payload: &[u8], ty: &Type) -> bool {
    if payload.len() <= 1 || payload.len() > MAX_REFINEMENTS_LEN || *ty == Type::Dynamic {
        return false;
    }
    let r = &mut Reader {
        bytes: payload,
        pos: 0,
    };
    let check = |r: &mut Reader<'_>| -> Result<bool, Fault> {
        let Head::Map(n) = r.head()? else {
            return Ok(false);
        };
        for _ in 0..n {
            let key = match r.head()? {
                Head::Uint(k) => Some(k),
                Head::Int(k) => u64::try_from(k).ok(),
                _ => return Ok(false),
            };
            let fits = match key {
                Some(1) => matches!(r.head()?, Head::Bool(_)),
                Some(2) => *ty == Type::String && r.string()?.is_ok(),
                Some(3 | 4) => *ty == Type::Number && number_bound_fits(r)?,
                Some(5 | 6) => {
                    matches!(ty, Type::List(_) | Type::Set(_) | Type::Map(_))
                        && matches!(r.head()?, Head::Uint(_) | Head::Int(_))
                }
                _ => {
                    r.skip(0)?;
                    true
                }
            };
            if !fits {
                return Ok(false);
            }
        }
        // Trailing bytes are allowed: cty reserves them for later use.
        Ok(true)
    };
    matches!(check(r), Ok(true))
}

/// A number bound refinement: `[number, inclusive]`, the number in any of
/// the forms a number value may take.
fn number_bound_fits(r: &mut Reader<'_>) -> Result<bool, Fault> {
    if !matches!(r.head()?, Head::Array(2)) {
        return Ok(false);
    }
    let number = match r.head()? {
        Head::Uint(_) | Head::Int(_) => true,
        // Some cty versions write an open bound as an infinity.
        Head::Float(f) => !f.is_nan(),
        Head::Str(b) => std::str::from_utf8(b).is_ok_and(|s| parse_decimal(s).is_ok()),
        _ => false,
    };
    Ok(number && matches!(r.head()?, Head::Bool(_)))
}

#[cfg(test)]
#[path = "msgpack_tests.rs"]
mod tests;
