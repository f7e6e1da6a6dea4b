//! Secrets redaction: replaces tokens, keys, passwords and credentials in a command line with
//! `<redacted>`, keeping the command's shape so that it can still be scored. Everything that
//! reaches the disk or the log goes through it first: the agent redacts each command before it
//! scores, journals or stores it, and a hook redacts before it spools.

use regex::Regex;
use std::sync::LazyLock;

/// What a secret is replaced with.
pub const REDACTED: &str = "<redacted>";

/// A pattern and which of its capture groups is the secret (0: the whole match).
struct Pattern {
    re: Regex,
    group: usize,
}

fn p(re: &str, group: usize) -> Pattern {
    // The patterns are constants, checked by the tests below.
    Pattern { re: Regex::new(re).unwrap_or_else(|e| panic!("bad built-in pattern {re}: {e}")), group }
}

/// Names of variables whose value is a secret.
const SECRET_NAMES: &str = r"[A-Za-z0-9_]*(?i:PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|AUTH_?KEY|CREDENTIALS?|CLIENT_SECRET)[A-Za-z0-9_]*";

static PATTERNS: LazyLock<Vec<Pattern>> = LazyLock::new(|| {
    vec![
        // Private key blocks, pasted whole.
        p(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)", 0),
        // Cloud and service tokens with well-known shapes.
        p(r"\b((?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16})\b", 1),
        p(r"\b(gh[pousr]_[A-Za-z0-9]{30,255})\b", 1),
        p(r"\b(github_pat_[A-Za-z0-9_]{50,255})\b", 1),
        p(r"\b(glpat-[A-Za-z0-9_\-]{20,})\b", 1),
        p(r"\b(xox[abposr]-[A-Za-z0-9\-]{10,})\b", 1),
        p(r"(https://hooks\.slack\.com/services/[A-Za-z0-9/_\-]+)", 1),
        p(r"\b((?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{10,})\b", 1),
        p(r"\b(AIza[0-9A-Za-z_\-]{35})\b", 1),
        p(r"\b(npm_[A-Za-z0-9]{36})\b", 1),
        p(r"\b(eyJ[A-Za-z0-9_\-]{5,}\.eyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,})", 1),
        // HTTP authorization headers: keep the scheme, hide the credentials.
        p(r"(?i)\b(?:proxy-)?authorization:\s*(?:bearer|basic|token|digest|negotiate|apikey)?\s*([^\s'\x22]+)", 1),
        p(r"(?i)\b(?:x-api-key|x-auth-token|api-key|private-token|x-vault-token):\s*([^\s'\x22]+)", 1),
        // user:password@host in URLs.
        p(r"\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s:/@'\x22]+:([^\s@/'\x22]+)@", 1),
        // curl -u user:password, --user user:password.
        p(r"(?:^|\s)(?:-u|--user|--proxy-user)[\s=]+['\x22]?[^\s:'\x22]+:([^\s'\x22/][^\s'\x22]*)", 1),
        // mysql -p<password>, --password=..., -pPASSWORD (not a bare -p, which prompts).
        p(r"(?:^|\s)-p([^\s'\x22]+)", 1),
        p(r"(?i)(?:^|\s)--(?:password|passwd|pass|token|secret|api-key|access-key|secret-key|client-secret)[=\s]+['\x22]?([^\s'\x22]+)", 1),
        // sshpass -p PASSWORD.
        p(r"\bsshpass\s+-p\s*['\x22]?([^\s'\x22]+)", 1),
        // A secret-named key followed by its value as the next word: aws configure set
        // aws_secret_access_key VALUE, git config credential.token VALUE.
        p(r"(?i)\b(?:aws_secret_access_key|aws_session_token|secret_access_key|client_secret|api_key|access_token|auth_token)\s+['\x22]?([^\s'\x22]+)", 1),
        // Assignments and exports of secret-named variables: NAME=value, export NAME="value",
        // fish's set -x NAME value, and key: value / key=value inside arguments.
        p(&format!(r#"\b{SECRET_NAMES}=(?:'([^']*)'|"([^"]*)"|([^\s'";|&]+))"#), 0),
        p(&format!(r#"\bset\s+(?:-[a-zA-Z]+\s+)*{SECRET_NAMES}\s+(?:'([^']*)'|"([^"]*)"|([^\s'";|&]+))"#), 0),
        p(r#"(?i)\b[a-z0-9_]*(?:password|passwd|secret|token|api_?key)["']?\s*:\s*["']([^"']+)["']"#, 1),
    ]
});

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

/// Redacts `command` with the built-in patterns and `extra`.
pub fn redact_with(command: &str, extra: &Extra) -> String {
    let mut out = command.to_string();
    for pat in PATTERNS.iter() {
        if !pat.re.is_match(&out) {
            continue;
        }
        out = replace(&pat.re, pat.group, &out);
    }
    for re in &extra.patterns {
        out = re.replace_all(&out, REDACTED).into_owned();
    }
    out
}

/// Redacts `command` with the built-in patterns.
pub fn redact(command: &str) -> String {
    redact_with(command, &Extra::default())
}

/// Replaces the secret group of every match (for group 0 on an assignment, the value only).
fn replace(re: &Regex, group: usize, text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for caps in re.captures_iter(text) {
        // Assignment patterns have their value in one of groups 1-3; others name the group.
        let secret = if group == 0 && caps.len() > 1 { (1..caps.len()).find_map(|i| caps.get(i)) } else { caps.get(group) };
        let Some(m) = secret.or_else(|| caps.get(0)) else { continue };
        if m.as_str().is_empty() || m.as_str() == REDACTED {
            continue;
        }
        out.push_str(&text[last..m.start()]);
        out.push_str(REDACTED);
        last = m.end();
    }
    out.push_str(&text[last..]);
    out
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
        ("mysqldump --password 'x y' db", "mysqldump --password '<redacted> y' db"),
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
        ("printf -- '-----BEGIN RSA PRIVATE KEY-----\\nMIIE' | ssh-add -", "printf -- '<redacted>"),
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
