//! The server counters, and what they publish through `metrics`.

use std::sync::Arc;

use http::StatusCode;

use super::ServerStats;
use crate::close::CloseCode;

#[test]
fn refusals_count_by_status_and_unknown_statuses_as_other() {
    let stats = ServerStats::new();
    for status in [405, 405, 400, 426, 431, 403, 503, 404, 500] {
        stats.refused(StatusCode::from_u16(status).unwrap());
    }
    let now = stats.snapshot();
    assert_eq!(now.refused_with(405), 2);
    assert_eq!(now.refused_with(400), 1);
    assert_eq!(now.refused_with(503), 1);
    assert_eq!(now.refused, [1, 1, 2, 1, 1, 1, 2], "404 and 500 are other");
    assert_eq!(now.refused_with(404), 2, "any other status reads other");
    assert_eq!(now.refused_total(), 9);
    assert_eq!((now.open, now.accepted), (0, 0));
}

#[test]
fn connections_open_when_accepted_and_count_by_close_code_when_closed() {
    let stats = ServerStats::new();
    for _ in 0..4 {
        stats.accepted();
    }
    stats.closed(Some(CloseCode::NORMAL));
    stats.closed(Some(CloseCode(4000)));
    stats.closed(None);
    let now = stats.snapshot();
    assert_eq!((now.open, now.accepted), (1, 4));
    assert_eq!(now.closed_with(1000), 1);
    assert_eq!(now.closed_with(1006), 1, "no close frame counts as 1006");
    assert_eq!(now.closed_with(4000), 1, "an application code is other");
    assert_eq!(now.closed_with(1001), 0);
    assert_eq!(now.closed_total(), 3);
}

#[test]
fn the_open_count_never_goes_below_zero() {
    let stats = ServerStats::new();
    stats.closed(Some(CloseCode::NORMAL));
    assert_eq!(stats.snapshot().open, 0);
    assert_eq!(stats.snapshot().closed_with(1000), 1);
}

#[test]
fn updates_from_many_threads_all_count() {
    let stats = ServerStats::new();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let stats = Arc::clone(&stats);
            std::thread::spawn(move || {
                for _ in 0..1000 {
                    stats.accepted();
                    stats.closed(Some(CloseCode::GOING_AWAY));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let now = stats.snapshot();
    assert_eq!(
        (now.open, now.accepted, now.closed_with(1001)),
        (0, 4000, 4000)
    );
}

/// With the `metrics` feature each update reaches the facade, under the
/// documented names and labels.
#[cfg(feature = "metrics")]
mod metrics_facade {
    use std::sync::{Arc, Mutex};

    use metrics::{
        Counter, CounterFn, Gauge, GaugeFn, Histogram, Key, KeyName, Metadata, Recorder,
        SharedString, Unit,
    };

    use super::*;

    /// Every counter increment and gauge change, as (name{labels}, value).
    #[derive(Default)]
    struct Record(Mutex<Vec<(String, f64)>>);

    struct Handle(Arc<Record>, String);

    impl CounterFn for Handle {
        fn increment(&self, value: u64) {
            self.0
                 .0
                .lock()
                .unwrap()
                .push((self.1.clone(), value as f64));
        }
        fn absolute(&self, _: u64) {}
    }

    impl GaugeFn for Handle {
        fn increment(&self, value: f64) {
            self.0 .0.lock().unwrap().push((self.1.clone(), value));
        }
        fn decrement(&self, value: f64) {
            self.0 .0.lock().unwrap().push((self.1.clone(), -value));
        }
        fn set(&self, _: f64) {}
    }

    struct Rec(Arc<Record>);

    fn name(key: &Key) -> String {
        let labels: Vec<_> = key
            .labels()
            .map(|l| format!("{}=\"{}\"", l.key(), l.value()))
            .collect();
        if labels.is_empty() {
            key.name().to_owned()
        } else {
            format!("{}{{{}}}", key.name(), labels.join(","))
        }
    }

    impl Recorder for Rec {
        fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
            Counter::from_arc(Arc::new(Handle(self.0.clone(), name(key))))
        }
        fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
            Gauge::from_arc(Arc::new(Handle(self.0.clone(), name(key))))
        }
        fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
            Histogram::noop()
        }
    }

    #[test]
    fn each_update_is_published_under_its_documented_name() {
        let record = Arc::new(Record::default());
        let recorder = Rec(record.clone());
        let stats = ServerStats::new();
        metrics::with_local_recorder(&recorder, || {
            stats.accepted();
            stats.refused(StatusCode::METHOD_NOT_ALLOWED);
            stats.refused(StatusCode::NOT_FOUND);
            stats.closed(Some(CloseCode::NORMAL));
        });
        let seen = record.0.lock().unwrap().clone();
        let expected = [
            ("wsup_connections_accepted_total", 1.0),
            ("wsup_connections_open", 1.0),
            ("wsup_handshakes_refused_total{status=\"405\"}", 1.0),
            ("wsup_handshakes_refused_total{status=\"other\"}", 1.0),
            ("wsup_connections_closed_total{code=\"1000\"}", 1.0),
            ("wsup_connections_open", -1.0),
        ];
        let expected: Vec<_> = expected.iter().map(|(n, v)| (n.to_string(), *v)).collect();
        assert_eq!(seen, expected);
    }
}
