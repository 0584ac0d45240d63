//! `read_bounded`: the one way planrun reads a file a plan names (the plan itself, the
//! files it `extends`, payloads, data files).
//!
//! A file's reported size cannot be trusted (`/dev/zero` and `/proc` files report 0), and
//! a named pipe blocks its reader until someone writes. So: only regular files, after
//! following symlinks, checked before opening and again on the opened file; and never more
//! than `limit` bytes read, whatever the metadata said.

use std::fs::Metadata;
use std::io::Read;
use std::path::Path;

/// Plan files are written by hand: the largest real plans are tens of kilobytes, so 4 MiB
/// leaves two orders of magnitude of room and refuses generated monsters (a 50 MB plan
/// took 650 MB and 13 s to load before this limit) in milliseconds.
pub(crate) const MAX_PLAN_BYTES: u64 = 4 * 1024 * 1024;

/// Why a file could not be read. Messages complete "cannot read `file`: …".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ReadError {
    #[error("no such file")]
    NotFound,
    #[error("it is {what}, not a regular file; name a file on disk")]
    NotRegular { what: &'static str },
    #[error("{size} bytes is over the {limit}-byte limit for {purpose}")]
    TooLarge {
        size: u64,
        limit: u64,
        purpose: &'static str,
    },
    #[error("more than {limit} bytes, over the {limit}-byte limit for {purpose}")]
    GrewTooLarge { limit: u64, purpose: &'static str },
    #[error("{0}")]
    Io(String),
}

/// Reads at most `limit` bytes of the regular file at `path`; `purpose` names what the
/// limit is for in messages ("a plan file", "a payload").
pub(crate) fn read_bounded(
    path: &Path,
    limit: u64,
    purpose: &'static str,
) -> Result<Vec<u8>, ReadError> {
    // `metadata` follows symlinks: a link to `/dev/zero` is a character device.
    let before = std::fs::metadata(path).map_err(io_error)?;
    check_kind(&before)?;
    if before.len() > limit {
        return Err(ReadError::TooLarge {
            size: before.len(),
            limit,
            purpose,
        });
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    // Should the path become a FIFO after the check, opening it must not wait for a writer.
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    let file = options.open(path).map_err(io_error)?;
    // The path may have been swapped between the two calls: check what was opened.
    check_kind(&file.metadata().map_err(io_error)?)?;
    let mut bytes = Vec::with_capacity(before.len().min(limit) as usize);
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io_error)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::GrewTooLarge { limit, purpose });
    }
    Ok(bytes)
}

fn check_kind(meta: &Metadata) -> Result<(), ReadError> {
    if meta.is_file() {
        return Ok(());
    }
    Err(ReadError::NotRegular {
        what: describe_kind(meta),
    })
}

fn describe_kind(meta: &Metadata) -> &'static str {
    if meta.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let kind = meta.file_type();
        if kind.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if kind.is_char_device() {
            return "a character device";
        }
        if kind.is_block_device() {
            return "a block device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    "a special file"
}

fn io_error(error: std::io::Error) -> ReadError {
    match error.kind() {
        std::io::ErrorKind::NotFound => ReadError::NotFound,
        _ => ReadError::Io(lowercase_first(&error.to_string())),
    }
}

/// std's messages start with a capital ("Permission denied (os error 13)").
fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_regular_file_up_to_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"12345").unwrap();
        assert_eq!(read_bounded(&path, 5, "a test").unwrap(), b"12345");
        assert_eq!(
            read_bounded(&path, 4, "a test"),
            Err(ReadError::TooLarge {
                size: 5,
                limit: 4,
                purpose: "a test"
            })
        );
    }

    #[cfg(unix)]
    #[test]
    fn refuses_devices_through_symlinks_and_directories() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("zero.yaml");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        assert_eq!(
            read_bounded(&link, 10, "a test"),
            Err(ReadError::NotRegular {
                what: "a character device"
            })
        );
        assert_eq!(
            read_bounded(dir.path(), 10, "a test"),
            Err(ReadError::NotRegular {
                what: "a directory"
            })
        );
        assert_eq!(
            read_bounded(&dir.path().join("nope"), 10, "a test"),
            Err(ReadError::NotFound)
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.is_ok_and(|s| s.success()));
        assert_eq!(
            read_bounded(&fifo, 10, "a test"),
            Err(ReadError::NotRegular {
                what: "a named pipe (FIFO)"
            })
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_file_that_reports_no_size_is_still_capped() {
        // `/proc` files are regular and report a length of 0.
        let error = read_bounded(Path::new("/proc/self/maps"), 8, "a test").unwrap_err();
        assert_eq!(
            error,
            ReadError::GrewTooLarge {
                limit: 8,
                purpose: "a test"
            }
        );
    }
}
