//! Signing and encoding helpers, for webhooks that verify what they receive:
//! `hmac_sha256(key, message)` (hex), `hmac_sha256_base64(key, message)`,
//! `sha256(text)` (hex), `base64_encode(text)` and `base64_decode(text)`. With `body`
//! in a header template, a request can sign its own rendered body:
//! `X-Hub-Signature-256: sha256={{ hmac_sha256(env.WA_SECRET, body) }}`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use minijinja::{Environment, Error, ErrorKind};
use sha2::{Digest, Sha256};

pub(super) const NAMES: [&str; 5] = [
    "hmac_sha256",
    "hmac_sha256_base64",
    "sha256",
    "base64_encode",
    "base64_decode",
];

pub(super) fn register(env: &mut Environment<'static>) {
    env.add_function("hmac_sha256", |key: &str, message: &str| {
        hex::encode(hmac(key, message))
    });
    env.add_function("hmac_sha256_base64", |key: &str, message: &str| {
        STANDARD.encode(hmac(key, message))
    });
    env.add_function("sha256", |text: &str| hex::encode(Sha256::digest(text)));
    env.add_function("base64_encode", |text: &str| STANDARD.encode(text));
    env.add_function("base64_decode", base64_decode);
}

fn hmac(key: &str, message: &str) -> Vec<u8> {
    // HMAC takes a key of any length: `new_from_slice` cannot fail for it.
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(message.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

fn base64_decode(text: &str) -> Result<String, Error> {
    let bytes = STANDARD
        .decode(text)
        .map_err(|e| Error::new(ErrorKind::InvalidOperation, format!("base64_decode: {e}")))?;
    String::from_utf8(bytes).map_err(|_| {
        Error::new(
            ErrorKind::InvalidOperation,
            "base64_decode: the decoded bytes are not UTF-8 text",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(source: &str) -> String {
        let mut env = Environment::new();
        register(&mut env);
        env.render_str(source, ()).unwrap()
    }

    #[test]
    fn known_answers() {
        // RFC 4231 test case 2.
        assert_eq!(
            render(r#"{{ hmac_sha256("Jefe", "what do ya want for nothing?") }}"#),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            render(r#"{{ sha256("abc") }}"#),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(render(r#"{{ base64_encode("planrun") }}"#), "cGxhbnJ1bg==");
        assert_eq!(render(r#"{{ base64_decode("cGxhbnJ1bg==") }}"#), "planrun");
        assert_eq!(
            render(r#"{{ hmac_sha256_base64("Jefe", "what do ya want for nothing?") }}"#),
            "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM="
        );
    }
}
