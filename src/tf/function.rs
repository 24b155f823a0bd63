//! Provider-defined functions (Terraform 1.8+), called in configuration as
//! `provider::<provider>::<name>(...)`.
//!
//! A function is pure: the same arguments always give the same result, and
//! it needs neither the provider's configuration nor the network (Terraform
//! calls functions on a provider instance it has not configured, also during
//! `terraform validate`).

use super::types::Type;
use super::value::Value;

/// One parameter of a function.
#[derive(Debug, Clone)]
pub struct Parameter {
    /// The name, shown in docs and in Terraform's messages (arguments are
    /// positional).
    pub name: String,
    /// The type Terraform converts the argument to; [`Type::Dynamic`] takes
    /// any value, which then arrives as [`Value::Dynamic`] with its type.
    pub ty: Type,
    /// Markdown description.
    pub description: String,
    /// Whether the argument may be null. When false, Terraform refuses a
    /// null argument before calling the function.
    pub allow_null_value: bool,
    /// Whether the argument may be (or contain) unknown values. When false,
    /// Terraform does not call the function while the argument is not wholly
    /// known, and takes an unknown value of the return type as the result.
    pub allow_unknown_values: bool,
}

impl Parameter {
    /// A parameter that takes neither null nor unknown values.
    pub fn new(name: &str, ty: Type, description: &str) -> Self {
        Parameter {
            name: name.to_string(),
            ty,
            description: description.to_string(),
            allow_null_value: false,
            allow_unknown_values: false,
        }
    }

    /// Lets the function see unknown values in this argument.
    pub fn allow_unknown_values(mut self) -> Self {
        self.allow_unknown_values = true;
        self
    }

    /// Lets the argument be null.
    pub fn allow_null_value(mut self) -> Self {
        self.allow_null_value = true;
        self
    }
}

/// What a function declares: its documentation and its signature.
#[derive(Debug, Clone)]
pub struct Signature {
    /// One line, plain text.
    pub summary: String,
    /// Markdown description.
    pub description: String,
    /// The positional parameters.
    pub parameters: Vec<Parameter>,
    /// A parameter that takes any number of further arguments.
    pub variadic_parameter: Option<Parameter>,
    /// The type of the result; [`Type::Dynamic`] lets each call choose (the
    /// result is then a [`Value::Dynamic`]).
    pub return_type: Type,
    /// Deprecation message; empty when not deprecated.
    pub deprecation: String,
}

impl Signature {
    /// The parameter that argument `index` is passed to.
    pub fn parameter(&self, index: usize) -> Option<&Parameter> {
        self.parameters
            .get(index)
            .or(self.variadic_parameter.as_ref())
    }
}

/// Why a call failed. Terraform shows `text` as the error, pointing at the
/// argument when `argument` names one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text}")]
pub struct FunctionError {
    /// What is wrong, written for the person who wrote the call.
    pub text: String,
    /// The position (from 0) of the argument at fault, if one is.
    pub argument: Option<usize>,
}

impl FunctionError {
    /// An error about the call as a whole.
    pub fn new(text: impl Into<String>) -> Self {
        FunctionError {
            text: text.into(),
            argument: None,
        }
    }

    /// An error about the argument at `index`.
    pub fn argument(index: usize, text: impl Into<String>) -> Self {
        FunctionError {
            text: text.into(),
            argument: Some(index),
        }
    }
}

/// A provider-defined function.
pub trait Function: Send + Sync {
    /// The name, as called after `provider::<provider>::`.
    fn name(&self) -> &'static str;

    /// Documentation and signature.
    fn signature(&self) -> Signature;

    /// Runs the function. `args` holds one value per argument, each decoded
    /// by its parameter's type; there are exactly as many as there are
    /// parameters, plus any variadic ones. A null or unknown argument
    /// arrives only where its parameter allows it. A result that is not
    /// of the return type is a provider bug that the caller reports.
    fn call(&self, args: Vec<Value>) -> Result<Value, FunctionError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signature(variadic: bool) -> Signature {
        Signature {
            summary: "s".into(),
            description: "d".into(),
            parameters: vec![
                Parameter::new("a", Type::String, "A."),
                Parameter::new("b", Type::Number, "B."),
            ],
            variadic_parameter: variadic.then(|| Parameter::new("rest", Type::Bool, "More.")),
            return_type: Type::String,
            deprecation: String::new(),
        }
    }

    #[test]
    fn arguments_past_the_parameters_go_to_the_variadic_one() {
        let fixed = signature(false);
        assert_eq!(fixed.parameter(1).map(|p| p.name.as_str()), Some("b"));
        assert!(fixed.parameter(2).is_none());
        let variadic = signature(true);
        assert_eq!(variadic.parameter(0).map(|p| p.name.as_str()), Some("a"));
        assert_eq!(variadic.parameter(5).map(|p| p.name.as_str()), Some("rest"));
    }

    #[test]
    fn parameters_refuse_null_and_unknown_unless_allowed() {
        let p = Parameter::new("x", Type::Dynamic, "X.");
        assert!(!p.allow_null_value && !p.allow_unknown_values);
        let p = p.allow_unknown_values().allow_null_value();
        assert!(p.allow_null_value && p.allow_unknown_values);
    }

    #[test]
    fn errors_name_their_argument_only_when_asked() {
        assert_eq!(FunctionError::new("bad").argument, None);
        let e = FunctionError::argument(1, "bad b");
        assert_eq!(e.argument, Some(1));
        assert_eq!(e.to_string(), "bad b");
    }
}
