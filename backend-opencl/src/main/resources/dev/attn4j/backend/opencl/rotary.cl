/*
 * Rotary position embedding with an optional xPos scale (ports' RotaryRequest): the first R = 2 * pairs
 * features of every head of x [B, S, H, D] turn pairwise by the angle of their position; the rest are
 * copied. One work-item per element; each computes its own output from its pair, so nothing races.
 */
__kernel void rotary(__global const float* x, __global const float* cosines, __global const float* sines,
                     __global const float* scales, int has_scale, int seq, int heads, int dim, int pairs,
                     int split_half, int inverse, __global float* y, long count) {
    const long e = get_global_id(0);
    if (e >= count) return;
    const int d = (int) (e % dim);
    const int n = (int) ((e / ((long) dim * heads)) % seq);
    if (d >= 2 * pairs) {
        y[e] = x[e];
        return;
    }
    /* p: the pair; first: whether this element is the pair's first component. */
    const int p = split_half ? (d < pairs ? d : d - pairs) : d / 2;
    const int first = split_half ? d < pairs : (d % 2) == 0;
    const long partner = e + (split_half ? (first ? pairs : -pairs) : (first ? 1 : -1));
    const float x1 = first ? x[e] : x[partner];
    const float x2 = first ? x[partner] : x[e];
    const long t = (long) n * pairs + p;
    const float c = cosines[t];
    const float s = inverse ? -sines[t] : sines[t];
    const float zeta = has_scale ? scales[t] : 1.0f;
    y[e] = zeta * (first ? x1 * c - x2 * s : x1 * s + x2 * c);
}
