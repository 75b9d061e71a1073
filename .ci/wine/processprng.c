/* A stand-in for bcryptprimitives.dll, for Wine releases older than 9 (Debian 12 ships Wine 8),
 * whose bcryptprimitives.dll lacks ProcessPrng. Rust's standard library imports ProcessPrng at
 * start-up to seed its hash maps, so without it no Rust program starts under such a Wine.
 * This DLL exports only ProcessPrng and forwards it to RtlGenRandom (advapi32's SystemFunction036).
 * Used by .ci/windows.sh only; never shipped.
 *
 * x86_64-w64-mingw32-gcc -O2 -shared -o bcryptprimitives.dll processprng.c -ladvapi32
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length); /* RtlGenRandom */

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE; /* the real ProcessPrng always returns TRUE */
}
