//! The challenge answer's `contents`: a form-URL-encoded HTML page whose script posts `form1` to the
//! bank. We read the form out of it (action and hidden fields) and never serve Bambora's HTML ourselves:
//! our own route renders the form from these fields.

pub use crate::server::providers::RedirectForm;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RedirectError {
    #[error("the challenge page has no form")]
    NoForm,
    #[error("the challenge form does not post to an absolute http(s) URL")]
    BadAction,
    #[error("the challenge form's method is not POST")]
    NotPost,
}

/// Decodes `contents` and reads its form (`form1`, or the only form).
pub fn parse(contents: &str) -> Result<RedirectForm, RedirectError> {
    let html = form_decode(contents);
    let tags = tags(&html);
    let forms: Vec<usize> = tags.iter().enumerate().filter(|(_, t)| t.name == "form").map(|(i, _)| i).collect();
    let start = forms
        .iter()
        .copied()
        .find(|&i| tags[i].attr("name").or(tags[i].attr("id")) == Some("form1"))
        .or_else(|| (forms.len() == 1).then(|| forms[0]))
        .ok_or(RedirectError::NoForm)?;
    let form = &tags[start];
    let action = form.attr("action").unwrap_or_default().trim().to_owned();
    let lower = action.to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://")) || action.len() < 10 {
        return Err(RedirectError::BadAction);
    }
    if !form.attr("method").unwrap_or("get").eq_ignore_ascii_case("post") {
        return Err(RedirectError::NotPost);
    }
    let fields = tags[start + 1..]
        .iter()
        .take_while(|t| t.name != "/form")
        .filter(|t| t.name == "input" && t.attr("type").is_none_or(|k| !k.eq_ignore_ascii_case("submit")))
        .filter_map(|t| Some((t.attr("name")?.to_owned(), t.attr("value").unwrap_or_default().to_owned())))
        .filter(|(name, _)| !name.is_empty())
        .collect();
    Ok(RedirectForm { action, fields })
}

/// application/x-www-form-urlencoded: `+` is a space, `%XX` a byte.
fn form_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One start or end tag: lower-cased name (`/form` for an end tag) and its attributes, names lower-cased
/// and values entity-decoded.
struct Tag {
    name: String,
    attrs: Vec<(String, String)>,
}

impl Tag {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// A forgiving tag scanner, enough for a generated form: comments and script bodies are skipped.
fn tags(html: &str) -> Vec<Tag> {
    let b = html.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(offset) = html[i..].find('<') {
        let start = i + offset;
        if html[start..].starts_with("<!--") {
            i = html[start..].find("-->").map_or(html.len(), |e| start + e + 3);
            continue;
        }
        let mut j = start + 1;
        let closing = b.get(j) == Some(&b'/');
        if closing {
            j += 1;
        }
        let name_start = j;
        while j < b.len() && b[j].is_ascii_alphanumeric() {
            j += 1;
        }
        if j == name_start {
            i = start + 1;
            continue;
        }
        let name = html[name_start..j].to_ascii_lowercase();
        let mut attrs = Vec::new();
        loop {
            while j < b.len() && (b[j].is_ascii_whitespace() || b[j] == b'/') {
                j += 1;
            }
            if j >= b.len() || b[j] == b'>' {
                break;
            }
            let key_start = j;
            while j < b.len() && !b[j].is_ascii_whitespace() && !matches!(b[j], b'=' | b'>' | b'/') {
                j += 1;
            }
            let key = html[key_start..j].to_ascii_lowercase();
            while j < b.len() && b[j].is_ascii_whitespace() {
                j += 1;
            }
            let mut value = String::new();
            if b.get(j) == Some(&b'=') {
                j += 1;
                while j < b.len() && b[j].is_ascii_whitespace() {
                    j += 1;
                }
                let (from, to, next) = match b.get(j) {
                    Some(&q @ (b'"' | b'\'')) => {
                        let end = html[j + 1..].find(q as char).map_or(html.len(), |e| j + 1 + e);
                        (j + 1, end, (end + 1).min(html.len()))
                    }
                    _ => {
                        let end =
                            html[j..].find(|c: char| c.is_ascii_whitespace() || c == '>').map_or(html.len(), |e| j + e);
                        (j, end, end)
                    }
                };
                value = decode_entities(&html[from..to]);
                j = next;
            }
            if !key.is_empty() {
                attrs.push((key, value));
            }
        }
        i = (j + 1).min(html.len());
        if name == "script" && !closing {
            i = html[i..].to_ascii_lowercase().find("</script").map_or(html.len(), |e| i + e);
        }
        out.push(Tag { name: if closing { format!("/{name}") } else { name }, attrs });
    }
    out
}

fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let decoded = rest.find(';').filter(|&semi| semi <= 10).and_then(|semi| {
            let entity = &rest[1..semi];
            let c = match entity {
                "amp" => Some('&'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "lt" => Some('<'),
                "gt" => Some('>'),
                _ => match entity.strip_prefix("#x").or_else(|| entity.strip_prefix("#X")) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok().and_then(char::from_u32),
                    None => entity.strip_prefix('#').and_then(|n| n.parse().ok()).and_then(char::from_u32),
                },
            };
            c.map(|c| (c, semi))
        });
        match decoded {
            Some((c, semi)) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The seed's own example, verbatim.
    const SEED: &str = "%3cHTML%3e%3cHEAD%3e%3c%2fHEAD%3e%3cBODY%3e%3cFORM+action%3d%22https%3a%2f%2fapi.na.bambora.com%2factiveMerchantEmulator%2fgateway.asp%22+method%3d%22POST%22+id%3d%22form1%22+name%3d%22form1%22%3e%3cINPUT+type%3d%22hidden%22+name%3d%22PaReq%22+value%3d%22TEST_paRaq%22%3e%3cinput+type%3d%22hidden%22+name%3d%22merchant_name%22+value%3d%22Seven+Sparrow+Inc.%22%3e%3cinput+type%3d%22hidden%22+name%3d%22trnDatetime%22+value%3d%222%2f23%2f2017+5%3a05%3a42+PM%22%3e%3cinput+type%3d%22hidden%22+name%3d%22trnAmount%22+value%3d%22100.00%22%3e%3cinput+type%3d%22hidden%22+name%3d%22trnEncCardNumber%22+value%3d%22XXXX+XXXX+XXXX+3312%22%3e%3cINPUT+type%3d%22hidden%22+name%3d%22MD%22+value%3d%222CCD7715-9E97-4F11-9FFF36E6584E3200%22%3e%3cINPUT+type%3d%22hidden%22+name%3d%22TermUrl%22+value%3d%22http%3a%2f%2f10.240.9.64%3a5000%2fpayment%2fenhanced%2fredirect%2f3d-secure%22%3e%3c%2fFORM%3e%3cSCRIPT+language%3d%22JavaScript%22%3edocument.form1.submit()%3b%3c%2fSCRIPT%3e%3c%2fBODY%3e%3c%2fHTML%3e";

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn reads_the_seeds_challenge_form() {
        let form = parse(SEED).unwrap();
        assert_eq!(form.action, "https://api.na.bambora.com/activeMerchantEmulator/gateway.asp");
        assert_eq!(
            form.fields,
            pairs(&[
                ("PaReq", "TEST_paRaq"),
                ("merchant_name", "Seven Sparrow Inc."),
                ("trnDatetime", "2/23/2017 5:05:42 PM"),
                ("trnAmount", "100.00"),
                ("trnEncCardNumber", "XXXX XXXX XXXX 3312"),
                ("MD", "2CCD7715-9E97-4F11-9FFF36E6584E3200"),
                ("TermUrl", "http://10.240.9.64:5000/payment/enhanced/redirect/3d-secure"),
            ])
        );
    }

    #[test]
    fn quoting_entities_and_other_forms() {
        let page = "<html><form name='other' action='https://x.example/a' method=post><input name=a value=1></form>\
            <!-- <form name=\"form1\" action=\"https://evil.example\"> -->\
            <form method=\"post\" name=\"form1\" action=\"https://acs.example/c?x=1&amp;y=2\">\
            <input type=hidden name=creq value=\"eyJ&quot;&#x41;&#66;\"><input type=\"submit\" name=\"go\" value=\"Go\">\
            </form><script>var s='<form name=\"form1\">';</script>";
        let encoded: String = page.bytes().map(|b| format!("%{b:02X}")).collect();
        let form = parse(&encoded).unwrap();
        assert_eq!(form.action, "https://acs.example/c?x=1&y=2");
        assert_eq!(form.fields, pairs(&[("creq", "eyJ\"AB")]));
    }

    #[test]
    fn refuses_what_cannot_be_posted_from_our_page() {
        let enc = |s: &str| s.replace(' ', "+");
        assert_eq!(parse(&enc("<p>nothing here</p>")), Err(RedirectError::NoForm));
        assert_eq!(parse(&enc("<form name=form1 action=/relative method=post></form>")), Err(RedirectError::BadAction));
        assert_eq!(
            parse(&enc("<form name=form1 action=javascript:alert(1) method=post></form>")),
            Err(RedirectError::BadAction)
        );
        assert_eq!(parse(&enc("<form name=form1 action=https://acs.example/x></form>")), Err(RedirectError::NotPost));
        assert_eq!(
            parse("%3cform+name%3dform1+action%3dhttps%3a%2f%2fa.example%2fx+method%3dPOST%3e%3c%2fform%3e")
                .unwrap()
                .fields,
            vec![]
        );
    }
}
