/* The C + OpenSSL ceiling for a window-0 TOTP check on one core: HMAC-SHA1 of the 8-byte
 * counter with a context keyed once and reused, dynamic truncation, compare.
 * Build and run: cc -O2 -o /tmp/totp_ceiling totp_ceiling.c -lcrypto && /tmp/totp_ceiling */
#include <openssl/hmac.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

int main(void) {
    unsigned char key[20] = "12345678901234567890";
    HMAC_CTX *keyed = HMAC_CTX_new(), *ctx = HMAC_CTX_new();
    HMAC_Init_ex(keyed, key, sizeof key, EVP_sha1(), NULL);
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    uint64_t n = 0, hits = 0, step = 56666667;
    double elapsed = 0;
    while (elapsed < 2.0) {
        for (int i = 0; i < 10000; i++, n++) {
            unsigned char msg[8], digest[20];
            unsigned int len;
            uint64_t counter = step + (n & 1);
            for (int b = 7; b >= 0; b--) { msg[b] = counter & 0xff; counter >>= 8; }
            HMAC_CTX_copy(ctx, keyed);
            HMAC_Update(ctx, msg, 8);
            HMAC_Final(ctx, digest, &len);
            int offset = digest[19] & 0x0f;
            uint32_t value = ((digest[offset] & 0x7f) << 24 | digest[offset + 1] << 16 | digest[offset + 2] << 8 | digest[offset + 3]) % 1000000;
            hits += (value == 287082);
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        elapsed = (now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9;
    }
    printf("C + OpenSSL, window 0: %.0f verifications/s (%llu hits)\n", n / elapsed, (unsigned long long)hits);
    return 0;
}
