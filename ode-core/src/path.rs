//! JSON pointers built on the stack while walking a document.
//!
//! The decoder and the layout walk the same tree, so instead of storing a path in every
//! node, each keeps a chain of borrowed segments and renders it only when it reports a
//! diagnostic.

use std::fmt;

/// A JSON pointer as a chain of segments that live on the walker's stack.
#[derive(Clone, Copy)]
pub enum JPath<'a> {
    /// The document root (`""`).
    Root,
    /// An object member.
    Key(&'a JPath<'a>, &'a str),
    /// An array element.
    Index(&'a JPath<'a>, usize),
}

impl<'a> JPath<'a> {
    /// The path of a member of the object at this path.
    pub fn key(&'a self, key: &'a str) -> JPath<'a> {
        JPath::Key(self, key)
    }

    /// The path of an element of the array at this path.
    pub fn index(&'a self, i: usize) -> JPath<'a> {
        JPath::Index(self, i)
    }
}

impl fmt::Display for JPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JPath::Root => Ok(()),
            JPath::Key(parent, key) => {
                write!(f, "{parent}/")?;
                // RFC 6901 escaping.
                for c in key.chars() {
                    match c {
                        '~' => f.write_str("~0")?,
                        '/' => f.write_str("~1")?,
                        c => write!(f, "{c}")?,
                    }
                }
                Ok(())
            }
            JPath::Index(parent, i) => write!(f, "{parent}/{i}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_renders_as_an_escaped_json_pointer() {
        let root = JPath::Root;
        let content = root.key("content");
        let third = content.index(3);
        let odd = third.key("a/b~c");
        assert_eq!(odd.to_string(), "/content/3/a~1b~0c");
        assert_eq!(root.to_string(), "");
    }
}
