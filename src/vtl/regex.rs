//! Java regular expressions for `String.matches/replaceAll/replaceFirst/split`, on
//! [`crate::jregex`] (java.util.regex's syntax and semantics, held against real Java).
//! Only `compile`, `matches` and `find_at` touch the engine; Java's rules that do not
//! depend on it (replacement strings with `$n` and `\` escapes, `replaceFirst`, `split`
//! with its limit and its treatment of empty strings) are built here on `find_at`.

use std::fmt;

use crate::jregex;

#[derive(Debug, Clone)]
pub(crate) struct PatternError(String);

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct MatchError(String);

impl fmt::Display for MatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub(crate) struct Pattern {
    re: jregex::Pattern,
}

/// A match: byte offsets of the whole match and of each group (None when unset).
pub(crate) struct Match {
    pub start: usize,
    pub end: usize,
    pub groups: Vec<Option<(usize, usize)>>,
}

fn me(e: jregex::MatchError) -> MatchError {
    MatchError(format!(
        "the regular expression took more than {} steps on this input (catastrophic backtracking)",
        e.budget
    ))
}

impl Pattern {
    pub fn compile(p: &str) -> Result<Pattern, PatternError> {
        jregex::Pattern::compile(p)
            .map(|re| Pattern { re })
            .map_err(|e| PatternError(format!("{} near index {}", e.description, e.index)))
    }

    /// `String.matches`: the whole input must match.
    pub fn matches(&self, input: &str) -> Result<bool, MatchError> {
        self.re.matches(input).map_err(me)
    }

    /// The first match starting at or after byte offset `start`.
    pub fn find_at(&self, input: &str, start: usize) -> Result<Option<Match>, MatchError> {
        if start > input.len() {
            return Ok(None);
        }
        let Some(c) = self.re.find_at(input, start).map_err(me)? else {
            return Ok(None);
        };
        let groups = (0..c.len())
            .map(|i| c.get(i).map(|r| (r.start, r.end)))
            .collect();
        Ok(Some(Match {
            start: c.start(),
            end: c.end(),
            groups,
        }))
    }

    fn replace(&self, input: &str, rep: &str, all: bool) -> Result<String, MatchError> {
        let mut out = String::new();
        let mut last = 0;
        let mut pos = 0;
        while pos <= input.len() {
            let Some(m) = self.find_at(input, pos)? else {
                break;
            };
            out.push_str(&input[last..m.start]);
            append_replacement(&mut out, input, &m, rep)?;
            last = m.end;
            if !all {
                break;
            }
            pos = if m.end == m.start {
                // step over one character after an empty match
                match input[m.end..].chars().next() {
                    Some(c) => m.end + c.len_utf8(),
                    None => input.len() + 1,
                }
            } else {
                m.end
            };
        }
        out.push_str(&input[last.min(input.len())..]);
        Ok(out)
    }

    /// `Matcher.replaceAll`: `$n` inserts group n, `\x` inserts x literally.
    pub fn replace_all(&self, input: &str, rep: &str) -> Result<String, MatchError> {
        self.replace(input, rep, true)
    }

    pub fn replace_first(&self, input: &str, rep: &str) -> Result<String, MatchError> {
        self.replace(input, rep, false)
    }

    /// `String.split(regex)` (limit 0).
    #[allow(dead_code)]
    pub fn split(&self, input: &str) -> Result<Vec<String>, MatchError> {
        self.split_limit(input, 0)
    }

    /// `String.split(regex, limit)`: a zero-width match at the start yields no leading
    /// empty string; limit > 0 caps the number of parts; limit 0 drops trailing empty
    /// strings.
    pub fn split_limit(&self, input: &str, limit: i32) -> Result<Vec<String>, MatchError> {
        // java.util.regex.Pattern.split, step for step
        let mut out: Vec<String> = Vec::new();
        let mut index = 0;
        let mut pos = 0;
        let limited = limit > 0;
        while pos <= input.len() {
            let Some(m) = self.find_at(input, pos)? else {
                break;
            };
            if !limited || (out.len() as i32) < limit - 1 {
                if !(index == 0 && m.start == 0 && m.start == m.end) {
                    out.push(input[index..m.start].to_string());
                    index = m.end;
                }
            } else if out.len() as i32 == limit - 1 {
                out.push(input[index..].to_string());
                index = m.end;
                break;
            }
            pos = if m.end == m.start {
                match input[m.end..].chars().next() {
                    Some(c) => m.end + c.len_utf8(),
                    None => input.len() + 1,
                }
            } else {
                m.end
            };
        }
        if index == 0 {
            return Ok(vec![input.to_string()]);
        }
        if !limited || (out.len() as i32) < limit {
            out.push(input[index..].to_string());
        }
        if limit == 0 {
            while out.last().is_some_and(|s| s.is_empty()) {
                out.pop();
            }
        }
        Ok(out)
    }
}

fn append_replacement(
    out: &mut String,
    input: &str,
    m: &Match,
    rep: &str,
) -> Result<(), MatchError> {
    let cs: Vec<char> = rep.chars().collect();
    let mut i = 0;
    while i < cs.len() {
        match cs[i] {
            '\\' => {
                i += 1;
                match cs.get(i) {
                    Some(c) => out.push(*c),
                    None => {
                        return Err(MatchError("character to be escaped is missing".into()));
                    }
                }
                i += 1;
            }
            '$' => {
                i += 1;
                let Some(d) = cs.get(i).and_then(|c| c.to_digit(10)) else {
                    return Err(MatchError("Illegal group reference".into()));
                };
                let mut g = d as usize;
                if g >= m.groups.len() {
                    return Err(MatchError(format!("No group {g}")));
                }
                i += 1;
                // Java takes more digits while the group number stays valid
                while let Some(d) = cs.get(i).and_then(|c| c.to_digit(10)) {
                    let ng = g * 10 + d as usize;
                    if ng < m.groups.len() {
                        g = ng;
                        i += 1;
                    } else {
                        break;
                    }
                }
                if let Some(Some((a, b))) = m.groups.get(g) {
                    out.push_str(&input[*a..*b]);
                }
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(())
}
