//! The dense form for cold and frozen storage: an encoded tree compressed
//! with lz4 or zstd (optionally with a trained dictionary), in a small
//! checksummed container. See docs/FORMAT.md.

use zerocopy::byteorder::little_endian::{U16, U32};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use std::cell::RefCell;
use std::sync::{Arc, OnceLock};

use crate::DecodeError;

/// Magic bytes of the compressed container.
pub const DENSE_MAGIC: [u8; 4] = *b"CSTZ";
/// Container version.
pub const DENSE_VERSION: u16 = 1;
const DENSE_HEADER_LEN: usize = 24;

/// Largest decompressed size accepted (1 GiB).
pub const MAX_RAW_LEN: u32 = 1 << 30;

/// Compression codec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// LZ4 block format (fast; for the cold tier).
    Lz4,
    /// Zstandard at the given level (1–22; for cold and frozen storage).
    Zstd(i32),
}

#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Clone, Copy)]
#[repr(C)]
struct DenseHeader {
    magic: [u8; 4],
    version: U16,
    codec: u8,
    reserved: u8,
    dict_id: U32,
    raw_len: U32,
    payload_len: U32,
    checksum: U32,
}

const _: () = assert!(size_of::<DenseHeader>() == DENSE_HEADER_LEN);

/// A zstd dictionary (trained on encoded trees, or on sources, of one
/// language). Prepared once for compression and decompression, on first
/// use; clones share the preparation.
#[derive(Clone)]
pub struct Dictionary {
    id: u32,
    bytes: Arc<[u8]>,
    prepared: Arc<Prepared>,
}

#[derive(Default)]
struct Prepared {
    decoder: OnceLock<zstd::dict::DecoderDictionary<'static>>,
    /// For the first level it was used at (others prepare per call).
    encoder: OnceLock<(i32, zstd::dict::EncoderDictionary<'static>)>,
}

thread_local! {
    /// One zstd context per thread for each direction: making one per call
    /// costs more than decompressing a small tree.
    static DCTX: RefCell<zstd::zstd_safe::DCtx<'static>> = RefCell::new(zstd::zstd_safe::DCtx::create());
    static CCTX: RefCell<zstd::zstd_safe::CCtx<'static>> = RefCell::new(zstd::zstd_safe::CCtx::create());
}

impl std::fmt::Debug for Dictionary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Dictionary {{ id: {:#010x}, {} bytes }}",
            self.id,
            self.bytes.len()
        )
    }
}

impl Dictionary {
    /// Trains a dictionary of at most `max_size` bytes from encoded trees.
    pub fn train<S: AsRef<[u8]>>(samples: &[S], max_size: usize) -> std::io::Result<Dictionary> {
        Ok(Dictionary::from_bytes(zstd::dict::from_samples(
            samples, max_size,
        )?))
    }

    /// A dictionary from its stored bytes. Its id is derived from the content
    /// (CRC-32C, never 0), so a container names exactly the dictionary it needs.
    pub fn from_bytes(bytes: Vec<u8>) -> Dictionary {
        let id = crc32c::crc32c(&bytes).max(1);
        Dictionary {
            id,
            bytes: bytes.into(),
            prepared: Arc::default(),
        }
    }

    fn decoder(&self) -> &zstd::dict::DecoderDictionary<'static> {
        self.prepared
            .decoder
            .get_or_init(|| zstd::dict::DecoderDictionary::copy(&self.bytes))
    }

    /// The id stored in containers compressed with this dictionary.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The dictionary's bytes (to store it).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

fn zstd_compress(raw: &[u8], level: i32, dict: Option<&Dictionary>) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(zstd::zstd_safe::compress_bound(raw.len()));
    let failed = |code| std::io::Error::other(zstd::zstd_safe::get_error_name(code));
    match dict {
        None => CCTX
            .with_borrow_mut(|c| c.compress(&mut out, raw, level))
            .map_err(failed)?,
        Some(d) => {
            let (prepared_level, cdict) = d
                .prepared
                .encoder
                .get_or_init(|| (level, zstd::dict::EncoderDictionary::copy(&d.bytes, level)));
            if *prepared_level == level {
                CCTX.with_borrow_mut(|c| c.compress_using_cdict(&mut out, raw, cdict.as_cdict()))
                    .map_err(failed)?
            } else {
                zstd::bulk::Compressor::with_dictionary(level, &d.bytes)?
                    .compress_to_buffer(raw, &mut out)?
            }
        }
    };
    Ok(out)
}

/// Compresses an encoded tree (or any bytes under 1 GiB).
pub fn compress(raw: &[u8], codec: Codec, dict: Option<&Dictionary>) -> std::io::Result<Vec<u8>> {
    let raw_len = u32::try_from(raw.len())
        .ok()
        .filter(|&l| l <= MAX_RAW_LEN)
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "input over 1 GiB"))?;
    let (codec_byte, payload) = match codec {
        Codec::Lz4 => {
            if dict.is_some() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "dictionaries are for zstd",
                ));
            }
            (1u8, lz4_flex::block::compress(raw))
        }
        Codec::Zstd(level) => (2u8, zstd_compress(raw, level, dict)?),
    };
    let mut h = DenseHeader {
        magic: DENSE_MAGIC,
        version: U16::new(DENSE_VERSION),
        codec: codec_byte,
        reserved: 0,
        dict_id: U32::new(dict.map_or(0, |d| d.id)),
        raw_len: U32::new(raw_len),
        payload_len: U32::new(payload.len() as u32),
        checksum: U32::new(0),
    };
    h.checksum = U32::new(crc32c::crc32c_append(
        crc32c::crc32c(&h.as_bytes()[..DENSE_HEADER_LEN - 4]),
        &payload,
    ));
    let mut out = Vec::with_capacity(DENSE_HEADER_LEN + payload.len());
    out.extend_from_slice(h.as_bytes());
    out.extend_from_slice(&payload);
    Ok(out)
}

/// The dictionary id a container needs (0 for none), without decompressing.
pub fn dictionary_id(bytes: &[u8]) -> Result<u32, DecodeError> {
    Ok(parse(bytes)?.0.dict_id.get())
}

fn parse(bytes: &[u8]) -> Result<(DenseHeader, &[u8]), DecodeError> {
    if bytes.len() < 4 || bytes[..4] != DENSE_MAGIC {
        return Err(if bytes.len() < 4 && DENSE_MAGIC.starts_with(bytes) {
            DecodeError::Truncated {
                needed: DENSE_HEADER_LEN,
                available: bytes.len(),
            }
        } else {
            DecodeError::BadMagic
        });
    }
    let (h, payload) =
        DenseHeader::read_from_prefix(bytes).map_err(|_| DecodeError::Truncated {
            needed: DENSE_HEADER_LEN,
            available: bytes.len(),
        })?;
    let version = h.version.get();
    if version != DENSE_VERSION {
        return Err(DecodeError::UnsupportedVersion {
            found: version,
            supported: DENSE_VERSION..=DENSE_VERSION,
        });
    }
    let payload_len = h.payload_len.get() as usize;
    if payload.len() < payload_len {
        return Err(DecodeError::Truncated {
            needed: DENSE_HEADER_LEN + payload_len,
            available: bytes.len(),
        });
    }
    if payload.len() > payload_len {
        return Err(DecodeError::Corrupt {
            offset: DENSE_HEADER_LEN + payload_len,
            what: "trailing bytes",
        });
    }
    let expected = h.checksum.get();
    let actual = crc32c::crc32c_append(crc32c::crc32c(&bytes[..DENSE_HEADER_LEN - 4]), payload);
    if expected != actual {
        return Err(DecodeError::ChecksumMismatch { expected, actual });
    }
    if h.reserved != 0 {
        return Err(DecodeError::Corrupt {
            offset: 7,
            what: "reserved byte",
        });
    }
    Ok((h, payload))
}

/// Decompresses a container. `dict` must be the dictionary it names, if any.
///
/// The output is allocated once, at the declared size, which is checked first
/// against [`MAX_RAW_LEN`] and against the codec's largest possible ratio
/// (255:1 for LZ4 blocks, 32768:1 for zstd frames), so a small input never
/// causes a large allocation.
pub fn decompress(bytes: &[u8], dict: Option<&Dictionary>) -> Result<Vec<u8>, DecodeError> {
    let (h, payload) = parse(bytes)?;
    let raw_len = h.raw_len.get();
    let max_ratio: u64 = match h.codec {
        1 => 255,
        2 => 32768,
        _ => {
            return Err(DecodeError::Corrupt {
                offset: 6,
                what: "codec",
            });
        }
    };
    if raw_len > MAX_RAW_LEN || u64::from(raw_len) > (payload.len() as u64 + 16) * max_ratio {
        return Err(DecodeError::Corrupt {
            offset: 12,
            what: "declared size",
        });
    }
    let want = h.dict_id.get();
    let dict = match (want, dict) {
        (0, _) => None,
        (id, Some(d)) if d.id == id => Some(d),
        (id, d) => {
            return Err(DecodeError::MissingDictionary {
                id,
                given: d.map(|d| d.id),
            });
        }
    };
    let corrupt = |_| DecodeError::Corrupt {
        offset: DENSE_HEADER_LEN,
        what: "compressed payload",
    };
    let out = match h.codec {
        1 => lz4_flex::block::decompress(payload, raw_len as usize).map_err(|_| {
            DecodeError::Corrupt {
                offset: DENSE_HEADER_LEN,
                what: "compressed payload",
            }
        })?,
        _ => {
            let mut out = Vec::with_capacity(raw_len as usize);
            DCTX.with_borrow_mut(|dctx| match dict {
                Some(d) => dctx.decompress_using_ddict(&mut out, payload, d.decoder().as_ddict()),
                None => dctx.decompress(&mut out, payload),
            })
            .map_err(|_| ())
            .map_err(corrupt)?;
            out
        }
    };
    if out.len() != raw_len as usize {
        return Err(DecodeError::Corrupt {
            offset: 12,
            what: "decompressed size differs from the header",
        });
    }
    Ok(out)
}
