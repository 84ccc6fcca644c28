//! A browser session: opening, scripts, waits and reads.

use super::driver::*;
use super::*;

// ---------------------------------------------------------------------------------------------
// Browsers

/// `[data-testid="name"]`.
pub fn tid(name: &str) -> String {
    format!("[data-testid=\"{name}\"]")
}

/// One line of the browser's console log.
#[derive(Debug, Clone)]
pub struct LogEntry {
    pub level: String,
    pub source: String,
    pub message: String,
}

/// A fresh Chromium: one WebDriver session with its own profile.
pub struct Browser {
    pub(super) client: Client,
    pub(super) test: String,
    pub(super) session: String,
    pub(super) closed: bool,
    /// Numbers the screenshots of failed waits.
    pub(super) failures: std::sync::atomic::AtomicUsize,
    pub(super) _profile: TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.closed {
            // Ends the session, so its Chromium does not outlive a failed test (the client's
            // own clean-up needs the test's runtime, which may be gone).
            let _ = raw_http(
                driver().port,
                "DELETE",
                &format!("/session/{}", self.session),
                "",
            );
        }
    }
}

/// Browser-side helpers shared by the waits: `q(css)` (all matches), `vis(el)`, `txt(el)`.
const PRELUDE: &str = r#"
const q = (s) => Array.from(document.querySelectorAll(s));
const vis = (e) => !!(e && (e.offsetWidth || e.offsetHeight || e.getClientRects().length) &&
    (!e.checkVisibility || e.checkVisibility({visibilityProperty: true})));
const txt = (e) => (e.innerText || e.textContent || "").trim();
"#;

impl Browser {
    /// A new session (a fresh Chromium); `test` names its artifacts' directory.
    pub async fn new(test: &str) -> Self {
        let driver = driver();
        let profile = tempfile::tempdir().expect("temp dir for the profile");
        let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|s| (*s).to_owned()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
            "goog:loggingPrefs": {"browser": "ALL"},
            "timeouts": {"script": 60_000, "pageLoad": 30_000, "implicit": 0},
        });
        let Value::Object(caps) = caps else {
            unreachable!("an object")
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&driver.url())
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "chromedriver could not start Chromium ({e}); {INSTALL}. chromedriver's log:\n{}",
                    tail(&driver.log(), 3000)
                )
            });
        let session = client
            .session_id()
            .await
            .expect("session id")
            .expect("a session");
        Self {
            client,
            test: test.to_owned(),
            session,
            closed: false,
            failures: std::sync::atomic::AtomicUsize::new(0),
            _profile: profile,
        }
    }

    /// The WebDriver client, for what the helpers do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Ends the session (its Chromium exits).
    pub async fn close(mut self) {
        self.closed = true;
        let _ = self.client.clone().close().await;
    }

    /// Navigates to `url`.
    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("navigation");
    }

    /// The page's title.
    pub async fn title(&self) -> String {
        self.client.title().await.expect("title")
    }

    /// Runs `script` (a function body: `arguments`, `return`) with [`PRELUDE`]'s helpers.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(&format!("{PRELUDE}\n{script}"), args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Polls `script` (as [`Self::js`]) until it returns something other than `null`, `false`,
    /// `undefined`, `""` or `0`, for up to `timeout`; returns that. On timeout, saves a
    /// screenshot and panics with `what`, the last value and the page's text.
    pub async fn wait_js_for(
        &self,
        what: &str,
        timeout: Duration,
        script: &str,
        args: Vec<Value>,
    ) -> Value {
        let deadline = tokio::time::Instant::now() + timeout;
        let full = format!("{PRELUDE}\n{script}");
        let mut last;
        loop {
            match self.client.execute(&full, args.clone()).await {
                Ok(v) if truthy(&v) => return v,
                Ok(v) => last = v,
                // A script can fail while the page navigates or re-renders: try again.
                Err(e) => last = Value::String(format!("script error: {e}")),
            }
            if tokio::time::Instant::now() >= deadline {
                self.fail(&format!(
                    "timed out after {timeout:?} waiting for {what} (last: {last})"
                ))
                .await;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// [`Self::wait_js_for`] with [`WAIT`].
    pub async fn wait_js(&self, what: &str, script: &str, args: Vec<Value>) -> Value {
        self.wait_js_for(what, WAIT, script, args).await
    }

    /// Saves a screenshot of the page, then panics with `message` and what the page shows.
    pub async fn fail(&self, message: &str) -> ! {
        let n = self
            .failures
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let shot = self.save_screenshot(&format!("failed-{n}")).await;
        let page = self
            .client
            .execute(
                "return location.href + '\\n' + (document.body ? document.body.innerText : '')",
                vec![],
            )
            .await
            .unwrap_or_default();
        panic!(
            "[{}] {message}\nscreenshot: {}\nthe page:\n{}",
            self.test,
            shot.map(|p| p.display().to_string())
                .unwrap_or_else(|| "(none)".into()),
            tail(page.as_str().unwrap_or(""), 2000)
        );
    }

    /// Waits until an element matching `css` is displayed, and returns it.
    pub async fn wait_for(&self, css: &str) -> Element {
        self.wait_for_within(css, WAIT).await
    }

    /// [`Self::wait_for`] with a timeout of the test's choosing.
    pub async fn wait_for_within(&self, css: &str, timeout: Duration) -> Element {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            self.wait_js_for(
                &format!("{css} to be shown"),
                left,
                "return q(arguments[0]).some(vis);",
                vec![json!(css)],
            )
            .await;
            // The first displayed match, by position among all matches.
            let all = self
                .client
                .find_all(Locator::Css(css))
                .await
                .expect("find_all");
            for element in all {
                if element.is_displayed().await.unwrap_or(false) {
                    return element;
                }
            }
            // Replaced by a redraw between the two looks (a row whose data came in): look
            // again, as a user would, until the time is up.
            if tokio::time::Instant::now() >= deadline {
                self.fail(&format!("{css} was shown, then gone")).await
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until a displayed element matching `css` shows a text containing `text`, and
    /// returns the first such element.
    pub async fn wait_for_text(&self, css: &str, text: &str) -> Element {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let index = self
                .wait_js_for(
                    &format!("{css} showing {text:?}"),
                    left,
                    "const i = q(arguments[0]).findIndex((e) => vis(e) && txt(e).includes(arguments[1]));\
                     return i < 0 ? null : String(i);",
                    vec![json!(css), json!(text)],
                )
                .await;
            let index: usize = index
                .as_str()
                .and_then(|i| i.parse().ok())
                .expect("an index");
            let all = self
                .client
                .find_all(Locator::Css(css))
                .await
                .expect("find_all");
            if let Some(element) = all.into_iter().nth(index) {
                return element;
            }
            // Redrawn between the two looks: look again until the time is up.
            if tokio::time::Instant::now() >= deadline {
                self.fail(&format!("{css} showing {text:?} went away"))
                    .await
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Moves the mouse over the element (for controls shown on hover).
    pub async fn hover(&self, element: &Element) {
        let pointer = fantoccini::actions::MouseActions::new("mouse".into()).then(
            fantoccini::actions::PointerAction::MoveToElement {
                element: element.clone(),
                duration: None,
                x: 0.0,
                y: 0.0,
            },
        );
        self.client
            .perform_actions(pointer)
            .await
            .expect("mouse moved");
    }

    /// Waits until an element matching `css` exists (shown or not), and returns it.
    pub async fn wait_present(&self, css: &str) -> Element {
        self.wait_js(
            &format!("{css} to exist"),
            "return q(arguments[0]).length > 0;",
            vec![json!(css)],
        )
        .await;
        self.client
            .find(Locator::Css(css))
            .await
            .expect("the element found")
    }

    /// Waits until no displayed element matches `css`.
    pub async fn wait_gone(&self, css: &str) {
        self.wait_js(
            &format!("{css} to be gone"),
            "return !q(arguments[0]).some(vis);",
            vec![json!(css)],
        )
        .await;
    }

    /// Waits until an element matching `css` shows a text containing `text`; returns its whole
    /// text.
    pub async fn wait_text(&self, css: &str, text: &str) -> String {
        self.wait_text_within(css, text, WAIT).await
    }

    /// [`Self::wait_text`] with a timeout of the test's choosing.
    pub async fn wait_text_within(&self, css: &str, text: &str, timeout: Duration) -> String {
        let found = self
            .wait_js_for(
                &format!("{css} to show {text:?}"),
                timeout,
                "const m = q(arguments[0]).filter(vis).map(txt).find((t) => t.includes(arguments[1]));\
                 return m === undefined ? null : m;",
                vec![json!(css), json!(text)],
            )
            .await;
        found.as_str().unwrap_or_default().to_owned()
    }

    /// Waits until exactly `n` elements match `css` (shown or not).
    pub async fn wait_count(&self, css: &str, n: usize) {
        self.wait_js(
            &format!("{n} of {css}"),
            "return q(arguments[0]).length === arguments[1];",
            vec![json!(css), json!(n)],
        )
        .await;
    }

    /// Waits until an element matching `css` has `attr` equal to `value`.
    pub async fn wait_attr(&self, css: &str, attr: &str, value: &str) {
        self.wait_js(
            &format!("{css} with {attr}={value:?}"),
            "return q(arguments[0]).some((e) => e.getAttribute(arguments[1]) === arguments[2]);",
            vec![json!(css), json!(attr), json!(value)],
        )
        .await;
    }

    /// The texts of every displayed element matching `css`, in document order.
    pub async fn texts(&self, css: &str) -> Vec<String> {
        let v = self
            .js(
                "return q(arguments[0]).filter(vis).map(txt);",
                vec![json!(css)],
            )
            .await;
        strings(&v)
    }

    /// The value of `attr` on every element matching `css` (shown or not), in document order
    /// (`""` where it is absent).
    pub async fn attrs(&self, css: &str, attr: &str) -> Vec<String> {
        let v = self
            .js(
                "return q(arguments[0]).map((e) => e.getAttribute(arguments[1]) || '');",
                vec![json!(css), json!(attr)],
            )
            .await;
        strings(&v)
    }

    /// How many elements match `css` (shown or not).
    pub async fn count(&self, css: &str) -> usize {
        let v = self
            .js("return q(arguments[0]).length;", vec![json!(css)])
            .await;
        usize::try_from(v.as_u64().unwrap_or(0)).unwrap_or(usize::MAX)
    }

    /// Whether a displayed element matches `css`.
    pub async fn shown(&self, css: &str) -> bool {
        self.js("return q(arguments[0]).some(vis);", vec![json!(css)])
            .await
            .as_bool()
            .unwrap_or(false)
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|s| s.as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The last `max` bytes of `text` (on a character boundary).
fn tail(text: &str, max: usize) -> &str {
    let mut start = text.len().saturating_sub(max);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}
