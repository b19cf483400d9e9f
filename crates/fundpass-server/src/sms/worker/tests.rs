use std::collections::VecDeque;
use std::sync::Mutex;

use async_trait::async_trait;
use fundpass_core::crypto::CipherSuite;
use fundpass_core::member::MemberId;
use fundpass_core::ports::{IncomingReceipt, SecretGenerator};
use fundpass_core::testing::{CountingRng, FixedClock};
use time::OffsetDateTime;
use time::macros::datetime;

use super::*;

mod outcomes;

const PHONE: &str = "13812345678";
const TEXT: &str = "【公积金】验证码 482913，5分钟内有效";

/// The outbox in memory, following the store contract the worker relies on.
#[derive(Default)]
struct MemoryOutbox {
    rows: Mutex<Vec<(OutboxMessage, bool)>>,
}

impl MemoryOutbox {
    fn row(&self, id: &str) -> (OutboxMessage, bool) {
        let rows = self.rows.lock().unwrap();
        rows.iter().find(|(m, _)| m.id == id).cloned().unwrap()
    }
}

#[async_trait]
impl OutboxStore for MemoryOutbox {
    async fn claim_due(
        &self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let mut rows = self.rows.lock().unwrap();
        let due = rows.iter_mut().filter(|(m, gave_up)| {
            !gave_up && m.delivered_at.is_none() && m.next_attempt_at <= now
        });
        let mut claimed = Vec::new();
        for (msg, _) in due.take(limit as usize) {
            msg.next_attempt_at = lease_until;
            claimed.push(msg.clone());
        }
        Ok(claimed)
    }

    async fn mark_delivered(
        &self,
        id: &str,
        at: OffsetDateTime,
        provider_ref: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut rows = self.rows.lock().unwrap();
        let (msg, _) = rows.iter_mut().find(|(m, _)| m.id == id).unwrap();
        msg.delivered_at = Some(at);
        msg.provider_ref = provider_ref.map(str::to_owned);
        Ok(())
    }

    async fn mark_limited(&self, id: &str, error: &str) -> Result<(), StoreError> {
        let mut rows = self.rows.lock().unwrap();
        let (msg, gave_up) = rows.iter_mut().find(|(m, _)| m.id == id).unwrap();
        msg.attempts += 1;
        msg.last_error = Some(error.to_owned());
        msg.limit_hit = true;
        *gave_up = true;
        Ok(())
    }

    async fn record_receipt(&self, report: &IncomingReceipt) -> Result<bool, StoreError> {
        let mut rows = self.rows.lock().unwrap();
        let found = rows.iter_mut().find(|(m, _)| {
            Some(&m.id) == report.outbox_id.as_ref()
                || (m.provider_ref.is_some() && m.provider_ref == report.provider_ref)
        });
        Ok(found
            .map(|(m, _)| {
                m.receipt = Some(report.receipt.clone());
                m.delivered_at = m.delivered_at.or(Some(report.receipt.at));
            })
            .is_some())
    }

    async fn member_messages(
        &self,
        member: MemberId,
        _limit: u32,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let rows = self.rows.lock().unwrap();
        Ok(rows
            .iter()
            .filter(|(m, _)| m.member_id == Some(member))
            .map(|(m, _)| m.clone())
            .collect())
    }

    async fn mark_failed(
        &self,
        id: &str,
        error: &str,
        retry_at: Option<OffsetDateTime>,
    ) -> Result<(), StoreError> {
        let mut rows = self.rows.lock().unwrap();
        let (msg, gave_up) = rows.iter_mut().find(|(m, _)| m.id == id).unwrap();
        msg.attempts += 1;
        msg.last_error = Some(error.to_owned());
        match retry_at {
            Some(at) => msg.next_attempt_at = at,
            None => *gave_up = true,
        }
        Ok(())
    }

    async fn recent_messages(&self, _limit: u32) -> Result<Vec<OutboxMessage>, StoreError> {
        Ok(self
            .rows
            .lock()
            .unwrap()
            .iter()
            .map(|(m, _)| m.clone())
            .collect())
    }
}

/// What the gateway answers to one call.
type Answer = Result<SmsAccepted, SmsError>;

/// A gateway that answers from a script (then accepts), records every call, and can
/// move the clock as if each send took time.
struct ScriptedGateway {
    script: Mutex<VecDeque<Answer>>,
    calls: Mutex<Vec<(String, String, String)>>,
    params: Mutex<Vec<Vec<(String, String)>>>,
    clock: Arc<FixedClock>,
    send_takes: Duration,
}

impl ScriptedGateway {
    fn new(script: Vec<Answer>, clock: Arc<FixedClock>) -> Self {
        Self {
            script: Mutex::new(script.into()),
            calls: Mutex::new(Vec::new()),
            params: Mutex::new(Vec::new()),
            clock,
            send_takes: Duration::ZERO,
        }
    }

    fn calls(&self) -> Vec<(String, String, String)> {
        self.calls.lock().unwrap().clone()
    }
}

#[async_trait]
impl SmsSender for ScriptedGateway {
    async fn send(&self, request: &SmsRequest<'_>) -> Answer {
        let to = request.to.normalised().to_owned();
        let key = request.idempotency_key.to_owned();
        let text = request.content.text.clone();
        self.calls.lock().unwrap().push((key, to, text));
        self.params
            .lock()
            .unwrap()
            .push(request.content.params.clone());
        self.clock.advance(self.send_takes);
        self.script
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(Ok(SmsAccepted::default()))
    }
}

struct Harness {
    worker: OutboxWorker,
    store: Arc<MemoryOutbox>,
    gateway: Arc<ScriptedGateway>,
    clock: Arc<FixedClock>,
    keyring: Keyring,
}

fn harness(script: Vec<Answer>, config: WorkerConfig) -> Harness {
    harness_with(script, config, Duration::ZERO)
}

fn harness_with(script: Vec<Answer>, config: WorkerConfig, send_takes: Duration) -> Harness {
    let clock = Arc::new(FixedClock::at(datetime!(2026-01-05 09:00 UTC)));
    let keyring = Keyring::generate(CipherSuite::Aes256Gcm, &CountingRng::default());
    let store = Arc::new(MemoryOutbox::default());
    let mut gateway = ScriptedGateway::new(script, clock.clone());
    gateway.send_takes = send_takes;
    let gateway = Arc::new(gateway);
    let worker = OutboxWorker::new(
        store.clone(),
        gateway.clone(),
        Arc::new(keyring.clone()),
        clock.clone(),
        config,
    );
    Harness {
        worker,
        store,
        gateway,
        clock,
        keyring,
    }
}

impl Harness {
    fn enqueue(&self, id: &str) {
        self.enqueue_sealed_by(id, &self.keyring);
    }

    fn enqueue_sealed_by(&self, id: &str, keyring: &Keyring) {
        let rng = CountingRng::default();
        let now = self.clock.now();
        let msg = OutboxMessage {
            id: id.into(),
            member_id: None,
            purpose: "registration_code".into(),
            to: keyring.seal(Field::Phone, PHONE, &rng),
            body: keyring.seal(Field::Message, TEXT, &rng),
            params: Some(keyring.seal(Field::Message, r#"{"code":"482913","minutes":"5"}"#, &rng)),
            created_at: now,
            next_attempt_at: now,
            attempts: 0,
            delivered_at: None,
            last_error: None,
            given_up: false,
            limit_hit: false,
            provider_ref: None,
            receipt: None,
        };
        self.store.rows.lock().unwrap().push((msg, false));
    }

    async fn pass(&self) -> DeliveryReport {
        self.worker.run_once().await.unwrap()
    }
}

fn temporary() -> Answer {
    Err(SmsError::Temporary(
        "gateway answered 503 for 138****5678".into(),
    ))
}

#[test]
fn backoff_doubles_from_the_base_and_is_capped_at_an_hour() {
    let cfg = WorkerConfig::default();
    assert_eq!(backoff(0, &cfg), Duration::seconds(10));
    assert_eq!(backoff(1, &cfg), Duration::seconds(20));
    assert_eq!(backoff(2, &cfg), Duration::seconds(40));
    assert_eq!(backoff(8, &cfg), Duration::seconds(2560));
    assert_eq!(backoff(9, &cfg), Duration::hours(1));
    assert_eq!(backoff(i32::MAX, &cfg), Duration::hours(1));
    assert_eq!(backoff(-3, &cfg), Duration::seconds(10));
    let huge = WorkerConfig {
        base_backoff: Duration::days(365),
        ..cfg
    };
    assert_eq!(backoff(20, &huge), Duration::hours(1));
}

#[tokio::test]
async fn message_is_delivered_once_after_a_gateway_outage() {
    let h = harness(
        vec![temporary(), temporary(), temporary()],
        WorkerConfig::default(),
    );
    h.enqueue("msg-1");

    for attempt in 0..3 {
        assert_eq!(h.pass().await.retried, 1, "try {attempt}");
        // Before the backoff has passed the message is left alone.
        h.clock
            .advance(backoff(attempt, &WorkerConfig::default()) - Duration::seconds(1));
        assert_eq!(h.pass().await.claimed(), 0, "try {attempt}");
        h.clock.advance(Duration::seconds(1));
    }
    assert_eq!(h.pass().await.delivered, 1);
    h.clock.advance(Duration::hours(2));
    assert_eq!(h.pass().await.claimed(), 0);

    let calls = h.gateway.calls();
    assert_eq!(calls.len(), 4);
    for (key, to, text) in &calls {
        assert_eq!(
            (key.as_str(), to.as_str(), text.as_str()),
            ("msg-1", PHONE, TEXT)
        );
    }
    let (msg, _) = h.store.row("msg-1");
    assert!(msg.delivered_at.is_some());
    assert_eq!(msg.attempts, 3);
}

#[tokio::test]
async fn a_permanent_refusal_is_not_retried() {
    let refused = Err(SmsError::Permanent("gateway answered 400".into()));
    let h = harness(vec![refused], WorkerConfig::default());
    h.enqueue("msg-1");

    assert_eq!(h.pass().await.failed, 1);
    h.clock.advance(Duration::hours(2));
    assert_eq!(h.pass().await.claimed(), 0);
    assert_eq!(h.gateway.calls().len(), 1);
    let (msg, gave_up) = h.store.row("msg-1");
    assert!(gave_up && msg.delivered_at.is_none());
    assert_eq!(msg.last_error.as_deref(), Some("gateway answered 400"));
}

#[tokio::test]
async fn the_worker_gives_up_after_max_attempts() {
    let config = WorkerConfig {
        max_attempts: 3,
        ..WorkerConfig::default()
    };
    let h = harness(vec![temporary(); 10], config);
    h.enqueue("msg-1");

    let mut reports = Vec::new();
    for _ in 0..5 {
        reports.push(h.pass().await);
        h.clock.advance(Duration::hours(2));
    }
    let retried: u32 = reports.iter().map(|r| r.retried).sum();
    let failed: u32 = reports.iter().map(|r| r.failed).sum();
    assert_eq!((retried, failed), (2, 1));
    assert_eq!(h.gateway.calls().len(), 3);
    assert!(h.store.row("msg-1").1);
}

#[tokio::test]
async fn stored_errors_never_contain_the_text_or_the_phone() {
    let echo = |kind: fn(String) -> SmsError| -> Answer {
        Err(kind(format!(
            "cannot send '{TEXT}' to +86{PHONE} (code 482913)"
        )))
    };
    let h = harness(
        vec![echo(SmsError::Temporary), echo(SmsError::Permanent)],
        WorkerConfig::default(),
    );
    h.enqueue("msg-1");

    assert_eq!(h.pass().await.retried, 1);
    let first = h.store.row("msg-1").0.last_error.unwrap();
    h.clock.advance(Duration::hours(2));
    assert_eq!(h.pass().await.failed, 1);
    let second = h.store.row("msg-1").0.last_error.unwrap();

    for error in [first, second] {
        assert!(!error.contains(TEXT), "{error}");
        assert!(!error.contains(PHONE), "{error}");
        assert!(!error.contains("482913"), "{error}");
        assert!(error.contains("138****5678"), "{error}");
    }
}

#[tokio::test]
async fn an_undecryptable_message_is_failed_without_sending() {
    let h = harness(vec![], WorkerConfig::default());
    let rng = CountingRng::default();
    rng.fill(&mut [0u8; 100]);
    let other = Keyring::generate(CipherSuite::Aes256Gcm, &rng);
    h.enqueue_sealed_by("msg-1", &other);

    assert_eq!(h.pass().await.failed, 1);
    assert!(h.gateway.calls().is_empty());
    let (msg, gave_up) = h.store.row("msg-1");
    assert!(gave_up);
    assert_eq!(msg.last_error.as_deref(), Some("cannot decrypt"));
}

#[tokio::test]
async fn a_pass_stops_when_its_lease_runs_out_and_the_rest_is_sent_later() {
    let h = harness_with(vec![], WorkerConfig::default(), Duration::seconds(61));
    h.enqueue("msg-1");
    h.enqueue("msg-2");

    let first = h.pass().await;
    assert_eq!((first.delivered, first.deferred), (1, 1));
    assert_eq!(h.pass().await.delivered, 1);
    let keys: Vec<String> = h.gateway.calls().into_iter().map(|c| c.0).collect();
    assert_eq!(keys, ["msg-1", "msg-2"]);
}

#[tokio::test]
async fn run_delivers_and_stops_when_cancelled() {
    let config = WorkerConfig {
        poll_interval: std::time::Duration::from_millis(10),
        ..WorkerConfig::default()
    };
    let h = harness(vec![], config);
    h.enqueue("msg-1");
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(h.worker.run(shutdown.clone()));

    let wait = async {
        while h.store.row("msg-1").0.delivered_at.is_none() {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(30), wait)
        .await
        .unwrap();
    shutdown.cancel();
    tokio::time::timeout(std::time::Duration::from_secs(30), task)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(h.gateway.calls().len(), 1);
}

#[tokio::test]
async fn a_pass_that_delivered_is_followed_at_once_by_another() {
    use std::sync::atomic::{AtomicU32, Ordering};
    // A member's messages are claimed one at a time: after a gateway outage each
    // delivery lets the next one go, which must not wait for the poll interval.
    let config = WorkerConfig {
        poll_interval: std::time::Duration::from_secs(3600),
        ..WorkerConfig::default()
    };
    let passes = AtomicU32::new(0);
    let shutdown = CancellationToken::new();
    let run = run_passes("test", &config, &shutdown, || {
        let n = passes.fetch_add(1, Ordering::SeqCst);
        async move {
            Ok(DeliveryReport {
                delivered: u32::from(n < 3),
                ..DeliveryReport::default()
            })
        }
    });
    let stop = async {
        while passes.load(Ordering::SeqCst) < 4 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        shutdown.cancel();
    };
    tokio::time::timeout(std::time::Duration::from_secs(30), async {
        tokio::join!(run, stop)
    })
    .await
    .unwrap();
    assert_eq!(passes.load(Ordering::SeqCst), 4);
}
