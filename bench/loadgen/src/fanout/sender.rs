//! A fan-out sender: its share of the paced messages (number `j` goes out at
//! `start + j / rate`), each body `"<µs since the epoch> <j>"`, over HTTP or its own socket,
//! one in flight at a time.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use tokio::time::{sleep_until, timeout};

use crate::api::Api;
use crate::stats::micros;
use crate::ws::{self, Socket};
use crate::{count, transport_error};

/// How long one send may wait for its answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// What one sender needs.
pub(super) struct Sender {
    pub api: Api,
    pub url: usize,
    pub token: String,
    pub group: String,
    /// Its own socket when sending over the socket.
    pub socket: Option<Socket>,
    pub tag: String,
    /// Its numbers: `first`, `first + step`, … below `total`.
    pub first: usize,
    pub step: usize,
    pub total: usize,
    pub rate: f64,
    pub epoch: Instant,
    pub start: Instant,
}

/// What one sender did.
#[derive(Default)]
pub(super) struct Sent {
    /// The numbers answered 201 (or acked).
    pub ok: Vec<usize>,
    pub ack_latencies: Vec<u32>,
    pub errors: BTreeMap<String, u64>,
    /// How late the latest send went out, in microseconds.
    pub max_lag: u32,
}

/// Sends this sender's share.
pub(super) async fn send(mut s: Sender) -> Sent {
    let mut out = Sent::default();
    let path = format!("/api/v1/groups/{}/messages", s.group);
    let url = s.api.endpoint(s.url, &path);
    let auth = format!("Bearer {}", s.token);
    let mut socket = s.socket.take();
    for number in (s.first..s.total).step_by(s.step.max(1)) {
        let due = s.start + Duration::from_secs_f64(number as f64 / s.rate);
        if let Some(socket) = socket.as_mut() {
            // Keep reading the group's deliveries while waiting, so none queue up.
            if idle_until(socket, due).await.is_err() {
                count(&mut out.errors, "socket_lost");
                return out;
            }
        } else {
            sleep_until(due.into()).await;
        }
        let sent = Instant::now();
        out.max_lag = out.max_lag.max(micros(sent.saturating_duration_since(due)));
        let stamp = micros(sent - s.epoch);
        let outcome = match socket.as_mut() {
            Some(socket) => {
                let frame = ws::send_frame(
                    number as u64,
                    &s.group,
                    format_args!("{stamp} {number}"),
                    format_args!("{}-{number}", s.tag),
                );
                if ws::send_text(socket, frame).await.is_err() {
                    count(&mut out.errors, "socket_lost");
                    return out;
                }
                match timeout(ANSWER_TIMEOUT, crate::sends::answer(socket, number as u64)).await {
                    Err(_) => Err("timeout".to_owned()),
                    Ok(Err(_)) => {
                        count(&mut out.errors, "socket_lost");
                        return out;
                    }
                    Ok(Ok(outcome)) => outcome,
                }
            }
            None => {
                let body = format!(
                    "{{\"body\":\"{stamp} {number}\",\"client_id\":\"{}-{number}\"}}",
                    s.tag
                );
                let request = s
                    .api
                    .http()
                    .post(&url)
                    .header(AUTHORIZATION, &auth)
                    .header(CONTENT_TYPE, "application/json")
                    .body(body)
                    .send();
                match timeout(ANSWER_TIMEOUT, request).await {
                    Err(_) => Err("timeout".to_owned()),
                    Ok(Err(e)) => Err(transport_error(&e).to_owned()),
                    Ok(Ok(res)) => {
                        let status = res.status();
                        match res.bytes().await {
                            Ok(_) if status == StatusCode::CREATED => Ok(()),
                            Ok(_) => Err(format!("http_{}", status.as_u16())),
                            Err(e) => Err(transport_error(&e).to_owned()),
                        }
                    }
                }
            }
        };
        match outcome {
            Ok(()) => {
                out.ok.push(number);
                out.ack_latencies.push(micros(sent.elapsed()));
            }
            Err(kind) => count(&mut out.errors, &kind),
        }
    }
    if let Some(socket) = socket {
        ws::close(socket).await;
    }
    out
}

/// Reads (and drops) frames until `due`.
async fn idle_until(socket: &mut Socket, due: Instant) -> anyhow::Result<()> {
    let due = tokio::time::Instant::from_std(due);
    loop {
        tokio::select! {
            biased;
            _ = sleep_until(due) => return Ok(()),
            text = ws::next_text(socket) => { text?; }
        }
    }
}
