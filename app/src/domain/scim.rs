//! SCIM filters (RFC 7644 section 3.4.2.2), parsed into a small tree that
//! the server turns into SQL with bound values. Only the attributes a
//! resource offers and the operators `eq ne co sw ew pr`, joined by `and`,
//! `or`, `not` and parentheses, are accepted; everything else, and filters
//! past the size limits, is an error message for a 400 `invalidFilter`.

/// Longest filter text read.
pub const MAX_FILTER_CHARS: usize = 2000;
/// Deepest nesting of parentheses and `not`.
pub const MAX_DEPTH: usize = 8;
/// Most comparisons in one filter.
pub const MAX_TERMS: usize = 40;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(String),
    Bool(bool),
    Null,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    /// `attribute` is one of the names the caller allowed, as spelled there.
    Compare {
        attribute: &'static str,
        op: Op,
        value: Value,
    },
    Present {
        attribute: &'static str,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    Word(String),
    Str(String),
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                tokens.push(Token::Open);
                i += 1;
            }
            ')' => {
                tokens.push(Token::Close);
                i += 1;
            }
            '"' => {
                let start = i;
                i += 1;
                let mut escaped = false;
                loop {
                    let Some(&c) = chars.get(i) else {
                        return Err("A quoted value in the filter is not closed.".into());
                    };
                    i += 1;
                    if escaped {
                        escaped = false;
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == '"' {
                        break;
                    }
                }
                let literal: String = chars[start..i].iter().collect();
                let value: String = serde_json::from_str(&literal).map_err(|_| {
                    "A quoted value in the filter is not a valid string.".to_owned()
                })?;
                tokens.push(Token::Str(value));
            }
            '[' | ']' => {
                return Err("Filters on values inside brackets are not supported here.".into());
            }
            _ => {
                let start = i;
                while i < chars.len()
                    && !chars[i].is_whitespace()
                    && !matches!(chars[i], '(' | ')' | '"' | '[' | ']')
                {
                    i += 1;
                }
                tokens.push(Token::Word(chars[start..i].iter().collect()));
            }
        }
    }
    Ok(tokens)
}

struct Parser<'a> {
    tokens: Vec<Token>,
    at: usize,
    terms: usize,
    allowed: &'a [&'static str],
    schema: &'a str,
}

impl Parser<'_> {
    fn peek_word(&self, word: &str) -> bool {
        matches!(self.tokens.get(self.at), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn or(&mut self, depth: usize) -> Result<Filter, String> {
        let mut left = self.and(depth)?;
        while self.peek_word("or") {
            self.at += 1;
            let right = self.and(depth)?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self, depth: usize) -> Result<Filter, String> {
        let mut left = self.unary(depth)?;
        while self.peek_word("and") {
            self.at += 1;
            let right = self.unary(depth)?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self, depth: usize) -> Result<Filter, String> {
        if depth > MAX_DEPTH {
            return Err(format!(
                "The filter is nested too deeply (at most {MAX_DEPTH} levels)."
            ));
        }
        if self.peek_word("not") {
            self.at += 1;
            if self.tokens.get(self.at) != Some(&Token::Open) {
                return Err("`not` must be followed by a parenthesised filter.".into());
            }
            return Ok(Filter::Not(Box::new(self.unary(depth + 1)?)));
        }
        match self.tokens.get(self.at).cloned() {
            Some(Token::Open) => {
                self.at += 1;
                let inner = self.or(depth + 1)?;
                if self.tokens.get(self.at) != Some(&Token::Close) {
                    return Err("A parenthesis in the filter is not closed.".into());
                }
                self.at += 1;
                Ok(inner)
            }
            Some(Token::Word(name)) => {
                self.at += 1;
                self.comparison(&name)
            }
            Some(_) => Err("The filter has a value where an attribute name belongs.".into()),
            None => Err("The filter ends too early.".into()),
        }
    }

    fn attribute(&self, name: &str) -> Result<&'static str, String> {
        // A fully qualified name (`urn:...:User:userName`) means the same.
        let prefix_len = self.schema.len() + 1;
        let short = if name.len() > prefix_len
            && name[..self.schema.len()].eq_ignore_ascii_case(self.schema)
            && name.as_bytes()[self.schema.len()] == b':'
        {
            &name[prefix_len..]
        } else {
            name
        };
        self.allowed
            .iter()
            .find(|a| a.eq_ignore_ascii_case(short))
            .copied()
            .ok_or_else(|| {
                format!(
                    "The filter cannot use the attribute \"{}\"; it can use: {}.",
                    name.chars().take(100).collect::<String>(),
                    self.allowed.join(", ")
                )
            })
    }

    fn comparison(&mut self, name: &str) -> Result<Filter, String> {
        let attribute = self.attribute(name)?;
        self.terms += 1;
        if self.terms > MAX_TERMS {
            return Err(format!(
                "The filter has too many comparisons (at most {MAX_TERMS})."
            ));
        }
        let Some(Token::Word(op)) = self.tokens.get(self.at).cloned() else {
            return Err(format!("An operator must follow \"{attribute}\"."));
        };
        self.at += 1;
        let op = match op.to_ascii_lowercase().as_str() {
            "pr" => return Ok(Filter::Present { attribute }),
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "co" => Op::Co,
            "sw" => Op::Sw,
            "ew" => Op::Ew,
            _ => {
                return Err(format!(
                    "The filter operator \"{}\" is not supported; use eq, ne, co, sw, ew or pr.",
                    op.chars().take(20).collect::<String>()
                ))
            }
        };
        let value = match self.tokens.get(self.at).cloned() {
            Some(Token::Str(s)) => Value::Str(s),
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("true") => Value::Bool(true),
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("false") => Value::Bool(false),
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("null") => Value::Null,
            _ => {
                return Err(format!(
                    "A quoted value, true, false or null must follow \"{attribute}\"."
                ))
            }
        };
        self.at += 1;
        Ok(Filter::Compare {
            attribute,
            op,
            value,
        })
    }
}

/// Parses `text` for a resource whose filterable attributes are `allowed`
/// (matched without regard to case, also behind the `schema` URN).
pub fn parse(text: &str, allowed: &[&'static str], schema: &str) -> Result<Filter, String> {
    if text.chars().count() > MAX_FILTER_CHARS {
        return Err(format!(
            "The filter is too long (at most {MAX_FILTER_CHARS} characters)."
        ));
    }
    let tokens = tokenize(text)?;
    if tokens.is_empty() {
        return Err("The filter is empty.".into());
    }
    let mut parser = Parser {
        tokens,
        at: 0,
        terms: 0,
        allowed,
        schema,
    };
    let filter = parser.or(0)?;
    if parser.at != parser.tokens.len() {
        return Err("The filter has extra text after its end; join terms with and / or.".into());
    }
    Ok(filter)
}

#[cfg(test)]
mod tests {
    use super::*;

    const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
    const ALLOWED: &[&str] = &["userName", "emails.value", "externalId", "displayName"];

    fn p(text: &str) -> Result<Filter, String> {
        parse(text, ALLOWED, USER)
    }

    #[test]
    fn parses_what_identity_providers_send() {
        assert_eq!(
            p(r#"userName eq "ann@example.com""#),
            Ok(Filter::Compare {
                attribute: "userName",
                op: Op::Eq,
                value: Value::Str("ann@example.com".into())
            })
        );
        assert!(p(r#"USERNAME Eq "a""#).is_ok());
        assert!(p(&format!(r#"{USER}:userName eq "a""#)).is_ok());
        assert!(p(r#"externalId eq "x" and (displayName co "A" or emails.value sw "a")"#).is_ok());
        assert!(p("displayName pr").is_ok());
        assert!(p(r#"not (userName eq "a\"b")"#).is_ok());
        match p(r#"userName eq "a" or userName eq "b" and displayName pr"#) {
            Ok(Filter::Or(_, right)) => assert!(matches!(*right, Filter::And(..))),
            other => panic!("and binds tighter than or: {other:?}"),
        }
    }

    #[test]
    fn refuses_what_it_does_not_understand() {
        for bad in [
            r#"password eq "x""#,
            r#"userName gt "x""#,
            r#"userName eq"#,
            r#"userName eq "x" extra"#,
            r#"(userName eq "x""#,
            r#"userName eq "x"#,
            r#"emails[type eq "work"]"#,
            "",
            "and",
            r#"userName eq x"#,
        ] {
            assert!(p(bad).is_err(), "{bad}");
        }
        let deep = format!("{}userName eq \"x\"{}", "(".repeat(100), ")".repeat(100));
        assert!(p(&deep).unwrap_err().contains("nested"));
        let many = vec![r#"userName eq "x""#; MAX_TERMS + 1].join(" or ");
        assert!(p(&many).unwrap_err().contains("too many"));
        assert!(p(&"a".repeat(MAX_FILTER_CHARS + 1)).is_err());
    }
}
