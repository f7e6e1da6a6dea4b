//! Secrets redaction: replaces tokens, keys, passwords and credentials in a command line with
//! `<redacted>`, keeping the command's shape so that it can still be scored. Everything that
//! reaches the disk or the log goes through it first: the agent redacts each command before it
//! scores, journals or stores it, and a hook redacts before it spools.
//!
//! Two kinds of evidence are combined, and every finding is a byte range of the original text
//! (the ranges are merged and replaced in one pass at the end, so detectors never see each
//! other's output):
//!
//! - shapes found anywhere in the text: vendor token prefixes, private key blocks, credentials
//!   in URLs;
//! - positions found by a small shell tokenizer: the value of a flag that a given tool reads a
//!   secret from (`mysql -pX`, `htpasswd -b f user X`, ...), the value of a secret-named
//!   variable or option (`DB_PASS=x`, `--api-key x`, `"password": "x"`), HTTP headers that
//!   carry credentials, and long random-looking values in any value position.
//!
//! A false redaction corrupts the person's history, so flags are only secret for the tools
//! known to read secrets from them (`-p` is a password for mysql, a port for ssh), and names
//! are split into words so that `max_tokens` or `TOKENIZERS_PARALLELISM` are not `TOKEN`.
//!
//! Everything is linear in the input: the regex crate has no backtracking, and every hand
//! written scan moves forward.
#![deny(clippy::indexing_slicing)]

use regex::Regex;
use std::sync::LazyLock;

/// What a secret is replaced with.
pub const REDACTED: &str = "<redacted>";

/// A byte range of the original text to replace.
type Span = (usize, usize);

/// Rules from the person's config: extra patterns (the whole match is redacted).
#[derive(Debug, Default, Clone)]
pub struct Extra {
    patterns: Vec<Regex>,
}

impl Extra {
    /// Compiles extra patterns; returns the ones that do not compile, with their errors.
    pub fn new(patterns: &[String]) -> (Extra, Vec<String>) {
        let mut ok = Vec::new();
        let mut bad = Vec::new();
        for s in patterns {
            match Regex::new(s) {
                Ok(re) => ok.push(re),
                Err(e) => bad.push(format!("{s}: {e}")),
            }
        }
        (Extra { patterns: ok }, bad)
    }
}

/// Redacts `command` with the built-in rules and `extra`.
pub fn redact_with(command: &str, extra: &Extra) -> String {
    let mut spans = Vec::new();
    shapes(command, &mut spans);
    scan(command, 0, command.len(), 0, &mut spans);
    let mut out = apply(command, spans);
    for re in &extra.patterns {
        out = re.replace_all(&out, REDACTED).into_owned();
    }
    out
}

/// Redacts `command` with the built-in rules.
pub fn redact(command: &str) -> String {
    redact_with(command, &Extra::default())
}

/// Replaces the merged spans with `REDACTED`.
fn apply(text: &str, mut spans: Vec<Span>) -> String {
    spans.retain(|&(s, e)| s < e && text.is_char_boundary(s) && text.is_char_boundary(e) && e <= text.len());
    if spans.is_empty() {
        return text.to_string();
    }
    spans.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    let mut cur: Option<Span> = None;
    let flush = |out: &mut String, last: &mut usize, (s, e): Span| {
        out.push_str(text.get(*last..s).unwrap_or(""));
        out.push_str(REDACTED);
        *last = e;
    };
    for (s, e) in spans {
        cur = match cur {
            // Overlapping or touching ranges become one: one secret, one marker.
            Some((cs, ce)) if s <= ce => Some((cs, ce.max(e))),
            Some(c) => {
                flush(&mut out, &mut last, c);
                Some((s, e))
            }
            None => Some((s, e)),
        };
    }
    if let Some(c) = cur {
        flush(&mut out, &mut last, c);
    }
    out.push_str(text.get(last..).unwrap_or(""));
    out
}

/// Adds a span unless it is already redacted (which keeps redaction idempotent).
fn push(text: &str, spans: &mut Vec<Span>, s: usize, e: usize) {
    if let Some(t) = text.get(s..e) {
        if !t.is_empty() && !t.contains(REDACTED) {
            spans.push((s, e));
        }
    }
}

fn compile(re: &str) -> Regex {
    // ASCII word boundaries keep the fast DFA engines usable on non-ASCII text.
    let re = re.replace(r"\b", r"(?-u:\b)");
    Regex::new(&re).unwrap_or_else(|e| panic!("bad built-in pattern {re}: {e}"))
}

// ---------------------------------------------------------------------------------------------
// Shapes: vendor tokens, key blocks, URL credentials.
// ---------------------------------------------------------------------------------------------

/// A token shape: the whole match is the secret unless `group` names one; `check` filters
/// matches whose shape alone is too common to trust.
struct Shape {
    re: Regex,
    group: usize,
    check: fn(&str) -> bool,
}

fn any(_: &str) -> bool {
    true
}

/// Letters and digits both present: rules out words such as `sk-learn-example-project-name`.
fn has_digit_and_letter(s: &str) -> bool {
    s.bytes().any(|b| b.is_ascii_digit()) && s.bytes().any(|b| b.is_ascii_alphabetic())
}

fn mixed_case_and_digit(s: &str) -> bool {
    s.bytes().any(|b| b.is_ascii_digit()) && s.bytes().any(|b| b.is_ascii_lowercase()) && s.bytes().any(|b| b.is_ascii_uppercase())
}

/// Token shapes, from the public knowledge of the vendors' formats (the prefixes that gitleaks
/// and trufflehog key on); written for this crate.
static SHAPES: LazyLock<Vec<Shape>> = LazyLock::new(|| {
    let s = |re: &str, group: usize, check: fn(&str) -> bool| Shape { re: compile(re), group, check };
    vec![
        // AWS access key ids (the secret key has no shape; its name or entropy finds it).
        s(r"\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)[A-Z0-9]{16}\b", 0, any),
        // GitHub: classic, OAuth, user-to-server, server-to-server, refresh; fine-grained.
        s(r"\bgh[pousr]_[A-Za-z0-9]{30,255}\b", 0, any),
        s(r"\bgithub_pat_[A-Za-z0-9_]{22,255}\b", 0, any),
        // GitLab: personal, deploy, pipeline trigger, runner, OAuth, CI job, ... tokens.
        s(r"\bgl(?:pat|dt|ptt|rt|oas|cbt|imt|ft|soat|agent|wt|ffct|ddt)-[A-Za-z0-9_\-]{20,}", 0, any),
        s(r"\bGR1348941[A-Za-z0-9_\-]{20,}", 0, any),
        // Slack tokens, app tokens and webhooks.
        s(r"\bxox[abposre]-[A-Za-z0-9\-]{10,}", 0, any),
        s(r"\bxapp-[0-9]-[A-Za-z0-9\-]{10,}", 0, any),
        s(r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_\-]+", 0, any),
        // Discord webhooks (the token after the id) and bot tokens.
        s(r"(?i:https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/[0-9]+/)([A-Za-z0-9_\-]{20,})", 1, any),
        s(r"\b[MNO][A-Za-z0-9_\-]{23,27}\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27,40}\b", 0, has_digit_and_letter),
        // Stripe keys and webhook secrets.
        s(r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{10,}", 0, any),
        s(r"\bwhsec_[A-Za-z0-9+/=]{20,}", 0, any),
        // Google: API keys, OAuth access tokens, OAuth client secrets, refresh tokens.
        s(r"\bAIza[0-9A-Za-z_\-]{35}", 0, any),
        s(r"\bya29\.[0-9A-Za-z_\-]{20,}", 0, any),
        s(r"\bGOCSPX-[A-Za-z0-9_\-]{20,}", 0, any),
        s(r"\b1//0[A-Za-z0-9_\-]{30,}", 0, any),
        // npm, PyPI.
        s(r"\bnpm_[A-Za-z0-9]{36}\b", 0, any),
        s(r"\bpypi-AgE[A-Za-z0-9_\-]{30,}", 0, any),
        // OpenAI (sk-, sk-proj-, sk-svcacct-), Anthropic (sk-ant-), OpenRouter, DeepSeek...
        s(r"\bsk-[A-Za-z0-9_\-]{20,}", 0, mixed_case_and_digit),
        // SendGrid.
        s(r"\bSG\.[A-Za-z0-9_\-]{16,32}\.[A-Za-z0-9_\-]{16,64}", 0, any),
        // DigitalOcean, HashiCorp Vault (service, batch, recovery; legacy s.), Databricks.
        s(r"\bdo[pro]_v1_[a-f0-9]{64}\b", 0, any),
        s(r"\bhv[sbr]\.[A-Za-z0-9_\-]{20,}", 0, any),
        s(r"\bs\.[A-Za-z0-9]{24}\b", 0, mixed_case_and_digit),
        s(r"\bdapi[a-f0-9]{32}(?:-[0-9])?\b", 0, any),
        // Shopify, Twilio API keys, Mailgun, Mailchimp, Telegram bots.
        s(r"\bshp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}\b", 0, any),
        s(r"\bSK[0-9a-fA-F]{32}\b", 0, has_digit_and_letter),
        s(r"\bkey-[0-9a-zA-Z]{32}\b", 0, has_digit_and_letter),
        s(r"\b[0-9a-f]{32}-us[0-9]{1,2}\b", 0, any),
        s(r"\b[0-9]{5,16}:AA[A-Za-z0-9_\-]{30,}", 0, any),
        // Docker Hub, Hugging Face, Grafana, New Relic, Atlassian, Linear, Postman.
        s(r"\bdckr_(?:pat|oat)_[A-Za-z0-9_\-]{20,}", 0, any),
        s(r"\b(?:hf|api_org)_[A-Za-z0-9]{30,}\b", 0, any),
        s(r"\bglc_[A-Za-z0-9+/]{32,}={0,2}", 0, any),
        s(r"\bglsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}\b", 0, any),
        s(r"\beyJrIjoi[A-Za-z0-9+/]{40,}={0,2}", 0, any),
        s(r"\bNR(?:AK|JS|II|AA|IQ)-[A-Za-z0-9]{19,}\b", 0, any),
        s(r"\bAT(?:ATT|CTT)3[A-Za-z0-9_\-=]{30,}", 0, any),
        s(r"\blin_(?:api|oauth)_[A-Za-z0-9]{32,}\b", 0, any),
        s(r"\bPMAK-[A-Za-z0-9]{20,}-[A-Za-z0-9]{20,}\b", 0, any),
        // Doppler, Pulumi, Terraform Cloud, age, Heroku.
        s(r"\bdp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{20,}\b", 0, any),
        s(r"\bpul-[a-f0-9]{40}\b", 0, any),
        s(r"\b[A-Za-z0-9]{10,}\.atlasv1\.[A-Za-z0-9_\-=]{20,}", 0, any),
        s(r"\bAGE-SECRET-KEY-1[0-9A-Za-z]{20,}", 0, any),
        s(r"\bHRKU-[A-Za-z0-9_\-]{20,}", 0, any),
        // Azure AD client secrets (three characters, a digit, Q~).
        s(r"\b[A-Za-z0-9_~.]{3}[0-9]Q~[A-Za-z0-9_~.\-]{31,34}", 0, any),
        // Other prefixed tokens: Sentry, Supabase, Netlify, Render, PlanetScale, Notion, Figma,
        // Buildkite, CircleCI, Tailscale, Groq, Replicate, xAI, Perplexity, LangSmith,
        // RubyGems, Fly.io, Sourcegraph, Clojars, Airtable, Mapbox secret tokens.
        s(
            r"\b(?:sntry[su]_|sbp_|sb_secret_|nfp_|rnd_|pscale_(?:tkn|pw|oauth)_|ntn_|figd_|bkua_|CCIPAT_|tskey-(?:auth|api|client|scim|webhook)-|gsk_|r8_|xai-|pplx-|lsv2_(?:pt|sk)_|rubygems_|fo1_|fm[12]_|sgp_|CLOJARS_|pat[A-Za-z0-9]{14}\.|sk\.eyJ)[A-Za-z0-9_\-]{20,}",
            0,
            has_digit_and_letter,
        ),
        // JSON web tokens.
        s(r"\beyJ[A-Za-z0-9_\-]{5,}\.eyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}", 0, any),
        // SQL: ALTER USER ... PASSWORD 'x', CREATE USER ... IDENTIFIED BY 'x'.
        s(r"(?i)\b(?:identified\s+by|password)\s+'([^'\s]+)'", 1, any),
    ]
});

static KEY_BEGIN: LazyLock<Regex> = LazyLock::new(|| compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"));
static KEY_END: LazyLock<Regex> = LazyLock::new(|| compile(r"-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"));
static URL_START: LazyLock<Regex> = LazyLock::new(|| compile(r"\b[A-Za-z][A-Za-z0-9+.\-]*://"));

/// Finds the shapes that do not depend on the command's structure.
fn shapes(text: &str, spans: &mut Vec<Span>) {
    for shape in SHAPES.iter() {
        for caps in shape.re.captures_iter(text) {
            if let Some(m) = caps.get(shape.group) {
                if (shape.check)(m.as_str()) {
                    push(text, spans, m.start(), m.end());
                }
            }
        }
    }
    key_blocks(text, spans);
    url_credentials(text, spans);
}

/// Private key blocks: to the END line, or, for a block cut off, to the closing quote or the
/// end of the text (a key body never holds a quote).
fn key_blocks(text: &str, spans: &mut Vec<Span>) {
    let mut from = 0;
    while let Some(m) = text.get(from..).and_then(|t| KEY_BEGIN.find(t)) {
        let start = from + m.start();
        let body = from + m.end();
        let rest = text.get(body..).unwrap_or("");
        let stop = body + rest.find(['\'', '"']).unwrap_or(rest.len());
        let end = match text.get(body..stop).and_then(|t| KEY_END.find(t)) {
            Some(e) => body + e.end(),
            None => stop,
        };
        push(text, spans, start, end);
        from = end.max(body);
    }
}

/// `scheme://user:password@host` (the password may hold `@` or `/`: the last `@` that is
/// followed by a host name ends it) and `scheme://TOKEN@host`.
fn url_credentials(text: &str, spans: &mut Vec<Span>) {
    let mut from = 0;
    while let Some(m) = text.get(from..).and_then(|t| URL_START.find(t)) {
        let auth = from + m.end();
        let rest = text.get(auth..).unwrap_or("");
        let len = rest.find(|c: char| c.is_whitespace() || matches!(c, '\'' | '"' | '<' | '>' | '`')).unwrap_or(rest.len());
        from = auth + len.max(1);
        let Some(word) = rest.get(..len) else { continue };
        // The user name ends at the first ':' or '@' and holds no '/'.
        let Some(u) = word.find([':', '@', '/', '?', '#']) else { continue };
        let user = word.get(..u).unwrap_or("");
        let Some(at) = last_host_at(word) else { continue };
        if at < u {
            continue;
        }
        if word.get(u..=u) == Some(":") {
            let pass = word.get(u + 1..at).unwrap_or("");
            // host:8080/path/@scope is a port, not a password.
            let port = pass.split('/').next().is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
            if !pass.is_empty() && !port {
                push(text, spans, auth + u + 1, auth + at);
            }
            if user_is_token(user) {
                push(text, spans, auth, auth + u);
            }
        } else if word.get(u..=u) == Some("@") && at == u && user_is_token(user) {
            push(text, spans, auth, auth + u);
        }
    }
}

/// The last `@` of `word` that is followed by a host name (and then the end, a port, a path,
/// a query or a fragment).
fn last_host_at(word: &str) -> Option<usize> {
    let at = word.rfind('@')?;
    let host = word.get(at + 1..)?;
    let end = host.find([':', '/', '?', '#']).unwrap_or(host.len());
    let name = host.get(..end)?;
    let ok = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'[' | b']'));
    ok.then_some(at)
}

/// A URL's user part that is a token rather than a name (`https://TOKEN@host`).
fn user_is_token(user: &str) -> bool {
    let known = SHAPES.iter().any(|s| s.group == 0 && s.re.find(user).is_some_and(|m| m.len() == user.len()));
    known || looks_random(user) || (user.len() >= 32 && user.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'))
}

// ---------------------------------------------------------------------------------------------
// Names and values.
// ---------------------------------------------------------------------------------------------

/// Splits a name into lower-case words at separators and camelCase boundaries.
fn name_words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        cur.push(c.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// Words that say the name is about a secret but does not hold one (`max_tokens` is plural,
/// `no_password` a switch).
const NOT_FIRST: &[&str] = &["max", "min", "num", "no", "use", "ask", "prompt", "show", "enable", "disable", "with", "without", "require", "requires", "has", "is", "allow", "skip", "print", "read"];
/// Trailing words that do not change what the name holds (`SECRET_KEY_BASE`, `TOKEN_VALUE`).
const FILLER: &[&str] = &["base", "value", "val", "str", "string", "b64", "base64", "hex", "raw", "plain", "plaintext", "data", "enc", "encoded", "input"];
/// Words that make `key` a secret: `api_key`, `SECRET_KEY`, `AccountKey`...
const KEY_QUALIFIERS: &[&str] = &[
    "api", "access", "secret", "private", "auth", "account", "master", "encryption", "encrypt", "signing", "session", "client", "license", "licence", "storage", "app", "application", "service", "shared", "subscription",
    "webhook", "deploy", "root", "admin", "hmac", "crypt", "cipher", "aes", "jwt", "consumer", "sas", "primary", "secondary", "user", "write", "read", "ingest", "ingestion", "server", "sk", "pk", "license",
];

/// Whether a variable, option or key name holds a secret: its last word is one.
fn is_secret_name(name: &str) -> bool {
    secret_word(name).is_some()
}

/// The secret word a name ends with, if any.
fn secret_word(name: &str) -> Option<String> {
    let mut words = name_words(name);
    if words.len() > 1 && words.first().is_some_and(|w| NOT_FIRST.contains(&w.as_str())) {
        return None;
    }
    while words.len() > 1 && words.last().is_some_and(|w| FILLER.contains(&w.as_str())) {
        words.pop();
    }
    let last = words.last()?.as_str();
    let prev = words.len().checked_sub(2).and_then(|i| words.get(i)).map(String::as_str).unwrap_or("");
    let exact = [
        "password", "passwd", "passphrase", "passcode", "pass", "pw", "pwd", "secret", "token", "apikey", "credential", "credentials", "creds", "sig", "signature", "psk", "pat", "auth", "pin",
    ];
    let suffixes = ["password", "passwd", "passphrase", "secret", "token", "apikey", "accesskey", "secretkey", "privatekey", "authkey", "pwd"];
    let single = words.len() == 1;
    let secret = if exact.contains(&last) {
        // PWD and OLDPWD are the shell's directories; PAT and PIN alone are too vague.
        !(single && matches!(last, "pwd" | "pat" | "pin"))
    } else if last == "key" {
        KEY_QUALIFIERS.contains(&prev)
    } else {
        last != "oldpwd" && suffixes.iter().any(|s| last.ends_with(s))
    };
    secret.then(|| last.to_string())
}

/// A name for the `--name VALUE` form of an option of a tool this file does not know: stricter
/// than for assignments, since `--secret id=x,src=f` (docker) or `--auth` switches exist.
fn is_secret_option(name: &str) -> bool {
    match secret_word(name) {
        Some(w) => {
            let words = name_words(name);
            !matches!(w.as_str(), "auth" | "sig" | "signature" | "credential" | "credentials" | "creds" | "psk") && !(words.len() == 1 && w == "secret")
        }
        None => false,
    }
}

/// Values that are not secrets themselves: references to variables or files, switches.
fn is_placeholder(v: &str) -> bool {
    let l = v.to_ascii_lowercase();
    v.starts_with('$')
        || v.starts_with("%") && v.ends_with('%') && v.len() > 2
        || v.starts_with("<(")
        || matches!(l.as_str(), "" | "-" | "*" | "true" | "false" | "yes" | "no" | "on" | "off" | "none" | "null" | "nil" | "undefined" | "stdin" | "prompt")
        || v == REDACTED
}

/// Shannon entropy of `s`, in bits per byte.
fn entropy(s: &str) -> f64 {
    let mut counts = [0u32; 256];
    for b in s.bytes() {
        if let Some(c) = counts.get_mut(usize::from(b)) {
            *c += 1;
        }
    }
    let n = s.len() as f64;
    counts.iter().filter(|&&c| c > 0).map(|&c| f64::from(c) / n).map(|p| -p * p.log2()).sum()
}

/// A long random-looking value: at least 20 bytes of a token alphabet, upper and lower case and
/// two digits, changing character class often, with high entropy. Paths, URLs, hex digests,
/// UUIDs, versions, identifiers and file names are not random by this test.
fn looks_random(v: &str) -> bool {
    let len = v.len();
    if !(20..=4096).contains(&len) || v.starts_with(['.', '~', '-']) {
        return false;
    }
    if !v.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'=' | b'_' | b'-')) {
        return false;
    }
    let l = v.to_ascii_lowercase();
    if ["sha1-", "sha256-", "sha384-", "sha512-", "md5-"].iter().any(|p| l.starts_with(p)) {
        return false;
    }
    let digits = v.bytes().filter(u8::is_ascii_digit).count();
    if digits < 2 || !v.bytes().any(|b| b.is_ascii_lowercase()) || !v.bytes().any(|b| b.is_ascii_uppercase()) {
        return false;
    }
    let class = |b: u8| match b {
        b'a'..=b'z' => 0,
        b'A'..=b'Z' => 1,
        b'0'..=b'9' => 2,
        _ => 3,
    };
    let switches = v.as_bytes().windows(2).filter(|w| matches!(w, [a, b] if class(*a) != class(*b))).count();
    // CamelCase identifiers switch class about twice a word; random text about 60% of the time.
    if switches * 3 < len {
        return false;
    }
    entropy(v) >= ((len as f64).log2() - 0.8).min(4.0)
}

// ---------------------------------------------------------------------------------------------
// The shell tokenizer.
// ---------------------------------------------------------------------------------------------

/// A word with its quotes removed and, for every byte of it, where the byte is in the text.
#[derive(Debug, Default)]
struct Word {
    text: String,
    map: Vec<usize>,
    quoted: bool,
    /// The word follows `<<<` (a here-string: the command's standard input).
    here: bool,
}

impl Word {
    /// The text span of the word's bytes `a..b`.
    fn span(&self, a: usize, b: usize) -> Option<Span> {
        if a >= b {
            return None;
        }
        Some((*self.map.get(a)?, *self.map.get(b - 1)? + 1))
    }

    /// The text span of the whole word when it is one quoted string with nothing escaped in it.
    fn contiguous(&self) -> Option<Span> {
        let first = *self.map.first()?;
        self.map.iter().enumerate().all(|(i, &m)| m == first + i).then(|| (first, first + self.map.len()))
    }
}

/// Words between `;`, `&`, `|`, `(`, `)`, newlines; `piped` when `|` came before.
#[derive(Debug, Default)]
struct Segment {
    words: Vec<Word>,
    piped: bool,
}

#[derive(Default)]
struct Tokens {
    segs: Vec<Segment>,
    seg: Segment,
    word: Option<Word>,
    /// The bytes of `word`, made a string when the word ends.
    buf: Vec<u8>,
    here_next: bool,
}

impl Tokens {
    fn byte(&mut self, text: &str, at: usize) {
        let here = std::mem::take(&mut self.here_next);
        let w = self.word.get_or_insert_with(|| Word { here, ..Word::default() });
        if let Some(b) = text.as_bytes().get(at) {
            w.map.push(at);
            self.buf.push(*b);
        }
    }

    fn open_quote(&mut self) {
        let here = std::mem::take(&mut self.here_next);
        self.word.get_or_insert_with(|| Word { here, ..Word::default() }).quoted = true;
    }

    fn end_word(&mut self) {
        if let Some(mut w) = self.word.take() {
            // Only whole characters are copied (quotes and backslashes are ASCII), so the
            // bytes stay UTF-8 and the lossy branch never runs.
            let bytes = std::mem::take(&mut self.buf);
            w.text = String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
            self.seg.words.push(w);
        }
    }

    fn end_segment(&mut self, piped_next: bool) {
        self.end_word();
        let seg = std::mem::take(&mut self.seg);
        if !seg.words.is_empty() {
            self.segs.push(seg);
        }
        self.seg.piped = piped_next;
    }
}

/// Splits `text[start..end]` into segments of words, the way a POSIX shell would for quotes and
/// backslashes (close enough: nothing here executes).
fn tokenize(text: &str, start: usize, end: usize) -> Vec<Segment> {
    let bytes = text.as_bytes();
    let mut t = Tokens::default();
    let mut i = start;
    while i < end {
        let Some(&c) = bytes.get(i) else { break };
        match c {
            b' ' | b'\t' | b'\r' => {
                t.end_word();
                i += 1;
            }
            b'\n' | b';' | b'&' | b'(' | b')' | b'`' => {
                t.end_segment(false);
                i += 1;
            }
            b'|' => {
                let double = bytes.get(i + 1) == Some(&b'|');
                t.end_segment(!double);
                i += if double { 2 } else { 1 };
            }
            b'<' | b'>' => {
                if text.get(i..).is_some_and(|r| r.starts_with(REDACTED)) {
                    for k in i..i + REDACTED.len() {
                        t.byte(text, k);
                    }
                    i += REDACTED.len();
                } else {
                    t.end_word();
                    if text.get(i..).is_some_and(|r| r.starts_with("<<<")) {
                        t.here_next = true;
                        i += 3;
                    } else {
                        i += 1;
                    }
                }
            }
            b'\'' => {
                t.open_quote();
                i += 1;
                while i < end && bytes.get(i) != Some(&b'\'') {
                    t.byte(text, i);
                    i += 1;
                }
                i += 1;
            }
            b'"' => {
                t.open_quote();
                i += 1;
                while i < end {
                    match bytes.get(i) {
                        Some(b'"') | None => break,
                        Some(b'\\') if matches!(bytes.get(i + 1), Some(b'"' | b'\\' | b'$' | b'`')) => {
                            t.byte(text, i + 1);
                            i += 2;
                        }
                        Some(_) => {
                            t.byte(text, i);
                            i += 1;
                        }
                    }
                }
                i += 1;
            }
            b'\\' => {
                if bytes.get(i + 1) != Some(&b'\n') && i + 1 < end {
                    t.byte(text, i + 1);
                }
                i += 2;
            }
            // $'...' (ANSI-C quoting): the quotes follow.
            b'$' if bytes.get(i + 1) == Some(&b'\'') => i += 1,
            _ => {
                t.byte(text, i);
                i += 1;
            }
        }
    }
    t.end_segment(false);
    t.segs
}

// ---------------------------------------------------------------------------------------------
// Tools and the flags they read secrets from.
// ---------------------------------------------------------------------------------------------

/// `-pSECRET`
const ATT: u8 = 1;
/// `-p SECRET`
const SEP: u8 = 2;
/// `--password=SECRET`
const EQ: u8 = 4;

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// The value is the secret.
    Plain,
    /// `user<sep>password`: the part after the first separator.
    UserPass(u8),
    /// openssl's `pass:SECRET` (`env:`, `file:`, `fd:`, `stdin` name no secret).
    PassSpec,
    /// The flag takes no value (`psql --password` prompts): the next word is not a secret.
    Switch,
}

struct Flag {
    name: &'static str,
    forms: u8,
    kind: Kind,
}

const fn f(name: &'static str, forms: u8) -> Flag {
    Flag { name, forms, kind: Kind::Plain }
}

const fn fk(name: &'static str, forms: u8, kind: Kind) -> Flag {
    Flag { name, forms, kind }
}

#[derive(Clone, Copy, PartialEq)]
enum Special {
    None,
    /// `htpasswd -b[c...] file user PASS`, `htpasswd -nb user PASS`.
    Htpasswd,
    /// `net use \\server\share PASS /user:name`.
    NetUse,
    /// The first argument after `login` (`vault login TOKEN`) or after the given subcommand.
    Positional(&'static str, usize),
    /// Setters of key value pairs: `aws configure set aws_secret_access_key X`.
    Config(&'static [&'static str]),
    /// `sqlplus user/PASS@db`.
    SqlPlus,
    /// fish's `set -gx NAME VALUE...`.
    FishSet,
    /// `mc alias set NAME URL ACCESS SECRET`.
    Minio,
}

struct Tool {
    names: &'static [&'static str],
    /// Flags only count after one of these subcommands (`docker login -p`), if any.
    sub: &'static [&'static str],
    flags: &'static [Flag],
    special: Special,
}

const MYSQL: &[&str] = &[
    "mysql", "mariadb", "mysqldump", "mysqladmin", "mysqlimport", "mysqlshow", "mysqlcheck", "mysqlpump", "mysqlsh", "mysqlbinlog", "mysqlslap", "mariadb-dump", "mariadb-admin", "mariadb-import", "mariadb-check", "mycli",
];

/// Which tools read secrets from which flags. Flags of tools not listed here are only secret
/// when their name says so (`--api-key`), never by letter (`-p`).
static TOOLS: &[Tool] = &[
    Tool { names: MYSQL, sub: &[], flags: &[f("-p", ATT), f("--password", SEP | EQ)], special: Special::None },
    Tool {
        names: &["psql", "pg_dump", "pg_dumpall", "pg_restore", "pg_basebackup", "createdb", "dropdb", "createuser", "vacuumdb", "reindexdb", "pgbench", "pg_isready", "pgcli"],
        sub: &[],
        flags: &[fk("--password", SEP, Kind::Switch), fk("-W", SEP, Kind::Switch)],
        special: Special::None,
    },
    Tool {
        names: &["docker", "podman", "nerdctl", "buildah", "skopeo", "oras", "crane", "regctl", "finch"],
        sub: &["login"],
        flags: &[f("-p", SEP | ATT), f("--password", SEP | EQ)],
        special: Special::None,
    },
    Tool { names: &["helm"], sub: &[], flags: &[f("--password", SEP | EQ)], special: Special::None },
    Tool { names: &["helm"], sub: &["login"], flags: &[f("-p", SEP | ATT)], special: Special::None },
    Tool { names: &["htpasswd"], sub: &[], flags: &[], special: Special::Htpasswd },
    Tool {
        names: &["openssl"],
        sub: &[],
        flags: &[
            fk("-pass", SEP, Kind::PassSpec),
            fk("-passin", SEP, Kind::PassSpec),
            fk("-passout", SEP, Kind::PassSpec),
            fk("-password", SEP, Kind::PassSpec),
            f("-k", SEP),
            f("-K", SEP),
            f("-hmac", SEP),
            fk("-macopt", SEP, Kind::UserPass(b':')),
        ],
        special: Special::None,
    },
    Tool { names: &["redis-cli", "valkey-cli", "keydb-cli"], sub: &[], flags: &[f("-a", SEP | ATT), f("--pass", SEP | EQ), f("--password", SEP | EQ)], special: Special::None },
    Tool { names: &["sqlcmd", "bcp", "osql", "isql", "mssql-cli", "sqsh"], sub: &[], flags: &[f("-P", SEP | ATT), f("--password", SEP | EQ)], special: Special::None },
    Tool { names: &["zip", "unzip", "zipcloak", "funzip"], sub: &[], flags: &[f("-P", SEP), f("--password", SEP | EQ)], special: Special::None },
    Tool { names: &["7z", "7za", "7zr", "7zz", "rar", "unrar"], sub: &[], flags: &[f("-p", ATT)], special: Special::None },
    Tool { names: &["gpg", "gpg2", "gpgv"], sub: &[], flags: &[f("--passphrase", SEP | EQ)], special: Special::None },
    Tool { names: &["ssh-keygen"], sub: &[], flags: &[f("-N", SEP | ATT), f("-P", SEP | ATT)], special: Special::None },
    Tool { names: &["az"], sub: &["login"], flags: &[f("-p", SEP | ATT), f("--password", SEP | EQ)], special: Special::None },
    Tool { names: &["kubectl", "oc", "kubecolor"], sub: &[], flags: &[f("--token", SEP | EQ), f("--password", SEP | EQ)], special: Special::None },
    Tool { names: &["oc"], sub: &["login"], flags: &[f("-p", SEP | ATT)], special: Special::None },
    Tool { names: &["sshpass"], sub: &[], flags: &[f("-p", SEP | ATT)], special: Special::None },
    Tool {
        names: &["wget", "wget2"],
        sub: &[],
        flags: &[f("--password", SEP | EQ), f("--http-password", SEP | EQ), f("--ftp-password", SEP | EQ), f("--proxy-password", SEP | EQ)],
        special: Special::None,
    },
    Tool {
        names: &["curl"],
        sub: &[],
        flags: &[
            fk("-u", SEP | ATT, Kind::UserPass(b':')),
            fk("--user", SEP | EQ, Kind::UserPass(b':')),
            fk("-U", SEP | ATT, Kind::UserPass(b':')),
            fk("--proxy-user", SEP | EQ, Kind::UserPass(b':')),
            f("--oauth2-bearer", SEP | EQ),
            f("--pass", SEP | EQ),
            f("--proxy-pass", SEP | EQ),
        ],
        special: Special::None,
    },
    Tool { names: &["http", "https", "xh", "xhs"], sub: &[], flags: &[fk("-a", SEP | ATT, Kind::UserPass(b':')), fk("--auth", SEP | EQ, Kind::UserPass(b':'))], special: Special::None },
    Tool { names: &["lftp"], sub: &[], flags: &[fk("-u", SEP, Kind::UserPass(b','))], special: Special::None },
    Tool {
        names: &["mongo", "mongosh", "mongodump", "mongorestore", "mongoexport", "mongoimport", "mongostat", "mongotop", "mongofiles"],
        sub: &[],
        flags: &[f("-p", SEP | ATT), f("--password", SEP | EQ)],
        special: Special::None,
    },
    Tool {
        names: &["ldapsearch", "ldapmodify", "ldapadd", "ldapdelete", "ldapwhoami", "ldappasswd", "ldapcompare", "ldapmodrdn", "ldapexop"],
        sub: &[],
        flags: &[f("-w", SEP | ATT), f("-s", SEP | ATT), f("-a", SEP | ATT)],
        special: Special::None,
    },
    Tool {
        names: &["smbclient", "rpcclient", "smbcacls", "smbget", "smbtree", "smbcquotas", "net", "wbinfo", "nmblookup", "smbmap", "crackmapexec", "netexec", "nxc"],
        sub: &[],
        flags: &[fk("-U", SEP | ATT, Kind::UserPass(b'%')), fk("--user", SEP | EQ, Kind::UserPass(b'%'))],
        special: Special::None,
    },
    Tool { names: &["smbmap", "crackmapexec", "netexec", "nxc", "evil-winrm", "impacket-psexec"], sub: &[], flags: &[f("-p", SEP), f("--password", SEP | EQ), f("-H", SEP)], special: Special::None },
    Tool { names: &["net", "net.exe"], sub: &[], flags: &[], special: Special::NetUse },
    Tool { names: &["rclone"], sub: &["config"], flags: &[], special: Special::Config(&["create", "update", "password"]) },
    Tool { names: &["rclone"], sub: &[], flags: &[], special: Special::Positional("obscure", 0) },
    Tool { names: &["vault", "bao"], sub: &[], flags: &[], special: Special::Positional("login", 0) },
    Tool { names: &["twine"], sub: &[], flags: &[f("-p", SEP | ATT), f("--password", SEP | EQ)], special: Special::None },
    Tool { names: &["gh"], sub: &["secret", "variable"], flags: &[f("-b", SEP | ATT), f("--body", SEP | EQ)], special: Special::None },
    Tool { names: &["aws"], sub: &[], flags: &[], special: Special::Config(&["configure"]) },
    Tool { names: &["git"], sub: &[], flags: &[], special: Special::Config(&["config"]) },
    Tool { names: &["npm", "yarn", "pnpm", "bun"], sub: &[], flags: &[], special: Special::Config(&["config", "set"]) },
    Tool { names: &["pip", "pip3", "poetry", "composer", "conda", "bundle", "gcloud", "pdm", "uv", "hatch"], sub: &[], flags: &[], special: Special::Config(&["config"]) },
    Tool { names: &["dotnet"], sub: &[], flags: &[], special: Special::Config(&["user-secrets"]) },
    Tool { names: &["nmcli"], sub: &[], flags: &[], special: Special::Config(&["connect", "add", "modify", "con", "connection", "device", "dev"]) },
    Tool { names: &["sqlplus", "sqlldr", "expdp", "impdp", "rman", "sql"], sub: &[], flags: &[], special: Special::SqlPlus },
    Tool { names: &["rabbitmqctl"], sub: &[], flags: &[], special: Special::Positional("add_user", 1) },
    Tool { names: &["rabbitmqctl"], sub: &[], flags: &[], special: Special::Positional("change_password", 1) },
    Tool { names: &["rabbitmqctl"], sub: &[], flags: &[], special: Special::Positional("authenticate_user", 1) },
    Tool { names: &["wpa_passphrase"], sub: &[], flags: &[], special: Special::Positional("", 1) },
    Tool { names: &["set"], sub: &[], flags: &[], special: Special::FishSet },
    Tool { names: &["mc", "mcli"], sub: &[], flags: &[], special: Special::Minio },
    Tool { names: &["mosquitto_pub", "mosquitto_sub", "mosquitto_rr"], sub: &[], flags: &[f("-P", SEP), f("--pw", SEP)], special: Special::None },
    Tool { names: &["influx"], sub: &[], flags: &[f("-t", SEP), f("--token", SEP | EQ), f("-p", SEP), f("--password", SEP | EQ)], special: Special::None },
    Tool { names: &["keytool", "jarsigner"], sub: &[], flags: &[f("-storepass", SEP), f("-keypass", SEP), f("-srcstorepass", SEP), f("-deststorepass", SEP), f("-srckeypass", SEP), f("-destkeypass", SEP), f("-new", SEP)], special: Special::None },
    Tool { names: &["cqlsh", "clickhouse-client", "clickhouse", "vsql", "hdbsql", "usql", "litecli"], sub: &[], flags: &[f("-p", SEP), f("--password", SEP | EQ), f("-w", SEP)], special: Special::None },
    Tool { names: &["heroku"], sub: &[], flags: &[f("--api-key", SEP | EQ)], special: Special::None },
    Tool { names: &["npm", "yarn", "pnpm"], sub: &["login", "adduser"], flags: &[f("--password", SEP | EQ), f("-p", SEP)], special: Special::None },
    Tool { names: &["xfreerdp", "wlfreerdp", "sdl-freerdp"], sub: &[], flags: &[f("/p:", ATT)], special: Special::None },
    Tool { names: &["ncftp", "ncftpget", "ncftpput"], sub: &[], flags: &[f("-p", SEP)], special: Special::None },
    Tool { names: &["mount.cifs"], sub: &[], flags: &[], special: Special::None },
];

/// Commands that run the command after them: the tool is found behind them.
const WRAPPERS: &[(&str, &[&str])] = &[
    ("sudo", &["-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U", "-T", "--user", "--group", "--chdir", "--host", "--prompt", "--role", "--type", "--other-user", "--command-timeout"]),
    ("doas", &["-u", "-C"]),
    ("env", &["-u", "-C", "-S", "--unset", "--chdir", "--split-string"]),
    ("time", &["-f", "-o", "--format", "--output"]),
    ("nice", &["-n", "--adjustment"]),
    ("ionice", &["-c", "-n", "-p"]),
    ("timeout", &["-s", "-k", "--signal", "--kill-after"]),
    ("stdbuf", &["-i", "-o", "-e"]),
    ("xargs", &["-I", "-n", "-P", "-d", "-E", "-L", "-s", "-a", "--max-args", "--max-procs", "--delimiter", "--arg-file", "--replace"]),
    ("watch", &["-n", "-d", "--interval"]),
    ("strace", &["-o", "-e", "-p", "-s"]),
    ("runuser", &["-u", "-g"]),
    ("pkexec", &["--user"]),
    ("command", &[]),
    ("exec", &["-a"]),
    ("builtin", &[]),
    ("nohup", &[]),
    ("unbuffer", &[]),
    ("torsocks", &[]),
    ("proxychains", &["-f"]),
    ("proxychains4", &["-f"]),
    ("chronic", &[]),
    ("caffeinate", &["-t", "-w"]),
    ("!", &[]),
    ("then", &[]),
    ("do", &[]),
    ("else", &[]),
    ("if", &[]),
    ("while", &[]),
    ("until", &[]),
    ("{", &[]),
];

/// The tool name of a command word: `/usr/bin/mysql` and `mysql.exe` are `mysql`.
fn tool_name(word: &str) -> String {
    let base = word.rsplit(['/', '\\']).next().unwrap_or(word).to_ascii_lowercase();
    base.strip_suffix(".exe").map(str::to_string).unwrap_or(base)
}

fn is_known_tool(name: &str) -> bool {
    TOOLS.iter().any(|t| t.names.contains(&name)) && name != "set"
}

/// `NAME=value` at the start of a command.
fn is_assignment(word: &str) -> bool {
    match word.split_once('=') {
        Some((name, _)) => !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') && !name.starts_with(|c: char| c.is_ascii_digit()),
        None => false,
    }
}

/// Index of the command word of a segment, past assignments and wrappers.
fn command_index(words: &[Word]) -> Option<usize> {
    let mut i = 0;
    loop {
        let w = words.get(i)?;
        if is_assignment(&w.text) {
            i += 1;
            continue;
        }
        let name = tool_name(&w.text);
        let Some((wrapper, takes)) = WRAPPERS.iter().find(|(n, _)| *n == name) else { return Some(i) };
        i += 1;
        while let Some(w) = words.get(i) {
            let t = w.text.as_str();
            if t == "--" {
                i += 1;
                break;
            }
            if t.starts_with('-') && t.len() > 1 {
                i += if takes.contains(&t) { 2 } else { 1 };
            } else if *wrapper == "env" && is_assignment(t) {
                i += 1;
            } else if *wrapper == "timeout" && t.starts_with(|c: char| c.is_ascii_digit()) {
                i += 1;
                break;
            } else {
                break;
            }
        }
    }
}

/// Collects the secrets of `text[start..end]`: every segment, every word.
fn scan(text: &str, start: usize, end: usize, depth: u8, spans: &mut Vec<Span>) {
    let segs = tokenize(text, start, end);
    for (n, seg) in segs.iter().enumerate() {
        words_generic(text, &seg.words, depth, spans);
        let Some(cmd) = command_index(&seg.words) else { continue };
        // The command's own tool, then tools run by it (`docker exec db mysql -pX`,
        // `kubectl exec pod -- mysql -pX`): a known tool name that is not an option's value.
        let mut starts = vec![cmd];
        for (j, w) in seg.words.iter().enumerate().skip(cmd + 1) {
            let prev = seg.words.get(j - 1).map(|p| p.text.as_str()).unwrap_or("");
            if is_known_tool(&tool_name(&w.text)) && (prev == "--" || !prev.starts_with('-')) && !w.text.contains('=') {
                starts.push(j);
            }
        }
        for (k, &s) in starts.iter().enumerate() {
            let to = starts.get(k + 1).copied().unwrap_or(seg.words.len());
            tool_flags(&seg.words, s, to, spans);
        }
        if reads_secret_from_stdin(&seg.words, cmd) {
            for w in seg.words.iter().filter(|w| w.here) {
                value(w, 0, w.text.len(), Kind::Plain, spans);
            }
            let chpasswd = tool_name(seg.words.get(cmd).map(|w| w.text.as_str()).unwrap_or("")) == "chpasswd";
            if let Some(prev) = segs.get(n.wrapping_sub(1)).filter(|_| seg.piped && n > 0) {
                echoed(prev, if chpasswd { Kind::UserPass(b':') } else { Kind::Plain }, spans);
            }
        }
    }
}

/// `sudo -S`, `docker login --password-stdin`, `gh auth login --with-token`, `chpasswd`...
fn reads_secret_from_stdin(words: &[Word], cmd: usize) -> bool {
    let has = |s: &str| words.iter().any(|w| w.text == s);
    let tool = words.get(cmd).map(|w| tool_name(&w.text)).unwrap_or_default();
    has("--password-stdin")
        || has("--with-token")
        || (words.first().is_some_and(|w| tool_name(&w.text) == "sudo") && (has("-S") || has("--stdin")))
        || tool == "chpasswd"
        || (tool == "passwd" && has("--stdin"))
        || (tool == "vault" && has("login") && has("-"))
}

/// The arguments of an `echo` or `printf` whose output is piped into a secret reader.
fn echoed(seg: &Segment, kind: Kind, spans: &mut Vec<Span>) {
    let Some(cmd) = command_index(&seg.words) else { return };
    let tool = seg.words.get(cmd).map(|w| tool_name(&w.text)).unwrap_or_default();
    if tool != "echo" && tool != "printf" {
        return;
    }
    let args: Vec<&Word> = seg.words.iter().skip(cmd + 1).filter(|w| !(w.text.starts_with('-') && w.text.len() <= 3 && !w.quoted)).collect();
    // printf's format comes first unless it is the only argument.
    let skip = usize::from(tool == "printf" && args.len() > 1);
    for w in args.into_iter().skip(skip) {
        value(w, 0, w.text.len(), kind, spans);
    }
}

/// Redacts the secret in `w.text[a..b]` read as a value of `kind`.
fn value(w: &Word, a: usize, b: usize, kind: Kind, spans: &mut Vec<Span>) {
    let Some(v) = w.text.get(a..b) else { return };
    let (a, v) = match kind {
        Kind::Plain => (a, v),
        Kind::Switch => return,
        Kind::UserPass(sep) => match v.bytes().position(|c| c == sep) {
            Some(p) => (a + p + 1, v.get(p + 1..).unwrap_or("")),
            None => return,
        },
        Kind::PassSpec => match v.strip_prefix("pass:") {
            Some(rest) => (a + 5, rest),
            None if v.contains(':') || v == "stdin" => return,
            None => (a, v),
        },
    };
    if is_placeholder(v) || v.contains(REDACTED) {
        return;
    }
    if let Some((s, e)) = w.span(a, a + v.len()) {
        spans.push((s, e));
    }
}

/// Flags of a tool of the table, and the generic rules for the others.
fn tool_flags(words: &[Word], cmd: usize, to: usize, spans: &mut Vec<Span>) {
    let Some(cmd_word) = words.get(cmd) else { return };
    let name = tool_name(&cmd_word.text);
    let args = words.get(cmd + 1..to).unwrap_or(&[]);
    let tools: Vec<&Tool> = TOOLS
        .iter()
        .filter(|t| t.names.contains(&name.as_str()))
        .filter(|t| t.sub.is_empty() || args.iter().any(|w| t.sub.contains(&w.text.as_str())))
        .collect();
    for tool in &tools {
        special(tool.special, args, spans);
    }
    let mut k = 0;
    while let Some(w) = args.get(k) {
        let t = w.text.as_str();
        let next = args.get(k + 1);
        if t == "--" || !t.starts_with(['-', '/']) || t.len() < 2 {
            k += 1;
            continue;
        }
        let mut handled = false;
        'rules: for flag in tools.iter().flat_map(|t| t.flags.iter()) {
            let n = flag.name;
            if t == n {
                handled = true;
                if flag.forms & SEP != 0 || flag.kind == Kind::Switch {
                    if let Some(v) = next {
                        value(v, 0, v.text.len(), flag.kind, spans);
                        k += 1;
                    }
                }
                break 'rules;
            }
            if let Some(rest) = t.strip_prefix(n) {
                if flag.forms & EQ != 0 && rest.starts_with('=') {
                    value(w, n.len() + 1, t.len(), flag.kind, spans);
                    handled = true;
                    break 'rules;
                }
                if flag.forms & ATT != 0 && !n.starts_with("--") {
                    value(w, n.len(), t.len(), flag.kind, spans);
                    handled = true;
                    break 'rules;
                }
            }
        }
        if !handled && t.starts_with('-') {
            k += generic_flag(w, next, spans);
        }
        k += 1;
    }
}

/// `--name=value` and `--name value` of options named like secrets, and random-looking values
/// of any option. Returns how many following words it consumed.
fn generic_flag(w: &Word, next: Option<&Word>, spans: &mut Vec<Span>) -> usize {
    let t = w.text.as_str();
    let body = t.trim_start_matches('-');
    if let Some((name, _)) = body.split_once('=') {
        let a = t.len() - body.len() + name.len() + 1;
        let v = t.get(a..).unwrap_or("");
        if is_secret_name(name) || looks_random(v) {
            value(w, a, t.len(), Kind::Plain, spans);
        }
        return 0;
    }
    let Some(next) = next else { return 0 };
    if next.text.starts_with('-') && !next.quoted {
        return 0;
    }
    // A single-letter option's value is only judged by its looks.
    let long = body.len() > 1 && body.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    if long && is_secret_option(body) {
        value(next, 0, next.text.len(), Kind::Plain, spans);
        return 1;
    }
    if looks_random(&next.text) {
        value(next, 0, next.text.len(), Kind::Plain, spans);
    }
    0
}

/// The non-option arguments.
fn positionals(args: &[Word]) -> Vec<&Word> {
    args.iter().filter(|w| !(w.text.starts_with('-') && w.text.len() > 1) || w.quoted && !w.text.starts_with('-')).collect()
}

fn special(kind: Special, args: &[Word], spans: &mut Vec<Span>) {
    match kind {
        Special::None => {}
        Special::Htpasswd => {
            let flags: String = args.iter().filter(|w| w.text.starts_with('-') && !w.text.starts_with("--")).map(|w| w.text.as_str()).collect();
            if flags.contains('b') {
                let pos = positionals(args);
                let at = if flags.contains('n') { 1 } else { 2 };
                if let Some(w) = pos.get(at) {
                    value(w, 0, w.text.len(), Kind::Plain, spans);
                }
            }
        }
        Special::NetUse => {
            if !args.first().is_some_and(|w| w.text.eq_ignore_ascii_case("use")) {
                return;
            }
            let rest: Vec<&Word> = args.iter().skip(1).filter(|w| !w.text.starts_with('/')).collect();
            if let Some(i) = rest.iter().position(|w| w.text.starts_with("\\\\")) {
                if let Some(w) = rest.get(i + 1) {
                    value(w, 0, w.text.len(), Kind::Plain, spans);
                }
            }
        }
        Special::Positional(sub, at) => {
            let pos = positionals(args);
            let from = if sub.is_empty() {
                Some(0)
            } else {
                pos.iter().position(|w| w.text == sub).map(|i| i + 1)
            };
            if let Some(w) = from.and_then(|i| pos.get(i + at)) {
                // vault login -method=userpass username=x: the pairs are found by name.
                if !w.text.contains('=') {
                    value(w, 0, w.text.len(), Kind::Plain, spans);
                }
            }
        }
        Special::Config(subs) => {
            let Some(i) = args.iter().position(|w| subs.contains(&w.text.as_str())) else { return };
            let pos = positionals(args.get(i + 1..).unwrap_or(&[]));
            let mut k = 0;
            while let Some(w) = pos.get(k) {
                let key = w.text.as_str();
                let last = key.rsplit(['.', ':', '/']).next().unwrap_or(key);
                let first = key.split('.').next().unwrap_or(key);
                let basic = first == "http-basic";
                let token_key = matches!(first, "pypi-token" | "github-oauth" | "gitlab-token" | "gitlab-oauth" | "bearer" | "bitbucket-oauth");
                if !key.contains('=') && (basic || token_key || is_secret_name(last)) {
                    let at = if basic { k + 2 } else { k + 1 };
                    if let Some(v) = pos.get(at) {
                        value(v, 0, v.text.len(), Kind::Plain, spans);
                    }
                    k = at + 1;
                } else {
                    k += 1;
                }
            }
        }
        Special::SqlPlus => {
            if let Some(w) = positionals(args).first() {
                let t = w.text.as_str();
                if let Some(slash) = t.find('/').filter(|&s| s > 0) {
                    let end = t.get(slash..).and_then(|r| r.find('@')).map(|p| slash + p).unwrap_or(t.len());
                    value(w, slash + 1, end, Kind::Plain, spans);
                }
            }
        }
        Special::FishSet => {
            let pos = positionals(args);
            if args.iter().any(|w| matches!(w.text.as_str(), "-e" | "--erase" | "-q" | "--query" | "-n" | "--names")) {
                return;
            }
            if pos.first().is_some_and(|w| is_secret_name(&w.text)) {
                for w in pos.iter().skip(1) {
                    value(w, 0, w.text.len(), Kind::Plain, spans);
                }
            }
        }
        Special::Minio => {
            let pos = positionals(args);
            let sub = pos.iter().position(|w| w.text == "set" || w.text == "add");
            if let Some(i) = sub {
                for w in pos.iter().skip(i + 3).take(2) {
                    value(w, 0, w.text.len(), Kind::Plain, spans);
                }
            }
        }
    }
}

static ASSIGN: LazyLock<Regex> = LazyLock::new(|| compile(r"[A-Za-z_][A-Za-z0-9_.\-]*="));
static COLON: LazyLock<Regex> = LazyLock::new(|| compile(r#"(["']?)([A-Za-z_][A-Za-z0-9_.\-]*)(["']?)[ \t]*:[ \t]*"#));
static HEADER: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"(?i)(?:^|[^A-Za-z0-9\-])((?:proxy-)?authorization|set-cookie|cookie|api-?key|x-[a-z0-9\-]*(?:key|token|secret|auth|signature|password|session|credentials?)|[a-z0-9\-]*-(?:token|api-?key|secret)|private-token|token)[ \t]*:[ \t]*",
    )
});

/// Rules that look at every word alone: assignments, key: value pairs, headers, and quoted
/// command strings (`sh -c '...'`, `ssh host '...'`), scanned as commands of their own.
fn words_generic(text: &str, words: &[Word], depth: u8, spans: &mut Vec<Span>) {
    for (i, w) in words.iter().enumerate() {
        assignments(w, spans);
        colon_pairs(w, words.get(i + 1), spans);
        headers(w, spans);
        if w.quoted && depth < 2 && w.text.contains(' ') {
            if let Some((s, e)) = w.contiguous() {
                scan(text, s, e, depth + 1, spans);
            }
        }
    }
}

/// Where a bare value ends.
fn bare_end(v: &str, stops: &[char]) -> usize {
    v.find(|c: char| c.is_whitespace() || stops.contains(&c)).unwrap_or(v.len())
}

/// Where a value that starts at `v` ends, and where its secret is (inside its quotes).
fn value_range(v: &str, stops: &[char]) -> (usize, usize) {
    match v.chars().next() {
        Some(q @ ('\'' | '"')) => {
            let body = v.get(1..).unwrap_or("");
            (1, 1 + body.find(q).unwrap_or(body.len()))
        }
        _ => (0, bare_end(v, stops)),
    }
}

/// `NAME=value` anywhere in a word: the value is the secret when the name says so, or when it
/// looks random.
fn assignments(w: &Word, spans: &mut Vec<Span>) {
    let t = w.text.as_str();
    for m in ASSIGN.find_iter(t) {
        let name = t.get(m.start()..m.end() - 1).unwrap_or("");
        let before = t.get(..m.start()).unwrap_or("");
        let at_start = before.bytes().all(|b| b == b'-');
        let rest = t.get(m.end()..).unwrap_or("");
        let (a, b) = if at_start {
            // The whole rest of the word, up to a following `,NAME=` or `&NAME=` pair.
            let mut end = rest.len();
            for (p, c) in rest.char_indices() {
                if (c == ',' || c == '&') && rest.get(p + 1..).and_then(|r| ASSIGN.find(r)).is_some_and(|n| n.start() == 0) {
                    end = p;
                    break;
                }
            }
            match rest.chars().next() {
                Some(q @ ('\'' | '"')) if rest.get(..end).is_some_and(|r| r.len() > 1 && r.ends_with(q)) => (1, end - 1),
                _ => (0, end),
            }
        } else {
            value_range(rest, &['\'', '"', '&', ';', ',', '}', ')', ']', '|', '<', '>'])
        };
        let Some(v) = rest.get(a..b) else { continue };
        if is_secret_name(name) || looks_random(v) {
            value(w, m.end() + a, m.end() + b, Kind::Plain, spans);
        }
    }
}

/// `"password": "x"`, `password: x` in a word; `password:` followed by a word.
fn colon_pairs(w: &Word, next: Option<&Word>, spans: &mut Vec<Span>) {
    let t = w.text.as_str();
    for caps in COLON.captures_iter(t) {
        let (Some(all), Some(q1), Some(name), Some(q2)) = (caps.get(0), caps.get(1), caps.get(2), caps.get(3)) else { continue };
        if q1.as_str() != q2.as_str() || !is_secret_name(name.as_str()) {
            continue;
        }
        let rest = t.get(all.end()..).unwrap_or("");
        if rest.is_empty() {
            // `password: hunter2` as two words (the next word is not a file name or option).
            if all.end() == t.len() && name.start() <= 1 {
                let plain = |n: &&Word| n.contiguous().is_some() && !n.text.starts_with('-') && !n.text.contains(['/', '.', '{', '}', '[', ']', ',']);
                if let Some(n) = next.filter(plain) {
                    value(n, 0, n.text.len(), Kind::Plain, spans);
                }
            }
            continue;
        }
        // `secret:latest` (an image) is no pair: the name is quoted, or a space follows.
        let spaced = all.as_str().ends_with([' ', '\t']);
        let quoted_value = rest.starts_with(['\'', '"']);
        if q1.as_str().is_empty() && !spaced && !quoted_value {
            continue;
        }
        let (a, b) = value_range(rest, &['\'', '"', ',', '}', ']']);
        value(w, all.end() + a, all.end() + b, Kind::Plain, spans);
    }
}

/// Credential headers: the value after the scheme (`Authorization: Bearer X`), or all of it.
fn headers(w: &Word, spans: &mut Vec<Span>) {
    let t = w.text.as_str();
    for caps in HEADER.captures_iter(t) {
        let (Some(all), Some(name)) = (caps.get(0), caps.get(1)) else { continue };
        let rest = t.get(all.end()..).unwrap_or("");
        let mut end = rest.find(['\'', '"', '\n', '\r']).unwrap_or(rest.len());
        if let Some(p) = rest.find("\\r").or_else(|| rest.find("\\n")) {
            end = end.min(p);
        }
        let v = rest.get(..end).unwrap_or("").trim_end();
        let mut a = 0;
        if name.as_str().to_ascii_lowercase().ends_with("authorization") {
            if let Some((scheme, cred)) = v.split_once(' ') {
                if !cred.trim().is_empty() && scheme.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
                    a = scheme.len() + 1 + (cred.len() - cred.trim_start().len());
                }
            }
        }
        if v.len() > a {
            value(w, all.end() + a, all.end() + v.len(), Kind::Plain, spans);
        }
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    /// (input, expected output). Lines that must not change have the same text twice.
    const CASES: &[(&str, &str)] = &[
        // AWS
        ("aws configure set aws_access_key_id AKIAIOSFODNN7EXAMPLE", "aws configure set aws_access_key_id <redacted>"),
        ("export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", "export AWS_ACCESS_KEY_ID=<redacted>"),
        ("export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "export AWS_SECRET_ACCESS_KEY=<redacted>"),
        ("AWS_SECRET_ACCESS_KEY='wJalrXUtnFEMI/K7MDENG' aws s3 ls", "AWS_SECRET_ACCESS_KEY='<redacted>' aws s3 ls"),
        ("aws sts assume-role --role-arn x # key ASIAY34FZKBOKMUTVV7A", "aws sts assume-role --role-arn x # key <redacted>"),
        ("aws configure set aws_secret_access_key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws configure set aws_secret_access_key <redacted>"),
        ("aws configure set aws_session_token FwoGZXIvYXdzEBYaDH", "aws configure set aws_session_token <redacted>"),
        // GitHub, GitLab, npm
        ("git clone https://ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789@github.com/acme/app.git", "git clone https://<redacted>@github.com/acme/app.git"),
        ("export GITHUB_TOKEN=ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789", "export GITHUB_TOKEN=<redacted>"),
        ("gh auth login --with-token <<< github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU", "gh auth login --with-token <<< <redacted>"),
        ("curl -H 'PRIVATE-TOKEN: glpat-xxxxxxxxxxxxxxxxxxxx' https://gitlab.com/api/v4/projects", "curl -H 'PRIVATE-TOKEN: <redacted>' https://gitlab.com/api/v4/projects"),
        ("npm config set //registry.npmjs.org/:_authToken npm_abcdefghijklmnopqrstuvwxyz0123456789", "npm config set //registry.npmjs.org/:_authToken <redacted>"),
        // Slack
        ("curl -X POST -d '{\"text\":\"hi\"}' https://hooks.slack.com/services/T000/B000/XXXXXXXX", "curl -X POST -d '{\"text\":\"hi\"}' <redacted>"),
        ("export SLACK_BOT=xoxb-123456789012-1234567890123-abcdefghijklmnop", "export SLACK_BOT=<redacted>"),
        // Stripe, Google
        ("stripe listen --api-key sk_live_51H8abcdefghijklmnop", "stripe listen --api-key <redacted>"),
        ("curl https://api.stripe.com/v1/charges -u rk_test_4eC39HqLyjWDarjtT1zdp7dc:", "curl https://api.stripe.com/v1/charges -u <redacted>:"),
        ("curl 'https://maps.googleapis.com/maps/api/geocode/json?key=AIzaSyA1234567890abcdefghijklmnopqrstuv'", "curl 'https://maps.googleapis.com/maps/api/geocode/json?key=<redacted>'"),
        // JWT
        ("curl -H \"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U\" https://api.x.io", "curl -H \"Authorization: Bearer <redacted>\" https://api.x.io"),
        ("jwt decode eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N", "jwt decode <redacted>"),
        // Authorization headers
        ("curl -H 'Authorization: Bearer abc123def456' https://api.example.com", "curl -H 'Authorization: Bearer <redacted>' https://api.example.com"),
        ("curl -H 'Authorization: Basic dXNlcjpwYXNz' https://x", "curl -H 'Authorization: Basic <redacted>' https://x"),
        ("curl -H 'authorization: token 0123abcd' https://api.github.com/user", "curl -H 'authorization: token <redacted>' https://api.github.com/user"),
        ("http GET api.x.io X-API-Key:topsecret123", "http GET api.x.io X-API-Key:<redacted>"),
        // URLs with passwords
        ("psql postgres://app:s3cr3t@db.internal:5432/shop", "psql postgres://app:<redacted>@db.internal:5432/shop"),
        ("git remote add origin https://bob:hunter2@git.example.com/x.git", "git remote add origin https://bob:<redacted>@git.example.com/x.git"),
        ("redis-cli -u redis://default:pa55@cache:6379", "redis-cli -u redis://default:<redacted>@cache:6379"),
        ("curl -u admin:letmein https://jenkins/api", "curl -u admin:<redacted> https://jenkins/api"),
        // Database clients
        ("mysql -u root -pSup3rS3cret shop", "mysql -u root -p<redacted> shop"),
        ("mysql -u root --password=Sup3rS3cret shop", "mysql -u root --password=<redacted> shop"),
        ("mysqldump --password 'x y' db", "mysqldump --password '<redacted>' db"),
        ("sshpass -p 'hunter2' ssh pi@raspberrypi", "sshpass -p '<redacted>' ssh pi@raspberrypi"),
        ("sshpass -phunter2 scp a b:", "sshpass -p<redacted> scp a b:"),
        // Secret-named variables
        ("export DB_PASSWORD=hunter2", "export DB_PASSWORD=<redacted>"),
        ("PGPASSWORD=hunter2 psql -h db", "PGPASSWORD=<redacted> psql -h db"),
        ("export API_KEY=\"abc def\"", "export API_KEY=\"<redacted>\""),
        ("MY_SECRET_TOKEN=abc123 ./run.sh && echo ok", "MY_SECRET_TOKEN=<redacted> ./run.sh && echo ok"),
        ("set -gx OPENAI_API_KEY sk-proj-abcdef", "set -gx OPENAI_API_KEY <redacted>"),
        ("docker run -e POSTGRES_PASSWORD=example postgres", "docker run -e POSTGRES_PASSWORD=<redacted> postgres"),
        ("kubectl create secret generic x --from-literal=password=s3cret", "kubectl create secret generic x --from-literal=password=<redacted>"),
        ("vault login token=s.abcdef123456", "vault login token=<redacted>"),
        ("curl -d '{\"password\": \"hunter2\"}' https://x/login", "curl -d '{\"password\": \"<redacted>\"}' https://x/login"),
        ("terraform apply -var 'db_password=hunter2'", "terraform apply -var 'db_password=<redacted>'"),
        ("heroku config:set STRIPE_SECRET_KEY=sk_live_abcdefghijklmn", "heroku config:set STRIPE_SECRET_KEY=<redacted>"),
        // Private keys
        ("echo '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n-----END OPENSSH PRIVATE KEY-----' > k", "echo '<redacted>' > k"),
        ("printf -- '-----BEGIN RSA PRIVATE KEY-----\\nMIIE' | ssh-add -", "printf -- '<redacted>' | ssh-add -"),
        // Not secrets: must stay as they are.
        ("git checkout 3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f", "git checkout 3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f"),
        ("cd /var/lib/docker/volumes/123e4567-e89b-12d3-a456-426614174000/_data", "cd /var/lib/docker/volumes/123e4567-e89b-12d3-a456-426614174000/_data"),
        ("cat aGVsbG8gd29ybGQK.txt", "cat aGVsbG8gd29ybGQK.txt"),
        ("ssh-keygen -t ed25519 -C me@example.com", "ssh-keygen -t ed25519 -C me@example.com"),
        ("git log --author=token-bot", "git log --author=token-bot"),
        ("mysql -u root -p shop", "mysql -u root -p shop"),
        ("grep -r PASSWORD src/", "grep -r PASSWORD src/"),
        ("echo $DB_PASSWORD", "echo $DB_PASSWORD"),
        ("ls ~/.ssh/id_rsa.pub", "ls ~/.ssh/id_rsa.pub"),
        ("curl https://example.com/path?page=2", "curl https://example.com/path?page=2"),
        ("kubectl get secrets -n prod", "kubectl get secrets -n prod"),
        ("docker pull ghcr.io/acme/api:v2", "docker pull ghcr.io/acme/api:v2"),
        ("scp file user@host:/tmp/", "scp file user@host:/tmp/"),
        ("ssh git@github.com", "ssh git@github.com"),
        ("mkdir -p build && cd build", "mkdir -p build && cd build"),
        ("npm run test -- --passWithNoTests", "npm run test -- --passWithNoTests"),
        ("python manage.py createsuperuser", "python manage.py createsuperuser"),
        ("sha256sum release.tar.gz", "sha256sum release.tar.gz"),
    ];

    #[test]
    fn table() {
        assert!(CASES.len() >= 50);
        let mut failures = Vec::new();
        for (input, want) in CASES {
            let got = redact(input);
            if got != *want {
                failures.push(format!("{input:?}\n   got  {got:?}\n   want {want:?}"));
            }
        }
        assert!(failures.is_empty(), "{} of {}:\n{}", failures.len(), CASES.len(), failures.join("\n"));
    }

    #[test]
    fn idempotent_and_extra_patterns() {
        for (input, _) in CASES {
            let once = redact(input);
            assert_eq!(redact(&once), once, "redacting twice changes {input:?}");
        }
        let (extra, bad) = Extra::new(&["acme-[0-9]{6}".to_string(), "(".to_string()]);
        assert_eq!(bad.len(), 1);
        assert_eq!(redact_with("deploy --license acme-123456", &extra), "deploy --license <redacted>");
    }
}
