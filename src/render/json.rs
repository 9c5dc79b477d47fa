//! The plan for machines: `{"summary": {...}, "actions": [...]}` (the shape docs/semantics.md §11
//! fixes), each action with its fields `before` and `after` as in Terraform's JSON plan.

use serde_json::{Map, Value, json};

use super::view::PlanView;
use crate::model::Settings;
use crate::vecmap::VecMap;

pub fn plan(view: &PlanView) -> String {
    plan_value(view).to_string()
}

/// The plan as a JSON value (see [`plan`]).
pub fn plan_value(view: &PlanView) -> Value {
    let actions: Vec<Value> = view
        .changes
        .iter()
        .map(|c| {
            let mut v = json!({
                "action": c.kind,
                "restApiId": c.key.rest_api_id,
                "resourceId": c.key.resource_id,
                "httpMethod": c.key.http_method,
                "statusCode": c.key.status_code,
            });
            if let Some(reason) = c.reason {
                v["reason"] = json!(reason);
            }
            v["before"] = fields(c.before);
            v["after"] = fields(c.after);
            v
        })
        .collect();
    json!({
        "summary": summary(&view.counts),
        "actions": actions,
    })
}

/// `{"create": N, "update": N, "delete": N, "blocked": N}`.
pub fn summary(counts: &super::view::Counts) -> Value {
    json!({
        "create": counts.create,
        "update": counts.update,
        "delete": counts.delete,
        "blocked": counts.blocked,
    })
}

/// An integration response's fields under their spec names (normalised: the default
/// response's pattern is null, a passthrough entry is `""`), or null when there is none.
fn fields(settings: Option<&Settings>) -> Value {
    let Some(s) = settings.map(Settings::normalized) else {
        return Value::Null;
    };
    let map = |m: &VecMap<String, String>| -> Map<String, Value> {
        m.iter().map(|(k, v)| (k.clone(), json!(v))).collect()
    };
    json!({
        "selectionPattern": s.selection_pattern,
        "responseParameters": map(&s.response_parameters),
        "responseTemplates": map(&s.response_templates),
        "contentHandling": s.content_handling,
    })
}
