//! `export`: write the live integration responses of one REST API as specs.

use std::path::Path;
use std::process::ExitCode;

use super::{GlobalArgs, connect, fail, load_config, report_calls};
use crate::live::ApiGateway;

pub(super) async fn execute(global: &GlobalArgs, rest_api: &str, out: Option<&Path>) -> ExitCode {
    let config = match load_config(global) {
        Ok(config) => config,
        Err(message) => return fail(message),
    };
    let client = match connect(&config).await {
        Ok(c) => c,
        Err(code) => return code,
    };
    let apis = match client.rest_apis().await {
        Ok(apis) => apis,
        Err(e) => return fail(e.to_string()),
    };
    let matching: Vec<_> = apis
        .iter()
        .filter(|a| a.id == rest_api || a.name == rest_api)
        .collect();
    let api = match matching.as_slice() {
        [api] => *api,
        [] => {
            return fail(format!(
                "no REST API named or with id `{rest_api}` in this account and region"
            ));
        }
        many => {
            let ids: Vec<&str> = many.iter().map(|a| a.id.as_str()).collect();
            return fail(format!(
                "{} REST APIs are named `{rest_api}` (ids {}); export by id, and note that specs using \
                 restApiName cannot tell them apart",
                many.len(),
                ids.join(", ")
            ));
        }
    };
    let resources = match client.resources(&api.id).await {
        Ok(r) => r,
        Err(e) => return fail(e.to_string()),
    };
    let files = crate::export::export_specs(&api.name, &resources);
    for warning in crate::export::broken_templates(&resources) {
        eprintln!("warning: {warning}");
    }
    let count: usize = files
        .iter()
        .map(|(_, text)| text.matches("kind: IntegrationResponse").count())
        .sum();
    match out {
        None => {
            let docs: Vec<&str> = files.iter().map(|(_, text)| text.as_str()).collect();
            print!("{}", docs.join("---\n"));
        }
        Some(dir) => {
            if let Err(e) = std::fs::create_dir_all(dir) {
                return fail(format!("cannot create {}: {e}", dir.display()));
            }
            let mut written = std::collections::BTreeSet::new();
            for (name, text) in &files {
                let path = dir.join(name);
                // Never write over a file this export already wrote (names are unique
                // ignoring case; this keeps it so if that ever breaks).
                if !written.insert(name.to_lowercase()) {
                    return fail(format!(
                        "export would write {} twice; nothing after it was written (a bug: please report it)",
                        path.display()
                    ));
                }
                if let Err(e) = std::fs::write(&path, text) {
                    return fail(format!("cannot write {}: {e}", path.display()));
                }
            }
            eprintln!(
                "exported {count} integration response(s) of {} ({}) into {} file(s) in {}",
                api.name,
                api.id,
                files.len(),
                dir.display()
            );
        }
    }
    report_calls(&client);
    ExitCode::SUCCESS
}
