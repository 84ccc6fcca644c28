//! What a test does in a page: clicks, forms, keys, window sizes, screenshots, axe-core and
//! the console.

use super::page::*;
use super::*;

impl Browser {
    /// Waits for `css` to be shown, then clicks it (retrying while something covers it).
    pub async fn click(&self, css: &str) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let element = self.wait_for(css).await;
            match element.click().await {
                Ok(()) => return,
                Err(e) if tokio::time::Instant::now() >= deadline => {
                    self.fail(&format!("could not click {css}: {e}")).await
                }
                Err(_) => tokio::time::sleep(POLL).await,
            }
        }
    }

    /// Clicks the element of `testid`.
    pub async fn click_tid(&self, testid: &str) {
        self.click(&tid(testid)).await;
    }

    /// Sets the fields of `form[data-testid=form]` by input `name`: text inputs and textareas
    /// are cleared and typed into, checkboxes are clicked to `"true"`/`"false"`, selects are
    /// set by option value.
    pub async fn fill(&self, form: &str, fields: &[(&str, &str)]) {
        for (name, value) in fields {
            let css = format!("form{} [name=\"{name}\"]", tid(form));
            let deadline = tokio::time::Instant::now() + WAIT;
            // The page may re-render the field between finding it and typing (a stale
            // element): find it again.
            loop {
                let input = self.wait_for(&css).await;
                match set_field(&input, value).await {
                    Ok(()) => break,
                    Err(e) if tokio::time::Instant::now() >= deadline => {
                        self.fail(&format!("could not set {css} to {value:?}: {e}"))
                            .await
                    }
                    Err(_) => tokio::time::sleep(POLL).await,
                }
            }
        }
    }

    /// Submits `form[data-testid=form]` as a user does: clicks its submit button, or presses
    /// Enter in its first field when it has none.
    pub async fn submit(&self, form: &str) {
        let css = format!("form{}", tid(form));
        self.wait_for(&css).await;
        let button = format!(
            "{css} button[type=submit], {css} button:not([type]), {css} input[type=submit]"
        );
        if self.shown(&button).await {
            self.click(&button).await;
        } else {
            let field = self
                .wait_for(&format!("{css} input:not([type=checkbox]), {css} textarea"))
                .await;
            field.send_keys("\u{e007}").await.expect("Enter pressed");
        }
    }

    /// [`Self::fill`], then [`Self::submit`].
    pub async fn fill_and_submit(&self, form: &str, fields: &[(&str, &str)]) {
        self.fill(form, fields).await;
        self.submit(form).await;
    }

    /// Types `text` into whatever has the focus (key by key, as a keyboard does). `\n` is the
    /// Enter key.
    pub async fn type_keys(&self, text: &str) {
        let mut keys = KeyActions::new("keyboard".into());
        for c in text.chars() {
            let c = if c == '\n' { '\u{e007}' } else { c };
            keys = keys
                .then(KeyAction::Down { value: c })
                .then(KeyAction::Up { value: c });
        }
        self.client.perform_actions(keys).await.expect("keys typed");
    }

    /// Presses Tab.
    pub async fn tab(&self) {
        self.type_keys("\u{e004}").await;
    }

    /// Presses Enter.
    pub async fn enter(&self) {
        self.type_keys("\u{e007}").await;
    }

    /// What has the focus: `{tag, testid, name, type, text, form, within}` (`within` is the
    /// nearest `data-testid` around it, itself included).
    pub async fn focused(&self) -> Value {
        self.js(
            r#"const e = document.activeElement;
            if (!e || e === document.body) return {tag: "body"};
            const around = e.closest("[data-testid]");
            const form = e.closest("form");
            return {tag: e.tagName.toLowerCase(), testid: e.getAttribute("data-testid"),
                    name: e.getAttribute("name"), type: e.getAttribute("type"),
                    text: txt(e).slice(0, 80),
                    form: form ? form.getAttribute("data-testid") : null,
                    within: around ? around.getAttribute("data-testid") : null};"#,
            vec![],
        )
        .await
    }

    /// Presses Tab until `matches` says the focused element (as [`Self::focused`] describes it)
    /// is the one, at most `max` times; panics naming `what` and the path taken otherwise.
    pub async fn tab_to(&self, what: &str, max: usize, matches: impl Fn(&Value) -> bool) {
        let mut path = Vec::new();
        for _ in 0..max {
            self.tab().await;
            let now = self.focused().await;
            if matches(&now) {
                return;
            }
            path.push(now.to_string());
        }
        self.fail(&format!(
            "{what} not reached in {max} presses of Tab; the focus went through:\n{}",
            path.join("\n")
        ))
        .await
    }

    /// Resizes the window (the viewport is `width` wide).
    pub async fn set_width(&self, width: u32) {
        self.client
            .set_window_size(width, HEIGHT)
            .await
            .expect("window resized");
        self.wait_js(
            &format!("the viewport to be {width} wide"),
            "return window.innerWidth === arguments[0];",
            vec![json!(width)],
        )
        .await;
        self.settle().await;
    }

    /// Waits for two animation frames: whatever the last change laid out has been painted.
    pub async fn settle(&self) {
        let _ = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];\
                 requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
                vec![],
            )
            .await;
    }

    /// The directory of this test's artifacts: `target/browser-artifacts/<test>`.
    pub fn artifacts(&self) -> PathBuf {
        artifacts_dir().join(&self.test)
    }

    /// Saves a screenshot of the window as it is to `<artifacts>/<name>.png`.
    pub async fn save_screenshot(&self, name: &str) -> Option<PathBuf> {
        let png = self.client.screenshot().await.ok()?;
        let dir = self.artifacts();
        std::fs::create_dir_all(&dir).ok()?;
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).ok()?;
        Some(path)
    }

    /// Screenshots of `view` at each of [`WIDTHS`]: `<artifacts>/<view>-<width>.png`; back at
    /// the desktop width afterwards. Returns the paths.
    pub async fn screenshots(&self, view: &str) -> Vec<PathBuf> {
        let mut paths = Vec::new();
        for width in WIDTHS {
            self.set_width(width).await;
            let path = self
                .save_screenshot(&format!("{view}-{width}"))
                .await
                .unwrap_or_else(|| panic!("[{}] screenshot of {view} not saved", self.test));
            paths.push(path);
        }
        self.set_width(WIDTHS[0]).await;
        paths
    }

    /// Runs axe-core on the page; returns the serious and critical violations, each as
    /// `{id, impact, help, nodes: ["selector: summary", …]}`.
    pub async fn axe(&self) -> Vec<Value> {
        let loaded = self
            .client
            .execute(&format!("{AXE}\n;return typeof window.axe;"), vec![])
            .await
            .expect("axe-core injected");
        assert_eq!(loaded, json!("object"), "axe-core did not load");
        let result = self
            .client
            .execute_async(
                r#"const done = arguments[arguments.length - 1];
                axe.run(document, {resultTypes: ["violations"]}).then((r) => done(
                    r.violations
                        .filter((v) => v.impact === "serious" || v.impact === "critical")
                        .map((v) => ({id: v.id, impact: v.impact, help: v.help,
                            nodes: v.nodes.map((n) => n.target.join(" ") + ": " +
                                (n.failureSummary || "").replace(/\s+/g, " "))}))
                )).catch((e) => done({error: String(e)}));"#,
                vec![],
            )
            .await
            .expect("axe-core ran");
        match result {
            Value::Array(violations) => violations,
            other => panic!("[{}] axe-core failed: {other}", self.test),
        }
    }

    /// Asserts that axe-core finds no serious or critical violation on the page (`view` names
    /// it in the message).
    pub async fn assert_accessible(&self, view: &str) {
        let violations = self.axe().await;
        if !violations.is_empty() {
            let shown: Vec<String> = violations
                .iter()
                .map(|v| serde_json::to_string_pretty(v).unwrap_or_default())
                .collect();
            self.save_screenshot(&format!("axe-{view}")).await;
            panic!(
                "[{}] axe-core: {} serious or critical violation(s) on the {view} view:\n{}",
                self.test,
                violations.len(),
                shown.join("\n")
            );
        }
    }

    /// Chooses `files` in the `<input type=file>` matching `css` (shown or not), as the file
    /// picker does: WebDriver types their paths into it, one a line.
    pub async fn choose_files(&self, css: &str, files: &[&Path]) {
        let input = self.wait_present(css).await;
        let paths: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
        if let Err(e) = input.send_keys(&paths.join("\n")).await {
            self.fail(&format!("could not choose {paths:?} in {css}: {e}"))
                .await
        }
    }

    /// Lets the page download files, saved into `dir` (headless Chromium refuses downloads
    /// otherwise): the DevTools command `Browser.setDownloadBehavior`, through chromedriver.
    pub async fn allow_downloads(&self, dir: &Path) {
        let url = format!(
            "{}/session/{}/goog/cdp/execute",
            driver().url(),
            self.session
        );
        let answer = reqwest::Client::new()
            .post(url)
            .json(&json!({"cmd": "Browser.setDownloadBehavior",
                          "params": {"behavior": "allow", "downloadPath": dir.display().to_string()}}))
            .send()
            .await
            .expect("the DevTools command sent");
        let status = answer.status();
        let body = answer.text().await.unwrap_or_default();
        assert!(
            status.is_success(),
            "[{}] downloads not allowed: {status} {body}",
            self.test
        );
    }

    /// The browser's console log since the last call (chromedriver's `goog:loggingPrefs`).
    pub async fn console(&self) -> Vec<LogEntry> {
        let url = format!("{}/session/{}/se/log", driver().url(), self.session);
        let answer: Value = reqwest::Client::new()
            .post(url)
            .json(&json!({"type": "browser"}))
            .send()
            .await
            .expect("log asked for")
            .json()
            .await
            .expect("log read");
        answer["value"]
            .as_array()
            .map(|entries| {
                entries
                    .iter()
                    .map(|e| LogEntry {
                        level: e["level"].as_str().unwrap_or("").to_owned(),
                        source: e["source"].as_str().unwrap_or("").to_owned(),
                        message: e["message"].as_str().unwrap_or("").to_owned(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The console's errors since the last call: `SEVERE` entries (uncaught exceptions,
    /// `console.error`, failed loads) and every Content-Security-Policy report.
    pub async fn console_errors(&self) -> Vec<String> {
        self.console()
            .await
            .into_iter()
            .filter(|e| e.level == "SEVERE" || e.message.contains("Content Security Policy"))
            .map(|e| format!("{} {}: {}", e.level, e.source, e.message))
            .collect()
    }
}

/// Sets one form field as a user does: a text input or textarea is cleared and typed into, a
/// checkbox clicked to `"true"`/`"false"`, a select set by option value.
async fn set_field(input: &Element, value: &str) -> Result<(), fantoccini::error::CmdError> {
    let tag = input.tag_name().await?.to_ascii_lowercase();
    let kind = input
        .attr("type")
        .await?
        .unwrap_or_default()
        .to_ascii_lowercase();
    if tag == "select" {
        input.select_by_value(value).await
    } else if kind == "checkbox" || kind == "radio" {
        if input.is_selected().await? != (value == "true") {
            input.click().await?;
        }
        Ok(())
    } else {
        input.clear().await?;
        input.send_keys(value).await
    }
}

/// `target/browser-artifacts` of the workspace (or of `CARGO_TARGET_DIR`).
pub fn artifacts_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"))
        .join("browser-artifacts")
}
