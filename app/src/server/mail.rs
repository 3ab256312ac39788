//! How Teamroom's mail looks, in one place: every message (invitation,
//! address confirmation, password reset, address change, security notices)
//! is written as a `Letter`, which makes the plain-text and the HTML body
//! from the same parts, so the two cannot drift apart and every piece of
//! text reaching the HTML is escaped. Links start at `link_origin`.

use super::AuthSettings;

/// The origin links in mail point at: `PUBLIC_URL`, and nothing a request
/// says (a forged Host header must not reach anyone's mailbox).
pub fn link_origin(settings: &AuthSettings) -> String {
    settings.public_origin.clone()
}

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A piece of a paragraph.
pub enum Part<'a> {
    Plain(&'a str),
    /// Bold in HTML (a name, a workspace), plain in text.
    Strong(&'a str),
}

/// A mail body under construction: "Hello," then paragraphs, buttons and a
/// closing line, each written once for both bodies.
pub struct Letter {
    text: String,
    html: String,
}

impl Default for Letter {
    fn default() -> Self {
        Self::new()
    }
}

impl Letter {
    pub fn new() -> Self {
        Self {
            text: String::from("Hello,\n\n"),
            html: String::from(
                "<!doctype html><html><body style=\"font-family:system-ui,sans-serif;\
                 line-height:1.5;color:#1f2933;max-width:36em\"><p>Hello,</p>",
            ),
        }
    }

    /// A paragraph of plain text.
    pub fn paragraph(self, text: &str) -> Self {
        self.parts(&[Part::Plain(text)])
    }

    /// A paragraph with some words in bold.
    pub fn parts(mut self, parts: &[Part<'_>]) -> Self {
        self.html.push_str("<p>");
        for part in parts {
            match part {
                Part::Plain(text) => {
                    self.text.push_str(text);
                    self.html.push_str(&escape_html(text));
                }
                Part::Strong(text) => {
                    self.text.push_str(text);
                    self.html.push_str("<strong>");
                    self.html.push_str(&escape_html(text));
                    self.html.push_str("</strong>");
                }
            }
        }
        self.text.push_str("\n\n");
        self.html.push_str("</p>");
        self
    }

    /// The one thing to do: a button in HTML, with the address spelt out
    /// under it for mail clients that hide buttons; "label:" and the
    /// address in text.
    pub fn button(mut self, label: &str, link: &str) -> Self {
        let label_html = escape_html(label);
        let link_html = escape_html(link);
        self.text.push_str(&format!("{label}:\n{link}\n\n"));
        self.html.push_str(&format!(
            "<p><a href=\"{link_html}\" style=\"display:inline-block;padding:12px 20px;\
             background:#2557d6;color:#fff;border-radius:6px;text-decoration:none\">{label_html}</a></p>\
             <p>Or open this address: <br><a href=\"{link_html}\">{link_html}</a></p>"
        ));
        self
    }

    /// The closing line (what to do if this was not you), in grey.
    pub fn closing(mut self, text: &str) -> (String, String) {
        self.text.push_str(text);
        self.text.push('\n');
        self.html.push_str(&format!(
            "<p style=\"color:#52606d\">{}</p></body></html>",
            escape_html(text)
        ));
        (self.text, self.html)
    }
}

#[cfg(test)]
mod tests {
    use super::{Letter, Part};

    #[test]
    fn both_bodies_carry_the_same_words_and_the_html_is_escaped() {
        let (text, html) = Letter::new()
            .parts(&[
                Part::Strong("Eve <script>"),
                Part::Plain(" invited you & \"friends\"."),
            ])
            .button(
                "Accept the invitation",
                "https://t.example/invite/a?b=1&c=2",
            )
            .closing("Ignore it if unexpected.");
        assert_eq!(
            text,
            "Hello,\n\nEve <script> invited you & \"friends\".\n\n\
             Accept the invitation:\nhttps://t.example/invite/a?b=1&c=2\n\n\
             Ignore it if unexpected.\n"
        );
        assert!(html.contains(
            "<strong>Eve &lt;script&gt;</strong> invited you &amp; &quot;friends&quot;."
        ));
        assert!(html.contains("href=\"https://t.example/invite/a?b=1&amp;c=2\""));
        assert!(!html.contains("<script>"));
        assert!(html.ends_with("Ignore it if unexpected.</p></body></html>"));
    }
}
