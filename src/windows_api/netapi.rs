//! Buffers the NetApi functions (`NetUserEnum`, `NetLocalGroupGetMembers`,
//! `NetGetJoinInformation`, ...) allocate for their results.

use windows_sys::Win32::NetworkManagement::NetManagement::NetApiBufferFree;

/// A result buffer the system allocated; freed with `NetApiBufferFree` on
/// drop, as the functions' documentation requires (also after
/// `ERROR_MORE_DATA`).
pub(crate) struct NetBuffer(*mut u8);

impl NetBuffer {
    /// An empty slot for the function to fill.
    pub(crate) fn new() -> Self {
        NetBuffer(std::ptr::null_mut())
    }

    /// Where the function stores its pointer.
    pub(crate) fn slot(&mut self) -> *mut *mut u8 {
        &mut self.0
    }

    /// The buffer as an array of `count` structures of type `T`.
    ///
    /// # Safety
    ///
    /// The function that filled the buffer documents it as an array of at
    /// least `count` values of type `T` (the level's structure and the
    /// entries-read count it returned).
    pub(crate) unsafe fn entries<T>(&self, count: u32) -> &[T] {
        if self.0.is_null() || count == 0 {
            return &[];
        }
        // SAFETY: per the caller's contract, `count` initialised `T`s start
        // at the buffer, which the system allocated suitably aligned for the
        // structures and which lives as long as `self`.
        unsafe { std::slice::from_raw_parts(self.0.cast::<T>(), count as usize) }
    }

    /// The raw pointer (for functions that return a string).
    pub(crate) fn as_ptr(&self) -> *const u8 {
        self.0
    }
}

impl Drop for NetBuffer {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: the pointer was allocated by a NetApi function and is
            // freed exactly once.
            unsafe { NetApiBufferFree(self.0.cast()) };
        }
    }
}
