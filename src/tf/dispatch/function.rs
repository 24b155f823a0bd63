//! CallFunction as the framework runs it: the call must match the
//! signature's arity; each argument is checked against Terraform's
//! promises (an unknown argument the function does not accept gives an
//! unknown result without a call; a null one it does not accept is an
//! error on that argument), so that a function can rely on them.

use super::registry::Dispatcher;
use crate::tf::function::{FunctionError, Parameter};
use crate::tf::types::Type;
use crate::tf::value::Value;

/// The outcome of a call that did not fail.
#[derive(Debug, Clone)]
pub struct Called<'a> {
    /// The result.
    pub value: Value,
    /// The function's return type, to send the result with.
    pub ty: &'a Type,
    /// True when the result is unknown because an argument was, and the
    /// function was not called.
    pub skipped: bool,
}

impl Dispatcher {
    /// Calls function `name` with `given` arguments; `argument(i, p)`
    /// reads argument `i` as parameter `p`, in order, stopping at the
    /// first one that fails a check.
    pub fn call_function(
        &self,
        name: &str,
        given: usize,
        mut argument: impl FnMut(usize, &Parameter) -> Result<Value, FunctionError>,
    ) -> Result<Called<'_>, FunctionError> {
        let entry = self.function(name)?;
        let signature = &entry.signature;
        let fixed = signature.parameters.len();
        if given < fixed || (given > fixed && signature.variadic_parameter.is_none()) {
            let names = signature
                .parameters
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            return Err(FunctionError::new(format!(
                "{name} takes {fixed} argument(s) ({names}), but the call passed {given}."
            )));
        }
        let mut args = Vec::with_capacity(given);
        for index in 0..given {
            let Some(param) = signature.parameter(index) else {
                return Err(FunctionError::new(format!(
                    "{name} has no parameter for argument {}.",
                    index + 1
                )));
            };
            let value = argument(index, param)?;
            if !param.allow_unknown_values && !value.is_wholly_known() {
                return Ok(Called {
                    value: Value::UNKNOWN,
                    ty: &signature.return_type,
                    skipped: true,
                });
            }
            if !param.allow_null_value && value.is_null() {
                return Err(FunctionError::argument(
                    index,
                    format!("Argument \"{}\" must not be null.", param.name),
                ));
            }
            args.push(value);
        }
        let value = entry.function.call(args)?;
        Ok(Called {
            value,
            ty: &signature.return_type,
            skipped: false,
        })
    }
}
