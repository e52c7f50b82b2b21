//! The client over real stores (object_store's InMemory and
//! LocalFileSystem), with a fault injector around them where a test needs
//! failures.

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering::SeqCst;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{Faulty, Mode, body, config, key, records, remote, signing_key};
use cst_remote::object_store::ObjectStore;
use cst_remote::object_store::memory::InMemory;
use cst_remote::{
    BreakerState, Error, Fingerprint, Push, PushReport, Reject, Remote, RemoteConfig, SigningKey,
};

const FORMAT: u32 = 4;

fn fingerprints() -> Vec<Fingerprint> {
    vec![Fingerprint {
        id: "rust".into(),
        fingerprint: [1; 16],
    }]
}

fn dicts() -> Vec<(String, Bytes)> {
    vec![(
        "trees/rust".into(),
        Bytes::from_static(b"a trained dictionary"),
    )]
}

fn push_as(
    r: &Remote,
    key: &SigningKey,
    branch: &str,
    recs: Vec<(cst_remote::Key, Bytes)>,
) -> Result<PushReport, Error> {
    let fps = fingerprints();
    let dicts = dicts();
    r.push(
        &Push {
            branch,
            format: FORMAT,
            fingerprints: &fps,
            dicts: &dicts,
            signing_key: key,
            compact_over: None,
        },
        recs,
    )
}

fn push(r: &Remote, recs: Vec<(cst_remote::Key, Bytes)>) -> Result<PushReport, Error> {
    push_as(r, &signing_key(), "main", recs)
}

/// Every record of the branch, fetched through the indexes and range reads.
fn pull_all(r: &Remote, branch: &str) -> Vec<(cst_remote::Key, Bytes)> {
    let m = r.fetch_ref(branch).unwrap().expect("a ref");
    let mut out = Vec::new();
    for p in &m.manifest.packs {
        let index = r.fetch_index(p).unwrap();
        let entries: Vec<_> = index.iter().collect();
        let bodies = r.fetch_records(p, &entries).unwrap();
        for (e, b) in entries.iter().zip(bodies) {
            out.push((e.key, b.expect("every record checks")));
        }
    }
    out.sort();
    out
}

fn sorted(mut v: Vec<(cst_remote::Key, Bytes)>) -> Vec<(cst_remote::Key, Bytes)> {
    v.sort();
    v
}

fn check_round_trip(r: &Remote) {
    assert!(r.fetch_ref("main").unwrap().is_none(), "no ref yet");
    let report = push(r, records(0..50)).unwrap();
    assert_eq!(report.records_given, 50);
    assert_eq!(report.records_pushed, 50);
    assert_eq!(report.packs.len(), 1);
    assert!(report.ref_updated);
    assert_eq!(report.generation, 1);

    let m = r.fetch_ref("main").unwrap().unwrap();
    assert_eq!(m.digest, report.manifest);
    assert_eq!(m.manifest.format, FORMAT);
    assert_eq!(m.manifest.packs, report.packs);
    assert_eq!(m.manifest.fingerprints, fingerprints());
    assert_eq!(m.manifest.parent, None);
    assert_eq!(pull_all(r, "main"), sorted(records(0..50)));

    // A few records by range: only those, checked.
    let p = &m.manifest.packs[0];
    let index = r.fetch_index(p).unwrap();
    let want = [key(3), key(40), key(41)];
    let entries: Vec<_> = want.iter().map(|k| index.get(k).unwrap()).collect();
    let before = r.stats();
    let got = r.fetch_records(p, &entries).unwrap();
    assert_eq!(got, vec![Some(body(3)), Some(body(40)), Some(body(41))]);
    let after = r.stats();
    assert_eq!(after.requests - before.requests, 1, "one coalesced range");
    assert!(
        after.bytes_in - before.bytes_in < p.size - 1000,
        "a range read, not the pack"
    );

    // The whole pack.
    let whole = r.fetch_pack(p).unwrap();
    for i in 0..50 {
        assert_eq!(whole.get(&key(i)), Some(body(i)));
    }
    // The dictionary.
    let d = &m.manifest.dicts[0];
    assert_eq!(r.fetch_dict(d).unwrap(), dicts()[0].1);

    let s = r.stats();
    assert_eq!(s.rejected.total(), 0);
    assert_eq!(s.breaker, BreakerState::Closed);
    assert!(s.requests >= 8 && s.bytes_out > 0 && s.records_fetched >= 53);
}

#[test]
fn push_then_fetch_in_memory() {
    check_round_trip(&remote(Arc::new(InMemory::new())));
}

#[test]
fn push_then_fetch_through_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("file://{}/remote", dir.path().display());
    let mut c = config();
    c.url = url.clone();
    let r = Remote::open(c.clone()).unwrap();
    check_round_trip(&r);
    // Another client (a clone of the repository) reads it; a second push
    // overwrites the ref (a directory has no conditional update).
    let other = Remote::open(c).unwrap();
    assert_eq!(pull_all(&other, "main"), sorted(records(0..50)));
    let report = push(&other, records(0..60)).unwrap();
    assert_eq!(report.records_pushed, 10);
    assert_eq!(r.fetch_ref("main").unwrap().unwrap().manifest.generation, 2);
    assert!(dir.path().join("remote/cst/v1/refs/main").is_file());
}

#[test]
fn a_second_push_writes_only_the_delta() {
    let r = remote(Arc::new(InMemory::new()));
    let first = push(&r, records(0..30)).unwrap();
    let second = push(&r, records(0..40)).unwrap();
    assert_eq!(second.records_present, 30);
    assert_eq!(second.records_pushed, 10);
    assert_eq!(second.packs.len(), 1);
    assert_eq!(second.packs[0].records, 10);
    assert_eq!(second.dicts_pushed, 0, "the dictionary is listed already");
    assert_eq!(second.generation, 2);

    let m = r.fetch_ref("main").unwrap().unwrap();
    assert_eq!(m.manifest.packs.len(), 2);
    assert_eq!(m.manifest.packs[0], first.packs[0]);
    assert_eq!(m.manifest.packs[1], second.packs[0]);
    assert_eq!(m.manifest.parent, Some(first.manifest));
    assert_eq!(m.manifest.dicts.len(), 1);
    // The delta pack holds exactly the new records.
    let idx = r.fetch_index(&second.packs[0]).unwrap();
    let mut keys: Vec<_> = idx.iter().map(|e| e.key).collect();
    keys.sort();
    let mut want: Vec<_> = (30..40).map(key).collect();
    want.sort();
    assert_eq!(keys, want);
    assert_eq!(pull_all(&r, "main"), sorted(records(0..40)));

    // Nothing new: nothing written, the ref stays.
    let requests = r.stats().requests;
    let third = push(&r, records(0..40)).unwrap();
    assert!(!third.ref_updated);
    assert_eq!(third.manifest, second.manifest);
    assert_eq!(third.bytes_uploaded, 0);
    assert!(r.stats().requests - requests <= 4, "reads only");

    // Another branch starts from nothing.
    let other = push_as(&r, &signing_key(), "feature/x", records(35..45)).unwrap();
    assert_eq!(other.records_pushed, 10);
    assert_eq!(pull_all(&r, "feature/x"), sorted(records(35..45)));
}

#[test]
fn distant_records_are_read_in_separate_ranges() {
    let mut c = config();
    c.coalesce_gap = 0;
    let r = Remote::with_store(Arc::new(InMemory::new()), "", c).unwrap();
    push(&r, records(0..50)).unwrap();
    let m = r.fetch_ref("main").unwrap().unwrap();
    let p = &m.manifest.packs[0];
    let index = r.fetch_index(p).unwrap();
    let want = [key(41), key(3), key(40), key(3)];
    let entries: Vec<_> = want.iter().map(|k| index.get(k).unwrap()).collect();
    let before = r.stats();
    let got = r.fetch_records(p, &entries).unwrap();
    assert_eq!(
        got,
        vec![Some(body(41)), Some(body(3)), Some(body(40)), Some(body(3))]
    );
    let after = r.stats();
    // 3 alone (asked twice: one range), 40 and 41 adjacent: one range.
    assert_eq!(after.requests - before.requests, 2);
    let frames: u64 = [3, 40, 41]
        .iter()
        .map(|&i| u64::from(index.get(&key(i)).unwrap().len))
        .sum();
    assert_eq!(after.bytes_in - before.bytes_in, frames);
}

#[test]
fn packs_close_at_the_target_size() {
    let mut c = config();
    c.pack_target = 4096;
    let r = Remote::with_store(Arc::new(InMemory::new()), "", c).unwrap();
    let report = push(&r, records(0..200)).unwrap();
    assert!(report.packs.len() > 5, "{} packs", report.packs.len());
    for p in &report.packs {
        assert!(p.size < 4096 + 400 + 60, "pack of {} bytes", p.size);
    }
    assert_eq!(
        report
            .packs
            .iter()
            .map(|p| u64::from(p.records))
            .sum::<u64>(),
        200
    );
    assert_eq!(pull_all(&r, "main"), sorted(records(0..200)));
}

/// A push that dies at any of its writes leaves the old ref, and every
/// object the old ref reaches; the next push succeeds.
#[test]
fn a_push_that_dies_halfway_leaves_the_old_ref_valid() {
    // Writes of the second push: pack, index, manifest, ref (the
    // dictionary is listed already).
    for n in 1..=4u64 {
        let faulty = Faulty::new(Arc::new(InMemory::new()));
        let r = remote(faulty.clone());
        let first = push(&r, records(0..20)).unwrap();
        faulty.fail_put.store(faulty.puts.load(SeqCst) + n, SeqCst);
        let err = push(&r, records(0..30)).unwrap_err();
        assert!(matches!(err, Error::Outage(_)), "put {n}: {err}");
        let m = r.fetch_ref("main").unwrap().unwrap();
        assert_eq!(m.digest, first.manifest, "put {n}: the old ref stays");
        assert_eq!(pull_all(&r, "main"), sorted(records(0..20)));
        let again = push(&r, records(0..30)).unwrap();
        assert_eq!(again.records_pushed, 10);
        assert_eq!(pull_all(&r, "main"), sorted(records(0..30)));
    }
}

/// The ref moves between our read and our write: the conditional write
/// fails, the client reads the new ref and extends it.
#[test]
fn a_concurrent_push_is_merged() {
    let mem: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let faulty = Faulty::new(mem.clone());
    let r = remote(faulty.clone());
    push(&r, records(0..10)).unwrap();
    let ref_path = r.layout().branch_ref("main").unwrap();
    let r1 = common::read(&mem, &ref_path);
    let second = push(&r, records(10..20)).unwrap();
    let r2 = common::read(&mem, &ref_path);
    common::write(&mem, &ref_path, r1); // back to the first (new etag)

    // During the next push, "another CI job" moves the ref to r2 first.
    *faulty.before_ref_put.lock() = Some(Box::new(move |store: Arc<dyn ObjectStore>| {
        Box::pin(async move {
            use cst_remote::object_store::ObjectStoreExt as _;
            store.put(&ref_path, r2.into()).await.unwrap();
        })
    }));
    let third = push(&r, records(20..30)).unwrap();
    assert_eq!(third.ref_attempts, 2);
    let m = r.fetch_ref("main").unwrap().unwrap();
    assert_eq!(m.manifest.parent, Some(second.manifest));
    assert_eq!(m.manifest.generation, 3);
    assert_eq!(m.manifest.packs.len(), 3);
    assert_eq!(pull_all(&r, "main"), sorted(records(0..30)));
    assert_eq!(r.stats().errors.conflict, 1);
}

#[test]
fn the_breaker_stops_asking_after_repeated_outages() {
    let faulty = Faulty::new(Arc::new(InMemory::new()));
    let r = remote(faulty.clone());
    push(&r, records(0..5)).unwrap();
    let m = r.fetch_ref("main").unwrap().unwrap();
    let calls_before = faulty.calls.load(SeqCst);
    faulty.set(Mode::Outage);
    let t = Instant::now();
    let mut outcomes = Vec::new();
    for _ in 0..20 {
        outcomes.push(r.fetch_ref("main").unwrap_err());
        outcomes.push(r.fetch_index(&m.manifest.packs[0]).unwrap_err());
    }
    assert!(t.elapsed() < Duration::from_secs(2));
    assert_eq!(
        faulty.calls.load(SeqCst) - calls_before,
        3,
        "three requests, then none"
    );
    assert!(outcomes[..3].iter().all(|e| matches!(e, Error::Outage(_))));
    assert!(
        outcomes[3..]
            .iter()
            .all(|e| matches!(e, Error::Disabled(_)))
    );
    assert!(matches!(
        push(&r, records(0..6)).unwrap_err(),
        Error::Disabled(_)
    ));
    let s = r.stats();
    assert_eq!(s.errors.outage, 3);
    assert_eq!(s.errors.disabled, 38);
    assert_eq!(s.breaker, BreakerState::Open);
    assert_eq!(s.breaker_trips, 1);
    assert!(r.disabled_reason().unwrap().contains("breaker open"));
    // Healed, but open for the rest of the process (no cool-down here).
    faulty.set(Mode::Pass);
    assert!(matches!(r.fetch_ref("main"), Err(Error::Disabled(_))));
    assert_eq!(faulty.calls.load(SeqCst) - calls_before, 3);
}

#[test]
fn after_the_cooldown_one_probe_closes_the_breaker() {
    let faulty = Faulty::new(Arc::new(InMemory::new()));
    let mut c = config();
    c.breaker_cooldown = Some(Duration::from_millis(100));
    let r = Remote::with_store(faulty.clone(), "", c).unwrap();
    push(&r, records(0..5)).unwrap();
    faulty.set(Mode::Outage);
    for _ in 0..5 {
        let _ = r.fetch_ref("main");
    }
    assert_eq!(r.breaker_state(), BreakerState::Open);
    faulty.set(Mode::Pass);
    std::thread::sleep(Duration::from_millis(150));
    assert!(r.fetch_ref("main").unwrap().is_some());
    assert_eq!(r.breaker_state(), BreakerState::Closed);
}

#[test]
fn refused_credentials_turn_the_remote_off_with_one_request() {
    let faulty = Faulty::new(Arc::new(InMemory::new()));
    let r = remote(faulty.clone());
    faulty.set(Mode::Auth);
    assert!(matches!(r.fetch_ref("main"), Err(Error::Auth(_))));
    for _ in 0..10 {
        assert!(matches!(r.fetch_ref("main"), Err(Error::Disabled(_))));
    }
    assert_eq!(faulty.calls.load(SeqCst), 1);
    assert_eq!(r.breaker_state(), BreakerState::Off);
    let why = r.disabled_reason().unwrap();
    assert!(why.contains("refused the credentials") && why.contains("AWS_ACCESS_KEY_ID"));
}

#[test]
fn read_only_credentials_turn_pushes_off_and_reads_go_on() {
    let mem: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    push(&remote(mem.clone()), records(0..5)).unwrap();
    let faulty = Faulty::new(mem);
    let r = remote(faulty.clone());
    faulty.set(Mode::AuthOnWrite);
    assert!(matches!(push(&r, records(0..9)), Err(Error::Auth(_))));
    assert!(matches!(push(&r, records(0..9)), Err(Error::Disabled(_))));
    assert_eq!(r.breaker_state(), BreakerState::ReadOnly);
    assert_eq!(pull_all(&r, "main"), sorted(records(0..5)));
}

#[test]
fn a_hanging_server_costs_the_operation_timeout() {
    let faulty = Faulty::new(Arc::new(InMemory::new()));
    let mut c = config();
    c.op_timeout = Duration::from_millis(100);
    let r = Remote::with_store(faulty.clone(), "", c).unwrap();
    faulty.set(Mode::Slow(Duration::from_secs(30)));
    let t = Instant::now();
    for _ in 0..5 {
        let _ = r.fetch_ref("main");
    }
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    let s = r.stats();
    assert_eq!(s.errors.timeout, 3);
    assert_eq!(s.errors.disabled, 2);
    assert_eq!(faulty.calls.load(SeqCst), 3);
}

#[test]
fn nothing_is_read_without_a_public_key() {
    let mut c = config();
    c.public_key = None;
    let r = Remote::with_store(Arc::new(InMemory::new()), "", c).unwrap();
    assert!(matches!(r.fetch_ref("main"), Err(Error::NoPublicKey)));
    assert_eq!(r.stats().requests, 0);
}

fn rejection(e: Error) -> Reject {
    match e {
        Error::Rejected { reason, .. } => reason,
        other => panic!("expected a rejection, got {other}"),
    }
}

/// Objects damaged in the store, or written by someone without the key,
/// are refused with the right reason and counted; nothing wrong is served.
#[test]
fn damaged_or_forged_objects_are_refused() {
    let mem: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let r = remote(mem.clone());
    let report = push(&r, records(0..20)).unwrap();
    let l = r.layout().clone();
    let ref_path = l.branch_ref("main").unwrap();
    let good_ref = common::read(&mem, &ref_path);
    let manifest_path = l.manifest(&report.manifest);
    let good_manifest = common::read(&mem, &manifest_path);
    let p = report.packs[0];
    let index_path = l.index(&p.index);
    let good_index = common::read(&mem, &index_path);
    let pack_path = l.pack(&p.pack);
    let good_pack = common::read(&mem, &pack_path);

    let flip = |b: &Bytes, at: usize| {
        let mut v = b.to_vec();
        v[at] ^= 0x40;
        Bytes::from(v)
    };

    // Every byte of the ref and the manifest, flipped one at a time.
    for at in 0..good_ref.len() {
        common::write(&mem, &ref_path, flip(&good_ref, at));
        let e = r.fetch_ref("main").unwrap_err();
        let reason = rejection(e);
        assert!(
            matches!(
                reason,
                Reject::Signature | Reject::Malformed | Reject::Version
            ),
            "ref byte {at}: {reason:?}"
        );
    }
    common::write(&mem, &ref_path, good_ref.clone());
    for at in 0..good_manifest.len() {
        common::write(&mem, &manifest_path, flip(&good_manifest, at));
        assert_eq!(rejection(r.fetch_ref("main").unwrap_err()), Reject::Hash);
    }
    common::write(&mem, &manifest_path, good_manifest.clone());
    // Truncated ref and manifest.
    common::write(&mem, &ref_path, good_ref.slice(..100));
    assert_eq!(
        rejection(r.fetch_ref("main").unwrap_err()),
        Reject::Malformed
    );
    common::write(&mem, &ref_path, good_ref.clone());
    common::write(&mem, &manifest_path, good_manifest.slice(..50));
    assert_eq!(rejection(r.fetch_ref("main").unwrap_err()), Reject::Hash);
    common::write(&mem, &manifest_path, good_manifest.clone());

    // Every byte of the index.
    for at in 0..good_index.len() {
        common::write(&mem, &index_path, flip(&good_index, at));
        assert_eq!(rejection(r.fetch_index(&p).unwrap_err()), Reject::Hash);
    }
    common::write(&mem, &index_path, good_index.clone());
    let index = r.fetch_index(&p).unwrap();

    // A byte of one record in the pack: the whole pack is refused, a range
    // read refuses that record only.
    let victim = index.get(&key(7)).unwrap();
    let at = victim.offset as usize + 40;
    common::write(&mem, &pack_path, flip(&good_pack, at));
    assert_eq!(rejection(r.fetch_pack(&p).unwrap_err()), Reject::Hash);
    let entries: Vec<_> = [key(6), key(7), key(8)]
        .iter()
        .map(|k| index.get(k).unwrap())
        .collect();
    let got = r.fetch_records(&p, &entries).unwrap();
    assert_eq!(got, vec![Some(body(6)), None, Some(body(8))]);
    // A truncated pack: range reads past its end come back short.
    common::write(
        &mem,
        &pack_path,
        good_pack.slice(..victim.offset as usize + 10),
    );
    let got = r.fetch_records(&p, &entries[1..2]);
    assert!(
        matches!(got.as_deref(), Ok([None])) || got.is_err(),
        "{got:?}"
    );
    common::write(&mem, &pack_path, good_pack.clone());

    // A ref re-signed by someone with bucket access but another key.
    let intruder = SigningKey::from_seed([66; 32]);
    push_as(&r, &intruder, "main", records(0..3)).unwrap();
    assert_eq!(
        rejection(r.fetch_ref("main").unwrap_err()),
        Reject::Signature
    );
    let forged = cst_remote::Ref::sign("main", report.manifest, &intruder).unwrap();
    common::write(&mem, &ref_path, Bytes::copy_from_slice(&forged.encode()));
    assert_eq!(
        rejection(r.fetch_ref("main").unwrap_err()),
        Reject::Signature
    );
    // An unsigned ref.
    let mut unsigned = forged;
    unsigned.public_key = signing_key().public().to_bytes();
    unsigned.signature = [0; 64];
    common::write(&mem, &ref_path, Bytes::copy_from_slice(&unsigned.encode()));
    assert_eq!(
        rejection(r.fetch_ref("main").unwrap_err()),
        Reject::Signature
    );
    // main's ref replayed as another branch's.
    common::write(&mem, &l.branch_ref("dev").unwrap(), good_ref.clone());
    assert_eq!(
        rejection(r.fetch_ref("dev").unwrap_err()),
        Reject::Signature
    );
    common::write(&mem, &ref_path, good_ref);

    // A reader of another records' format.
    let mut c = config();
    c.expected_format = Some(FORMAT + 1);
    let other = Remote::with_store(mem.clone(), "team", c).unwrap();
    assert_eq!(
        rejection(other.fetch_ref("main").unwrap_err()),
        Reject::Version
    );

    // All of it counted; the breaker untouched (the server answered).
    let s = r.stats();
    assert!(s.rejected.signature >= 3);
    assert!(s.rejected.hash as usize > good_manifest.len() + good_index.len());
    assert!(s.rejected.record >= 1);
    assert_eq!(s.breaker, BreakerState::Closed);
    // And the good objects still read.
    assert_eq!(pull_all(&r, "main"), sorted(records(0..20)));
}

/// A writer whose ref was damaged replaces it (it cannot be extended).
#[test]
fn a_refused_ref_is_replaced_by_the_next_push() {
    let mem: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let r = remote(mem.clone());
    push(&r, records(0..10)).unwrap();
    let ref_path = r.layout().branch_ref("main").unwrap();
    common::write(&mem, &ref_path, Bytes::from_static(b"garbage"));
    let report = push(&r, records(0..12)).unwrap();
    assert_eq!(report.records_pushed, 12);
    assert_eq!(report.generation, 1);
    assert_eq!(pull_all(&r, "main"), sorted(records(0..12)));
}

#[test]
fn open_understands_its_urls() {
    let r = Remote::open(RemoteConfig::new("memory://x")).unwrap();
    assert!(matches!(r.fetch_ref("main"), Err(Error::NoPublicKey)));
    assert!(Remote::open(RemoteConfig::new("ftp://x")).is_err());
    // S3 is built from the AWS_* environment; nothing is requested yet.
    let r = Remote::open(RemoteConfig::new("s3://bucket/prefix")).unwrap();
    assert_eq!(r.layout().root().as_ref(), "prefix/cst/v1");
}

#[test]
fn the_client_is_shared_between_threads_and_callable_from_async_code() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Remote>();
    let r = Arc::new(remote(Arc::new(InMemory::new())));
    push(&r, records(0..30)).unwrap();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let r = r.clone();
            std::thread::spawn(move || pull_all(&r, "main"))
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), sorted(records(0..30)));
    }
    // From inside another runtime (a caller that forgot spawn_blocking):
    // no panic, the same answer.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let m = rt.block_on(async { r.fetch_ref("main") }).unwrap().unwrap();
    assert_eq!(m.manifest.packs.len(), 1);
    // And it may be dropped there.
    rt.block_on(async move { drop(r) });
}

/// As a real S3 client reports them, a refused connection is an outage and
/// a server that accepts and never answers is a timeout (every retry error
/// names its `retry_timeout` setting: those words must not decide).
#[test]
fn refused_connections_are_outages_and_silent_servers_timeouts() {
    use cst_remote::object_store::aws::AmazonS3Builder;
    use cst_remote::object_store::{BackoffConfig, ClientOptions, RetryConfig};
    let s3 = |port: u16| -> Arc<dyn ObjectStore> {
        Arc::new(
            AmazonS3Builder::new()
                .with_endpoint(format!("http://127.0.0.1:{port}"))
                .with_bucket_name("b")
                .with_access_key_id("k")
                .with_secret_access_key("s")
                .with_region("us-east-1")
                .with_allow_http(true)
                .with_client_options(
                    ClientOptions::new()
                        .with_allow_http(true)
                        .with_connect_timeout(Duration::from_millis(500))
                        .with_timeout(Duration::from_millis(500)),
                )
                .with_retry(RetryConfig {
                    backoff: BackoffConfig::default(),
                    max_retries: 0,
                    retry_timeout: Duration::from_secs(1),
                })
                .build()
                .unwrap(),
        )
    };
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let r = remote(s3(closed));
    let e = r.fetch_ref("main").unwrap_err();
    assert!(matches!(e, Error::Outage(_)), "refused: {e}");
    assert_eq!((r.stats().errors.outage, r.stats().errors.timeout), (1, 0));

    // Connections queue in the backlog and are never answered.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let r = remote(s3(silent.local_addr().unwrap().port()));
    let e = r.fetch_ref("main").unwrap_err();
    assert!(matches!(e, Error::Timeout(_)), "silent: {e}");
    assert_eq!((r.stats().errors.outage, r.stats().errors.timeout), (0, 1));
}

/// Each push adds a pack; past `compact_over` packs a push packs what it
/// is given anew and the manifest lists only that. `gc` then deletes the
/// objects no ref names once older than the grace period, and what the
/// ref names still reads back whole.
#[test]
fn compaction_bounds_the_manifest_and_gc_removes_what_no_ref_names() {
    let store = Arc::new(InMemory::new());
    let r = remote(store.clone());
    for i in 0..3 {
        push(&r, records(i * 5..i * 5 + 5)).unwrap();
    }
    assert_eq!(
        r.fetch_ref("main").unwrap().unwrap().manifest.packs.len(),
        3
    );
    let count = |dir: &str| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let prefix = cst_remote::object_store::path::Path::from(format!("team/cst/v1/{dir}"));
        rt.block_on(async {
            use futures::TryStreamExt;
            store
                .list(Some(&prefix))
                .try_collect::<Vec<_>>()
                .await
                .unwrap()
                .len()
        })
    };
    assert_eq!((count("packs"), count("manifests")), (3, 3));

    // Not over the bound: a delta as before.
    let key = signing_key();
    let (fps, dicts) = (fingerprints(), dicts());
    let with = |over: Option<usize>, recs| {
        r.push(
            &Push {
                branch: "main",
                format: FORMAT,
                fingerprints: &fps,
                dicts: &dicts,
                signing_key: &key,
                compact_over: over,
            },
            recs,
        )
        .unwrap()
    };
    let delta = with(Some(3), records(0..16));
    assert!(!delta.compacted, "{delta:?}");
    assert_eq!((delta.records_present, delta.records_pushed), (15, 1));
    // Over it: everything given, packed anew.
    let compacted = with(Some(3), records(0..16));
    assert!(compacted.compacted, "{compacted:?}");
    assert_eq!(
        (
            compacted.records_present,
            compacted.records_pushed,
            compacted.packs_dropped
        ),
        (0, 16, 4),
        "{compacted:?}"
    );
    let m = r.fetch_ref("main").unwrap().unwrap();
    assert_eq!(m.manifest.packs.len(), 1);
    assert_eq!(m.manifest.generation, 5);
    assert_eq!(pull_all(&r, "main"), sorted(records(0..16)));

    // A dry run and a grace period delete nothing: the manifests replaced
    // within the last hour still count, with what they name.
    let dry = r.gc(Duration::ZERO, true).unwrap();
    assert_eq!(dry.branches, vec!["main".to_string()]);
    assert_eq!(
        dry.deleted,
        4 + 4 + 4,
        "old packs, indexes, manifests: {dry:?}"
    );
    let young = r.gc(Duration::from_secs(3600), false).unwrap();
    assert_eq!(
        (young.deleted, young.young, young.referenced),
        (0, 0, 4 + 12),
        "{young:?}"
    );
    assert_eq!((count("packs"), count("manifests")), (5, 5));
    // Past it: gone, and the ref still reads whole.
    let done = r.gc(Duration::ZERO, false).unwrap();
    assert_eq!(done.deleted, 12, "{done:?}");
    assert_eq!(
        done.referenced,
        1 + 1 + 1 + 1,
        "manifest, pack, index, dictionary"
    );
    assert_eq!((count("packs"), count("manifests")), (1, 1));
    assert_eq!(pull_all(&r, "main"), sorted(records(0..16)));

    // A ref that does not verify: nothing is deleted.
    let other = Remote::with_store(store.clone(), "team", {
        let mut c = config();
        c.public_key = Some(SigningKey::from_seed([9; 32]).public());
        c
    })
    .unwrap();
    assert!(other.gc(Duration::ZERO, false).is_err());
    assert_eq!((count("packs"), count("manifests")), (1, 1));
}
