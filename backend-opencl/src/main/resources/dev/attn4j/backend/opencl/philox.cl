// Philox4x32-10 (Salmon et al., SC'11), shared by attention dropout (attention.cl) and the uniform fill (ops.cl):
// built ahead of each source that uses it, so every kernel draws from the one stream the ports' Dropout and
// UniformRequest document.
inline uint4 philox4x32_10(uint4 ctr, uint2 key) {
    for (int round = 0; round < 10; round++) {
        const uint lo0 = 0xD2511F53u * ctr.x, hi0 = mul_hi(0xD2511F53u, ctr.x);
        const uint lo1 = 0xCD9E8D57u * ctr.z, hi1 = mul_hi(0xCD9E8D57u, ctr.z);
        ctr = (uint4) (hi1 ^ ctr.y ^ key.x, lo1, hi0 ^ ctr.w ^ key.y, lo0);
        key += (uint2) (0x9E3779B9u, 0xBB67AE85u);
    }
    return ctr;
}
