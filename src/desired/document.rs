//! What a document of the desired directory may say, as serde types: the shape (fields,
//! types, enums) is serde's and schemars' job; the domain rules (status codes, Java
//! regexes, mapping expressions, media types, one default per method) are
//! `validate`'s, which reads positions from the spans. `apigw-reconciler schema`
//! prints the JSON Schemas of these same types, so the two cannot drift apart.
//!
//! Every field is optional to serde, so that one run reports every problem of a
//! document (a missing required field among them, from `validate`); the schemas mark
//! the required ones.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::yaml::de::{Pairs, Spanned};

/// One integration response (Pulumi's `aws.apigateway.IntegrationResponse`, Terraform's
/// `aws_api_gateway_integration_response`), identified by API, resource, method and
/// status code.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(
    title = "IntegrationResponse",
    extend("required" = ["kind", "httpMethod", "statusCode"]),
    extend("allOf" = [
        {"oneOf": [{"required": ["restApi"]}, {"required": ["restApiName"]}]},
        {"oneOf": [{"required": ["resourceId"]}, {"required": ["resourcePath"]}]}
    ])
)]
pub struct IntegrationResponseDoc {
    /// Always `IntegrationResponse`.
    #[schemars(extend("const" = "IntegrationResponse"))]
    pub kind: Option<Spanned<String>>,
    /// The REST API's id; give this or `restApiName`.
    pub rest_api: Option<Spanned<String>>,
    /// The REST API's name (must be unique in the account and region); or `restApi`.
    pub rest_api_name: Option<Spanned<String>>,
    /// The resource's id; give this or `resourcePath`.
    pub resource_id: Option<Spanned<String>>,
    /// The resource's path, e.g. `/pets/{id}`; or `resourceId`.
    #[schemars(extend("pattern" = "^/"))]
    pub resource_path: Option<Spanned<String>>,
    /// GET POST PUT PATCH DELETE HEAD OPTIONS ANY, any case.
    #[schemars(extend("pattern" = HTTP_METHOD_PATTERN))]
    pub http_method: Option<Spanned<String>>,
    /// The method response's status code, 100-599.
    pub status_code: Option<Spanned<StatusCode>>,
    /// A Java regular expression matched against the Lambda error message or the
    /// backend's status code; omitted, `""` and `-` mean the default response.
    pub selection_pattern: Option<Spanned<String>>,
    /// `method.response.header.<name>` -> a mapping source.
    #[schemars(extend("propertyNames" = {"pattern": "^method\\.response\\.header\\.[!#$%&'*+.^_`|~0-9A-Za-z-]+$"}))]
    pub response_parameters: Option<Spanned<Pairs<Spanned<String>>>>,
    /// Media type -> VTL template; `""` or null is a passthrough entry.
    #[schemars(extend("propertyNames" = {"pattern": "^[!#$%&'*+.^_`|~0-9A-Za-z-]+/[!#$%&'*+.^_`|~0-9A-Za-z-]+( *;.*)?$"}))]
    pub response_templates: Option<Spanned<Pairs<Spanned<Option<String>>>>>,
    pub content_handling: Option<Spanned<ContentHandling>>,
    /// `absent` deletes the integration response if it exists.
    pub state: Option<Spanned<PresentOrAbsent>>,
}

/// `httpMethod` in any case, as a JSON Schema (ECMA) pattern.
pub const HTTP_METHOD_PATTERN: &str = "^([Gg][Ee][Tt]|[Pp][Oo][Ss][Tt]|[Pp][Uu][Tt]|[Pp][Aa][Tt][Cc][Hh]|[Dd][Ee][Ll][Ee][Tt][Ee]|[Hh][Ee][Aa][Dd]|[Oo][Pp][Tt][Ii][Oo][Nn][Ss]|[Aa][Nn][Yy])$";

/// A status code as written: a quoted string or an unquoted YAML integer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusCode(pub String);

impl<'de> Deserialize<'de> for StatusCode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Text;
        impl serde::de::Visitor<'_> for Text {
            type Value = StatusCode;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a three-digit HTTP status from 100 to 599")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<StatusCode, E> {
                Ok(StatusCode(v.to_owned()))
            }
        }
        deserializer.deserialize_str(Text)
    }
}

impl JsonSchema for StatusCode {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "StatusCode".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A three-digit HTTP status from 100 to 599, quoted or not.",
            "type": ["string", "integer"],
            "pattern": "^[1-5][0-9]{2}$",
            "minimum": 100,
            "maximum": 599
        })
    }
}

/// How API Gateway converts the payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[allow(clippy::upper_case_acronyms, non_camel_case_types)]
pub enum ContentHandling {
    CONVERT_TO_BINARY,
    CONVERT_TO_TEXT,
}

impl ContentHandling {
    pub fn as_str(self) -> &'static str {
        match self {
            ContentHandling::CONVERT_TO_BINARY => "CONVERT_TO_BINARY",
            ContentHandling::CONVERT_TO_TEXT => "CONVERT_TO_TEXT",
        }
    }
}

/// `state`: `present` (the default) or `absent`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PresentOrAbsent {
    Present,
    Absent,
}

/// What a client gets from a method, computed offline from the desired integration
/// responses: which one API Gateway selects for the backend's answer, its rendered
/// template and its mapped headers (`apigw-reconciler test`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(
    title = "ResponseTest",
    extend("required" = ["kind", "name", "httpMethod", "integration", "expect"]),
    extend("allOf" = [
        {"oneOf": [{"required": ["restApi"]}, {"required": ["restApiName"]}]},
        {"oneOf": [{"required": ["resourceId"]}, {"required": ["resourcePath"]}]}
    ])
)]
pub struct ResponseTestDoc {
    /// Always `ResponseTest`.
    #[schemars(extend("const" = "ResponseTest"))]
    pub kind: Option<Spanned<String>>,
    /// What the test shows, unique in the directory.
    pub name: Option<Spanned<String>>,
    /// The API, resource and method, named as the integration responses name them.
    pub rest_api: Option<Spanned<String>>,
    pub rest_api_name: Option<Spanned<String>>,
    pub resource_id: Option<Spanned<String>>,
    #[schemars(extend("pattern" = "^/"))]
    pub resource_path: Option<Spanned<String>>,
    #[schemars(extend("pattern" = HTTP_METHOD_PATTERN))]
    pub http_method: Option<Spanned<String>>,
    /// How API Gateway selects the integration response: `lambda` matches the
    /// selection patterns against the error message, the others against the status.
    pub integration: Option<Spanned<IntegrationKind>>,
    /// What the integration returned.
    pub backend: Option<Spanned<BackendDoc>>,
    /// The client's request, as far as the response depends on it.
    pub request: Option<Spanned<RequestDoc>>,
    /// What the client must get; only what is listed is compared.
    pub expect: Option<Spanned<ExpectDoc>>,
}

/// The integration types, as far as selection is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum IntegrationKind {
    Lambda,
    Http,
    Aws,
    Mock,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BackendDoc {
    /// lambda: the function failed with this message (absent: it succeeded).
    pub error_message: Option<Spanned<String>>,
    /// http, aws, mock: the backend's status code.
    pub status_code: Option<Spanned<StatusCode>>,
    /// Response headers (`integration.response.header.<name>`).
    pub headers: Option<Pairs<Spanned<String>>>,
    /// Multi-value response headers (`integration.response.multivalueheader.<name>`).
    pub multi_value_headers: Option<Pairs<Vec<Spanned<String>>>>,
    /// The integration response body.
    pub body: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RequestDoc {
    /// The client's `Accept` header (its media type picks the template).
    pub accept: Option<Spanned<String>>,
    /// `$context` variables, e.g. `{requestId: r-1, identity: {sourceIp: 1.2.3.4}}`.
    pub context: Option<serde_json::Map<String, serde_json::Value>>,
    /// `$stageVariables`.
    pub stage_variables: Option<Pairs<Spanned<String>>>,
    /// `$input.params()`: path, querystring and header parameters.
    pub params: Option<ParamsDoc>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ParamsDoc {
    pub path: Option<Pairs<Spanned<String>>>,
    pub querystring: Option<Pairs<Spanned<String>>>,
    pub header: Option<Pairs<Spanned<String>>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExpectDoc {
    /// The status code the client gets.
    pub status_code: Option<Spanned<StatusCode>>,
    /// Headers the client gets (names compare case-insensitively); others are ignored.
    pub headers: Option<Pairs<Spanned<String>>>,
    /// The exact body text...
    pub body: Option<Spanned<String>>,
    /// ...or the body compared as JSON.
    pub json: Option<Spanned<serde_json::Value>>,
}
