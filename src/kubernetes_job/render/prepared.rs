//! The one way from a Terraform value to the objects it stands for:
//! [`from_value`] reads a plan or state as the typed model and the
//! resource's own settings and renders it. Plan and validation let only
//! known, valid values through, so a failure is always the provider's bug;
//! [`PrepareError::report`] says so the same way wherever it happens.

use crate::kubernetes_job::model::options::Options;
use crate::kubernetes_job::model::spec::{KubernetesJob, ShapeError};
use crate::tf::{Diagnostics, Value};

use super::error::RenderError;
use super::job::render;
use super::objects::Rendered;

/// A plan or state read and rendered.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The typed model of `metadata` and `spec`.
    pub model: KubernetesJob,
    /// The resource's own settings.
    pub options: Options,
    /// The objects the value stands for.
    pub rendered: Rendered,
}

/// Why a value could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrepareError {
    /// The value does not have the schema's shape.
    #[error(transparent)]
    Shape(ShapeError),
    /// A value rendering needs is unknown, not set or out of range.
    #[error(transparent)]
    Render(RenderError),
}

impl PrepareError {
    /// Reports the error as the provider bug it is. `value` names what was
    /// read in a sentence ("the planned state"), `title` in a summary
    /// ("Planned State").
    pub fn report(&self, value: &str, title: &str, d: &mut Diagnostics) {
        match self {
            PrepareError::Shape(e) => d.provider_bug(
                None,
                format!("Unexpected {title}"),
                format!("While reading {value}: {e}."),
            ),
            PrepareError::Render(e) => d.provider_bug(
                Some(e.path.clone()),
                format!("Value Not Known In {title}"),
                format!(
                    "While rendering the Kubernetes objects of {value}, {e}. Terraform resolves every value \
                     before it applies."
                ),
            ),
        }
    }
}

/// Reads `value` (a plan or state) and renders every object it manages.
pub fn from_value(value: &Value) -> Result<Prepared, PrepareError> {
    let model = KubernetesJob::from_value(value).map_err(PrepareError::Shape)?;
    let options = Options::from_value(value);
    let rendered = render(&model, &options).map_err(PrepareError::Render)?;
    Ok(Prepared {
        model,
        options,
        rendered,
    })
}
