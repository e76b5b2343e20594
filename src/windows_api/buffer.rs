//! Byte buffers handed to API functions that fill them with structures.

/// A zeroed byte buffer aligned to 8 bytes, enough for every structure the
/// IP Helper and token functions write (their widest members are pointers
/// and 64-bit integers).
pub(crate) struct AlignedBuffer {
    words: Vec<u64>,
}

impl AlignedBuffer {
    /// A buffer of at least `bytes` bytes.
    pub(crate) fn new(bytes: usize) -> Self {
        AlignedBuffer {
            words: vec![0; bytes.div_ceil(8).max(1)],
        }
    }

    /// Its size in bytes.
    pub(crate) fn len(&self) -> usize {
        self.words.len() * 8
    }

    /// Pointer for the API to write through.
    pub(crate) fn as_mut_ptr(&mut self) -> *mut u8 {
        self.words.as_mut_ptr().cast()
    }

    /// Pointer for reading the structures back.
    pub(crate) fn as_ptr(&self) -> *const u8 {
        self.words.as_ptr().cast()
    }

    /// The first `len` bytes (all of them if `len` is larger).
    pub(crate) fn bytes(&self, len: usize) -> &[u8] {
        let len = len.min(self.len());
        // SAFETY: the Vec owns `self.len()` initialised bytes (zeroed at
        // creation, then written by the API) and `len` does not exceed
        // that; u8 has no alignment requirement.
        unsafe { std::slice::from_raw_parts(self.as_ptr(), len) }
    }
}
