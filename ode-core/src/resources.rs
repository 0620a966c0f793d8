//! What the engine asks of its surroundings: fonts and asset bytes.
//!
//! The engine never opens files or sockets. A caller implements [`Resources`] (the SDK
//! reads a directory, the service a blob store, the browser build a map of uploads) and
//! passes it to each render.

use std::collections::BTreeMap;
use std::fmt;

use crate::text::{Bytes, FontBook};

/// Everything the engine may ask of its surroundings.
///
/// It is `Sync` because the SVG parser asks for the assets an SVG image refers to from
/// callbacks that must be.
pub trait Resources: Sync {
    /// The fonts a document may use.
    fn fonts(&self) -> &FontBook;
    /// The bytes of an asset (an image) by the key the document uses.
    ///
    /// # Errors
    /// [`AssetError`] when the asset cannot be provided.
    fn asset(&self, key: &str) -> Result<Bytes, AssetError>;
}

/// Why an asset could not be provided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssetError {
    /// No asset has this key.
    NotFound,
    /// The key is not allowed (for example a path outside the document's folder).
    Denied(String),
    /// Reading it failed.
    Failed(String),
}

impl fmt::Display for AssetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AssetError::NotFound => f.write_str("not found"),
            AssetError::Denied(why) => write!(f, "not allowed: {why}"),
            AssetError::Failed(why) => write!(f, "could not be read: {why}"),
        }
    }
}

impl std::error::Error for AssetError {}

/// A font book alone serves documents without images.
impl Resources for FontBook {
    fn fonts(&self) -> &FontBook {
        self
    }
    fn asset(&self, _key: &str) -> Result<Bytes, AssetError> {
        Err(AssetError::NotFound)
    }
}

/// Fonts plus assets held in memory.
#[derive(Debug, Clone, Default)]
pub struct MemoryResources {
    /// The fonts.
    pub fonts: FontBook,
    /// Assets by key.
    pub assets: BTreeMap<String, Bytes>,
}

impl MemoryResources {
    /// With the given fonts and no assets.
    pub fn new(fonts: FontBook) -> Self {
        MemoryResources {
            fonts,
            assets: BTreeMap::new(),
        }
    }

    /// Adds an asset.
    pub fn insert(&mut self, key: impl Into<String>, bytes: impl Into<Bytes>) {
        self.assets.insert(key.into(), bytes.into());
    }
}

impl Resources for MemoryResources {
    fn fonts(&self) -> &FontBook {
        &self.fonts
    }
    fn asset(&self, key: &str) -> Result<Bytes, AssetError> {
        self.assets.get(key).cloned().ok_or(AssetError::NotFound)
    }
}
