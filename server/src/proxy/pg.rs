//! The little of the Postgres wire protocol the proxy needs before it hands a connection to
//! the upstream: the first message (SSL/GSS requests, cancel requests, the startup message and
//! its parameters) and the `ErrorResponse` it answers refused clients with.

/// Request codes in place of a protocol version.
pub const SSL_REQUEST: u32 = 80_877_103;
pub const GSSENC_REQUEST: u32 = 80_877_104;
pub const CANCEL_REQUEST: u32 = 80_877_102;
pub const PROTOCOL_3: u32 = 196_608;
/// The largest first message accepted (startup messages are a few hundred bytes).
pub const MAX_STARTUP: usize = 10_000;

/// A client's first message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FirstMessage {
    SslRequest,
    GssEncRequest,
    Cancel,
    Startup { params: Vec<(String, String)> },
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StartupError {
    #[error("startup message length {0} is out of range")]
    BadLength(usize),
    #[error("unsupported protocol version {0:#x}")]
    BadVersion(u32),
    #[error("startup parameters are malformed")]
    BadParams,
}

/// Parses the first message at the start of `buf`: `Ok(None)` when more bytes are needed,
/// else the message and its length.
pub fn parse_first(buf: &[u8]) -> Result<Option<(FirstMessage, usize)>, StartupError> {
    if buf.len() < 8 {
        return Ok(None);
    }
    let len = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
    if !(8..=MAX_STARTUP).contains(&len) {
        return Err(StartupError::BadLength(len));
    }
    if buf.len() < len {
        return Ok(None);
    }
    let code = u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]);
    let message = match code {
        SSL_REQUEST => FirstMessage::SslRequest,
        GSSENC_REQUEST => FirstMessage::GssEncRequest,
        CANCEL_REQUEST => FirstMessage::Cancel,
        PROTOCOL_3 => {
            let mut params = Vec::new();
            let mut fields = buf[8..len].split(|b| *b == 0);
            loop {
                let key = fields.next().ok_or(StartupError::BadParams)?;
                if key.is_empty() {
                    break;
                }
                let value = fields.next().ok_or(StartupError::BadParams)?;
                let key = String::from_utf8(key.to_vec()).map_err(|_| StartupError::BadParams)?;
                let value =
                    String::from_utf8(value.to_vec()).map_err(|_| StartupError::BadParams)?;
                params.push((key, value));
            }
            FirstMessage::Startup { params }
        }
        other => return Err(StartupError::BadVersion(other)),
    };
    Ok(Some((message, len)))
}

/// The endpoint named by `options=endpoint=<id>` (also `--endpoint=<id>` and `endpoint%3D`),
/// the way Neon clients without SNI say which project they want.
pub fn endpoint_option(params: &[(String, String)]) -> Option<String> {
    let options = params.iter().find(|(k, _)| k == "options")?.1.as_str();
    options
        .split_whitespace()
        .filter_map(|o| {
            let o = o.trim_start_matches("--");
            o.strip_prefix("endpoint=")
                .or_else(|| o.strip_prefix("endpoint%3D"))
                .or_else(|| o.strip_prefix("project="))
        })
        .map(str::to_owned)
        .next()
}

/// The parameters without the endpoint option (Postgres itself would refuse it as an unknown
/// server option); an `options` left empty is dropped.
pub fn without_endpoint_option(params: &[(String, String)]) -> Vec<(String, String)> {
    params
        .iter()
        .filter_map(|(k, v)| {
            if k != "options" {
                return Some((k.clone(), v.clone()));
            }
            let kept: Vec<&str> = v
                .split_whitespace()
                .filter(|o| {
                    let o = o.trim_start_matches("--");
                    !(o.starts_with("endpoint=")
                        || o.starts_with("endpoint%3D")
                        || o.starts_with("project="))
                })
                .collect();
            (!kept.is_empty()).then(|| (k.clone(), kept.join(" ")))
        })
        .collect()
}

/// A fatal `ErrorResponse` with `sqlstate` and `message`.
pub fn error_response(sqlstate: &str, message: &str) -> Vec<u8> {
    let mut body = Vec::new();
    for (field, value) in [
        (b'S', "FATAL"),
        (b'V', "FATAL"),
        (b'C', sqlstate),
        (b'M', message),
    ] {
        body.push(field);
        body.extend_from_slice(value.replace('\0', " ").as_bytes());
        body.push(0);
    }
    body.push(0);
    let mut out = vec![b'E'];
    out.extend_from_slice(&((body.len() + 4) as u32).to_be_bytes());
    out.extend_from_slice(&body);
    out
}

/// A startup message from owned parameters (what the proxy forwards upstream).
pub fn startup_message_owned(params: &[(String, String)]) -> Vec<u8> {
    let borrowed: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    startup_message(&borrowed)
}

/// A startup message (the tests' clients use it too).
pub fn startup_message(params: &[(&str, &str)]) -> Vec<u8> {
    let mut body = PROTOCOL_3.to_be_bytes().to_vec();
    for (k, v) in params {
        body.extend_from_slice(k.as_bytes());
        body.push(0);
        body.extend_from_slice(v.as_bytes());
        body.push(0);
    }
    body.push(0);
    let mut out = ((body.len() + 4) as u32).to_be_bytes().to_vec();
    out.extend_from_slice(&body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_startup_parameters_and_the_endpoint_option() {
        let msg = startup_message(&[
            ("user", "app"),
            ("database", "neondb"),
            ("options", "endpoint=ep-bold-firefly-809439"),
        ]);
        let (first, len) = parse_first(&msg).unwrap().unwrap();
        assert_eq!(len, msg.len());
        let FirstMessage::Startup { params } = first else {
            panic!("not a startup message")
        };
        assert_eq!(
            endpoint_option(&params).as_deref(),
            Some("ep-bold-firefly-809439")
        );
        assert_eq!(parse_first(&msg[..msg.len() - 1]).unwrap(), None);
        let forwarded = without_endpoint_option(&params);
        assert_eq!(
            forwarded.len(),
            2,
            "the options parameter held only the endpoint"
        );
        let mixed = vec![(
            "options".to_string(),
            "-c search_path=app endpoint=ep-x".to_string(),
        )];
        assert_eq!(
            without_endpoint_option(&mixed),
            vec![("options".to_string(), "-c search_path=app".to_string())]
        );
    }

    #[test]
    fn knows_the_request_codes_and_refuses_nonsense() {
        let mut ssl = 8u32.to_be_bytes().to_vec();
        ssl.extend_from_slice(&SSL_REQUEST.to_be_bytes());
        assert_eq!(
            parse_first(&ssl).unwrap(),
            Some((FirstMessage::SslRequest, 8))
        );
        let mut bad = 8u32.to_be_bytes().to_vec();
        bad.extend_from_slice(&1234u32.to_be_bytes());
        assert_eq!(parse_first(&bad), Err(StartupError::BadVersion(1234)));
        assert_eq!(
            parse_first(&[0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0]),
            Err(StartupError::BadLength(0xFFFF_FFFF))
        );
    }

    #[test]
    fn error_responses_are_well_formed() {
        let e = error_response("28000", "public access is blocked");
        assert_eq!(e[0], b'E');
        assert_eq!(
            u32::from_be_bytes([e[1], e[2], e[3], e[4]]) as usize,
            e.len() - 1
        );
        assert!(e.windows(5).any(|w| w == b"28000"));
    }
}
