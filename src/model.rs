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
    /// Content type -> template. An empty template means passthrough.
    pub response_templates: VecMap<String, String>,
    pub content_handling: Option<String>,
}

impl Settings {
    /// The form two settings are compared in: `""` and `"-"` selection patterns are the
    /// default response (`None`), and empty templates (passthrough) are dropped, since
    /// API Gateway stores them as null or leaves them out.
    pub fn normalized(&self) -> Settings {
        Settings {
            selection_pattern: self
                .selection_pattern
                .clone()
                .filter(|p| !p.is_empty() && p != "-"),
            response_parameters: self.response_parameters.clone(),
            response_templates: self
                .response_templates
                .iter()
                .filter(|(_, body)| !body.is_empty())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
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
        fn templates(s: &Settings) -> impl Iterator<Item = (&String, &String)> {
            s.response_templates
                .iter()
                .filter(|(_, body)| !body.is_empty())
        }
        pattern(self) == pattern(other)
            && handling(self) == handling(other)
            && self.response_parameters == other.response_parameters
            && templates(self).eq(templates(other))
    }
}

/// HTTP methods API Gateway accepts, in the case it stores them.
pub const HTTP_METHODS: [&str; 8] = [
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY",
];

/// Values of `contentHandling`.
pub const CONTENT_HANDLINGS: [&str; 2] = ["CONVERT_TO_BINARY", "CONVERT_TO_TEXT"];

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
    fn empty_templates_are_passthrough_and_equal_to_no_template() {
        let mut s = Settings::default();
        s.response_templates
            .insert("application/json".into(), String::new());
        assert!(s.same_as(&Settings::default()));
        s.response_templates
            .insert("application/json".into(), "x".into());
        assert!(!s.same_as(&Settings::default()));
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
