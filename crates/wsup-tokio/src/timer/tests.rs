use std::time::{Duration, Instant};

use super::{enable, sleep, TokioSleep};

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

fn assert_took(start: Instant, at_least: Duration) {
    let took = start.elapsed();
    assert!(took >= at_least, "{took:?}");
    assert!(took < Duration::from_secs(2), "{took:?}");
}

#[test]
fn a_runtime_that_served_tcp_fires_the_timers_from_its_reactor() {
    current_thread().block_on(async {
        // A connection accepted through tokio's TCP: the reactor has IO.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (client, accepted) =
            tokio::join!(tokio::net::TcpStream::connect(addr), listener.accept());
        let (_client, _accepted) = (client.unwrap(), accepted.unwrap());
        enable();
        let timer = sleep(Duration::from_millis(50));
        assert!(matches!(timer, TokioSleep::Reactor(_)), "{timer:?}");
        let start = Instant::now();
        timer.await;
        assert_took(start, Duration::from_millis(50));
        // Earlier deadlines armed after later ones fire first.
        let late = sleep(Duration::from_secs(30));
        let start = Instant::now();
        tokio::select! {
            () = late => panic!("the 30 s timer fired first"),
            () = sleep(Duration::from_millis(40)) => {}
        }
        assert_took(start, Duration::from_millis(40));
    });
}

#[test]
fn through_the_binding_an_accepted_connection_enables_them() {
    current_thread().block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accept = <crate::TokioRuntime as wsup_core::server::Listen>::accept(&listener);
        let (client, accepted) = tokio::join!(tokio::net::TcpStream::connect(addr), accept);
        let (_client, _accepted) = (client.unwrap(), accepted.unwrap());
        assert!(matches!(
            sleep(Duration::from_secs(1)),
            TokioSleep::Reactor(_)
        ));
    });
}

#[test]
fn without_tcp_or_without_io_the_timer_thread_serves() {
    // No connection yet: the reactor may have no IO driver.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    runtime.block_on(async {
        let timer = sleep(Duration::from_millis(30));
        assert!(matches!(timer, TokioSleep::Thread(_)), "{timer:?}");
        let start = Instant::now();
        timer.await;
        assert_took(start, Duration::from_millis(30));
    });
    // Outside any runtime too.
    assert!(matches!(
        sleep(Duration::from_secs(1)),
        TokioSleep::Thread(_)
    ));
}

#[test]
fn a_timer_outlives_its_runtime_on_the_timer_thread() {
    let runtime = current_thread();
    // Made in the runtime's context, not awaited there.
    let timer = {
        let _context = runtime.enter();
        enable();
        sleep(Duration::from_millis(150))
    };
    assert!(matches!(timer, TokioSleep::Reactor(_)));
    let start = Instant::now();
    // Its runtime shuts down: the set closes, and the timer completes on
    // the timer thread, at its deadline, not before.
    drop(runtime);
    current_thread().block_on(timer);
    assert_took(start, Duration::from_millis(140));
}

#[test]
fn the_sets_of_runtimes_that_shut_down_are_forgotten() {
    for _ in 0..50 {
        current_thread().block_on(async {
            enable();
            sleep(Duration::from_millis(1)).await;
        });
    }
    current_thread().block_on(async { enable() });
    // Other tests' runtimes may be running alongside: a handful at most.
    let registered = super::reactor::registered();
    assert!(registered <= 8, "{registered} sets registered");
}

#[test]
fn a_multi_thread_runtime_fires_them_from_any_worker() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        tokio::spawn(async { enable() }).await.unwrap();
        let tasks: Vec<_> = (0..8u64)
            .map(|i| {
                tokio::spawn(async move {
                    let timer = sleep(Duration::from_millis(20 + 10 * i));
                    assert!(matches!(timer, TokioSleep::Reactor(_)));
                    let start = Instant::now();
                    timer.await;
                    assert_took(start, Duration::from_millis(20 + 10 * i));
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
}
