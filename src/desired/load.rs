//! Reading the desired directory: which files count, in what order, and the limits
//! applied before parsing; then validation of what was read (no response test runs
//! here: that is [`super::evaluate`]'s step, above). This is the only file-system code
//! of the desired module.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::validate::{FileResult, SourceFile, assemble, parse_file};
use super::{DesiredSet, Evaluation, Location, SpecError};
use crate::files::{self, ReadError};
use crate::yaml::Pos;

/// Files larger than this are refused unread.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// A valid desired set and the warnings met on the way (skipped symlinks, loops).
#[derive(Debug)]
pub struct Loaded {
    pub set: DesiredSet,
    pub warnings: Vec<String>,
    pub files: usize,
    /// The evaluation's clock: whoever runs the tests later keeps to its deadline.
    pub evaluation: Evaluation,
}

/// Why the desired directory could not be turned into a desired set.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("desired directory {dir}: {source}; check `desiredDir` in the config or --desired")]
    Directory {
        dir: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{} invalid spec(s):\n{}", .0.len(), .0.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<SpecError>),
    /// Files changed within the settle time, or while they were read: a writer may be
    /// half way through. Nothing of the set is used; read it again once they are still.
    #[error("waiting for {} file(s) to stop changing: {}", .0.len(), .0.join(", "))]
    Unsettled(Vec<String>),
}

/// What identifies a file's content without reading it: size, modification time and
/// inode (an editor's atomic save or a symlink swap gives a new inode).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<std::time::SystemTime>,
    dev: u64,
    ino: u64,
}

impl Stamp {
    fn of(meta: &fs::Metadata) -> Stamp {
        use std::os::unix::fs::MetadataExt;
        Stamp {
            len: meta.len(),
            modified: meta.modified().ok(),
            dev: meta.dev(),
            ino: meta.ino(),
        }
    }

    /// Modified less than `settle` ago (a time in the future counts as settled, so a
    /// skewed clock cannot hold a file back forever).
    fn is_recent(&self, settle: Duration, now: SystemTime) -> bool {
        self.modified
            .and_then(|m| now.duration_since(m).ok())
            .is_some_and(|age| age < settle)
    }
}

/// Parsed files by path, reused while a file's [`Stamp`] is unchanged, so a cycle
/// re-reads and re-parses only the files that changed.
#[derive(Debug, Default)]
pub struct FileCache {
    files: HashMap<PathBuf, (Stamp, FileResult)>,
    /// Files read and parsed (cache misses) so far.
    pub parsed: u64,
}

impl FileCache {
    /// How many files are remembered.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether no file is remembered.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

/// Read and validate every document under `dir`, within `evaluation`'s deadline, reusing
/// (and refreshing) `cache`; with `settle`, a file changed less than that ago is not
/// used yet ([`LoadError::Unsettled`]). No response test is run here. With
/// `keep_templates`, and when any file read has a response test, specs keep their
/// templates' trees for the tests ([`super::ParsedTemplates`]). The files read are
/// parsed on several threads ([`super::par`]), each on its own.
pub fn read_desired(
    dir: &Path,
    cache: &mut FileCache,
    settle: Option<Duration>,
    evaluation: Evaluation,
    keep_templates: bool,
) -> Result<Loaded, LoadError> {
    let directory_error = |source| LoadError::Directory {
        dir: dir.display().to_string(),
        source,
    };
    let (found, warnings, mut errors) = find_files(dir).map_err(directory_error)?;
    let now = SystemTime::now();
    let mut unsettled = Vec::new();
    let mut seen = HashSet::new();
    let mut read = Vec::new();
    for file in &found {
        seen.insert(file.path.clone());
        if cache
            .files
            .get(&file.path)
            .is_some_and(|(stamp, _)| *stamp == file.stamp)
        {
            continue;
        }
        if settle.is_some_and(|settle| file.stamp.is_recent(settle, now)) {
            unsettled.push(file.display_name.clone());
            continue;
        }
        if evaluation.overrun() {
            let place = Location {
                file: Arc::from(file.display_name.as_str()),
                pos: Pos { line: 1, col: 1 },
            };
            return Err(LoadError::Invalid(vec![
                evaluation.overrun_error(place, "reading the spec files"),
            ]));
        }
        match files::read_regular(&file.path, MAX_FILE_BYTES) {
            Ok(bytes) => read.push((
                file,
                Some(SourceFile {
                    display_name: file.display_name.clone(),
                    bytes,
                }),
            )),
            Err(ReadError::TooLarge(_)) => read.push((file, None)),
            Err(e) => {
                errors.push(SpecError {
                    location: Location {
                        file: Arc::from(file.display_name.as_str()),
                        pos: Pos { line: 1, col: 1 },
                    },
                    message: format!("cannot read the file: {e}"),
                });
                continue;
            }
        }
    }
    // A tree is worth keeping only for a set with response tests (the cheap test: a
    // file that names the kind; a test written otherwise parses its template again).
    let keep = keep_templates
        && read
            .iter()
            .flat_map(|(_, source)| source)
            .any(|s| memchr::memmem::find(&s.bytes, b"ResponseTest").is_some());
    let files: Vec<&Found> = read.iter().map(|(file, _)| *file).collect();
    let results = super::par::map(read, |(file, source)| {
        if evaluation.overrun() {
            return None;
        }
        Some(match source {
            Some(source) => parse_file(&source, keep),
            None => Err(vec![too_large(&file.display_name)]),
        })
    });
    for (file, result) in files.into_iter().zip(results) {
        let Some(result) = result else {
            let place = Location {
                file: Arc::from(file.display_name.as_str()),
                pos: Pos { line: 1, col: 1 },
            };
            return Err(LoadError::Invalid(vec![
                evaluation.overrun_error(place, "reading the spec files"),
            ]));
        };
        cache.parsed += 1;
        cache
            .files
            .insert(file.path.clone(), (file.stamp.clone(), result));
    }
    if settle.is_some() {
        // Re-check every stamp now that all is read: a file rewritten meanwhile is not
        // used as it was read.
        for file in &found {
            let now_stamp = fs::metadata(&file.path).ok().map(|m| Stamp::of(&m));
            if now_stamp.as_ref() != Some(&file.stamp) && !unsettled.contains(&file.display_name) {
                cache.files.remove(&file.path);
                unsettled.push(file.display_name.clone());
            }
        }
    }
    if !unsettled.is_empty() {
        return Err(LoadError::Unsettled(unsettled));
    }
    cache.files.retain(|path, _| seen.contains(path));
    let parsed = found
        .iter()
        .filter_map(|f| cache.files.get(&f.path).map(|(_, r)| r));
    let set = assemble(parsed, std::mem::take(&mut errors)).map_err(LoadError::Invalid)?;
    Ok(Loaded {
        set,
        warnings,
        files: found.len(),
        evaluation,
    })
}

fn too_large(display_name: &str) -> SpecError {
    SpecError {
        location: Location {
            file: Arc::from(display_name),
            pos: Pos { line: 1, col: 1 },
        },
        message: format!(
            "file is larger than {MAX_FILE_BYTES} bytes (1 MiB); split it into several files"
        ),
    }
}

/// A spec file found by the walk, not yet read.
struct Found {
    path: PathBuf,
    display_name: String,
    stamp: Stamp,
}

/// Every `*.yaml`/`*.yml` under `dir` in path order, skipping dot entries, symlinks
/// that leave `dir`, directory loops and what is not a regular file (FIFOs, sockets,
/// devices; each with a warning), and files too large to read (each an error).
fn find_files(dir: &Path) -> std::io::Result<(Vec<Found>, Vec<String>, Vec<SpecError>)> {
    let root = fs::canonicalize(dir)?;
    if !root.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotADirectory,
            "not a directory",
        ));
    }
    let mut walk = Walk {
        root: root.clone(),
        visited: HashSet::from([root]),
        files: Vec::new(),
        warnings: Vec::new(),
        errors: Vec::new(),
    };
    walk.dir(dir)?;
    walk.files
        .sort_by(|a, b| a.display_name.cmp(&b.display_name));
    Ok((walk.files, walk.warnings, walk.errors))
}

struct Walk {
    root: PathBuf,
    visited: HashSet<PathBuf>,
    files: Vec<Found>,
    warnings: Vec<String>,
    errors: Vec<SpecError>,
}

impl Walk {
    fn dir(&mut self, dir: &Path) -> std::io::Result<()> {
        let mut entries: Vec<_> = fs::read_dir(dir)?.collect::<Result<_, _>>()?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let path = entry.path();
            let is_link = entry.file_type()?.is_symlink();
            let real = match fs::canonicalize(&path) {
                Ok(real) => real,
                Err(e) => {
                    self.warnings.push(format!(
                        "{}: skipped, cannot resolve it: {e}",
                        path.display()
                    ));
                    continue;
                }
            };
            if is_link && !real.starts_with(&self.root) {
                self.warnings.push(format!(
                    "{}: skipped, symlink points outside the desired directory (to {})",
                    path.display(),
                    real.display()
                ));
                continue;
            }
            let meta = fs::metadata(&real)?;
            if !meta.is_dir()
                && is_spec_file(&path)
                && let Some(what) = files::irregular(&meta.file_type())
            {
                self.warnings.push(format!(
                    "{}: skipped, {what} is not a regular file (only regular files are read)",
                    path.display()
                ));
                continue;
            }
            if meta.is_dir() {
                if !self.visited.insert(real.clone()) {
                    self.warnings.push(format!(
                        "{}: skipped, directory loop (already read as {})",
                        path.display(),
                        real.display()
                    ));
                    continue;
                }
                self.dir(&path)?;
            } else if is_spec_file(&path) {
                let display_name = path.display().to_string();
                if meta.len() > MAX_FILE_BYTES {
                    self.errors.push(too_large(&display_name));
                    continue;
                }
                self.files.push(Found {
                    path,
                    display_name,
                    stamp: Stamp::of(&meta),
                });
            }
        }
        Ok(())
    }
}

fn is_spec_file(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::EvalLimits;

    /// One read of `dir`, no cache, within the default limits.
    fn read(dir: &Path) -> Result<Loaded, LoadError> {
        let evaluation = Evaluation::start(EvalLimits::default());
        read_desired(dir, &mut FileCache::default(), None, evaluation, false)
    }

    const GOOD: &str = "kind: IntegrationResponse\nrestApiName: A\nresourcePath: /r\nhttpMethod: GET\nstatusCode: \"200\"\n";

    #[test]
    fn reads_yaml_and_yml_recursively_and_skips_dot_entries() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("nested/deeper")).unwrap();
        fs::create_dir_all(root.join(".git")).unwrap();
        fs::write(root.join("a.yaml"), GOOD).unwrap();
        fs::write(
            root.join("nested/deeper/b.yml"),
            GOOD.replace("GET", "POST"),
        )
        .unwrap();
        fs::write(root.join(".git/c.yaml"), "not: [valid").unwrap();
        fs::write(root.join(".hidden.yaml"), "not: [valid").unwrap();
        fs::write(root.join("notes.txt"), "ignored").unwrap();
        let loaded = read(root).unwrap();
        assert_eq!(loaded.files, 2);
        assert_eq!(loaded.set.specs.len(), 2);
        assert!(loaded.warnings.is_empty());
    }

    #[test]
    fn symlinks_leaving_the_directory_are_skipped_with_a_warning() {
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("x.yaml"), GOOD).unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path().join("x.yaml"), dir.path().join("x.yaml"))
            .unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("elsewhere")).unwrap();
        let loaded = read(dir.path()).unwrap();
        assert!(loaded.set.specs.is_empty());
        assert_eq!(loaded.warnings.len(), 2, "{:?}", loaded.warnings);
        assert!(loaded.warnings[0].contains("points outside the desired directory"));
    }

    #[test]
    fn symlinks_inside_the_directory_are_followed_like_configmap_volumes() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("..2026_11_24_10_00_00.1")).unwrap();
        fs::write(root.join("..2026_11_24_10_00_00.1/api.yaml"), GOOD).unwrap();
        std::os::unix::fs::symlink("..2026_11_24_10_00_00.1", root.join("..data")).unwrap();
        std::os::unix::fs::symlink("..data/api.yaml", root.join("api.yaml")).unwrap();
        let loaded = read(root).unwrap();
        assert_eq!(loaded.set.specs.len(), 1);
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    }

    #[test]
    fn directory_loops_are_skipped_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("a")).unwrap();
        fs::write(dir.path().join("a/x.yaml"), GOOD).unwrap();
        std::os::unix::fs::symlink("..", dir.path().join("a/loop")).unwrap();
        let loaded = read(dir.path()).unwrap();
        assert_eq!(loaded.set.specs.len(), 1);
        assert!(
            loaded.warnings[0].contains("directory loop"),
            "{:?}",
            loaded.warnings
        );
    }

    #[test]
    fn files_over_one_mebibyte_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let big = format!("{GOOD}# {}\n", "x".repeat(MAX_FILE_BYTES as usize));
        fs::write(dir.path().join("big.yaml"), big).unwrap();
        let LoadError::Invalid(errors) = read(dir.path()).unwrap_err() else {
            panic!("expected invalid")
        };
        assert!(errors[0].to_string().ends_with(
            "big.yaml:1:1: file is larger than 1048576 bytes (1 MiB); split it into several files"
        ));
    }

    #[test]
    fn a_missing_directory_is_an_error_naming_it() {
        let err = read(Path::new("/nonexistent/specs")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("desired directory /nonexistent/specs:"),
            "{err}"
        );
    }
}
