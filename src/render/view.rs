//! What a plan shows, as one value: [`PlanView`], built once from a [`Plan`] and the
//! stages it would redeploy, and rendered by [`super::text`], [`super::markdown`] and
//! [`super::json`]. Values here are raw (as in the specs and the live API): each
//! renderer escapes them for its medium ([`super::escape`]).

use std::collections::BTreeSet;

use similar::TextDiff;

use crate::diff::{Action, ActionKind, Plan};
use crate::model::{Key, Settings};
use crate::redeploy::StageDeployment;
use crate::vecmap::VecMap;

/// A plan as the renderers show it.
#[derive(Clone, Debug)]
pub struct PlanView<'p> {
    /// One per action of the plan, in its order.
    pub changes: Vec<Change<'p>>,
    pub counts: Counts,
    /// Live integration responses kept because prune is off.
    pub unmanaged_kept: usize,
    pub redeploy: Vec<Redeploy<'p>>,
}

/// How many actions of each kind a plan has.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub create: usize,
    pub update: usize,
    pub delete: usize,
    pub blocked: usize,
}

/// One planned action: what it is about and what it changes.
#[derive(Clone, Debug)]
pub struct Change<'p> {
    pub kind: ActionKind,
    pub key: &'p Key,
    pub api_name: Option<&'p str>,
    /// The resource's path, or its id when the path is not known.
    pub resource: &'p str,
    /// The spec that asked for it, as `file:line:col`.
    pub source: Option<String>,
    pub reason: Option<&'p str>,
    /// The field changes of a create or an update (none for a delete or a block).
    pub fields: Vec<FieldChange>,
    /// The live fields (update, delete) and the desired ones (create, update).
    pub before: Option<&'p Settings>,
    pub after: Option<&'p Settings>,
}

/// One field that differs between live and desired.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldChange {
    /// The selection pattern (`None`: the default response); shown for a create even
    /// when it does not change, since it says which response this is.
    SelectionPattern {
        old: Option<String>,
        new: Option<String>,
    },
    ContentHandling {
        old: Option<String>,
        new: Option<String>,
    },
    /// One response parameter added, removed or changed.
    Parameter {
        name: String,
        old: Option<String>,
        new: Option<String>,
    },
    /// One response template: what happens to its entry, and its text as a unified
    /// diff (live -> desired).
    Template {
        content_type: String,
        entry: EntryChange,
        diff: Vec<DiffLine>,
        /// The sides whose template has text but no final newline.
        no_final_newline: Vec<Side>,
    },
}

/// What happens to a template entry beyond its text: passthrough entries (`""`) have
/// no text, so they are named.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryChange {
    AddedPassthrough,
    AddedTemplate,
    RemovedPassthrough,
    RemovedTemplate,
    TemplateToPassthrough,
    PassthroughToTemplate,
    /// The text changed, nothing else.
    Edited,
}

/// One line of a unified diff, as the diff wrote it (without its line end).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiffLine {
    pub tone: Tone,
    pub text: String,
}

/// What a unified-diff line is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    Added,
    Removed,
    /// `@@ -a,b +c,d @@`
    Hunk,
    /// Unchanged context, and the `---`/`+++` header.
    Context,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Live,
    Desired,
}

impl Side {
    pub fn name(self) -> &'static str {
        match self {
            Side::Live => "live",
            Side::Desired => "desired",
        }
    }
}

/// A stage the plan would redeploy after apply.
#[derive(Clone, Debug)]
pub struct Redeploy<'p> {
    /// The API and stage, as [`StageDeployment`] shows them.
    pub stage: String,
    pub reason: &'p str,
}

impl<'p> PlanView<'p> {
    pub fn new(plan: &'p Plan, redeploy: &'p [StageDeployment]) -> Self {
        let mut counts = Counts::default();
        for action in &plan.actions {
            match action.kind {
                ActionKind::Create => counts.create += 1,
                ActionKind::Update => counts.update += 1,
                ActionKind::Delete => counts.delete += 1,
                ActionKind::Blocked => counts.blocked += 1,
            }
        }
        PlanView {
            changes: plan.actions.iter().map(Change::new).collect(),
            counts,
            unmanaged_kept: plan.unmanaged_kept,
            redeploy: redeploy
                .iter()
                .map(|s| Redeploy {
                    stage: s.to_string(),
                    reason: &s.reason,
                })
                .collect(),
        }
    }

    /// Why some live integration responses were left alone, if any were.
    pub fn unmanaged_note(&self) -> Option<String> {
        (self.unmanaged_kept > 0).then(|| {
            format!(
                "{} live integration response(s) on managed methods are not in any spec and are kept (prune is off)",
                self.unmanaged_kept
            )
        })
    }
}

impl Counts {
    /// `Plan: N to create, N to update, N to delete, N blocked.`
    pub fn summary_line(&self) -> String {
        format!(
            "Plan: {} to create, {} to update, {} to delete, {} blocked.",
            self.create, self.update, self.delete, self.blocked
        )
    }
}

impl<'p> Change<'p> {
    pub fn new(action: &'p Action) -> Self {
        let empty = Settings::default();
        let fields = match action.kind {
            ActionKind::Create => field_changes(&empty, action.desired.as_ref().unwrap_or(&empty)),
            ActionKind::Update => field_changes(
                action.live.as_ref().unwrap_or(&empty),
                action.desired.as_ref().unwrap_or(&empty),
            ),
            ActionKind::Delete | ActionKind::Blocked => Vec::new(),
        };
        Change {
            kind: action.kind,
            key: &action.key,
            api_name: action.api_name.as_deref(),
            resource: action
                .resource_path
                .as_deref()
                .unwrap_or(&action.key.resource_id),
            source: action.source.as_ref().map(ToString::to_string),
            reason: action.reason.as_deref(),
            fields,
            before: action.live.as_ref(),
            after: action.desired.as_ref(),
        }
    }

    /// The API: `name (id)`, or its id alone.
    pub fn api(&self) -> String {
        match self.api_name {
            Some(name) => format!("{name} ({})", self.key.rest_api_id),
            None => self.key.rest_api_id.clone(),
        }
    }

    /// `MyDemoAPI (abc123) /path GET 200`, unescaped.
    pub fn label(&self) -> String {
        format!(
            "{} {} {} {}",
            self.api(),
            self.resource,
            self.key.http_method,
            self.key.status_code
        )
    }
}

/// The sign of an action kind: `+`, `~`, `-`, `!`.
pub fn symbol(kind: ActionKind) -> &'static str {
    match kind {
        ActionKind::Create => "+",
        ActionKind::Update => "~",
        ActionKind::Delete => "-",
        ActionKind::Blocked => "!",
    }
}

/// The verb of an action kind: `create`, `update`, `delete`, `blocked`.
pub fn word(kind: ActionKind) -> &'static str {
    match kind {
        ActionKind::Create => "create",
        ActionKind::Update => "update",
        ActionKind::Delete => "delete",
        ActionKind::Blocked => "blocked",
    }
}

/// What was done: `created`, `updated`, `deleted`, `blocked`.
pub fn past_tense(kind: ActionKind) -> &'static str {
    match kind {
        ActionKind::Create => "created",
        ActionKind::Update => "updated",
        ActionKind::Delete => "deleted",
        ActionKind::Blocked => "blocked",
    }
}

/// The fields that differ between `old` and `new` (both normalised first).
fn field_changes(old: &Settings, new: &Settings) -> Vec<FieldChange> {
    let (old, new) = (old.normalized(), new.normalized());
    let mut out = Vec::new();
    if old.selection_pattern != new.selection_pattern || old == Settings::default() {
        out.push(FieldChange::SelectionPattern {
            old: old.selection_pattern.clone(),
            new: new.selection_pattern.clone(),
        });
    }
    if old.content_handling != new.content_handling {
        out.push(FieldChange::ContentHandling {
            old: old.content_handling.clone(),
            new: new.content_handling.clone(),
        });
    }
    for (name, a, b) in changed_entries(&old.response_parameters, &new.response_parameters) {
        out.push(FieldChange::Parameter {
            name: name.clone(),
            old: a.cloned(),
            new: b.cloned(),
        });
    }
    for (content_type, a, b) in changed_entries(&old.response_templates, &new.response_templates) {
        out.push(template_change(content_type, a, b));
    }
    out
}

/// The keys of either map whose values differ, in key order, with both values.
fn changed_entries<'m>(
    old: &'m VecMap<String, String>,
    new: &'m VecMap<String, String>,
) -> impl Iterator<Item = (&'m String, Option<&'m String>, Option<&'m String>)> {
    let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    keys.into_iter().filter_map(|key| {
        let (a, b) = (old.get(key), new.get(key));
        (a != b).then_some((key, a, b))
    })
}

fn template_change(
    content_type: &str,
    live: Option<&String>,
    desired: Option<&String>,
) -> FieldChange {
    let entry = match (live.map(|t| t.is_empty()), desired.map(|t| t.is_empty())) {
        (None, Some(true)) => EntryChange::AddedPassthrough,
        (None, Some(false)) => EntryChange::AddedTemplate,
        (Some(true), None) => EntryChange::RemovedPassthrough,
        (Some(false), None) => EntryChange::RemovedTemplate,
        (Some(false), Some(true)) => EntryChange::TemplateToPassthrough,
        (Some(true), Some(false)) => EntryChange::PassthroughToTemplate,
        _ => EntryChange::Edited,
    };
    let (a, b) = (
        live.map(String::as_str).unwrap_or(""),
        desired.map(String::as_str).unwrap_or(""),
    );
    let diff = if a.is_empty() && b.is_empty() {
        Vec::new()
    } else {
        unified_diff(a, b)
    };
    let no_final_newline = [(Side::Live, a), (Side::Desired, b)]
        .into_iter()
        .filter(|(_, text)| !text.is_empty() && !text.ends_with('\n'))
        .map(|(side, _)| side)
        .collect();
    FieldChange::Template {
        content_type: content_type.to_owned(),
        entry,
        diff,
        no_final_newline,
    }
}

/// `live` -> `desired` as the lines of a unified diff, three lines of context.
fn unified_diff(live: &str, desired: &str) -> Vec<DiffLine> {
    TextDiff::from_lines(live, desired)
        .unified_diff()
        .context_radius(3)
        .missing_newline_hint(false)
        .header("live", "desired")
        .to_string()
        .lines()
        .map(|line| DiffLine {
            tone: match line.chars().next() {
                Some('+') if !line.starts_with("+++") => Tone::Added,
                Some('-') if !line.starts_with("---") => Tone::Removed,
                Some('@') => Tone::Hunk,
                _ => Tone::Context,
            },
            text: line.to_owned(),
        })
        .collect()
}
