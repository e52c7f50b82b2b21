//! Test helpers: records, keys, a client over a store, and `Faulty`, a
//! fault injector around a real store (it forwards to it, and fails the
//! calls it is told to fail).

#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use cst_remote::object_store::path::Path;
use cst_remote::object_store::{
    self, CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult, RenameOptions,
};
use cst_remote::{Key, Remote, RemoteConfig, SigningKey};
use futures::StreamExt as _;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use parking_lot::Mutex;

pub fn key(i: u32) -> Key {
    cst_remote::digest(format!("record {i}").as_bytes())
}

pub fn body(i: u32) -> Bytes {
    let n = (i as usize * 37) % 300;
    Bytes::from(
        (0..n)
            .map(|j| (i as usize * 7 + j) as u8)
            .collect::<Vec<u8>>(),
    )
}

pub fn records(range: std::ops::Range<u32>) -> Vec<(Key, Bytes)> {
    range.map(|i| (key(i), body(i))).collect()
}

pub fn signing_key() -> SigningKey {
    SigningKey::from_seed([7; 32])
}

pub fn config() -> RemoteConfig {
    let mut c = RemoteConfig::new("memory://test");
    c.public_key = Some(signing_key().public());
    c.breaker_cooldown = None;
    c
}

pub fn remote(store: Arc<dyn ObjectStore>) -> Remote {
    Remote::with_store(store, "team", config()).unwrap()
}

/// What `Faulty` does to the calls it forwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Forward.
    Pass,
    /// Every call fails as a 503 storm would, after retries.
    Outage,
    /// Every call is refused as with wrong credentials (403).
    Auth,
    /// Puts are refused (403); reads pass (read-only credentials).
    AuthOnWrite,
    /// Every call hangs this long before forwarding.
    Slow(Duration),
}

/// A concurrent writer's action, run before the first put to a ref.
pub type Hook = Box<dyn FnOnce(Arc<dyn ObjectStore>) -> BoxFuture<'static, ()> + Send>;

/// A fault injector around a real store.
pub struct Faulty {
    pub inner: Arc<dyn ObjectStore>,
    /// Calls that reached it.
    pub calls: AtomicU64,
    /// Puts that reached it.
    pub puts: AtomicU64,
    /// Fail the put with this number (1-based; 0: none).
    pub fail_put: AtomicU64,
    pub mode: Mutex<Mode>,
    /// Run once before the first put to a ref (a concurrent writer).
    pub before_ref_put: Mutex<Option<Hook>>,
}

impl std::fmt::Debug for Faulty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Faulty({:?})", self.inner)
    }
}

impl std::fmt::Display for Faulty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Faulty({})", self.inner)
    }
}

impl Faulty {
    pub fn new(inner: Arc<dyn ObjectStore>) -> Arc<Self> {
        Arc::new(Faulty {
            inner,
            calls: AtomicU64::new(0),
            puts: AtomicU64::new(0),
            fail_put: AtomicU64::new(0),
            mode: Mutex::new(Mode::Pass),
            before_ref_put: Mutex::new(None),
        })
    }

    pub fn set(&self, mode: Mode) {
        *self.mode.lock() = mode;
    }

    async fn gate(&self, path: &Path, write: bool) -> object_store::Result<()> {
        self.calls.fetch_add(1, SeqCst);
        let mode = *self.mode.lock();
        match mode {
            Mode::Pass => Ok(()),
            Mode::Outage => Err(object_store::Error::Generic {
                store: "S3",
                source: "Error performing GET: Server returned non-2xx status code: \
                         503 Service Unavailable after 2 retries"
                    .into(),
            }),
            Mode::Auth => Err(object_store::Error::PermissionDenied {
                path: path.to_string(),
                source: "403 Forbidden: InvalidAccessKeyId".into(),
            }),
            Mode::AuthOnWrite if write => Err(object_store::Error::PermissionDenied {
                path: path.to_string(),
                source: "403 Forbidden: AccessDenied".into(),
            }),
            Mode::AuthOnWrite => Ok(()),
            Mode::Slow(d) => {
                tokio::time::sleep(d).await;
                Ok(())
            }
        }
    }
}

#[async_trait]
impl ObjectStore for Faulty {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        self.gate(location, true).await?;
        let n = self.puts.fetch_add(1, SeqCst) + 1;
        if n == self.fail_put.load(SeqCst) {
            return Err(object_store::Error::Generic {
                store: "S3",
                source: format!("injected failure of put {n} ({location})").into(),
            });
        }
        if location.as_ref().contains("/refs/") {
            let hook = self.before_ref_put.lock().take();
            if let Some(hook) = hook {
                hook(self.inner.clone()).await;
            }
        }
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        self.gate(location, true).await?;
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(
        &self,
        location: &Path,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        self.gate(location, false).await?;
        self.inner.get_opts(location, options).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        self.calls.fetch_add(1, SeqCst);
        self.inner.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.calls.fetch_add(1, SeqCst);
        self.inner.list(prefix).boxed()
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        self.calls.fetch_add(1, SeqCst);
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(
        &self,
        from: &Path,
        to: &Path,
        options: CopyOptions,
    ) -> object_store::Result<()> {
        self.gate(to, true).await?;
        self.inner.copy_opts(from, to, options).await
    }

    async fn rename_opts(
        &self,
        from: &Path,
        to: &Path,
        options: RenameOptions,
    ) -> object_store::Result<()> {
        self.gate(to, true).await?;
        self.inner.rename_opts(from, to, options).await
    }
}

/// Reads an object of a store directly (outside any client).
pub fn read(store: &Arc<dyn ObjectStore>, path: &Path) -> Bytes {
    use object_store::ObjectStoreExt as _;
    block_on(async { store.get(path).await.unwrap().bytes().await.unwrap() })
}

/// Writes an object of a store directly (outside any client).
pub fn write(store: &Arc<dyn ObjectStore>, path: &Path, bytes: Bytes) {
    use object_store::ObjectStoreExt as _;
    block_on(async { store.put(path, bytes.into()).await.unwrap() });
}

/// Every object's path under the store.
pub fn list(store: &Arc<dyn ObjectStore>) -> Vec<Path> {
    use futures::TryStreamExt as _;
    let mut v: Vec<Path> = block_on(async {
        store
            .list(None)
            .map_ok(|m| m.location)
            .try_collect::<Vec<_>>()
            .await
            .unwrap()
    });
    v.sort();
    v
}

pub fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}
