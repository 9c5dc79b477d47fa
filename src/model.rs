//! The plain data every other module speaks: the identity of an integration response
//! and its settings, with the normalisation that makes "applied" compare equal.

use std::fmt;

use serde::Serialize;

use crate::vecmap::VecMap;

/// The identity of one integration response after name/path resolution.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Key {
    pub rest_api_id: String,
    pub resource_id: String,
    pub http_method: String,
    pub status_code: String,
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}/{}",
            self.rest_api_id, self.resource_id, self.http_method, self.status_code
        )
    }
}

/// The writable fields of an integration response (PutIntegrationResponse's body).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Settings {
    pub selection_pattern: Option<String>,
    pub response_parameters: VecMap<String, String>,
    /// Content type -> template. An empty template is a *passthrough entry*: a real
    /// entry (API Gateway stores `""` as null and keeps the key, and the key decides
    /// which template a client's `Accept` header selects), never the same as no key.
    pub response_templates: VecMap<String, String>,
    pub content_handling: Option<String>,
}

impl Settings {
    /// The form two settings are compared in: `""` and `"-"` selection patterns are the
    /// default response (`None`; API Gateway stores no pattern for them). Template keys
    /// are kept whatever their value: `{application/json: ""}` and `{}` differ on AWS
    /// (Terraform's acceptance tests against real AWS assert the key survives).
    pub fn normalized(&self) -> Settings {
        Settings {
            selection_pattern: self
                .selection_pattern
                .clone()
                .filter(|p| !p.is_empty() && p != "-"),
            response_parameters: self.response_parameters.clone(),
            response_templates: self.response_templates.clone(),
            content_handling: self.content_handling.clone().filter(|c| !c.is_empty()),
        }
    }

    /// True when this is the method's default response (no selection pattern).
    pub fn is_default(&self) -> bool {
        self.normalized().selection_pattern.is_none()
    }

    /// Field-by-field equality after normalisation (without building the normalised
    /// copies: the diff asks this once per spec).
    pub fn same_as(&self, other: &Settings) -> bool {
        fn pattern(s: &Settings) -> Option<&str> {
            s.selection_pattern
                .as_deref()
                .filter(|p| !p.is_empty() && *p != "-")
        }
        fn handling(s: &Settings) -> Option<&str> {
            s.content_handling.as_deref().filter(|c| !c.is_empty())
        }
        pattern(self) == pattern(other)
            && handling(self) == handling(other)
            && self.response_parameters == other.response_parameters
            && self.response_templates == other.response_templates
    }
}

/// HTTP methods API Gateway accepts, in the case it stores them.
pub const HTTP_METHODS: [&str; 8] = [
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn with_pattern(p: Option<&str>) -> Settings {
        Settings {
            selection_pattern: p.map(str::to_owned),
            ..Settings::default()
        }
    }

    #[test]
    fn absent_empty_and_dash_selection_patterns_are_all_the_default() {
        for p in [None, Some(""), Some("-")] {
            assert!(with_pattern(p).same_as(&Settings::default()), "{p:?}");
            assert!(with_pattern(p).is_default());
        }
        assert!(!with_pattern(Some("5\\d{2}")).same_as(&Settings::default()));
    }

    #[test]
    fn a_passthrough_entry_differs_from_no_entry_and_from_a_template() {
        let mut s = Settings::default();
        s.response_templates
            .insert("application/json".into(), String::new());
        assert!(!s.same_as(&Settings::default()));
        assert!(!Settings::default().same_as(&s));
        assert_eq!(s.normalized(), s, "normalising keeps the key");
        assert!(s.same_as(&s.clone()));
        let mut t = s.clone();
        t.response_templates
            .insert("application/json".into(), "x".into());
        assert!(!s.same_as(&t));
    }

    #[test]
    fn parameters_and_content_handling_are_compared() {
        let mut s = Settings::default();
        s.response_parameters
            .insert("method.response.header.A".into(), "'x'".into());
        assert!(!s.same_as(&Settings::default()));
        let t = Settings {
            content_handling: Some("CONVERT_TO_TEXT".into()),
            ..Settings::default()
        };
        assert!(!t.same_as(&Settings::default()));
    }
}
