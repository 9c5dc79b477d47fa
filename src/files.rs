//! Reading the files untrusted input names (spec files, the config file): regular files
//! only, opened without blocking, never more than a size limit read.
//!
//! A FIFO named `x.yaml` would block a plain `open` until a writer comes (forever, in
//! CI); `/dev/zero` as the config would be read until memory runs out. So the file is
//! opened with `O_NONBLOCK` (which an open of a FIFO returns from at once), checked with
//! `fstat` on the open descriptor (no race with a rename between a check and the open),
//! and read through `take(limit + 1)`.

use std::fmt;
use std::fs;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// Why a file was not read.
#[derive(Debug)]
pub enum ReadError {
    /// Not a regular file: what it is (`a FIFO`, `a directory`, ...).
    NotRegular(&'static str),
    /// Larger than the limit (in bytes); nothing more than the limit was read.
    TooLarge(u64),
    Io(std::io::Error),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::NotRegular(what) => write!(f, "not a regular file ({what})"),
            ReadError::TooLarge(limit) => write!(f, "larger than {limit} bytes"),
            ReadError::Io(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ReadError {}

/// What a file type is, for messages (`None`: a regular file).
pub fn irregular(file_type: &fs::FileType) -> Option<&'static str> {
    if file_type.is_file() {
        None
    } else if file_type.is_dir() {
        Some("a directory")
    } else if file_type.is_fifo() {
        Some("a FIFO")
    } else if file_type.is_socket() {
        Some("a socket")
    } else if file_type.is_char_device() {
        Some("a character device")
    } else if file_type.is_block_device() {
        Some("a block device")
    } else if file_type.is_symlink() {
        Some("a symbolic link")
    } else {
        Some("a special file")
    }
}

/// The bytes of the regular file at `path` (symlinks followed), at most `limit` of them.
pub fn read_regular(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(ReadError::Io)?;
    let meta = file.metadata().map_err(ReadError::Io)?;
    if let Some(what) = irregular(&meta.file_type()) {
        return Err(ReadError::NotRegular(what));
    }
    if meta.len() > limit {
        return Err(ReadError::TooLarge(limit));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge(limit));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("x.yaml");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        match read_regular(&fifo, 1024) {
            Err(ReadError::NotRegular("a FIFO")) => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn devices_and_directories_are_refused_and_sizes_are_limited() {
        assert!(matches!(
            read_regular(Path::new("/dev/zero"), 1024),
            Err(ReadError::NotRegular("a character device"))
        ));
        assert!(matches!(
            read_regular(Path::new("/"), 1024),
            Err(ReadError::NotRegular("a directory"))
        ));
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("big");
        fs::write(&f, vec![b'x'; 2048]).unwrap();
        assert!(matches!(
            read_regular(&f, 1024),
            Err(ReadError::TooLarge(1024))
        ));
        assert_eq!(read_regular(&f, 2048).unwrap().len(), 2048);
    }
}
