//! Schemas: what attributes a provider or resource has, their types, and how
//! they behave in a plan. Descriptions are Markdown written for users; the
//! docs are generated from them.

use super::types::Type;
use super::value::Value;

/// A versioned schema (the version is the state schema version).
#[derive(Debug, Clone, Default)]
pub struct Schema {
    /// State schema version, for UpgradeResourceState.
    pub version: i64,
    /// The root block.
    pub block: Block,
}

/// A block: attributes and nested blocks.
#[derive(Debug, Clone, Default)]
pub struct Block {
    /// Attributes, in the order they are documented.
    pub attributes: Vec<Attribute>,
    /// Nested blocks (we prefer nested attributes; kept for completeness).
    pub blocks: Vec<NestedBlock>,
    /// Markdown description.
    pub description: String,
    /// Deprecation message; empty when not deprecated.
    pub deprecation: String,
}

/// How a nested block or nested attribute repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nesting {
    /// One object.
    Single,
    /// A list of objects.
    List,
    /// A set of objects.
    Set,
    /// A map of objects.
    Map,
    /// Blocks only: like Single, but never null.
    Group,
}

/// A nested block type.
#[derive(Debug, Clone)]
pub struct NestedBlock {
    /// The block type name.
    pub type_name: String,
    /// Its content.
    pub block: Block,
    /// How it repeats.
    pub nesting: Nesting,
    /// Minimum number of blocks.
    pub min_items: i64,
    /// Maximum number of blocks (0 = no limit).
    pub max_items: i64,
}

/// The attributes of a nested attribute and how they repeat.
#[derive(Debug, Clone)]
pub struct NestedAttributes {
    /// How the nested object repeats (not Group).
    pub nesting: Nesting,
    /// The nested object's attributes.
    pub attributes: Vec<Attribute>,
}

/// What an attribute holds: a plain type or nested attributes.
#[derive(Debug, Clone)]
pub enum AttributeKind {
    /// A value of a cty type.
    Type(Type),
    /// An object (or collection of objects) with its own attribute schemas.
    Nested(NestedAttributes),
}

/// One attribute, with its plan behaviour.
#[derive(Debug, Clone)]
pub struct Attribute {
    /// The attribute name.
    pub name: String,
    /// Its type or nested attributes.
    pub kind: AttributeKind,
    /// Must be set in configuration.
    pub required: bool,
    /// May be set in configuration.
    pub optional: bool,
    /// The provider may set it.
    pub computed: bool,
    /// Hidden in plan output.
    pub sensitive: bool,
    /// Only in configuration, never in plan or state.
    pub write_only: bool,
    /// Markdown description.
    pub description: String,
    /// Deprecation message; empty when not deprecated.
    pub deprecation: String,
    /// Value planned when the configuration leaves the attribute null
    /// (requires `computed`).
    pub default: Option<Value>,
    /// A change of this attribute replaces the resource.
    pub requires_replace: bool,
    /// Plan the prior state's value instead of "known after apply".
    pub use_state_for_unknown: bool,
}

impl Attribute {
    fn new(name: &str, kind: AttributeKind, description: &str) -> Self {
        Attribute {
            name: name.to_string(),
            kind,
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            write_only: false,
            description: description.to_string(),
            deprecation: String::new(),
            default: None,
            requires_replace: false,
            use_state_for_unknown: false,
        }
    }

    /// A required attribute of a plain type.
    pub fn required(name: &str, ty: Type, description: &str) -> Self {
        let mut a = Self::new(name, AttributeKind::Type(ty), description);
        a.required = true;
        a
    }

    /// An optional attribute of a plain type.
    pub fn optional(name: &str, ty: Type, description: &str) -> Self {
        let mut a = Self::new(name, AttributeKind::Type(ty), description);
        a.optional = true;
        a
    }

    /// A computed (read-only) attribute of a plain type.
    pub fn computed(name: &str, ty: Type, description: &str) -> Self {
        let mut a = Self::new(name, AttributeKind::Type(ty), description);
        a.computed = true;
        a
    }

    /// A nested attribute; use `.required()`-style setters to choose presence.
    pub fn nested(
        name: &str,
        nesting: Nesting,
        attributes: Vec<Attribute>,
        description: &str,
    ) -> Self {
        Self::new(
            name,
            AttributeKind::Nested(NestedAttributes {
                nesting,
                attributes,
            }),
            description,
        )
    }

    /// Marks the attribute required.
    pub fn set_required(mut self) -> Self {
        self.required = true;
        self.optional = false;
        self
    }

    /// Marks the attribute optional.
    pub fn set_optional(mut self) -> Self {
        self.optional = true;
        self.required = false;
        self
    }

    /// Marks the attribute computed (with optional: the provider may fill it).
    pub fn set_computed(mut self) -> Self {
        self.computed = true;
        self
    }

    /// Optional + computed with a default planned when config is null.
    pub fn with_default(mut self, default: Value) -> Self {
        self.optional = true;
        self.required = false;
        self.computed = true;
        self.default = Some(default);
        self
    }

    /// Marks the attribute sensitive.
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    /// Marks the attribute write-only.
    pub fn write_only(mut self) -> Self {
        self.write_only = true;
        self
    }

    /// A change replaces the resource.
    pub fn requires_replace(mut self) -> Self {
        self.requires_replace = true;
        self
    }

    /// Keep the prior state's value instead of planning "known after apply".
    pub fn use_state_for_unknown(mut self) -> Self {
        self.use_state_for_unknown = true;
        self
    }

    /// Marks the attribute deprecated with a message.
    pub fn deprecated(mut self, message: &str) -> Self {
        self.deprecation = message.to_string();
        self
    }

    /// The cty type of the attribute's value.
    pub fn value_type(&self) -> Type {
        match &self.kind {
            AttributeKind::Type(t) => t.clone(),
            AttributeKind::Nested(n) => n.value_type(),
        }
    }
}

impl NestedAttributes {
    /// The cty type of the nested attribute's value.
    pub fn value_type(&self) -> Type {
        let object = Type::Object(
            self.attributes
                .iter()
                .map(|a| (a.name.clone(), a.value_type()))
                .collect(),
        );
        match self.nesting {
            Nesting::Single | Nesting::Group => object,
            Nesting::List => Type::list(object),
            Nesting::Set => Type::set(object),
            Nesting::Map => Type::map(object),
        }
    }
}

impl Block {
    /// A block from attributes.
    pub fn new(attributes: Vec<Attribute>, description: &str) -> Self {
        Block {
            attributes,
            blocks: Vec::new(),
            description: description.to_string(),
            deprecation: String::new(),
        }
    }

    /// The object type of the block's value.
    pub fn value_type(&self) -> Type {
        let mut attrs: std::collections::BTreeMap<String, Type> = self
            .attributes
            .iter()
            .map(|a| (a.name.clone(), a.value_type()))
            .collect();
        for b in &self.blocks {
            let object = b.block.value_type();
            let t = match b.nesting {
                Nesting::Single | Nesting::Group => object,
                Nesting::List => Type::list(object),
                Nesting::Set => Type::set(object),
                Nesting::Map => Type::map(object),
            };
            attrs.insert(b.type_name.clone(), t);
        }
        Type::Object(attrs)
    }

    /// The attribute named `name`.
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }
}

impl Schema {
    /// A version-0 schema from a root block.
    pub fn new(block: Block) -> Self {
        Schema { version: 0, block }
    }

    /// The object type of a value of this schema.
    pub fn value_type(&self) -> Type {
        self.block.value_type()
    }
}

/// A resource identity schema (Terraform 1.12+).
#[derive(Debug, Clone, Default)]
pub struct IdentitySchema {
    /// Identity schema version.
    pub version: i64,
    /// The identity attributes.
    pub attributes: Vec<IdentityAttribute>,
}

impl IdentitySchema {
    /// The object type of an identity value.
    pub fn value_type(&self) -> Type {
        Type::Object(
            self.attributes
                .iter()
                .map(|a| (a.name.clone(), a.ty.clone()))
                .collect(),
        )
    }
}

/// One identity attribute.
#[derive(Debug, Clone)]
pub struct IdentityAttribute {
    /// Name.
    pub name: String,
    /// Type.
    pub ty: Type,
    /// Required in an import block's identity.
    pub required_for_import: bool,
    /// Optional in an import block's identity.
    pub optional_for_import: bool,
    /// Description.
    pub description: String,
}
