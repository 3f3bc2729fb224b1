//! Request helpers shared by the hosts: cookies, form bodies, JSON bodies.

use std::collections::HashMap;

use axum::http::HeaderMap;
use axum::http::header;
use bytes::Bytes;
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// The value of cookie `name`, if the request carries it.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// A session cookie as Entra sets them: Secure, HttpOnly, SameSite=None (the
/// flows cross sites with form posts, which Lax cookies would not survive).
pub fn set_cookie(name: &str, value: &str) -> String {
    format!("{name}={value}; Path=/; Secure; HttpOnly; SameSite=None")
}

pub fn clear_cookie(name: &str) -> String {
    format!("{name}=; Path=/; Secure; HttpOnly; SameSite=None; Max-Age=0")
}

/// Parses an `application/x-www-form-urlencoded` body. Never fails: invalid
/// UTF-8 is replaced, like browsers' own servers tolerate; missing fields are
/// the handlers' business.
pub fn form(body: &Bytes) -> HashMap<String, String> {
    form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// Parses a JSON body into `T`, answering 400 with serde's reason when it does not fit.
pub fn json<T: DeserializeOwned>(body: &Bytes) -> Result<T, AppError> {
    if body.is_empty() {
        return Err(AppError::bad("the request body is empty; JSON expected"));
    }
    serde_json::from_slice(body).map_err(|e| AppError::bad(format!("malformed JSON: {e}")))
}

/// A required form field, trimmed; 400 naming the field when missing.
pub fn field<'a>(f: &'a HashMap<String, String>, name: &str) -> Result<&'a str, AppError> {
    f.get(name)
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| AppError::bad(format!("form field {name:?} is missing")))
}
