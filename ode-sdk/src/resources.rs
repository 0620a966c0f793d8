//! Fonts plus images read from a folder.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use ode_core::text::{Bytes, FontBook};
use ode_core::{AssetError, Resources};

/// Serves image keys as files under a root folder. Keys are relative paths; absolute
/// paths and `..` are refused so that a document cannot read outside its folder.
#[derive(Debug, Clone)]
pub struct DirResources {
    fonts: FontBook,
    root: Option<PathBuf>,
    /// Assets held in memory, looked up before the folder.
    memory: Option<Arc<BTreeMap<String, Bytes>>>,
}

impl DirResources {
    /// Fonts, and the folder images are read from (none: every image is missing).
    pub fn new(fonts: FontBook, root: Option<PathBuf>) -> Self {
        DirResources {
            fonts,
            root,
            memory: None,
        }
    }

    /// Assets held in memory (keyed by the `src` documents use), looked up before the
    /// folder.
    pub fn set_memory_assets(&mut self, assets: Option<Arc<BTreeMap<String, Bytes>>>) {
        self.memory = assets;
    }

    /// The fonts, to add more.
    pub fn fonts_mut(&mut self) -> &mut FontBook {
        &mut self.fonts
    }

    /// Sets the asset folder.
    pub fn set_root(&mut self, root: Option<PathBuf>) {
        self.root = root;
    }
}

impl Resources for DirResources {
    fn fonts(&self) -> &FontBook {
        &self.fonts
    }

    fn asset(&self, key: &str) -> Result<Bytes, AssetError> {
        if let Some(bytes) = self.memory.as_ref().and_then(|m| m.get(key)) {
            return Ok(bytes.clone());
        }
        let Some(root) = &self.root else {
            return Err(AssetError::NotFound);
        };
        let rel = Path::new(key);
        if rel.is_absolute()
            || rel
                .components()
                .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
        {
            return Err(AssetError::Denied(
                "use a path relative to the document's folder, without \"..\"".into(),
            ));
        }
        match std::fs::read(root.join(rel)) {
            Ok(bytes) => Ok(Bytes::from(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(AssetError::NotFound),
            Err(e) => Err(AssetError::Failed(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_leave_the_folder_are_refused() {
        let r = DirResources::new(FontBook::new(), Some(std::env::temp_dir()));
        assert!(matches!(
            r.asset("../etc/passwd"),
            Err(AssetError::Denied(_))
        ));
        assert!(matches!(r.asset("/etc/passwd"), Err(AssetError::Denied(_))));
        assert!(matches!(
            r.asset("no-such-file-here.png"),
            Err(AssetError::NotFound)
        ));
    }

    #[test]
    fn a_file_in_the_folder_is_read() {
        let dir = std::env::temp_dir().join(format!("ode-sdk-res-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("img")).unwrap();
        std::fs::write(dir.join("img/a.bin"), b"abc").unwrap();
        let r = DirResources::new(FontBook::new(), Some(dir.clone()));
        assert_eq!(r.asset("img/a.bin").unwrap().as_slice(), b"abc");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
