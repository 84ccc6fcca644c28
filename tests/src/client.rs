//! A thin HTTP client for tests: every answer is read whole, with its status, headers and JSON.

use reqwest::Method;
use serde_json::{Value, json};

use crate::TestServer;

/// What a request carries.
pub enum Body {
    None,
    Json(Value),
    /// Raw bytes with a content type of our choosing (or none).
    Raw {
        content_type: Option<&'static str>,
        bytes: Vec<u8>,
    },
}

/// An answer.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    /// The body as JSON, or `Value::Null` when it is empty or not JSON.
    pub json: Value,
}

impl Resp {
    /// Reads a whole answer.
    pub async fn read(res: reqwest::Response) -> Self {
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.expect("body read");
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            text,
            json,
        }
    }

    /// Asserts the status, printing the body when it differs.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Self {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        self
    }

    /// Asserts an error answer: the status, our body shape, the code, and a JSON content type.
    #[track_caller]
    pub fn expect_error(&self, status: u16, code: &str) -> &Self {
        self.expect(status);
        let ct = self
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert!(ct.starts_with("application/json"), "content type {ct:?}");
        let err = self
            .json
            .get("error")
            .unwrap_or_else(|| panic!("no error object: {}", self.text));
        assert_eq!(err["code"], code, "body: {}", self.text);
        assert!(
            err["message"].as_str().is_some_and(|m| !m.is_empty()),
            "message missing: {}",
            self.text
        );
        let keys: Vec<_> = err.as_object().unwrap().keys().cloned().collect();
        assert!(
            keys.iter()
                .all(|k| ["code", "message", "field"].contains(&k.as_str())),
            "unexpected keys {keys:?}"
        );
        assert_eq!(
            self.json.as_object().unwrap().len(),
            1,
            "extra top-level keys: {}",
            self.text
        );
        self
    }

    /// The `field` of an error answer.
    pub fn field(&self) -> Option<&str> {
        self.json["error"]["field"].as_str()
    }
}

/// A logged-in user.
#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: String,
    pub username: String,
    pub access: String,
    pub refresh: String,
}

impl TestServer {
    /// Sends a request to `path` (full path, e.g. `/api/v1/users/me`).
    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Body) -> Resp {
        let mut req = self.http.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req = match body {
            Body::None => req,
            Body::Json(v) => req.json(&v),
            Body::Raw {
                content_type,
                bytes,
            } => {
                let req = match content_type {
                    Some(ct) => req.header("content-type", ct),
                    None => req,
                };
                req.body(bytes)
            }
        };
        Resp::read(req.send().await.expect("request sent")).await
    }

    /// `GET /api/v1{path}`.
    pub async fn get(&self, path: &str, token: Option<&str>) -> Resp {
        self.call(Method::GET, &format!("/api/v1{path}"), token, Body::None)
            .await
    }

    /// `POST /api/v1{path}` with a JSON body.
    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.call(
            Method::POST,
            &format!("/api/v1{path}"),
            token,
            Body::Json(body),
        )
        .await
    }

    /// `PATCH /api/v1{path}` with a JSON body.
    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.call(
            Method::PATCH,
            &format!("/api/v1{path}"),
            token,
            Body::Json(body),
        )
        .await
    }

    /// `PUT /api/v1{path}` without a body.
    pub async fn put(&self, path: &str, token: Option<&str>) -> Resp {
        self.call(Method::PUT, &format!("/api/v1{path}"), token, Body::None)
            .await
    }

    /// `DELETE /api/v1{path}`.
    pub async fn delete(&self, path: &str, token: Option<&str>) -> Resp {
        self.call(Method::DELETE, &format!("/api/v1{path}"), token, Body::None)
            .await
    }

    /// `POST` raw bytes to a full path, declared as JSON whatever they are.
    pub async fn post_raw_json(&self, path: &str, bytes: impl Into<Vec<u8>>) -> Resp {
        let body = Body::Raw {
            content_type: Some("application/json"),
            bytes: bytes.into(),
        };
        self.call(Method::POST, path, None, body).await
    }

    /// A login attempt with a wrong password; asserts the 401.
    pub async fn fail_login(&self, login: &str) {
        self.post(
            "/auth/login",
            None,
            json!({"login": login, "password": "wrong password"}),
        )
        .await
        .expect_error(401, "invalid_credentials");
    }

    /// Registers `username` (password `correct horse battery`) and returns its session.
    pub async fn register(&self, username: &str) -> Session {
        self.register_with(json!({"username": username, "password": "correct horse battery"}))
            .await
    }

    /// Registers with a full body and returns the session.
    pub async fn register_with(&self, body: Value) -> Session {
        let r = self.post("/auth/register", None, body).await;
        r.expect(201);
        session_of(&r.json)
    }

    /// Logs in and returns the session.
    pub async fn login(&self, login: &str, password: &str) -> Session {
        let r = self
            .post(
                "/auth/login",
                None,
                json!({"login": login, "password": password}),
            )
            .await;
        r.expect(200);
        session_of(&r.json)
    }

    /// Registers `username` and makes it a server admin.
    pub async fn admin(&self, username: &str) -> Session {
        let s = self.register(username).await;
        self.make_admin(username).await;
        s
    }
}

/// The session in a `{user, tokens}` answer.
pub fn session_of(body: &Value) -> Session {
    Session {
        user_id: body["user"]["id"].as_str().expect("user.id").to_owned(),
        username: body["user"]["username"]
            .as_str()
            .expect("user.username")
            .to_owned(),
        access: body["tokens"]["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned(),
        refresh: body["tokens"]["refresh_token"]
            .as_str()
            .expect("refresh_token")
            .to_owned(),
    }
}
