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
        read_within(root, &root.join(rel))
    }
}

/// The largest asset file read, in bytes: an image beyond it is no image.
pub const MAX_ASSET_BYTES: u64 = 256 << 20;

/// Reads `path`, which must be a regular file under `root` once links are followed, of
/// at most [`MAX_ASSET_BYTES`]: a named pipe would block the render and a link to a
/// device would never end.
fn read_within(root: &Path, path: &Path) -> Result<Bytes, AssetError> {
    use std::io::Read;
    let found = |e: std::io::Error| {
        if e.kind() == std::io::ErrorKind::NotFound {
            AssetError::NotFound
        } else {
            AssetError::Failed(e.to_string())
        }
    };
    let real = path.canonicalize().map_err(found)?;
    let real_root = root.canonicalize().map_err(found)?;
    if !real.starts_with(&real_root) {
        return Err(AssetError::Denied(
            "it is a link to a file outside the document's folder".into(),
        ));
    }
    // Looked at before it is opened: opening a named pipe waits for a writer.
    let meta = std::fs::metadata(&real).map_err(found)?;
    if !meta.is_file() {
        return Err(AssetError::Denied("it is not a regular file".into()));
    }
    if meta.len() > MAX_ASSET_BYTES {
        return Err(AssetError::Denied(format!(
            "it is larger than {} MB",
            MAX_ASSET_BYTES >> 20
        )));
    }
    let file = std::fs::File::open(&real).map_err(found)?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_ASSET_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(found)?;
    if bytes.len() as u64 > MAX_ASSET_BYTES {
        return Err(AssetError::Denied(format!(
            "it is larger than {} MB",
            MAX_ASSET_BYTES >> 20
        )));
    }
    Ok(Bytes::from(bytes))
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

    #[cfg(unix)]
    #[test]
    fn links_out_of_the_folder_pipes_and_devices_are_refused() {
        let dir = std::env::temp_dir().join(format!("ode-sdk-links-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::os::unix::fs::symlink("/etc/hostname", dir.join("out.png")).unwrap();
        std::os::unix::fs::symlink("/dev/zero", dir.join("zero.png")).unwrap();
        let fifo = dir.join("pipe.png");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        let r = DirResources::new(FontBook::new(), Some(dir.clone()));
        for key in ["out.png", "zero.png"] {
            let e = r.asset(key).unwrap_err();
            assert_eq!(
                e,
                AssetError::Denied("it is a link to a file outside the document's folder".into()),
                "{key}"
            );
        }
        // Refused without blocking on the pipe.
        assert_eq!(
            r.asset("pipe.png").unwrap_err(),
            AssetError::Denied("it is not a regular file".into())
        );
        std::fs::remove_dir_all(dir).unwrap();
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
