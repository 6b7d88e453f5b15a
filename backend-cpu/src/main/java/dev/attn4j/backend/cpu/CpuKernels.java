package dev.attn4j.backend.cpu;

/**
 * The kernel twins this backend runs, chosen once: every family of inner loops exists as a Vector API twin and a
 * plain-Java twin that give the same results (bit for bit, except the norm kernels' sums, which differ by
 * summation order only), and the choice between them is made here and nowhere else, as Lucene's
 * {@code VectorizationProvider} makes it. The Vector API twins are used when {@link Simd#available()} (the JVM
 * was started with {@code --add-modules jdk.incubator.vector}); their classes are linked only then.
 *
 * <p>Tests take both sets ({@link #scalar()}, {@link #vector()}) and run every fast path against its scalar twin.
 *
 * <pre>{@code
 * TileMath math = CpuKernels.selected().tileMath();
 * }</pre>
 *
 * @param tileMath    attention's and the GEMM's tile arithmetic
 * @param norm        LayerNorm / RMSNorm rows
 * @param rotary      rotary / xPos rows
 * @param activation  activation functions and GLUs
 * @param elementwise element-wise, reduction and optimizer loops
 * @param loss        the fused cross-entropy's column loops
 */
record CpuKernels(TileMath tileMath, CpuNormKernels norm, RotaryKernels rotary, ActivationKernels activation,
                  ElementwiseKernels elementwise, LossKernels loss) {

    private static final CpuKernels SELECTED = Simd.available() ? vector() : scalar();

    /** The twins this JVM runs. */
    static CpuKernels selected() {
        return SELECTED;
    }

    /** The plain-Java twins (always available). */
    static CpuKernels scalar() {
        return new CpuKernels(ScalarTileMath.INSTANCE, ScalarNormKernels.INSTANCE, ScalarRotaryKernels.INSTANCE,
                ScalarActivationKernels.INSTANCE, ScalarElementwiseKernels.INSTANCE, ScalarLossKernels.INSTANCE);
    }

    /**
     * The Vector API twins.
     *
     * @throws IllegalStateException when the Vector API is not readable in this JVM
     */
    static CpuKernels vector() {
        if (!Simd.available()) {
            throw new IllegalStateException("the Vector API is not enabled: " + Simd.description());
        }
        return new CpuKernels(VectorTileMath.INSTANCE, VectorNormKernels.create(), VectorRotaryKernels.create(),
                VectorActivationKernels.create(), VectorElementwiseKernels.create(), VectorLossKernels.create());
    }
}
