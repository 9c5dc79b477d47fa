//! The desired state: what a spec document says, where it was written, and the
//! loading and validation that turn a directory of YAML into a [`DesiredSet`].
//!
//! Layers, each using only those below it: the documents and the set (this file,
//! `document`), their validation (`validate`) and the reading of the directory
//! (`load`); above them the response-test engine ([`crate::response_test`]); at the
//! top `evaluate`, which loads the set and runs its tests, the only code here that
//! sees the engine.
//!
//! Everything here is offline: `validate` runs it without touching the network.

pub mod document;
pub mod load;
pub mod par;
mod validate;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use load::{LoadError, Loaded, MAX_FILE_BYTES};
pub use validate::{SourceFile, parse_files};

use crate::model::Settings;
use crate::yaml::Pos;
use document::IntegrationKind;

/// What evaluating a desired set may cost (config `limits:`): the desired set is
/// untrusted input, written by whoever can open a pull request. One deadline for the
/// whole of it (reading, validating, running the response tests), and the engines'
/// budgets for each response test (see [`crate::vtl::Limits`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EvalLimits {
    pub deadline: Duration,
    pub engine: crate::vtl::Limits,
}

impl EvalLimits {
    /// When whoever waits for an evaluation gives up on it: the deadline and a second,
    /// for the evaluation to notice its deadline and say where it stopped.
    pub fn give_up_after(&self) -> Duration {
        self.deadline + Duration::from_secs(1)
    }
}

impl Default for EvalLimits {
    fn default() -> Self {
        EvalLimits {
            deadline: Duration::from_secs(30),
            engine: crate::vtl::Limits::default(),
        }
    }
}

/// One evaluation of a desired set under way: its limits and when it must end.
#[derive(Clone, Copy, Debug)]
pub struct Evaluation {
    pub limits: EvalLimits,
    pub started: Instant,
}

impl Evaluation {
    pub fn start(limits: EvalLimits) -> Evaluation {
        Evaluation {
            limits,
            started: Instant::now(),
        }
    }

    pub fn deadline(&self) -> Instant {
        self.started + self.limits.deadline
    }

    pub fn overrun(&self) -> bool {
        Instant::now() >= self.deadline()
    }

    /// A meter for one response test, ending at this evaluation's deadline.
    pub fn meter(&self) -> crate::vtl::Meter {
        crate::vtl::Meter::new(self.limits.engine, Some(self.deadline()))
    }

    /// The error that stops an evaluation at `location` when the deadline has passed.
    pub fn overrun_error(&self, location: Location, doing: &str) -> SpecError {
        SpecError {
            location,
            message: format!(
                "evaluating the desired set took longer than its deadline of {} (limits.deadline): \
                 stopped while {doing}; nothing of this set is used. Make the specs or tests cheaper \
                 or raise limits.deadline in the config",
                humantime::format_duration(self.limits.deadline)
            ),
        }
    }
}

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
    /// Where each of `settings.response_templates`' values is written in the file (the
    /// value's own position; a `|` or `>` block's first content line), in the map's
    /// order; empty for a spec built by hand. Response-test coverage names a template
    /// by it.
    pub template_places: Box<[Pos]>,
    /// Each of `settings.response_templates` parsed, in the map's order, when the
    /// loader kept them for the response tests (see [`ParsedTemplates`]).
    pub parsed: ParsedTemplates,
}

/// The parse trees of a spec's templates, in `settings.response_templates`' order
/// (`None`: a passthrough entry), kept by a one-shot load whose set has response
/// tests, so that a test renders a template without parsing it a second time
/// (validation parsed it already); empty otherwise, and then a test parses the
/// template it renders. The daemon does not keep them: its file cache holds every
/// spec for as long as its file is unchanged, and trees are several times their text.
///
/// Not part of what a spec says: two specs with the same templates are equal whether
/// or not their trees were kept.
#[derive(Clone, Default)]
pub struct ParsedTemplates(pub Box<[Option<crate::vtl::Template>]>);

impl ParsedTemplates {
    /// The `i`-th template's tree, if it was kept.
    pub fn get(&self, i: usize) -> Option<&crate::vtl::Template> {
        self.0.get(i).and_then(Option::as_ref)
    }
}

impl PartialEq for ParsedTemplates {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl fmt::Debug for ParsedTemplates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kept = self.0.iter().flatten().count();
        write!(f, "ParsedTemplates({kept} kept)")
    }
}

impl Spec {
    /// `restApiName MyDemoAPI /orders GET`: the method, as the spec names it (as
    /// [`ResponseTest::method_label`] does).
    pub fn method_label(&self) -> String {
        format!("{} {} {}", self.api, self.resource, self.http_method)
    }

    /// The place of the `i`-th template of `settings.response_templates`: its own
    /// position when known, else the spec's.
    pub fn template_location(&self, i: usize) -> Location {
        match self.template_places.get(i) {
            Some(&pos) => Location {
                file: self.location.file.clone(),
                pos,
            },
            None => self.location.clone(),
        }
    }
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

/// One validated `kind: ResponseTest` document, part of the desired set as the specs
/// are; [`crate::response_test`] runs it against them.
#[derive(Clone, Debug, PartialEq)]
pub struct ResponseTest {
    pub name: String,
    pub location: Location,
    /// The API, resource and method, named as the integration responses name them.
    pub api: ApiRef,
    pub resource: ResourceRef,
    /// Upper case.
    pub http_method: String,
    pub integration: IntegrationKind,
    pub backend: Backend,
    pub request: Request,
    pub expect: Expect,
}

/// What the integration returned.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Backend {
    /// Lambda: the function failed with this message; `None` is a successful call.
    pub error_message: Option<String>,
    /// HTTP, AWS, MOCK: the backend's status code (200 when not given).
    pub status_code: Option<String>,
    pub headers: Vec<(String, String)>,
    pub multi_value_headers: Vec<(String, Vec<String>)>,
    pub body: Option<String>,
}

/// The client's request, as far as the response depends on it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Request {
    pub accept: Option<String>,
    pub context: serde_json::Map<String, serde_json::Value>,
    pub stage_variables: BTreeMap<String, String>,
    pub params: crate::vtl::Params,
}

/// What the client must get; `None`/empty parts are not compared.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Expect {
    pub status_code: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    pub json: Option<ExpectedJson>,
}

/// `expect.json`, held as its compact JSON text and read again when a test compares
/// with it: a 20 KB expectation is some 100 KB as a JSON value, and a set may have
/// hundreds. Reading it back gives the value it was made from (serde_json writes
/// numbers so that they read back the same).
#[derive(Clone, Debug, PartialEq)]
pub struct ExpectedJson(Box<str>);

impl ExpectedJson {
    pub fn new(value: &serde_json::Value) -> ExpectedJson {
        ExpectedJson(value.to_string().into_boxed_str())
    }

    /// The expected value.
    pub fn value(&self) -> serde_json::Value {
        let value = serde_json::from_str(&self.0);
        debug_assert!(value.is_ok(), "serde_json reads what it wrote");
        value.unwrap_or_default()
    }
}

impl ResponseTest {
    /// `restApiName MyDemoAPI /orders GET`: the method as the test names it.
    pub fn method_label(&self) -> String {
        format!("{} {} {}", self.api, self.resource, self.http_method)
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
