package dev.attn4j.app;

import dev.attn4j.ports.Capabilities;
import dev.attn4j.ports.attention.AttentionCapabilities;
import dev.attn4j.ports.attention.AttentionFeature;
import dev.attn4j.ports.norm.NormCapabilities;
import dev.attn4j.ports.norm.NormFeature;
import dev.attn4j.ports.tensor.TensorCapabilities;
import dev.attn4j.ports.attention.AttentionBackwardRequest;
import dev.attn4j.ports.attention.AttentionGradients;
import dev.attn4j.ports.attention.AttentionPort;
import dev.attn4j.ports.attention.AttentionRequest;
import dev.attn4j.ports.attention.AttentionResult;
import dev.attn4j.ports.norm.NormBackwardRequest;
import dev.attn4j.ports.norm.NormGradients;
import dev.attn4j.ports.norm.NormKind;
import dev.attn4j.ports.norm.NormRequest;
import dev.attn4j.ports.norm.NormResult;
import dev.attn4j.ports.norm.NormalizationPort;
import dev.attn4j.ports.rotary.RotaryPort;
import dev.attn4j.ports.spi.Availability;
import dev.attn4j.ports.spi.BackendEngine;
import dev.attn4j.ports.spi.BackendOptions;
import dev.attn4j.ports.spi.BackendProvider;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import dev.attn4j.ports.tensor.TensorPort;

import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A test backend on host arrays that computes nothing (outputs are zeros) but counts its kernel calls and
 * remembers the options it was opened with: enough to check what the bench command runs, independent of
 * any real backend's progress. Declares no CAUSAL, so causal requests are unsupported.
 */
public final class HostBackend implements BackendProvider {
    public final AtomicInteger attentionForward = new AtomicInteger();
    public final AtomicInteger attentionBackward = new AtomicInteger();
    public final AtomicInteger normForward = new AtomicInteger();
    public final AtomicInteger normBackward = new AtomicInteger();
    public volatile BackendOptions openedWith;

    @Override
    public String name() {
        return "host";
    }

    @Override
    public int priority() {
        return 10;
    }

    @Override
    public Availability probe() {
        return Availability.available("test backend", List.of("host memory"));
    }

    @Override
    public BackendEngine open(BackendOptions options) {
        openedWith = options;
        return new Engine();
    }

    private static final class Tensor implements DeviceTensor {
        final Engine owner;
        final Shape shape;
        final DType dtype;
        final float[] data;
        boolean closed;

        Tensor(Engine owner, Shape shape, DType dtype, float[] data) {
            this.owner = owner;
            this.shape = shape;
            this.dtype = dtype;
            this.data = data;
        }

        @Override
        public Shape shape() {
            return shape;
        }

        @Override
        public DType dtype() {
            return dtype;
        }

        @Override
        public String backendName() {
            return "host";
        }

        @Override
        public boolean isClosed() {
            return closed;
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    private final class Engine implements BackendEngine, TensorPort, AttentionPort, NormalizationPort {
        @Override
        public String name() {
            return "host";
        }

        @Override
        public Capabilities capabilities() {
            return Capabilities.of(TensorCapabilities.transfers(EnumSet.of(DType.F32)),
                    new AttentionCapabilities(EnumSet.of(DType.F32), EnumSet.of(AttentionFeature.BACKWARD,
                            AttentionFeature.GQA), 1, 256),
                    new NormCapabilities(EnumSet.of(DType.F32), EnumSet.of(NormFeature.LAYER_NORM, NormFeature.RMS_NORM)));
        }

        @Override
        public List<String> devices() {
            return List.of("host memory");
        }

        @Override
        public TensorPort tensors() {
            return this;
        }

        @Override
        public AttentionPort attention() {
            return this;
        }

        @Override
        public NormalizationPort normalization() {
            return this;
        }

        @Override
        public RotaryPort rotary() {
            throw new UnsupportedOperationException("no rotary");
        }

        @Override
        public boolean owns(DeviceTensor tensor) {
            return tensor instanceof Tensor t && t.owner == this;
        }

        @Override
        public void close() {
        }

        @Override
        public DeviceTensor upload(float[] data, Shape shape, DType dtype) {
            return new Tensor(this, shape, dtype, data.clone());
        }

        @Override
        public DeviceTensor uploadInts(int[] data, Shape shape) {
            throw new UnsupportedOperationException("no ints");
        }

        @Override
        public DeviceTensor uploadBools(boolean[] data, Shape shape) {
            throw new UnsupportedOperationException("no bools");
        }

        @Override
        public DeviceTensor zeros(Shape shape, DType dtype) {
            return new Tensor(this, shape, dtype, new float[(int) shape.elementCount()]);
        }

        @Override
        public float[] download(DeviceTensor tensor) {
            return ((Tensor) tensor).data.clone();
        }

        @Override
        public int[] downloadInts(DeviceTensor tensor) {
            throw new UnsupportedOperationException("no ints");
        }

        @Override
        public boolean[] downloadBools(DeviceTensor tensor) {
            throw new UnsupportedOperationException("no bools");
        }

        @Override
        public AttentionResult forward(AttentionRequest request) {
            attentionForward.incrementAndGet();
            return new AttentionResult(zeros(request.q().shape(), DType.F32), zeros(request.shape().lseShape(), DType.F32));
        }

        @Override
        public AttentionGradients backward(AttentionBackwardRequest request) {
            attentionBackward.incrementAndGet();
            return new AttentionGradients(zeros(request.q().shape(), DType.F32), zeros(request.k().shape(), DType.F32),
                    zeros(request.v().shape(), DType.F32), null);
        }

        @Override
        public NormResult forward(NormRequest request) {
            normForward.incrementAndGet();
            return new NormResult(zeros(request.input().shape(), DType.F32),
                    request.kind() == NormKind.LAYER_NORM ? zeros(request.statsShape(), DType.F32) : null,
                    zeros(request.statsShape(), DType.F32), null);
        }

        @Override
        public NormGradients backward(NormBackwardRequest request) {
            normBackward.incrementAndGet();
            NormRequest f = request.forward();
            return new NormGradients(zeros(f.input().shape(), DType.F32), null, zeros(f.gamma().shape(), DType.F32),
                    f.beta() == null ? null : zeros(f.beta().shape(), DType.F32));
        }
    }
}
