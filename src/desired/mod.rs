//! The desired state: what a spec document says, where it was written, and the
//! loading and validation that turn a directory of YAML into a [`DesiredSet`].
//!
//! Everything here is offline: `validate` runs it without touching the network.

pub mod document;
mod load;
mod validate;

use std::fmt;
use std::sync::Arc;

pub use load::{
    LoadError, Loaded, MAX_FILE_BYTES, SourceFile, SpecCache, load_desired, load_desired_cached,
    load_untested,
};
pub use validate::parse_files;

use crate::model::Settings;
use crate::response_test::ResponseTest;
use crate::yaml::Pos;

/// Where a spec (or an error) comes from: `file:line:col`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    pub file: Arc<str>,
    pub pos: Pos,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.pos.line, self.pos.col)
    }
}

/// How a spec names its REST API.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ApiRef {
    Id(String),
    Name(String),
}

/// How a spec names its resource.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResourceRef {
    Id(String),
    Path(String),
}

impl fmt::Display for ApiRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiRef::Id(id) => write!(f, "restApi {id}"),
            ApiRef::Name(name) => write!(f, "restApiName {name}"),
        }
    }
}

impl fmt::Display for ResourceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResourceRef::Id(id) => write!(f, "resourceId {id}"),
            ResourceRef::Path(path) => write!(f, "{path}"),
        }
    }
}

/// `state: present` (the default) or `state: absent`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Present,
    Absent,
}

/// One validated spec document: one desired integration response.
#[derive(Clone, Debug, PartialEq)]
pub struct Spec {
    pub api: ApiRef,
    pub resource: ResourceRef,
    /// Upper case, one of [`crate::model::HTTP_METHODS`].
    pub http_method: String,
    /// Three digits, `[1-5]\d\d`.
    pub status_code: String,
    pub settings: Settings,
    pub state: State,
    pub location: Location,
}

/// All specs of the desired directory, validated as a whole, and its response tests.
/// Specs are shared (`Arc`) with the loader's cache, so a large set is held in memory
/// once.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DesiredSet {
    pub specs: Vec<Arc<Spec>>,
    pub tests: Vec<Arc<ResponseTest>>,
}

impl DesiredSet {
    pub fn new(specs: Vec<Spec>) -> DesiredSet {
        DesiredSet {
            specs: specs.into_iter().map(Arc::new).collect(),
            tests: Vec::new(),
        }
    }

    /// The same specs in the same order, wherever in their files they stand.
    pub fn same_ignoring_locations(&self, other: &DesiredSet) -> bool {
        self.specs.len() == other.specs.len()
            && self.specs.iter().zip(&other.specs).all(|(a, b)| {
                Arc::ptr_eq(a, b)
                    || (a.api == b.api
                        && a.resource == b.resource
                        && a.http_method == b.http_method
                        && a.status_code == b.status_code
                        && a.settings == b.settings
                        && a.state == b.state)
            })
    }
}

/// One validation problem, printed as `file:line:col: message`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct SpecError {
    pub location: Location,
    pub message: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}
