//! The checks of numbers and quantities that many rules share: a whole
//! number against its allowed range (`integer`, with the range and the
//! reason in an `IntRule`), and a Kubernetes quantity that must parse and
//! not be negative (`quantity`), returned for comparisons such as a
//! request against its limit.

use crate::kubernetes_job::model::quantity::Quantity;
use crate::kubernetes_job::model::spec::Field;
use crate::tf::{AttributePath, Diagnostics, Number};

use super::wording::{last_attribute, short};

/// The largest value of the 32-bit integers Kubernetes stores most counts in.
pub(super) const INT32_MAX: i64 = i32::MAX as i64;

/// A usable quantity and the text it was written as.
pub(super) type Parsed<'a> = Option<(Quantity, &'a str)>;

/// Parses a quantity attribute, reporting syntax errors and negative values;
/// returns the value and its text when it is usable for comparisons.
pub(super) fn quantity<'a>(
    field: &'a Field<String>,
    p: &AttributePath,
    allow_empty: bool,
    d: &mut Diagnostics,
) -> Parsed<'a> {
    let text = field.known()?;
    if text.is_empty() && allow_empty {
        return None;
    }
    let attr = last_attribute(p);
    match Quantity::parse(text) {
        Ok(q) if q.is_negative() => {
            d.attribute_error(
                p.clone(),
                "Negative Quantity",
                format!(
                    "`{attr}` is {text:?}. Kubernetes rejects negative resource quantities; use a value of 0 or \
                     more."
                ),
            );
            None
        }
        Ok(q) => Some((q, text.as_str())),
        Err(e) => {
            let hint = if text.is_empty() {
                " Leave the attribute out instead of setting it to an empty string."
            } else {
                ""
            };
            d.attribute_error(
                p.clone(),
                "Invalid Quantity",
                format!(
                    "`{attr}` is {text:?}, which is not a Kubernetes quantity: {e}. Examples: \"500m\" (half a \
                     CPU), \"2\", \"512Mi\", \"1Gi\", \"1e3\".{hint}"
                ),
            );
            None
        }
    }
}

/// A whole-number attribute's allowed range and why.
pub(super) struct IntRule {
    pub(super) summary: &'static str,
    pub(super) min: i64,
    pub(super) max: i64,
    pub(super) why: &'static str,
}

/// Checks a number against a rule; returns it when valid.
pub(super) fn integer(
    field: &Field<Number>,
    p: &AttributePath,
    rule: &IntRule,
    d: &mut Diagnostics,
) -> Option<i64> {
    let n = field.known()?;
    let value = n.as_i64().filter(|v| (rule.min..=rule.max).contains(v));
    if value.is_none() {
        d.attribute_error(
            p.clone(),
            rule.summary,
            format!(
                "`{}` is {}, but it must be a whole number from {} to {}: {}",
                last_attribute(p),
                short(&n.to_string()),
                rule.min,
                rule.max,
                rule.why
            ),
        );
    }
    value
}
