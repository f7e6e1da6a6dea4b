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
    s.bytes().any(|b| b.is_ascii_digit())
        && s.bytes().any(|b| b.is_ascii_lowercase())
        && s.bytes().any(|b| b.is_ascii_uppercase())
}

/// Token shapes: the vendors' documented prefixes and layouts. Where each family was learned
/// (written for this crate, not copied): gitleaks `config/gitleaks.toml` (rules generated from
/// `cmd/generate/config/rules/*.go`) and trufflehog `pkg/detectors/<vendor>/<vendor>.go`; the
/// note above each entry names the rule or detector.
static SHAPES: LazyLock<Vec<Shape>> = LazyLock::new(|| {
    let s = |re: &str, group: usize, check: fn(&str) -> bool| Shape { re: compile(re), group, check };
    vec![
        // AWS access key ids (gitleaks aws-access-token; trufflehog aws): the secret key has no
        // shape, its name or entropy finds it.
        s(r"\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA|A3T[A-Z0-9])[A-Z0-9]{16}\b", 0, any),
        // Alibaba Cloud access key ids (gitleaks alibaba-access-key-id; trufflehog alibaba).
        s(r"\bLTAI[A-Za-z0-9]{20}\b", 0, has_digit_and_letter),
        // GitHub (gitleaks github-*; trufflehog github, githubv2): classic, OAuth,
        // user-to-server, server-to-server, refresh; fine-grained.
        s(r"\bgh[pousr]_[A-Za-z0-9]{30,255}\b", 0, any),
        s(r"\bgithub_pat_[A-Za-z0-9_]{22,255}\b", 0, any),
        // GitLab (gitleaks gitlab-*; trufflehog gitlab, gitlabv2): personal (also routable,
        // with a `.` and a suffix), deploy, pipeline trigger, runner, OAuth, CI job, SCIM,
        // feed, mail, agent, feature flag tokens; the runner registration token; the session
        // cookie.
        s(r"\bgl(?:pat|dt|ptt|rt|oas|cbt|imt|ft|soat|agent|wt|ffct|ddt)-[A-Za-z0-9_\-]{20,}(?:\.[0-9a-z]{9})?", 0, any),
        s(r"\bGR1348941[A-Za-z0-9_\-]{20,}", 0, any),
        s(r"\b_gitlab_session=([0-9a-z]{32})\b", 1, any),
        // Slack (gitleaks slack-*; trufflehog slack, slackwebhook): bot, user, app, legacy and
        // configuration tokens, webhooks.
        s(r"\bxox[abposre]-[A-Za-z0-9\-]{10,}", 0, any),
        s(r"\bxapp-[0-9]-[A-Za-z0-9\-]{10,}", 0, any),
        s(r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_\-]+", 0, any),
        // Microsoft Teams incoming webhooks (gitleaks microsoft-teams-webhook; trufflehog
        // microsoftteamswebhook): everything after `webhookb2/` is the credential.
        s(r"(?i:https://[a-z0-9\-]+\.webhook\.office\.com/webhookb2/)([A-Za-z0-9@/\-]{40,})", 1, any),
        // Discord (gitleaks discord-*; trufflehog discordbottoken, discordwebhook): webhooks
        // (the token after the id) and bot tokens.
        s(r"(?i:https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/[0-9]+/)([A-Za-z0-9_\-]{20,})", 1, any),
        s(r"\b[MNO][A-Za-z0-9_\-]{23,27}\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27,40}\b", 0, has_digit_and_letter),
        // Stripe (gitleaks stripe-access-token; trufflehog stripe): secret, restricted and
        // publishable keys, webhook secrets.
        s(r"\b(?:sk|rk|pk)_(?:live|test|prod)_[A-Za-z0-9]{10,}", 0, any),
        s(r"\bwhsec_[A-Za-z0-9+/=]{20,}", 0, any),
        // Google (gitleaks gcp-api-key; trufflehog gcp, googleoauth2): API keys, OAuth access
        // tokens, OAuth client secrets, refresh tokens.
        s(r"\bAIza[0-9A-Za-z_\-]{35}", 0, any),
        s(r"\bya29\.[0-9A-Za-z_\-]{20,}", 0, any),
        s(r"\bGOCSPX-[A-Za-z0-9_\-]{20,}", 0, any),
        s(r"\b1//0[A-Za-z0-9_\-]{30,}", 0, any),
        // npm, PyPI (gitleaks npm-access-token, pypi-upload-token; trufflehog npmtoken, pypi).
        s(r"\bnpm_[A-Za-z0-9]{36}\b", 0, any),
        s(r"\bpypi-AgE[A-Za-z0-9_\-]{30,}", 0, any),
        // OpenAI (sk-, sk-proj-, sk-svcacct-, sk-admin-), Anthropic (sk-ant-api03-,
        // sk-ant-admin01-, sk-ant-oat01-), OpenRouter (sk-or-v1-), DeepSeek... (gitleaks
        // openai-api-key, anthropic-*; trufflehog openai, anthropic, openrouter).
        s(r"\bsk-[A-Za-z0-9_\-]{20,}", 0, mixed_case_and_digit),
        s(r"\bsk-or-v1-[a-f0-9]{64}\b", 0, any),
        // SendGrid (gitleaks sendgrid-api-token; trufflehog sendgrid).
        s(r"\bSG\.[A-Za-z0-9_\-]{16,32}\.[A-Za-z0-9_\-]{16,64}", 0, any),
        // DigitalOcean, HashiCorp Vault (service, batch, recovery; legacy s.), Databricks
        // (gitleaks digitalocean-*, vault-*, databricks-api-token; trufflehog digitaloceanv2,
        // vault..., databrickstoken).
        s(r"\bdo[pro]_v1_[a-f0-9]{64}\b", 0, any),
        s(r"\bhv[sbr]\.[A-Za-z0-9_\-]{20,}", 0, any),
        s(r"\bs\.[A-Za-z0-9]{24}\b", 0, mixed_case_and_digit),
        s(r"\bdapi[a-f0-9]{32}(?:-[0-9])?\b", 0, any),
        // Shopify, Twilio API keys, Mailgun, Mailchimp, Telegram bots (gitleaks shopify-*,
        // twilio-api-key, mailgun-*, mailchimp-api-key, telegram-bot-api-token; trufflehog
        // shopify, twilioapikey, mailgun, mailchimp, telegrambottoken).
        s(r"\bshp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}\b", 0, any),
        s(r"\bSK[0-9a-fA-F]{32}\b", 0, has_digit_and_letter),
        s(r"\b(?:key|pubkey)-[0-9a-zA-Z]{32}\b", 0, has_digit_and_letter),
        s(r"\b[0-9a-f]{32}-us[0-9]{1,2}\b", 0, any),
        s(r"[0-9]{5,16}:AA[A-Za-z0-9_\-]{30,}", 0, any),
        // Docker Hub, Hugging Face, Grafana, New Relic, Atlassian, Linear, Postman (gitleaks
        // huggingface-*, grafana-*, new-relic-*, atlassian-api-token, linear-api-key,
        // postman-api-token; trufflehog dockerhub, huggingface, grafana...,
        // newrelicpersonalapikey, atlassian, linearapi, postman).
        s(r"\bdckr_(?:pat|oat)_[A-Za-z0-9_\-]{20,}", 0, any),
        s(r"\b(?:hf|api_org)_[A-Za-z0-9]{30,}\b", 0, any),
        s(r"\bglc_[A-Za-z0-9+/]{32,}={0,2}", 0, any),
        s(r"\bglsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}\b", 0, any),
        s(r"\beyJrIjoi[A-Za-z0-9+/]{40,}={0,2}", 0, any),
        s(r"\bNR(?:AK|JS|II|AA|IQ)-[A-Za-z0-9]{19,}\b", 0, any),
        s(r"\bAT(?:ATT|CTT)3[A-Za-z0-9_\-=]{30,}", 0, any),
        s(r"\blin_(?:api|oauth)_[A-Za-z0-9]{32,}\b", 0, any),
        s(r"\bPMAK-[A-Za-z0-9]{20,}-[A-Za-z0-9]{20,}\b", 0, any),
        // Doppler, Pulumi, Terraform Cloud, age, Heroku (gitleaks doppler-api-token,
        // pulumi-api-token, hashicorp-tf-api-token, age-secret-key, heroku-api-key-v2;
        // trufflehog doppler, pulumi, terraformcloudpersonaltoken, heroku).
        s(r"\bdp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{20,}\b", 0, any),
        s(r"\bpul-[a-f0-9]{40}\b", 0, any),
        s(r"\b[A-Za-z0-9]{10,}\.atlasv1\.[A-Za-z0-9_\-=]{20,}", 0, any),
        s(r"\bAGE-SECRET-KEY-1[0-9A-Za-z]{20,}", 0, any),
        s(r"\bHRKU-[A-Za-z0-9_\-]{20,}", 0, any),
        // Azure AD client secrets, three characters, a digit, Q~ (gitleaks
        // azure-ad-client-secret; trufflehog azure_entra).
        s(r"\b[A-Za-z0-9_~.]{3}[0-9]Q~[A-Za-z0-9_~.\-]{31,34}", 0, any),
        // Azure storage keys in Hadoop/Spark settings: the name ends with the account's host
        // (trufflehog azure_storage).
        s(r"(?i:\bfs\.azure\.(?:account\.key|sas)\.[A-Za-z0-9.\-]+=)([A-Za-z0-9+/=%]{20,})", 1, any),
        // Other prefixed tokens, one family each (gitleaks rule / trufflehog detector of the
        // same name): Sentry, Supabase, Netlify, Render, PlanetScale, Notion, Figma,
        // Buildkite, CircleCI, Tailscale, Groq, Replicate, xAI, Perplexity, LangSmith,
        // RubyGems, Fly.io, Sourcegraph, Clojars, Airtable, Mapbox secret tokens, Prefect,
        // Readme, Scalingo, Typeform, Frame.io, Infracost, Duffel, Shippo, Sendinblue/Brevo,
        // Adobe, Defined Networking, Artifactory, Yandex, Square, OpenShift.
        s(
            r"\b(?:sntry[su]_|sbp_|sb_secret_|nfp_|rnd_|pscale_(?:tkn|pw|oauth)_|ntn_|figd_|bkua_|CCIPAT_|tskey-(?:auth|api|client|scim|webhook)-|gsk_|r8_|xai-|pplx-|lsv2_(?:pt|sk)_|rubygems_|fo1_|fm1[ar]?_|fm2_|sgp_|CLOJARS_|pat[A-Za-z0-9]{14}\.|sk\.eyJ|pnu_|rdme_|tk-us-|tfp_|fio-u-|ico-|duffel_(?:test|live)_|shippo_(?:live|test)_|xkeysib-|xsmtpsib-|p8e-|dnkey-|AKCp|AQVN|sq0(?:atp|csp)-|sha256~)[A-Za-z0-9_\-]{20,}",
            0,
            has_digit_and_letter,
        ),
        // More fixed layouts: 1Password service accounts (ops_eyJ, base64), Settlemint (sm_),
        // Octopus Deploy (API-), Facebook and Square (EAA*), Dynatrace (dt0c01.), Cloudflare origin CA keys (v1.0-), EasyPost
        // (EZAK/EZTK), Flutterwave (FLWSECK-), 42 intra (s-s4t2ud-), MaxMind (_mmk),
        // Artifactory reference tokens (cmVmd), Dropbox short-lived tokens (sl.), Twitter
        // bearer tokens (22 A's), ClickHouse Cloud secrets (4b1d), Harness (pat./sat.),
        // 1Password secret keys (A3-), Braintree/PayPal access tokens, Notion's older
        // `secret_` tokens, base64 encoded JWTs (ZXlK) (gitleaks rules of those names;
        // trufflehog dynatrace, cloudflarecakey, easypost, flutterwave, maxmindlicense,
        // artifactory, dropbox, twitter, clickhouse, harness, onepassword, braintreepayments,
        // notion, jwt).
        s(r"\bops_eyJ[A-Za-z0-9+/]{100,}={0,3}", 0, any),
        s(r"\bsm_(?:aat|pat|sat)_[A-Za-z0-9]{16}\b", 0, has_digit_and_letter),
        s(r"\bAPI-[A-Z0-9]{26}\b", 0, has_digit_and_letter),
        s(r"\bEAA[ACM][A-Za-z0-9+=\-]{60,}", 0, mixed_case_and_digit),
        s(r"\bsk\.eyJ[A-Za-z0-9_\-]{20,}\.[A-Za-z0-9_\-]{20,}", 0, any),
        s(r"\bdt0c01\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{64}\b", 0, any),
        s(r"\bv1\.0-[a-f0-9]{24}-[a-f0-9]{146}\b", 0, any),
        s(r"\bEZ[AT]K[A-Za-z0-9]{54}\b", 0, any),
        s(r"\bFLWSECK(?:_TEST)?-[A-Za-z0-9]{12,}(?:-X)?\b", 0, has_digit_and_letter),
        s(r"\bs-s4t2(?:ud|af)-[a-f0-9]{64}\b", 0, any),
        s(r"\b[A-Za-z0-9]{6}_[A-Za-z0-9]{29}_mmk\b", 0, any),
        s(r"\bcmVmd[A-Za-z0-9]{59}\b", 0, any),
        s(r"\bsl\.(?:u\.)?[A-Za-z0-9_\-=]{130,}", 0, any),
        s(r"\bA{22}[A-Za-z0-9%]{80,}", 0, any),
        s(r"\b4b1d[A-Za-z0-9]{38}\b", 0, mixed_case_and_digit),
        s(r"\b(?:pat|sat)\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{20}\b", 0, any),
        s(r"\bA3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}\b", 0, any),
        s(r"\baccess_token\$(?:production|sandbox)\$[a-z0-9]{16}\$[a-f0-9]{32}\b", 0, any),
        s(r"\bsecret_[A-Za-z0-9]{43}\b", 0, mixed_case_and_digit),
        s(r"\bZXlK[A-Za-z0-9+/]{40,}={0,2}", 0, has_digit_and_letter),
        // JSON web tokens (gitleaks jwt; trufflehog jwt).
        s(r"\beyJ[A-Za-z0-9_\-]{5,}\.eyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}", 0, any),
        // QEMU secret objects: `--object secret,id=sec0,data=PASS` (qemu-img(1), qemu-nbd(8)).
        s(r#"\bsecret,(?:[^\s'",]*,)*data=([^\s'",]+)"#, 1, any),
        // PuTTY private key files pasted into a command (the key runs to a quote).
        s(r#"PuTTY-User-Key-File-[0-9]:[^'"]*"#, 0, any),
        // .netrc lines: `machine HOST login USER password SECRET`.
        s(r#"(?i)\bmachine\s+[^\s'"]+\s+(?:login\s+[^\s'"]+\s+)?password\s+([^\s'"\\]+)"#, 1, any),
        // SQL: ALTER USER ... PASSWORD 'x', CREATE USER ... IDENTIFIED BY 'x'.
        s(r"(?i)\b(?:identified\s+by|password)\s+'([^'\s]+)'", 1, any),
    ]
});

static SHAPE_SET: LazyLock<regex::RegexSet> = LazyLock::new(|| {
    regex::RegexSet::new(SHAPES.iter().map(|s| s.re.as_str())).unwrap_or_else(|e| panic!("bad built-in patterns: {e}"))
});

/// The armour lines of secret key blocks: PEM and PKCS#8 private keys of every algorithm
/// (`RSA`, `EC`, `DSA`, `OPENSSH`, `ENCRYPTED`, `SSH2 ENCRYPTED`...), PGP private and secret
/// key blocks, OpenVPN static and tls-crypt keys (gitleaks private-key; trufflehog privatekey).
const KEY_ARMOUR: &str =
    r"[A-Za-z0-9 _\-]*(?:(?:PRIVATE|SECRET) KEY(?: BLOCK)?|OpenVPN [A-Za-z0-9 _\-]*[Kk]ey(?: V1)?)-----";
static KEY_BEGIN: LazyLock<Regex> = LazyLock::new(|| compile(&format!("(?i:-----BEGIN ){KEY_ARMOUR}")));
static KEY_END: LazyLock<Regex> = LazyLock::new(|| compile(&format!("(?i:-----END ){KEY_ARMOUR}")));
static URL_START: LazyLock<Regex> = LazyLock::new(|| compile(r"\b[A-Za-z][A-Za-z0-9+.\-]*://"));

/// Finds the shapes that do not depend on the command's structure.
fn shapes(text: &str, spans: &mut Vec<Span>) {
    // One pass says which shapes occur at all; only those are searched for their positions.
    let present = SHAPE_SET.matches(text);
    for shape in present.iter().filter_map(|i| SHAPES.get(i)) {
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
        let len =
            rest.find(|c: char| c.is_whitespace() || matches!(c, '\'' | '"' | '<' | '>' | '`')).unwrap_or(rest.len());
        from = auth + len.max(1);
        let Some(word) = rest.get(..len) else {
            continue;
        };
        // The user name ends at the first ':' or '@' and holds no '/'.
        let Some(u) = word.find([':', '@', '/', '?', '#']) else {
            continue;
        };
        let user = word.get(..u).unwrap_or("");
        let Some(at) = last_host_at(word) else {
            continue;
        };
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
    // `postgres://u:p@/db?host=/run/postgresql`: no host, a socket.
    let socket = name.is_empty() && host.starts_with('/');
    let ok = socket
        || !name.is_empty()
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'[' | b']'));
    ok.then_some(at)
}

/// A URL's user part that is a token rather than a name (`https://TOKEN@host`).
fn user_is_token(user: &str) -> bool {
    let known = SHAPES.iter().any(|s| s.group == 0 && s.re.find(user).is_some_and(|m| m.len() == user.len()));
    known
        || looks_random(user)
        || (user.len() >= 32 && user.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'))
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
const NOT_FIRST: &[&str] = &[
    "max", "min", "num", "no", "use", "ask", "prompt", "show", "enable", "disable", "with", "without", "require",
    "requires", "has", "is", "allow", "skip", "print", "read",
];
/// Trailing words that do not change what the name holds (`SECRET_KEY_BASE`, `TOKEN_VALUE`).
const FILLER: &[&str] = &[
    "base",
    "value",
    "val",
    "str",
    "string",
    "b64",
    "base64",
    "hex",
    "raw",
    "plain",
    "plaintext",
    "data",
    "enc",
    "encoded",
    "input",
];
/// Words that make `key` a secret: `api_key`, `SECRET_KEY`, `AccountKey`...
const KEY_QUALIFIERS: &[&str] = &[
    "api",
    "access",
    "secret",
    "private",
    "auth",
    "account",
    "master",
    "encryption",
    "encrypt",
    "signing",
    "session",
    "client",
    "license",
    "licence",
    "storage",
    "app",
    "application",
    "service",
    "shared",
    "subscription",
    "webhook",
    "deploy",
    "root",
    "admin",
    "hmac",
    "crypt",
    "cipher",
    "aes",
    "jwt",
    "consumer",
    "sas",
    "primary",
    "secondary",
    "user",
    "write",
    "read",
    "ingest",
    "ingestion",
    "server",
    "sk",
    "pk",
    "otp",
    "totp",
    "mfa",
    "recovery",
    "product",
    "wifi",
    "wpa",
    "wep",
    "cookie",
    "token",
];
/// Vendors whose bare `<VENDOR>_KEY` holds a secret: the keyword rules of gitleaks
/// (`config/gitleaks.toml`: `adafruit`, `algolia`, ... `zendesk`) and trufflehog's keyword
/// prefixes (`pkg/detectors/*`).
const VENDOR_KEYS: &[&str] = &[
    "adafruit",
    "algolia",
    "anthropic",
    "asana",
    "bitbucket",
    "bittrex",
    "brevo",
    "cloudflare",
    "codecov",
    "cohere",
    "coinbase",
    "confluent",
    "contentful",
    "datadog",
    "dd",
    "deepseek",
    "discord",
    "droneci",
    "dropbox",
    "etsy",
    "facebook",
    "fastly",
    "finicity",
    "finnhub",
    "flickr",
    "freshbooks",
    "gemini",
    "github",
    "gitlab",
    "gitter",
    "gocardless",
    "google",
    "groq",
    "heroku",
    "hubspot",
    "intercom",
    "jfrog",
    "artifactory",
    "kraken",
    "kucoin",
    "launchdarkly",
    "linear",
    "linkedin",
    "lob",
    "mailchimp",
    "mailgun",
    "mapbox",
    "mattermost",
    "messagebird",
    "mistral",
    "netlify",
    "newrelic",
    "nytimes",
    "okta",
    "openai",
    "openrouter",
    "pinecone",
    "plaid",
    "postmark",
    "rapidapi",
    "replicate",
    "sendbird",
    "sendgrid",
    "sentry",
    "shippo",
    "shopify",
    "slack",
    "snyk",
    "sonar",
    "stripe",
    "sumo",
    "sumologic",
    "telegram",
    "travis",
    "twilio",
    "twitch",
    "twitter",
    "typeform",
    "yandex",
    "zendesk",
];
/// `(word before, last word)` pairs that hold a secret although neither word alone says so.
const SECRET_PAIRS: &[(&str, &str)] = &[("sonar", "login"), ("private", "ai")];

/// Whether a variable, option or key name holds a secret: its last word is one.
fn is_secret_name(name: &str) -> bool {
    // Bundler's credentials for a gem host: `BUNDLE_GEMS__EXAMPLE__COM=user:pass`.
    let bundler = name.starts_with("BUNDLE_") && name.contains("__");
    bundler || secret_word(name, true).is_some()
}

/// The secret word a name ends with, if any.
///
/// `valued`: the name comes with its value (`--with-db-password=x` holds one, while
/// `--with-token` alone is a switch).
fn secret_word(name: &str, valued: bool) -> Option<String> {
    let mut words = name_words(name);
    if words.len() > 1 && words.first().is_some_and(|w| NOT_FIRST.contains(&w.as_str()) && !(valued && w == "with")) {
        return None;
    }
    while words.len() > 1 && words.last().is_some_and(|w| FILLER.contains(&w.as_str())) {
        words.pop();
    }
    let last = words.last()?.as_str();
    let prev = words.len().checked_sub(2).and_then(|i| words.get(i)).map(String::as_str).unwrap_or("");
    let exact = [
        "password",
        "passwd",
        "passphrase",
        "passcode",
        "pass",
        "pw",
        "pwd",
        "secret",
        "token",
        "apikey",
        "credential",
        "credentials",
        "creds",
        "sig",
        "signature",
        "psk",
        "pat",
        "auth",
        "pin",
        "cred",
        "bearer",
        "authorization",
        "cookie",
        "salt",
        "community",
    ];
    let suffixes = [
        "password",
        "passwd",
        "passphrase",
        "secret",
        "token",
        "apikey",
        "accesskey",
        "secretkey",
        "privatekey",
        "authkey",
        "pwd",
    ];
    let single = words.len() == 1;
    let secret = if exact.contains(&last) {
        // PWD and OLDPWD are the shell's directories; PAT and PIN alone are too vague.
        !(single && matches!(last, "pwd" | "pat" | "pin"))
    } else if last == "key" {
        KEY_QUALIFIERS.contains(&prev) || VENDOR_KEYS.contains(&prev)
    } else if SECRET_PAIRS.contains(&(prev, last)) {
        true
    } else {
        last != "oldpwd" && suffixes.iter().any(|s| last.ends_with(s))
    };
    secret.then(|| last.to_string())
}

/// A name for the `--name VALUE` form of an option of a tool this file does not know: stricter
/// than for assignments, since `--secret id=x,src=f` (docker) or `--auth` switches exist.
fn is_secret_option(name: &str) -> bool {
    match secret_word(name, false) {
        Some(w) => {
            let words = name_words(name);
            !matches!(
                w.as_str(),
                "auth"
                    | "sig"
                    | "signature"
                    | "credential"
                    | "credentials"
                    | "creds"
                    | "cred"
                    | "psk"
                    | "salt"
                    | "community"
                    | "cookie"
            ) && (words.len() != 1 || w != "secret")
        }
        None => false,
    }
}

/// Values that are not secrets themselves: references to variables or files, switches.
fn is_placeholder(v: &str) -> bool {
    let l = v.to_ascii_lowercase();
    v.starts_with('$') && !is_crypt_hash(v)
        || v.starts_with("%") && v.ends_with('%') && v.len() > 2
        || v.starts_with("<(")
        || matches!(
            l.as_str(),
            "" | "-"
                | "*"
                | "true"
                | "false"
                | "yes"
                | "no"
                | "on"
                | "off"
                | "none"
                | "null"
                | "nil"
                | "undefined"
                | "stdin"
                | "prompt"
        )
        || v == REDACTED
}

/// A crypt(3) hash (`$6$salt$hash`, `$2b$10$...`, `$y$...`, `$apr1$...`): typed as a value,
/// quoted or not, it is a crackable password, not a variable.
fn is_crypt_hash(v: &str) -> bool {
    let mut parts = v.split('$');
    let (Some(""), Some(id)) = (parts.next(), parts.next()) else {
        return false;
    };
    let known = matches!(
        id,
        "1" | "2"
            | "2a"
            | "2b"
            | "2x"
            | "2y"
            | "5"
            | "6"
            | "7"
            | "y"
            | "gy"
            | "apr1"
            | "md5"
            | "sha1"
            | "argon2i"
            | "argon2d"
            | "argon2id"
            | "scrypt"
    ) || id.starts_with("pbkdf2");
    known && v.matches('$').count() >= 3
}

/// A path: where a secret is, not the secret.
fn is_path(v: &str) -> bool {
    v.starts_with("./")
        || v.starts_with("../")
        || v.starts_with("~/")
        || v.starts_with('/') && v.get(1..).is_some_and(|r| r.contains('/'))
}

/// A file name with the extension of a key, certificate or configuration file
/// (`--client-key=bob.key`): where the secret is, not the secret.
fn is_key_file(v: &str) -> bool {
    let Some((stem, ext)) = v.rsplit_once('.') else {
        return false;
    };
    !stem.is_empty()
        && !v.contains(char::is_whitespace)
        && matches!(
            ext.to_ascii_lowercase().as_str(),
            "key"
                | "pem"
                | "crt"
                | "cer"
                | "der"
                | "p12"
                | "pfx"
                | "jks"
                | "keystore"
                | "gpg"
                | "asc"
                | "pub"
                | "ppk"
                | "json"
                | "txt"
                | "env"
                | "yaml"
                | "yml"
                | "toml"
                | "conf"
                | "cfg"
                | "ini"
                | "kdbx"
                | "age"
        )
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
    // `=` only as base64 padding: `key=value` is no token.
    let body = v.trim_end_matches('=');
    if !body.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'_' | b'-')) {
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
            b'\\' if text.get(i + 1..).is_some_and(|r| r.starts_with(REDACTED)) => {
                // An escaped marker is still one marker (idempotence).
                for k in i + 1..i + 1 + REDACTED.len() {
                    t.byte(text, k);
                }
                i += 1 + REDACTED.len();
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
    /// The positional argument `at` after `sub`, past options and the values of the options
    /// listed (`mkpasswd -m sha-512 PASS`, `openssl passwd -salt s PASS`).
    PositionalSkip(&'static str, usize, &'static [&'static str]),
    /// Every positional argument after `sub` when it is the first positional (past the
    /// values of the options listed), in any case: `redis-cli -h h AUTH [user] PASS`.
    Rest(&'static str, &'static [&'static str]),
    /// The `n` words after each of the words listed: `pdftk f.pdf input_pw PASS`,
    /// `sc config svc password= PASS`, `qpdf --encrypt USER OWNER 256 -- in out`.
    After(&'static [&'static str], usize),
    /// After one of the subcommands, the value of every `KEY=VALUE` argument whatever its
    /// name: `vault kv put secret/app api=X`, `fly secrets set K=V`.
    Values(&'static [&'static str]),
    /// `kubectl create secret generic s --from-literal=k=V`: every literal is a secret.
    FromLiteral,
    /// The positional argument `at` after `sub` when the switch is given:
    /// `pulumi config set KEY VALUE --secret`.
    PositionalIf(&'static str, usize, &'static str),
    /// The value of the flag when a word says it is secret:
    /// `aws ssm put-parameter --type SecureString --value X`.
    FlagIf(&'static str, &'static str),
    /// impacket's targets: `[domain/]user:PASS@host`.
    Impacket,
    /// `bundle config set HOST USER:PASS` (Bundler's credentials for a gem host).
    Bundle,
}

struct Tool {
    names: &'static [&'static str],
    /// Flags only count after one of these subcommands (`docker login -p`), if any.
    sub: &'static [&'static str],
    flags: &'static [Flag],
    special: Special,
}

const MYSQL: &[&str] = &[
    "mysql",
    "mariadb",
    "mysqldump",
    "mysqladmin",
    "mysqlimport",
    "mysqlshow",
    "mysqlcheck",
    "mysqlpump",
    "mysqlsh",
    "mysqlbinlog",
    "mysqlslap",
    "mariadb-dump",
    "mariadb-admin",
    "mariadb-import",
    "mariadb-check",
    "mycli",
];

/// Which tools read secrets from which flags. Flags of tools not listed here are only secret
/// when their name says so (`--api-key`), never by letter (`-p`).
static TOOLS: &[Tool] = &[
    Tool {
        names: MYSQL,
        sub: &[],
        // `--password[=PASS]`, `-p[PASS]`: a separate word is the database (mysql(1)).
        flags: &[f("-p", ATT), f("--password", EQ)],
        special: Special::None,
    },
    Tool { names: &["mysqladmin", "mariadb-admin"], sub: &[], flags: &[], special: Special::Positional("password", 0) },
    Tool {
        names: &[
            "psql",
            "pg_dump",
            "pg_dumpall",
            "pg_restore",
            "pg_basebackup",
            "createdb",
            "dropdb",
            "createuser",
            "vacuumdb",
            "reindexdb",
            "pgbench",
            "pg_isready",
            "pgcli",
            "clusterdb",
            "dropuser",
            "pg_amcheck",
            "pg_receivewal",
            "pg_recvlogical",
            "vacuumlo",
            "initdb",
            "systemd-cryptenroll",
            "systemd-ask-password",
        ],
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
    Tool {
        names: &["openssl"],
        sub: &[],
        flags: &[
            fk("-pass", SEP, Kind::PassSpec),
            fk("-passin", SEP, Kind::PassSpec),
            fk("-passout", SEP, Kind::PassSpec),
            fk("-password", SEP, Kind::PassSpec),
            fk("-passcerts", SEP, Kind::PassSpec),
            fk("-pwri_password", SEP, Kind::PassSpec),
            fk("-proxy_pass", SEP, Kind::PassSpec),
            fk("-srppass", SEP, Kind::PassSpec),
            fk("-dpass", SEP, Kind::PassSpec),
            fk("-keypass", SEP, Kind::PassSpec),
            fk("-newkeypass", SEP, Kind::PassSpec),
            fk("-otherpass", SEP, Kind::PassSpec),
            fk("-tls_keypass", SEP, Kind::PassSpec),
            fk("-secret", SEP, Kind::PassSpec),
            fk("-srv_secret", SEP, Kind::PassSpec),
            fk("-pkeyopt_passin", SEP, Kind::PassSpec),
            f("-k", SEP),
            f("-K", SEP),
            f("-hmac", SEP),
            fk("-macopt", SEP, Kind::UserPass(b':')),
        ],
        special: Special::None,
    },
    Tool {
        names: &["redis-cli", "valkey-cli", "keydb-cli"],
        sub: &[],
        flags: &[f("-a", SEP | ATT), f("--pass", SEP | EQ), f("--password", SEP | EQ)],
        special: Special::None,
    },
    Tool {
        names: &["sqlcmd", "bcp", "osql", "isql", "mssql-cli", "sqsh"],
        sub: &[],
        flags: &[f("-P", SEP | ATT), f("--password", SEP | EQ)],
        special: Special::None,
    },
    Tool {
        names: &["zip", "unzip", "zipcloak", "funzip"],
        sub: &[],
        flags: &[f("-P", SEP), f("--password", SEP | EQ)],
        special: Special::None,
    },
    Tool {
        names: &["7z", "7za", "7zr", "7zz", "rar", "unrar"],
        sub: &[],
        flags: &[f("-p", ATT)],
        special: Special::None,
    },
    Tool { names: &["gpg", "gpg2", "gpgv"], sub: &[], flags: &[f("--passphrase", SEP | EQ)], special: Special::None },
    Tool { names: &["ssh-keygen"], sub: &[], flags: &[f("-N", SEP | ATT), f("-P", SEP | ATT)], special: Special::None },
    Tool {
        names: &["az"],
        sub: &["login"],
        flags: &[f("-p", SEP | ATT), f("--password", SEP | EQ)],
        special: Special::None,
    },
    Tool {
        names: &["kubectl", "oc", "kubecolor"],
        sub: &[],
        flags: &[f("--token", SEP | EQ), f("--password", SEP | EQ)],
        special: Special::None,
    },
    Tool { names: &["oc"], sub: &["login"], flags: &[f("-p", SEP | ATT)], special: Special::None },
    Tool { names: &["sshpass"], sub: &[], flags: &[f("-p", SEP | ATT)], special: Special::None },
    Tool {
        names: &["wget", "wget2"],
        sub: &[],
        flags: &[
            f("--password", SEP | EQ),
            f("--http-password", SEP | EQ),
            f("--ftp-password", SEP | EQ),
            f("--proxy-password", SEP | EQ),
        ],
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
    Tool {
        names: &["http", "https", "xh", "xhs"],
        sub: &[],
        flags: &[fk("-a", SEP | ATT, Kind::UserPass(b':')), fk("--auth", SEP | EQ, Kind::UserPass(b':'))],
        special: Special::None,
    },
    Tool { names: &["lftp"], sub: &[], flags: &[fk("-u", SEP, Kind::UserPass(b','))], special: Special::None },
    Tool {
        names: &[
            "mongo",
            "mongosh",
            "mongodump",
            "mongorestore",
            "mongoexport",
            "mongoimport",
            "mongostat",
            "mongotop",
            "mongofiles",
        ],
        sub: &[],
        flags: &[f("-p", SEP | ATT), f("--password", SEP | EQ)],
        special: Special::None,
    },
    Tool {
        names: &[
            "ldapsearch",
            "ldapmodify",
            "ldapadd",
            "ldapdelete",
            "ldapwhoami",
            "ldappasswd",
            "ldapcompare",
            "ldapmodrdn",
            "ldapexop",
        ],
        sub: &[],
        flags: &[f("-w", SEP | ATT), f("-s", SEP | ATT), f("-a", SEP | ATT)],
        special: Special::None,
    },
    Tool {
        names: &[
            "smbclient",
            "rpcclient",
            "smbcacls",
            "smbget",
            "smbtree",
            "smbcquotas",
            "net",
            "wbinfo",
            "nmblookup",
            "smbmap",
            "crackmapexec",
            "netexec",
            "nxc",
        ],
        sub: &[],
        flags: &[fk("-U", SEP | ATT, Kind::UserPass(b'%')), fk("--user", SEP | EQ, Kind::UserPass(b'%'))],
        special: Special::None,
    },
    Tool {
        names: &["smbmap", "crackmapexec", "netexec", "nxc", "evil-winrm", "impacket-psexec"],
        sub: &[],
        flags: &[f("-p", SEP), f("--password", SEP | EQ), f("-H", SEP)],
        special: Special::None,
    },
    Tool { names: &["net", "net.exe"], sub: &[], flags: &[], special: Special::NetUse },
    Tool {
        names: &["rclone"],
        sub: &["config"],
        flags: &[],
        special: Special::Config(&["create", "update", "password"]),
    },
    Tool { names: &["rclone"], sub: &[], flags: &[], special: Special::Positional("obscure", 0) },
    Tool { names: &["vault", "bao"], sub: &[], flags: &[], special: Special::Positional("login", 0) },
    Tool {
        names: &["twine"],
        sub: &[],
        flags: &[f("-p", SEP | ATT), f("--password", SEP | EQ)],
        special: Special::None,
    },
    Tool {
        names: &["gh"],
        sub: &["secret", "variable"],
        flags: &[f("-b", SEP | ATT), f("--body", SEP | EQ)],
        special: Special::None,
    },
    Tool { names: &["aws"], sub: &[], flags: &[], special: Special::Config(&["configure"]) },
    Tool { names: &["git"], sub: &[], flags: &[], special: Special::Config(&["config"]) },
    Tool { names: &["npm", "yarn", "pnpm", "bun"], sub: &[], flags: &[], special: Special::Config(&["config", "set"]) },
    Tool {
        names: &["pip", "pip3", "poetry", "composer", "conda", "bundle", "gcloud", "pdm", "uv", "hatch"],
        sub: &[],
        flags: &[],
        special: Special::Config(&["config"]),
    },
    Tool { names: &["dotnet"], sub: &[], flags: &[], special: Special::Config(&["user-secrets"]) },
    Tool {
        names: &["nmcli"],
        sub: &[],
        flags: &[],
        special: Special::Config(&["connect", "add", "modify", "con", "connection", "device", "dev"]),
    },
    Tool {
        names: &["sqlplus", "sqlldr", "expdp", "impdp", "rman", "sql"],
        sub: &[],
        flags: &[],
        special: Special::SqlPlus,
    },
    Tool { names: &["rabbitmqctl"], sub: &[], flags: &[], special: Special::Positional("add_user", 1) },
    Tool { names: &["rabbitmqctl"], sub: &[], flags: &[], special: Special::Positional("change_password", 1) },
    Tool { names: &["rabbitmqctl"], sub: &[], flags: &[], special: Special::Positional("authenticate_user", 1) },
    Tool { names: &["wpa_passphrase"], sub: &[], flags: &[], special: Special::Positional("", 1) },
    Tool { names: &["set"], sub: &[], flags: &[], special: Special::FishSet },
    Tool { names: &["mc", "mcli"], sub: &[], flags: &[], special: Special::Minio },
    Tool {
        names: &["mosquitto_pub", "mosquitto_sub", "mosquitto_rr"],
        sub: &[],
        flags: &[f("-P", SEP), f("--pw", SEP)],
        special: Special::None,
    },
    Tool {
        names: &["influx"],
        sub: &[],
        flags: &[f("-t", SEP), f("--token", SEP | EQ), f("-p", SEP), f("--password", SEP | EQ)],
        special: Special::None,
    },
    Tool {
        names: &["keytool", "jarsigner"],
        sub: &[],
        flags: &[
            f("-storepass", SEP),
            f("-keypass", SEP),
            f("-srcstorepass", SEP),
            f("-deststorepass", SEP),
            f("-srckeypass", SEP),
            f("-destkeypass", SEP),
            f("-new", SEP),
        ],
        special: Special::None,
    },
    Tool {
        names: &["cqlsh", "clickhouse-client", "clickhouse", "vsql", "hdbsql", "usql", "litecli"],
        sub: &[],
        flags: &[f("-p", SEP), f("--password", SEP | EQ), f("-w", SEP)],
        special: Special::None,
    },
    Tool { names: &["heroku"], sub: &[], flags: &[f("--api-key", SEP | EQ)], special: Special::None },
    Tool {
        names: &["npm", "yarn", "pnpm"],
        sub: &["login", "adduser"],
        flags: &[f("--password", SEP | EQ), f("-p", SEP)],
        special: Special::None,
    },
    Tool {
        names: &["xfreerdp", "wlfreerdp", "sdl-freerdp"],
        sub: &[],
        flags: &[f("/p:", ATT)],
        special: Special::None,
    },
    Tool { names: &["ncftp", "ncftpget", "ncftpput"], sub: &[], flags: &[f("-p", SEP)], special: Special::None },
    Tool { names: &["mount.cifs"], sub: &[], flags: &[], special: Special::None },
    // From the tools' manual pages (Debian): the options documented as taking a password,
    // a key or a token on the command line.
    Tool {
        names: &["ipmitool"],
        sub: &[],
        flags: &[f("-P", SEP | ATT), f("-k", SEP), f("-y", SEP)],
        special: Special::None,
    },
    Tool { names: &["rdesktop"], sub: &[], flags: &[f("-p", SEP | ATT)], special: Special::None },
    Tool {
        names: &["x11vnc"],
        sub: &[],
        flags: &[f("-passwd", SEP), f("-viewpasswd", SEP), f("-storepasswd", SEP)],
        special: Special::None,
    },
    Tool {
        names: &["curl"],
        sub: &[],
        flags: &[
            fk("-E", SEP | ATT, Kind::UserPass(b':')),
            fk("--cert", SEP | EQ, Kind::UserPass(b':')),
            fk("--proxy-cert", SEP | EQ, Kind::UserPass(b':')),
            fk("-b", SEP | ATT, Kind::UserPass(b'=')),
            fk("--cookie", SEP | EQ, Kind::UserPass(b'=')),
            f("--key-pass", SEP | EQ),
            f("--proxy-key-pass", SEP | EQ),
            f("--tlspassword", SEP | EQ),
            f("--proxy-tlspassword", SEP | EQ),
        ],
        special: Special::None,
    },
    Tool { names: &["p4", "p4v"], sub: &[], flags: &[f("-P", SEP | ATT)], special: Special::None },
    Tool { names: &["db2"], sub: &[], flags: &[], special: Special::Positional("using", 0) },
    Tool {
        names: &["redis-cli", "valkey-cli", "keydb-cli"],
        sub: &[],
        flags: &[],
        special: Special::Rest(
            "auth",
            &[
                "-h", "-p", "-s", "-a", "-u", "-n", "-r", "-i", "-d", "-e", "--user", "--pass", "--tls", "--cacert",
                "--cert", "--key", "--sni",
            ],
        ),
    },
    Tool {
        names: &["rabbitmqadmin"],
        sub: &[],
        flags: &[f("-p", SEP | ATT), f("--password", SEP | EQ)],
        special: Special::None,
    },
    Tool { names: &["neo4j-admin"], sub: &[], flags: &[], special: Special::Positional("set-initial-password", 0) },
    Tool {
        names: &["cypher-shell"],
        sub: &[],
        flags: &[f("-p", SEP | ATT), f("--password", SEP | EQ)],
        special: Special::None,
    },
    Tool {
        names: &["etcdctl"],
        sub: &[],
        flags: &[fk("--user", SEP | EQ, Kind::UserPass(b':')), f("--password", SEP | EQ)],
        special: Special::None,
    },
    Tool {
        names: &["doctl"],
        sub: &[],
        flags: &[f("-t", SEP | ATT), f("--access-token", SEP | EQ)],
        special: Special::None,
    },
    Tool { names: &["netlify", "ntl"], sub: &[], flags: &[f("--auth", SEP | EQ)], special: Special::None },
    Tool { names: &["vercel"], sub: &[], flags: &[f("-t", SEP | ATT), f("--token", SEP | EQ)], special: Special::None },
    Tool {
        names: &["codecov", "codecovcli"],
        sub: &[],
        flags: &[f("-t", SEP | ATT), f("--token", SEP | EQ)],
        special: Special::None,
    },
    Tool { names: &["ibmcloud", "bx", "cf"], sub: &["login"], flags: &[f("-p", SEP | ATT)], special: Special::None },
    Tool { names: &["cf"], sub: &[], flags: &[], special: Special::Positional("auth", 1) },
    Tool {
        names: &["skopeo", "buildah", "podman", "crane", "regctl"],
        sub: &[],
        flags: &[
            fk("--creds", SEP | EQ, Kind::UserPass(b':')),
            fk("--src-creds", SEP | EQ, Kind::UserPass(b':')),
            fk("--dest-creds", SEP | EQ, Kind::UserPass(b':')),
            fk("--from-creds", SEP | EQ, Kind::UserPass(b':')),
        ],
        special: Special::None,
    },
    Tool {
        names: &["openssl"],
        sub: &[],
        flags: &[f("-psk", SEP)],
        special: Special::PositionalSkip("passwd", 0, &["-salt", "-in"]),
    },
    Tool { names: &["rar", "unrar", "winrar"], sub: &[], flags: &[f("-hp", ATT)], special: Special::None },
    Tool { names: &["pdftk"], sub: &[], flags: &[], special: Special::After(&["input_pw", "owner_pw", "user_pw"], 1) },
    Tool { names: &["qpdf"], sub: &[], flags: &[f("--password", EQ)], special: Special::After(&["--encrypt"], 2) },
    Tool {
        names: &[
            "pdftotext",
            "pdfinfo",
            "pdftoppm",
            "pdfimages",
            "pdffonts",
            "pdftohtml",
            "pdftocairo",
            "pdfdetach",
            "pdfattach",
            "pdfsig",
        ],
        sub: &[],
        flags: &[f("-opw", SEP), f("-upw", SEP)],
        special: Special::None,
    },
    Tool { names: &["mutool"], sub: &[], flags: &[f("-p", SEP | ATT)], special: Special::None },
    Tool {
        names: &["veracrypt", "truecrypt"],
        sub: &[],
        flags: &[f("-p", SEP), f("--password", SEP | EQ)],
        special: Special::None,
    },
    Tool {
        names: &["useradd", "usermod", "adduser", "groupadd", "groupmod"],
        sub: &[],
        // The encrypted password: crackable, so a secret too.
        flags: &[f("-p", SEP | ATT), f("--password", SEP | EQ)],
        special: Special::None,
    },
    Tool { names: &["psexec", "psexec64", "paexec"], sub: &[], flags: &[f("-p", SEP)], special: Special::None },
    Tool {
        names: &[
            "impacket-psexec",
            "impacket-wmiexec",
            "impacket-smbexec",
            "impacket-dcomexec",
            "impacket-atexec",
            "impacket-secretsdump",
            "impacket-mssqlclient",
            "impacket-smbclient",
            "impacket-getuserspns",
            "impacket-getnpusers",
            "impacket-gettgt",
            "psexec.py",
            "wmiexec.py",
            "smbexec.py",
            "dcomexec.py",
            "atexec.py",
            "secretsdump.py",
            "mssqlclient.py",
            "getuserspns.py",
            "getnpusers.py",
            "gettgt.py",
        ],
        sub: &[],
        flags: &[f("-hashes", SEP)],
        special: Special::Impacket,
    },
    Tool {
        names: &["hydra", "medusa", "ncrack", "patator"],
        sub: &[],
        flags: &[f("-p", SEP), f("--pass", SEP | EQ)],
        special: Special::None,
    },
    Tool { names: &["sendemail", "sendemail.pl"], sub: &[], flags: &[f("-xp", SEP)], special: Special::None },
    Tool {
        names: &[
            "snmpwalk",
            "snmpget",
            "snmpset",
            "snmpbulkwalk",
            "snmpbulkget",
            "snmpgetnext",
            "snmptable",
            "snmptrap",
            "snmpinform",
            "snmpdelta",
            "snmpstatus",
            "snmpdf",
            "snmpnetstat",
            "snmptest",
            "snmpusm",
            "snmpvacm",
            "onesixtyone",
        ],
        sub: &[],
        // -A and -X: SNMPv3 pass phrases; -c: the community string, a password.
        flags: &[f("-A", SEP | ATT), f("-X", SEP | ATT), f("-c", SEP | ATT)],
        special: Special::None,
    },
    Tool { names: &["racadm", "idracadm7"], sub: &[], flags: &[f("-p", SEP)], special: Special::None },
    Tool { names: &["vmrun"], sub: &[], flags: &[f("-gp", SEP), f("-vp", SEP)], special: Special::None },
    Tool { names: &["beeline"], sub: &[], flags: &[f("-p", SEP)], special: Special::None },
    Tool {
        names: &["jenkins-cli", "jenkins-cli.jar"],
        sub: &[],
        flags: &[fk("-auth", SEP, Kind::UserPass(b':'))],
        special: Special::None,
    },
    Tool {
        names: &["dotnet"],
        sub: &["source"],
        flags: &[f("-p", SEP), f("--password", SEP | EQ)],
        special: Special::None,
    },
    Tool {
        names: &["dotnet"],
        sub: &["push"],
        flags: &[f("-k", SEP), f("--api-key", SEP | EQ)],
        special: Special::None,
    },
    Tool {
        names: &["cargo"],
        sub: &[],
        flags: &[],
        special: Special::PositionalSkip("login", 0, &["--registry", "-Z", "--config"]),
    },
    Tool { names: &["poetry"], sub: &["publish"], flags: &[f("-p", SEP | ATT)], special: Special::None },
    Tool { names: &["expo", "eas"], sub: &["login"], flags: &[f("-p", SEP | ATT)], special: Special::None },
    Tool {
        names: &["security"],
        sub: &["add-generic-password", "add-internet-password", "unlock-keychain", "create-keychain"],
        flags: &[f("-w", SEP), f("-p", SEP)],
        special: Special::None,
    },
    Tool { names: &["bw"], sub: &[], flags: &[], special: Special::Positional("unlock", 0) },
    Tool { names: &["bw"], sub: &[], flags: &[], special: Special::Positional("login", 1) },
    Tool { names: &["plink", "pscp", "psftp", "putty"], sub: &[], flags: &[f("-pw", SEP)], special: Special::None },
    Tool { names: &["cmdkey"], sub: &[], flags: &[f("/pass:", ATT)], special: Special::None },
    Tool {
        names: &["schtasks"],
        sub: &[],
        flags: &[f("/rp", SEP), f("/RP", SEP), f("/p", SEP), f("/P", SEP)],
        special: Special::None,
    },
    Tool { names: &["wmic"], sub: &[], flags: &[f("/password:", ATT)], special: Special::None },
    Tool {
        names: &["winrs"],
        sub: &[],
        flags: &[f("-p:", ATT), f("-password:", ATT), f("/p:", ATT), f("/password:", ATT)],
        special: Special::None,
    },
    Tool { names: &["sc"], sub: &[], flags: &[], special: Special::After(&["password="], 1) },
    Tool {
        names: &["ab"],
        sub: &[],
        flags: &[
            fk("-A", SEP | ATT, Kind::UserPass(b':')),
            fk("-P", SEP | ATT, Kind::UserPass(b':')),
            fk("-C", SEP | ATT, Kind::UserPass(b'=')),
        ],
        special: Special::None,
    },
    Tool { names: &["hey"], sub: &[], flags: &[fk("-a", SEP, Kind::UserPass(b':'))], special: Special::None },
    Tool {
        names: &["apksigner"],
        sub: &[],
        flags: &[fk("--ks-pass", SEP, Kind::PassSpec), fk("--key-pass", SEP, Kind::PassSpec)],
        special: Special::None,
    },
    Tool {
        names: &["pk12util", "certutil", "modutil"],
        sub: &[],
        flags: &[f("-W", SEP), f("-K", SEP)],
        special: Special::None,
    },
    Tool {
        names: &["gpg-preset-passphrase"],
        sub: &[],
        flags: &[f("--passphrase", SEP | EQ), f("-P", SEP)],
        special: Special::None,
    },
    Tool {
        names: &["lynx", "www-browser"],
        sub: &[],
        flags: &[fk("-auth", EQ, Kind::UserPass(b':')), fk("-pauth", EQ, Kind::UserPass(b':'))],
        special: Special::None,
    },
    Tool { names: &["tsget"], sub: &[], flags: &[f("-p", SEP)], special: Special::None },
    Tool {
        names: &["mvn", "mvnw", "mvndebug"],
        sub: &[],
        flags: &[
            f("-emp", SEP),
            f("-ep", SEP),
            f("--encrypt-master-password", SEP | EQ),
            f("--encrypt-password", SEP | EQ),
        ],
        special: Special::None,
    },
    Tool { names: &["curl"], sub: &[], flags: &[f("--ftp-account", SEP | EQ)], special: Special::None },
    Tool { names: &["pg_ctl"], sub: &[], flags: &[f("-P", SEP)], special: Special::None },
    Tool { names: &["gpgsm"], sub: &[], flags: &[f("--passphrase", SEP | EQ)], special: Special::None },
    Tool {
        names: &["ngrok"],
        sub: &[],
        flags: &[f("--authtoken", SEP | EQ)],
        special: Special::Positional("authtoken", 0),
    },
    Tool { names: &["ngrok"], sub: &[], flags: &[], special: Special::Positional("add-authtoken", 0) },
    Tool { names: &["cloudflared"], sub: &["service"], flags: &[], special: Special::Positional("install", 0) },
    Tool { names: &["snyk"], sub: &[], flags: &[], special: Special::Positional("auth", 0) },
    Tool { names: &["kubectl", "oc", "kubecolor"], sub: &["secret"], flags: &[], special: Special::FromLiteral },
    Tool { names: &["vault", "bao"], sub: &[], flags: &[], special: Special::Values(&["put", "patch", "write"]) },
    Tool {
        names: &["fly", "flyctl", "doppler", "infisical"],
        sub: &["secrets"],
        flags: &[],
        special: Special::Values(&["set", "import"]),
    },
    Tool { names: &["heroku"], sub: &[], flags: &[], special: Special::Values(&["config:set", "config:add"]) },
    Tool { names: &["pulumi"], sub: &["config"], flags: &[], special: Special::PositionalIf("set", 1, "--secret") },
    Tool { names: &["aws"], sub: &["put-parameter"], flags: &[], special: Special::FlagIf("--value", "SecureString") },
    Tool { names: &["az"], sub: &["secret"], flags: &[f("--value", SEP | EQ)], special: Special::None },
    Tool {
        names: &["ansible-vault"],
        sub: &[],
        flags: &[],
        special: Special::PositionalSkip(
            "encrypt_string",
            0,
            &["-n", "--name", "--vault-id", "--vault-password-file", "--output"],
        ),
    },
    Tool {
        names: &["mkpasswd"],
        sub: &[],
        flags: &[],
        special: Special::PositionalSkip(
            "",
            0,
            &["-m", "-S", "-R", "-P", "--method", "--salt", "--rounds", "--password-fd"],
        ),
    },
    Tool { names: &["htpasswd", "mosquitto_passwd"], sub: &[], flags: &[], special: Special::Htpasswd },
    Tool { names: &["doveadm"], sub: &["pw"], flags: &[f("-p", SEP)], special: Special::None },
    Tool { names: &["slappasswd"], sub: &[], flags: &[f("-s", SEP)], special: Special::None },
    Tool {
        names: &["caddy"],
        sub: &["hash-password"],
        flags: &[f("--plaintext", SEP | EQ), f("-p", SEP)],
        special: Special::None,
    },
    Tool {
        names: &["trino", "presto"],
        sub: &[],
        flags: &[fk("--password", SEP, Kind::Switch)],
        special: Special::None,
    },
    Tool { names: &["setenv"], sub: &[], flags: &[], special: Special::FishSet },
    Tool { names: &["launchctl"], sub: &[], flags: &[], special: Special::Config(&["setenv"]) },
    Tool { names: &["wpa_cli"], sub: &[], flags: &[], special: Special::Config(&["set_network"]) },
    Tool { names: &["bundle", "bundler"], sub: &[], flags: &[], special: Special::Bundle },
];

/// Commands that run the command after them: the tool is found behind them.
const WRAPPERS: &[(&str, &[&str])] = &[
    (
        "sudo",
        &[
            "-u",
            "-g",
            "-C",
            "-D",
            "-h",
            "-p",
            "-r",
            "-t",
            "-U",
            "-T",
            "--user",
            "--group",
            "--chdir",
            "--host",
            "--prompt",
            "--role",
            "--type",
            "--other-user",
            "--command-timeout",
        ],
    ),
    ("doas", &["-u", "-C"]),
    ("env", &["-u", "-C", "-S", "--unset", "--chdir", "--split-string"]),
    ("time", &["-f", "-o", "--format", "--output"]),
    ("nice", &["-n", "--adjustment"]),
    ("ionice", &["-c", "-n", "-p"]),
    ("timeout", &["-s", "-k", "--signal", "--kill-after"]),
    ("stdbuf", &["-i", "-o", "-e"]),
    (
        "xargs",
        &[
            "-I",
            "-n",
            "-P",
            "-d",
            "-E",
            "-L",
            "-s",
            "-a",
            "--max-args",
            "--max-procs",
            "--delimiter",
            "--arg-file",
            "--replace",
        ],
    ),
    ("watch", &["-n", "-d", "--interval"]),
    ("strace", &["-o", "-e", "-p", "-s"]),
    ("runuser", &["-u", "-g"]),
    ("pkexec", &["--user"]),
    ("java", &["-cp", "-classpath", "--class-path", "-p", "--module-path"]),
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

/// The names of the table, for a quick look-up on every word.
static TOOL_NAMES: LazyLock<std::collections::HashSet<&'static str>> =
    LazyLock::new(|| TOOLS.iter().flat_map(|t| t.names.iter().copied()).filter(|n| *n != "set").collect());

fn is_known_tool(name: &str) -> bool {
    TOOL_NAMES.contains(name)
}

/// `NAME=value` at the start of a command.
fn is_assignment(word: &str) -> bool {
    match word.split_once('=') {
        Some((name, _)) => {
            !name.is_empty()
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                && !name.starts_with(|c: char| c.is_ascii_digit())
        }
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
        let Some((wrapper, takes)) = WRAPPERS.iter().find(|(n, _)| *n == name) else {
            return Some(i);
        };
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
        let Some(cmd) = command_index(&seg.words) else {
            continue;
        };
        // The command's own tool, then tools run by it (`docker exec db mysql -pX`,
        // `kubectl exec pod -- mysql -pX`): a known tool name that is not an option's value.
        let mut starts = vec![cmd];
        for (j, w) in seg.words.iter().enumerate().skip(cmd + 1) {
            if w.text.len() > 24
                || !w.text.starts_with(|c: char| c.is_ascii_lowercase() || c == '/' || c == '.' || c == '7')
            {
                continue;
            }
            // `/sc` is a Windows switch; `/usr/bin/mysql` a path.
            if w.text.starts_with('/') && w.text.rfind('/') == Some(0) {
                continue;
            }
            let prev = seg.words.get(j - 1).map(|p| p.text.as_str()).unwrap_or("");
            let lower = !w.text.bytes().any(|b| b.is_ascii_uppercase());
            if lower
                && is_known_tool(&tool_name(&w.text))
                && (prev == "--" || !prev.starts_with('-'))
                && !w.text.contains('=')
            {
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

/// Tools that read a secret from standard input when all the words listed are present
/// (their manual pages): what is echoed or here-stringed into them is the secret.
const STDIN_READERS: &[(&str, &[&str])] = &[
    ("gcloud", &["secrets", "--data-file=-"]),
    ("wg", &["pubkey"]),
    ("docker", &["secret", "create", "-"]),
    ("podman", &["secret", "create", "-"]),
    ("kinit", &[]),
    ("smbpasswd", &["-s"]),
    ("htpasswd", &["-i"]),
    ("wrangler", &["secret", "put"]),
    ("vercel", &["env", "add"]),
    ("gh", &["secret", "set"]),
    ("pass", &["insert"]),
    ("secret-tool", &["store"]),
    ("keyring", &["set"]),
    ("ansible-vault", &["encrypt_string"]),
    ("cryptsetup", &[]),
    ("gpg", &["--passphrase-fd", "0"]),
    ("gpg2", &["--passphrase-fd", "0"]),
    ("mkpasswd", &["--stdin"]),
    ("mkpasswd", &["-s"]),
    ("openssl", &["stdin"]),
    ("sshpass", &["-d", "0"]),
    ("bw", &["unlock"]),
];

/// `sudo -S`, `docker login --password-stdin`, `gh auth login --with-token`, `chpasswd`...
fn reads_secret_from_stdin(words: &[Word], cmd: usize) -> bool {
    let has = |s: &str| words.iter().any(|w| w.text == s);
    let tool = words.get(cmd).map(|w| tool_name(&w.text)).unwrap_or_default();
    let listed = STDIN_READERS.iter().any(|(t, words)| *t == tool && words.iter().all(|w| has(w)));
    listed
        || has("--password-stdin")
        || has("--with-token")
        || (words.first().is_some_and(|w| tool_name(&w.text) == "sudo") && (has("-S") || has("--stdin")))
        || tool == "chpasswd"
        || (tool == "passwd" && has("--stdin"))
        || (tool == "vault" && has("login") && has("-"))
}

/// The arguments of an `echo` or `printf` whose output is piped into a secret reader.
fn echoed(seg: &Segment, kind: Kind, spans: &mut Vec<Span>) {
    let Some(cmd) = command_index(&seg.words) else {
        return;
    };
    let tool = seg.words.get(cmd).map(|w| tool_name(&w.text)).unwrap_or_default();
    if tool != "echo" && tool != "printf" {
        return;
    }
    let args: Vec<&Word> = seg
        .words
        .iter()
        .skip(cmd + 1)
        .filter(|w| !(w.text.starts_with('-') && w.text.len() <= 3 && !w.quoted))
        .collect();
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
    let Some(cmd_word) = words.get(cmd) else {
        return;
    };
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
        let dashes = t.get(..t.len() - body.len()).unwrap_or("");
        if (is_secret_name(system_property(dashes, name)) && !is_key_file(v)) || looks_random(v) {
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
        if !is_key_file(&next.text) && !is_path(&next.text) {
            value(next, 0, next.text.len(), Kind::Plain, spans);
        }
        return 1;
    }
    if looks_random(&next.text) {
        value(next, 0, next.text.len(), Kind::Plain, spans);
    }
    0
}

/// The non-option arguments.
fn positionals(args: &[Word]) -> Vec<&Word> {
    args.iter()
        .filter(|w| !(w.text.starts_with('-') && w.text.len() > 1) || w.quoted && !w.text.starts_with('-'))
        .collect()
}

/// The non-option arguments, past the values of the options listed.
fn positionals_past<'a>(args: &'a [Word], takes: &[&str]) -> Vec<&'a Word> {
    let mut pos = Vec::new();
    let mut skip = false;
    for w in args {
        let t = w.text.as_str();
        if std::mem::take(&mut skip) {
            continue;
        }
        if takes.contains(&t) {
            skip = true;
        } else if !(t.starts_with('-') && t.len() > 1) {
            pos.push(w);
        }
    }
    pos
}

fn special(kind: Special, args: &[Word], spans: &mut Vec<Span>) {
    match kind {
        Special::None => {}
        Special::Htpasswd => {
            let flags: String = args
                .iter()
                .filter(|w| w.text.starts_with('-') && !w.text.starts_with("--"))
                .map(|w| w.text.as_str())
                .collect();
            if flags.contains('b') {
                let pos = positionals(args);
                let at = if flags.contains('n') { 1 } else { 2 };
                if let Some(w) = pos.get(at) {
                    value(w, 0, w.text.len(), Kind::Plain, spans);
                }
            }
        }
        Special::NetUse => {
            // `net user NAME PASS [/add]` (`*` prompts).
            if args.first().is_some_and(|w| w.text.eq_ignore_ascii_case("user")) {
                let rest: Vec<&Word> = args.iter().skip(1).filter(|w| !w.text.starts_with('/')).collect();
                if let Some(w) = rest.get(1).filter(|w| w.text != "*") {
                    value(w, 0, w.text.len(), Kind::Plain, spans);
                }
                return;
            }
            if !args.first().is_some_and(|w| w.text.eq_ignore_ascii_case("use")) {
                return;
            }
            let rest: Vec<&Word> = args.iter().skip(1).filter(|w| !w.text.starts_with('/')).collect();
            if let Some(i) = rest.iter().position(|w| w.text.starts_with('\\')) {
                if let Some(w) = rest.get(i + 1) {
                    value(w, 0, w.text.len(), Kind::Plain, spans);
                }
            }
        }
        Special::Positional(sub, at) => {
            let pos = positionals(args);
            let from = if sub.is_empty() { Some(0) } else { pos.iter().position(|w| w.text == sub).map(|i| i + 1) };
            if let Some(w) = from.and_then(|i| pos.get(i + at)) {
                // vault login -method=userpass username=x: the pairs are found by name.
                if !w.text.contains('=') {
                    value(w, 0, w.text.len(), Kind::Plain, spans);
                }
            }
        }
        Special::Config(subs) => {
            let Some(i) = args.iter().position(|w| subs.contains(&w.text.as_str())) else {
                return;
            };
            let pos = positionals(args.get(i + 1..).unwrap_or(&[]));
            let mut k = 0;
            while let Some(w) = pos.get(k) {
                let key = w.text.as_str();
                let last = key.rsplit(['.', ':', '/']).next().unwrap_or(key);
                let first = key.split('.').next().unwrap_or(key);
                let basic = first == "http-basic";
                let token_key = matches!(
                    first,
                    "pypi-token" | "github-oauth" | "gitlab-token" | "gitlab-oauth" | "bearer" | "bitbucket-oauth"
                );
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
        Special::PositionalSkip(sub, at, takes) => {
            let from = if sub.is_empty() { Some(0) } else { args.iter().position(|w| w.text == sub).map(|i| i + 1) };
            let pos = positionals_past(args.get(from.unwrap_or(args.len())..).unwrap_or(&[]), takes);
            if let Some(w) = pos.get(at) {
                value(w, 0, w.text.len(), Kind::Plain, spans);
            }
        }
        Special::Rest(sub, takes) => {
            let pos = positionals_past(args, takes);
            if pos.first().is_some_and(|w| w.text.eq_ignore_ascii_case(sub)) {
                for w in pos.iter().skip(1) {
                    value(w, 0, w.text.len(), Kind::Plain, spans);
                }
            }
        }
        Special::After(words, n) => {
            for (i, w) in args.iter().enumerate() {
                if words.contains(&w.text.as_str()) {
                    for v in args.iter().skip(i + 1).take(n) {
                        value(v, 0, v.text.len(), Kind::Plain, spans);
                    }
                }
            }
        }
        Special::Values(subs) => {
            let Some(i) = args.iter().position(|w| subs.contains(&w.text.as_str())) else {
                return;
            };
            for w in args.iter().skip(i + 1) {
                let t = w.text.as_str();
                if t.starts_with('-') || !is_assignment(t) {
                    continue;
                }
                // `policy=@file.hcl`, `k=-` name a file or standard input.
                if let Some(eq) = t.find('=') {
                    let v = t.get(eq + 1..).unwrap_or("");
                    if !v.starts_with('@') && v != "-" {
                        value(w, eq + 1, t.len(), Kind::Plain, spans);
                    }
                }
            }
        }
        Special::FromLiteral => {
            if !args.iter().any(|w| w.text == "create") {
                return;
            }
            let mut k = 0;
            while let Some(w) = args.get(k) {
                let t = w.text.as_str();
                let (word, from) = if t == "--from-literal" {
                    k += 1;
                    match args.get(k) {
                        Some(n) => (n, 0),
                        None => break,
                    }
                } else if t.starts_with("--from-literal=") {
                    (w, "--from-literal=".len())
                } else {
                    k += 1;
                    continue;
                };
                let rest = word.text.get(from..).unwrap_or("");
                if let Some(eq) = rest.find('=') {
                    value(word, from + eq + 1, word.text.len(), Kind::Plain, spans);
                }
                k += 1;
            }
        }
        Special::PositionalIf(sub, at, switch) => {
            if args.iter().any(|w| w.text == switch) {
                special(Special::Positional(sub, at), args, spans);
            }
        }
        Special::FlagIf(flag, cond) => {
            if !args.iter().any(|w| w.text == cond) {
                return;
            }
            for (i, w) in args.iter().enumerate() {
                let t = w.text.as_str();
                if t == flag {
                    if let Some(v) = args.get(i + 1) {
                        value(v, 0, v.text.len(), Kind::Plain, spans);
                    }
                } else if t.strip_prefix(flag).is_some_and(|r| r.starts_with('=')) {
                    value(w, flag.len() + 1, t.len(), Kind::Plain, spans);
                }
            }
        }
        Special::Impacket => {
            for w in positionals(args) {
                let t = w.text.as_str();
                if let (Some(colon), Some(at)) = (t.find(':'), t.rfind('@')) {
                    if colon < at && !t.get(..colon).unwrap_or("").contains('@') {
                        value(w, colon + 1, at, Kind::Plain, spans);
                    }
                }
            }
        }
        Special::Bundle => {
            let pos = positionals(args);
            let Some(i) = pos.iter().position(|w| w.text == "config") else {
                return;
            };
            let rest: Vec<&&Word> =
                pos.iter().skip(i + 1).filter(|w| !matches!(w.text.as_str(), "set" | "get" | "unset")).collect();
            if let [host, cred, ..] = rest.as_slice() {
                if host.text.contains('.') && cred.text.contains(':') {
                    value(cred, 0, cred.text.len(), Kind::UserPass(b':'), spans);
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
        r"(?i)(?:^|[\s=,;'\x22])((?:proxy-)?authorization|set-cookie|cookie|api-?key|x-[a-z0-9\-]*(?:key|token|secret|auth|signature|password|session|credentials?)|[a-z0-9\-]*-(?:token|api-?key|secret|password)|(?:[a-z0-9\-]*-)?(?:subscription|application|access|secret|auth|master|admin|service|license|fastly|account)-key|private-token|token)[ \t]*:[ \t]*",
    )
});

/// Rules that look at every word alone: assignments, key: value pairs, headers, and quoted
/// command strings (`sh -c '...'`, `ssh host '...'`), scanned as commands of their own.
fn words_generic(text: &str, words: &[Word], depth: u8, spans: &mut Vec<Span>) {
    for (i, w) in words.iter().enumerate() {
        // The checks are cheap guards: most words have neither `=` nor `:`.
        if w.text.contains('=') {
            assignments(w, spans);
        }
        if w.text.contains(':') {
            colon_pairs(w, words.get(i + 1), spans);
            headers(w, spans);
        }
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
        let mut name = t.get(m.start()..m.end() - 1).unwrap_or("");
        let before = t.get(..m.start()).unwrap_or("");
        name = system_property(before, name);
        let at_start = before.bytes().all(|b| b == b'-');
        let rest = t.get(m.end()..).unwrap_or("");
        let (a, b) = if at_start {
            // The whole rest of the word, up to a following `,NAME=` or `&NAME=` pair.
            let mut end = rest.len();
            for (p, c) in rest.char_indices() {
                if (c == ',' || c == '&')
                    && rest.get(p + 1..).and_then(|r| ASSIGN.find(r)).is_some_and(|n| n.start() == 0)
                {
                    end = p;
                    break;
                }
            }
            // `'PGPASSWORD=x psql -U app'` (a command) ends at the space; `'P=a b'` does not.
            if let Some(sp) = rest.get(..end).and_then(|r| r.find(char::is_whitespace)) {
                let tail = rest.get(sp..end).unwrap_or("");
                if tail.contains(" -") || tail.trim().contains(char::is_whitespace) {
                    end = sp;
                }
            }
            match rest.chars().next() {
                Some(q @ ('\'' | '"')) if rest.get(..end).is_some_and(|r| r.len() > 1 && r.ends_with(q)) => {
                    (1, end - 1)
                }
                _ => (0, end),
            }
        } else {
            value_range(rest, &['\'', '"', '&', ';', ',', '}', ')', ']', '|', '<', '>'])
        };
        let Some(v) = rest.get(a..b) else { continue };
        // A path is where the secret is, not the secret (`--from-file=password=./pw`).
        let path = is_path(v) || is_key_file(v);
        if !path && (is_secret_name(name) || looks_random(v)) {
            value(w, m.end() + a, m.end() + b, Kind::Plain, spans);
        }
    }
}

/// The property of `-Dname=value` (java, maven, sonar-scanner): `name`.
fn system_property<'a>(before: &str, name: &'a str) -> &'a str {
    match name.strip_prefix('D') {
        Some(p) if before == "-" && p.starts_with(|c: char| c.is_ascii_lowercase()) => p,
        _ => name,
    }
}

/// `"password": "x"`, `password: x` in a word; `password:` followed by a word.
fn colon_pairs(w: &Word, next: Option<&Word>, spans: &mut Vec<Span>) {
    let t = w.text.as_str();
    for caps in COLON.captures_iter(t) {
        let (Some(all), Some(q1), Some(name), Some(q2)) = (caps.get(0), caps.get(1), caps.get(2), caps.get(3)) else {
            continue;
        };
        if q1.as_str() != q2.as_str() || !is_secret_name(name.as_str()) {
            continue;
        }
        // Headers: `headers` keeps their scheme (`Authorization: Bearer <redacted>`).
        if secret_word(name.as_str(), true).is_some_and(|w| w == "authorization" || w == "cookie") {
            continue;
        }
        let rest = t.get(all.end()..).unwrap_or("");
        if rest.is_empty() {
            // `password: hunter2` as two words (the next word is not a file name or option).
            if all.end() == t.len() && name.start() <= 1 {
                let plain = |n: &&Word| {
                    n.contiguous().is_some()
                        && !n.text.starts_with('-')
                        && !n.text.contains(['/', '.', '{', '}', '[', ']', ','])
                };
                if let Some(n) = next.filter(plain) {
                    value(n, 0, n.text.len(), Kind::Plain, spans);
                }
            }
            continue;
        }
        // httpie's raw JSON field: `password:=x`.
        if let Some(v) = rest.strip_prefix('=') {
            if q1.as_str().is_empty() && !all.as_str().ends_with([' ', '\t']) && !v.is_empty() {
                let (a, b) = value_range(v, &['\'', '"', ',', '}', ']']);
                value(w, all.end() + 1 + a, all.end() + 1 + b, Kind::Plain, spans);
                continue;
            }
        }
        // `secret:latest` (an image) is no pair: the name is quoted, or a space follows.
        let spaced = all.as_str().ends_with([' ', '\t']);
        let quoted_value = rest.starts_with(['\'', '"']);
        if q1.as_str().is_empty() && !spaced && !quoted_value {
            continue;
        }
        if is_field_path(rest) {
            continue;
        }
        let (a, b) = value_range(rest, &['\'', '"', ',', '}', ']']);
        value(w, all.end() + a, all.end() + b, Kind::Plain, spans);
    }
}

/// `.spec.tokenRef` (jq, yq): a field's path, not a value.
fn is_field_path(v: &str) -> bool {
    let mut b = v.bytes();
    b.next() == Some(b'.') && b.next().is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
}

/// Credential headers: the value after the scheme (`Authorization: Bearer X`), or all of it.
fn headers(w: &Word, spans: &mut Vec<Span>) {
    let t = w.text.as_str();
    for caps in HEADER.captures_iter(t) {
        let (Some(all), Some(name)) = (caps.get(0), caps.get(1)) else {
            continue;
        };
        let rest = t.get(all.end()..).unwrap_or("");
        // httpie's `token:=x` is a JSON field (`colon_pairs`), not a header; jq's
        // `{token: .spec.token}` names a field.
        if rest.starts_with('=') || is_field_path(rest) {
            continue;
        }
        let mut end = rest.find(['\'', '"', '\n', '\r']).unwrap_or(rest.len());
        if let Some(p) = rest.find("\\r").or_else(|| rest.find("\\n")) {
            end = end.min(p);
        }
        let v = rest.get(..end).unwrap_or("").trim_end();
        let mut a = 0;
        if name.as_str().to_ascii_lowercase().ends_with("authorization") {
            if let Some((scheme, cred)) = v.split_once(' ') {
                if !cred.trim().is_empty()
                    && scheme.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                {
                    a = scheme.len() + 1 + (cred.len() - cred.trim_start().len());
                }
            }
        }
        let scheme_only = !v.contains(' ')
            && matches!(
                v.to_ascii_lowercase().as_str(),
                "bearer" | "basic" | "token" | "digest" | "negotiate" | "ntlm" | "apikey"
            );
        if v.len() > a && !scheme_only {
            value(w, all.end() + a, all.end() + v.len(), Kind::Plain, spans);
        }
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    /// The table of cases (see the file's head for its format).
    const CASES: &str = include_str!("redact_cases.txt");

    /// `(input, expected output)` pairs: secret cases mark each secret `«like this»`; a line
    /// without a mark is a look-alike that must stay byte for byte. `␤` stands for a newline
    /// and `␉` for a tab; lines starting with `#` are comments.
    fn cases() -> (Vec<(String, String)>, Vec<String>) {
        let mut secrets = Vec::new();
        let mut lookalikes = Vec::new();
        for line in CASES.lines() {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let line = line.replace('␤', "\n").replace('␉', "\t");
            if line.contains('«') {
                let input = line.replace(['«', '»'], "");
                let mut want = String::new();
                let mut rest = line.as_str();
                while let Some(a) = rest.find('«') {
                    want.push_str(&rest[..a]);
                    want.push_str(REDACTED);
                    let after = &rest[a + '«'.len_utf8()..];
                    let b = after.find('»').unwrap_or_else(|| panic!("unclosed mark: {line}"));
                    rest = &after[b + '»'.len_utf8()..];
                }
                want.push_str(rest);
                secrets.push((input, want));
            } else {
                lookalikes.push(line);
            }
        }
        (secrets, lookalikes)
    }

    #[test]
    fn table() {
        let (secrets, lookalikes) = cases();
        let mut failures = Vec::new();
        let (mut wrong, mut altered) = (0, 0);
        for (input, want) in &secrets {
            let got = redact(input);
            if &got != want {
                wrong += 1;
                failures.push(format!("{input:?}\n   got  {got:?}\n   want {want:?}"));
            }
        }
        for input in &lookalikes {
            let got = redact(input);
            if &got != input {
                altered += 1;
                failures.push(format!("look-alike {input:?}\n   got  {got:?}"));
            }
        }
        assert!(
            failures.is_empty(),
            "{wrong} of {} secret cases wrong, {altered} of {} look-alikes altered:\n{}",
            secrets.len(),
            lookalikes.len(),
            failures.join("\n")
        );
        assert!(secrets.len() >= 300, "{} secret cases", secrets.len());
        assert!(lookalikes.len() >= 200, "{} look-alikes", lookalikes.len());
    }

    #[test]
    fn idempotent_and_extra_patterns() {
        let (secrets, lookalikes) = cases();
        for input in secrets.iter().map(|(i, _)| i).chain(lookalikes.iter()) {
            let once = redact(input);
            assert_eq!(redact(&once), once, "redacting twice changes {input:?}");
        }
        let (extra, bad) = Extra::new(&["acme-[0-9]{6}".to_string(), "(".to_string()]);
        assert_eq!(bad.len(), 1);
        assert_eq!(redact_with("deploy --license acme-123456", &extra), "deploy --license <redacted>");
    }

    #[test]
    fn secret_names() {
        for name in [
            "db_pass",
            "MYSQL_PWD",
            "dbPassword",
            "PGPASSWORD",
            "X_TOKEN",
            "NPM_TOKEN",
            "SECRET",
            "aws_secret_access_key",
            "SECRET_KEY_BASE",
            "_authToken",
            "api-key",
            "ApiKey",
            "client_secret",
        ] {
            assert!(is_secret_name(name), "{name} should be secret");
        }
        for name in [
            "max_tokens",
            "num_tokens",
            "tokenizer",
            "TOKENIZERS_PARALLELISM",
            "password_file",
            "TOKEN_PATH",
            "KEY_FILE",
            "PWD",
            "OLDPWD",
            "passWithNoTests",
            "password_min_length",
            "no_password",
            "AWS_ACCESS_KEY_ID",
            "SECRET_NAME",
            "credential.helper",
            "compass",
            "bypass",
        ] {
            assert!(!is_secret_name(name), "{name} should not be secret");
        }
    }

    #[test]
    fn randomness() {
        for v in [
            "oZ9zDnki7XeZZOmEPJUo09jwQO10Y0AD",
            "j7t2ydf0K5uY8iH1wOLaQan8ePsqMgLj2olXCwYj",
            "sWJPiX1EwY2orTyRqBRlEaZUZrwpPtuEFBNOfQ5x",
        ] {
            assert!(looks_random(v), "{v} should look random");
        }
        for v in [
            "3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f",
            "123e4567-e89b-12d3-a456-426614174000",
            "VeryLongClassNameForTesting2",
            "really_long_snake_case_identifier_42",
            "aGVsbG8gd29ybGQK.txt",
            "/usr/local/lib/python3.12/site-packages",
            "v1.2.3-rc1+build.20240101",
            "https://example.com/a/b/c?d=1",
            "sha512-AbCdEf0123456789AbCdEf0123456789==",
            "UserProfileSettingsPanel2024",
        ] {
            assert!(!looks_random(v), "{v} should not look random");
        }
    }

    /// A small deterministic generator (xorshift), so the test needs no crate.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[(self.next() % items.len() as u64) as usize]
        }
    }

    /// Tokens of well-known prefixes: none may survive redaction, whatever surrounds them.
    const PLANTED: &[&str] = &[
        "ghp_u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8d",
        "glpat-wR4y9ojfljoQoaF1Llqs",
        "sk-proj-h2FDEEtfjgVvVqE1SkHbn88HxjSI6bWHtP3fS2qHx6kwXoII",
        "xoxb-797016877313-2281718002390-PTt9iOqHOBSWhgetH8LmyqoY",
        "AKIAIOSFODNN7EXAMPLE",
        "hf_YFJEeAgYzQJjOIfPkzSrAsQtA9dtVK4wAA",
        "npm_o1C6xc4sohdmM0Lm7exG3lCMqXXQ8agOMTNw",
        "dckr_pat_ncxvjcnqcMUP6n0a0uARxlNtenc",
        "hvs.2qpUWnoVPDF2yeE6RsXcNOPmeMjvqPVStNKiaEdFrRgSnRFsTHsDDD",
        "AGE-SECRET-KEY-1G5L5W6QKSNO5KHF59GUWGZZF1BXNTQ186KYO3I8CWU7J29UK32QOIV3P6M",
        "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",
        "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",
    ];

    #[test]
    fn generated_inputs() {
        let pieces = [
            "mysql",
            "-p",
            "-pX",
            "ssh",
            "-p",
            "2222",
            "'",
            "\"",
            "\\",
            "`",
            "$(",
            ")",
            ";",
            "&&",
            "|",
            "||",
            "<<<",
            ">",
            "<",
            "=",
            ":",
            "@",
            "//",
            "https://",
            "user:pw@host",
            "--password",
            "--token=",
            "TOKEN=",
            "Authorization:",
            "Bearer",
            "-----BEGIN RSA PRIVATE KEY-----",
            "-----END RSA PRIVATE KEY-----",
            "\\n",
            "\n",
            "\t",
            "\u{0}",
            "\u{7f}",
            "é",
            "日本",
            "🔑",
            "sudo",
            "env",
            "A=1",
            "docker",
            "login",
            "-u",
            "x",
            "{",
            "}",
            "\"password\":",
            "%",
            "pass:",
            "<redacted>",
        ];
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..3000 {
            let n = (rng.next() % 14) as usize;
            let mut parts = Vec::new();
            let mut planted = Vec::new();
            for _ in 0..n {
                if rng.next() % 5 == 1 {
                    let t = rng.pick(PLANTED);
                    planted.push(t);
                    parts.push(t.to_string());
                } else {
                    parts.push(rng.pick(&pieces).to_string());
                }
            }
            let sep = if rng.next() % 3 == 1 { "" } else { " " };
            // Planted tokens stand alone as words: glued to a word, their prefix is no prefix.
            let input: String = parts
                .iter()
                .map(|p| if planted.contains(&p.as_str()) { format!(" {p} ") } else { format!("{sep}{p}") })
                .collect();
            let once = redact(&input);
            assert_eq!(redact(&once), once, "not idempotent on {input:?}");
            for t in &planted {
                assert!(!once.contains(t), "{t} survives in {once:?} (from {input:?})");
            }
        }
    }

    /// Templates of vendor tokens, one a shape family: `{X:n}` is `n` random characters of
    /// alphabet `X` (see `alphabet`).
    const TOKEN_SHAPES: &[&str] = &[
        "AKIA{u:16}",
        "ASIA{u:16}",
        "LTAI{a:20}",
        "ghp_{a:36}",
        "gho_{a:36}",
        "ghu_{a:36}",
        "ghs_{a:36}",
        "github_pat_11{u:20}_{a:59}",
        "glpat-{w:20}",
        "gldt-{w:20}",
        "glrt-{w:20}",
        "glptt-{h:40}",
        "GR1348941{w:20}",
        "xoxb-{d:12}-{d:13}-{a:24}",
        "xoxp-{d:12}-{d:12}-{d:13}-{h:32}",
        "xapp-1-{u:11}-{d:13}-{h:64}",
        "sk_live_{a:24}",
        "rk_live_{a:24}",
        "sk_test_{a:99}",
        "whsec_{a:32}",
        "AIza{w:35}",
        "ya29.{w:80}",
        "GOCSPX-{w:28}",
        "npm_{a:36}",
        "pypi-AgEIcHlwaS5vcmc{w:80}",
        "sk-proj-{w:74}T3BlbkFJ{w:74}",
        "sk-{a:20}T3BlbkFJ{a:20}",
        "sk-ant-api03-{w:93}AA",
        "sk-or-v1-{h:64}",
        "SG.{w:22}.{w:43}",
        "dop_v1_{h:64}",
        "doo_v1_{h:64}",
        "hvs.{w:95}",
        "hvb.{w:140}",
        "dapi{h:32}",
        "shpat_{h:32}",
        "shpss_{h:32}",
        "SK{h:32}",
        "key-{h:32}",
        "{h:32}-us12",
        "{d:10}:AA{w:33}",
        "dckr_pat_{w:27}",
        "hf_{L:34}",
        "api_org_{L:34}",
        "glc_{b:80}",
        "glsa_{a:32}_{h:8}",
        "NRAK-{u:27}",
        "ATATT3{w:186}",
        "lin_api_{a:40}",
        "PMAK-{h:24}-{h:34}",
        "dp.pt.{a:43}",
        "pul-{h:40}",
        "{a:14}.atlasv1.{w:67}",
        "AGE-SECRET-KEY-1{g:58}",
        "HRKU-AA{w:58}",
        "{a:3}8Q~{w:34}",
        "sntryu_{h:64}",
        "sbp_{h:40}",
        "tskey-auth-{a:16}-{a:32}",
        "gsk_{a:52}",
        "r8_{a:37}",
        "xai-{a:80}",
        "pplx-{a:48}",
        "dt0c01.{u:24}.{a:64}",
        "EZAK{a:54}",
        "sq0csp-{w:43}",
        "EAAA{a:60}",
        "shippo_live_{h:40}",
        "xkeysib-{h:64}-{a:16}",
        "eyJ{w:20}.eyJ{w:40}.{w:43}",
        "pnu_{a:36}",
        "rdme_{l:70}",
        "sha256~{w:43}",
        "fo1_{w:43}",
        "ops_eyJ{b:250}",
        "AKCp{a:69}",
        "cmVmd{a:59}",
        "sl.{w:135}",
        "API-{u:26}",
        "dnkey-{w:26}-{w:52}",
        "ico-{a:32}",
        "sm_pat_{a:16}",
        "4b1d{a:38}",
        "s-s4t2ud-{h:64}",
        "{a:6}_{a:29}_mmk",
        "ntn_{d:11}{a:35}",
        "figd_{w:40}",
        "CCIPAT_{a:22}_{h:40}",
        "lsv2_pt_{h:32}_{h:10}",
        "rubygems_{h:48}",
        "sgp_{h:16}_{h:40}",
        "pat{a:14}.{h:64}",
    ];

    fn alphabet(c: char) -> &'static [u8] {
        match c {
            'a' => b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            'L' => b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
            'u' => b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
            'l' => b"abcdefghijklmnopqrstuvwxyz0123456789",
            'h' => b"0123456789abcdef",
            'd' => b"0123456789",
            'w' => b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-",
            'b' => b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
            'g' => b"QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L",
            _ => panic!("no alphabet {c}"),
        }
    }

    /// Expands a token template with random characters; every class the alphabet has (upper,
    /// lower, digit) occurs, as in the vendors' real tokens.
    fn token(rng: &mut Rng, template: &str) -> String {
        let mut out = String::new();
        let mut rest = template;
        while let Some(a) = rest.find('{') {
            out.push_str(&rest[..a]);
            let b = rest[a..].find('}').expect("template closes") + a;
            let (class, n) = rest[a + 1..b].split_once(':').expect("class:len");
            let n: usize = n.parse().expect("length");
            let al = alphabet(class.chars().next().expect("class"));
            let mut part: Vec<u8> = (0..n).map(|_| al[(rng.next() % al.len() as u64) as usize]).collect();
            let groups: [fn(&u8) -> bool; 3] = [u8::is_ascii_uppercase, u8::is_ascii_lowercase, u8::is_ascii_digit];
            for (k, is) in groups.iter().enumerate() {
                let members: Vec<u8> = al.iter().copied().filter(is).collect();
                if n > 3 && !members.is_empty() && !part.iter().any(is) {
                    part[k] = members[(rng.next() % members.len() as u64) as usize];
                }
            }
            out.push_str(std::str::from_utf8(&part).expect("ascii"));
            rest = &rest[b + 1..];
        }
        out.push_str(rest);
        out
    }

    /// Words of everyday commands: none is a secret, none puts the next word where a secret
    /// goes (no `login`, `--token`, `config set`...).
    const ORDINARY: &[&str] = &[
        "-p",
        "-pv",
        "-pr",
        "-u",
        "-9",
        "-g",
        "-n",
        "-a",
        "-l",
        "-v",
        "-x",
        "-f",
        "-it",
        "-rf",
        "-e",
        "-k",
        "-s",
        "-P",
        "-D",
        "-C",
        "-t",
        "--rm",
        "--name",
        "--max_tokens=512",
        "--max-tokens",
        "--tail=100",
        "--since=1h",
        "--dry-run",
        "--passWithNoTests",
        "--token-file",
        "--password-file",
        "--key-file",
        "--no-password",
        "2222",
        "8080:80",
        "1000:1000",
        "127.0.0.1:5432:5432",
        "4242",
        "512",
        "0.7",
        "build",
        "src/",
        "~/x",
        "/var/log/syslog",
        "./target/release/app",
        "../up",
        "README.md",
        "'*.log'",
        "HEAD~3",
        "origin/main",
        "bob@host",
        "git@github.com:o/r.git",
        "https://example.com/path?page=2&sort=desc",
        "http://localhost:3000/api/v1",
        "PATH=/usr/bin",
        "EDITOR=nvim",
        "NODE_ENV=production",
        "RUST_LOG=debug",
        "TOKENIZERS_PARALLELISM=false",
        "PASSWORD_FILE=/run/pw",
        "KEY_FILE=k.pem",
        "v1.2.3",
        "1.2.3-rc1+build.5",
        "aGVsbG8gd29ybGQK.txt",
        "UserProfileSettingsPanel.tsx",
        "VeryLongClassNameForTestingPurposes",
        "really_long_snake_case_name_42",
        "nginx:1.25-alpine",
        "ghcr.io/acme/api:v2",
        "|",
        "&&",
        ";",
        ">",
        "2>&1",
        "<",
        "'a b'",
        "\"c d\"",
        "ünïcödé",
        "日本語",
        "{}",
        "[0-9]",
        "%s",
        "$HOME",
        "${USER}",
        "$(pwd)",
        "`date`",
        "\\",
        "'",
        "\"",
        "=",
        ":",
        "@",
        "#",
    ];
    const ORDINARY_TOOLS: &[&str] = &[
        "ls",
        "cp",
        "mv",
        "git",
        "cargo",
        "grep",
        "find",
        "tar",
        "ssh",
        "scp",
        "docker",
        "ps",
        "lsof",
        "kill",
        "mkdir",
        "npm",
        "python",
        "make",
        "rsync",
        "cat",
        "tail",
        "du",
        "sort",
        "ln",
        "chmod",
        "perl",
        "sed",
        "awk",
        "jq",
        "ffmpeg",
        "systemctl",
        "journalctl",
        "ip",
        "ping",
        "kubectl",
        "helm",
        "terraform",
        "go",
        "node",
        "vim",
        "less",
        "echo",
    ];

    /// Generated hashes, ids and digests: never secrets.
    fn ordinary_word(rng: &mut Rng) -> String {
        match rng.next() % 8 {
            0 => token(rng, "{h:40}"),
            1 => token(rng, "{h:7}"),
            2 => token(rng, "{h:8}-{h:4}-{h:4}-{h:4}-{h:12}"),
            3 => token(rng, "sha256:{h:64}"),
            4 => token(rng, "nginx@sha256:{h:64}"),
            _ => rng.pick(ORDINARY).to_string(),
        }
    }

    #[test]
    fn ordinary_commands_never_change() {
        let mut rng = Rng(0x2545_F491_4F6C_DD1D);
        let mut changed = Vec::new();
        for _ in 0..20_000 {
            let mut words = vec![rng.pick(ORDINARY_TOOLS).to_string()];
            for _ in 0..rng.next() % 9 {
                words.push(ordinary_word(&mut rng));
            }
            let line = words.join(" ");
            let out = redact(&line);
            if out != line {
                changed.push(format!("{line:?}\n   got {out:?}"));
            }
        }
        assert!(changed.is_empty(), "{} ordinary commands changed:\n{}", changed.len(), changed.join("\n"));
    }

    #[test]
    fn generated_secrets_are_always_removed() {
        let contexts = [
            "export SETTING={}",
            "echo {}",
            "./tool {} --verbose",
            "curl -H 'Authorization: Bearer {}' https://api.example.com",
            "curl -H \"X-Api-Key: {}\" https://api.example.com",
            "git clone https://{}@github.com/o/r.git",
            "mytool --token={}",
            "mytool --api-key {}",
            "printf '%s' '{}' > f",
            "docker run -e VALUE={} app",
            "cat <<< {}",
            "run # {}",
            "node app.js \"{}\"",
            "curl 'https://api.example.com/v1?key={}&page=2'",
        ];
        let mut rng = Rng(0xD1B5_4A32_D192_ED03);
        let mut leaked = Vec::new();
        let mut n = 0;
        for template in TOKEN_SHAPES {
            for _ in 0..40 {
                let secret = token(&mut rng, template);
                let context = rng.pick(&contexts);
                let mut words = vec![rng.pick(ORDINARY_TOOLS).to_string()];
                for _ in 0..rng.next() % 4 {
                    words.push(ordinary_word(&mut rng));
                }
                words.push("&&".to_string());
                words.push(context.replace("{}", &secret));
                for _ in 0..rng.next() % 4 {
                    words.push(ordinary_word(&mut rng));
                }
                let line = words.join(" ");
                let out = redact(&line);
                n += 1;
                if out.contains(&secret) || redact(&out) != out {
                    leaked.push(format!("{template}: {line:?}\n   got {out:?}"));
                }
            }
        }
        // Random passwords where tools read them (the flag table, URLs, names).
        let positions = [
            "mysql -u root -p{} shop",
            "mysqldump --password={} db",
            "sshpass -p {} ssh pi@host",
            "redis-cli -h cache -a {} ping",
            "htpasswd -b .htpasswd bob {}",
            "openssl enc -aes256 -pass pass:{} -in f",
            "curl -u bob:{} https://x",
            "docker login -u bob -p {} r.example.com",
            "PGPASSWORD={} psql -h db",
            "psql postgres://bob:{}@db/shop",
            "git clone https://bob:{}@git.example.com/r.git",
            "set -gx DB_PASSWORD {}",
            "smbclient //srv/s -U bob%{}",
            "sqlcmd -S db -U sa -P {}",
            "zip -P {} -r a.zip d",
            "gpg --batch --passphrase {} -d f.gpg",
            "ssh-keygen -t ed25519 -N {} -f k",
            "az login -u bob -p {}",
            "kubectl --token {} get pods",
            "wget --http-password={} https://x/f",
            "ldapsearch -x -D cn=admin -w {} -b dc=x",
            "ipmitool -H bmc -U admin -P {} power status",
            "snmpwalk -v2c -c {} 10.0.0.1",
            "export API_TOKEN={}",
            "echo {} | sudo -S true",
            "curl -d '{\"password\": \"{}\"}' https://x/login",
            "vault kv put secret/app k={}",
            "impacket-psexec acme/admin:{}@10.0.0.5",
        ];
        let chars = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!@#%^_+-.,:/=~";
        for position in positions {
            for _ in 0..60 {
                let len = 6 + (rng.next() % 15) as usize;
                let mut pw: String =
                    (0..len).map(|_| char::from(chars[(rng.next() % chars.len() as u64) as usize])).collect();
                // A password that starts like an option, or is `stdin`, is another argument.
                if pw.starts_with(['-', '@', ':', '/', '.', '=', ',']) {
                    pw.insert(0, 'x');
                }
                let mut words = vec![rng.pick(ORDINARY_TOOLS).to_string(), "&&".to_string()];
                words.push(position.replace("{}", &pw));
                for _ in 0..rng.next() % 3 {
                    words.push(ordinary_word(&mut rng));
                }
                let line = words.join(" ");
                let out = redact(&line);
                n += 1;
                let redacted_at = line.replacen(&pw, REDACTED, 1);
                if out.contains(&pw) || !out.starts_with(redacted_at.split(REDACTED).next().unwrap_or("")) {
                    leaked.push(format!("{position}: {line:?}\n   got {out:?}"));
                }
            }
        }
        assert!(leaked.is_empty(), "{} of {n} generated secrets leaked:\n{}", leaked.len(), leaked.join("\n"));
    }

    #[test]
    fn long_line() {
        // A 1 MB line: linear time (checked by hand: well under a second in a debug build).
        let line = "git commit -m word ".repeat(55_000) + "--password=hunter2 ghp_u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8d";
        let out = redact(&line);
        assert!(out.ends_with("--password=<redacted> <redacted>"));
        assert_eq!(out.len(), line.len() - "hunter2".len() - 40 + 2 * REDACTED.len());
        let quotes = "'a".repeat(500_000);
        assert_eq!(redact(&quotes), quotes);
        let begins = "-----BEGIN RSA PRIVATE KEY-----".repeat(30_000);
        assert_eq!(redact(&begins), REDACTED);
    }
}
