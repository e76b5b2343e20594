/*
 * bcryptprimitives.dll for Wine 8, which does not ship one.
 *
 * Rust's standard library (1.78 and later) takes its random numbers from
 * ProcessPrng in bcryptprimitives.dll, imported at load time: without this
 * DLL a Rust program does not even start under Wine 8. This stand-in
 * exports ProcessPrng and fills the buffer from RtlGenRandom (exported by
 * advapi32 as SystemFunction036), which Wine does implement.
 *
 * It exists only for the CI smoke test (.ci/steps/20-windows.sh), which
 * builds it with mingw-w64 and places it next to irdump.exe. It is never
 * shipped: real Windows (8 and later) has its own bcryptprimitives.dll.
 */
#include <windows.h>

/* RtlGenRandom; ULONG-sized requests, so larger buffers go in chunks. */
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x7fffffff ? 0x7fffffff : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
