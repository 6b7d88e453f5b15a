package dev.attn4j.app;

import dev.attn4j.ports.Capabilities;
import dev.attn4j.ports.DeviceException;
import dev.attn4j.ports.attention.AttentionBackwardRequest;
import dev.attn4j.ports.attention.AttentionGradients;
import dev.attn4j.ports.attention.AttentionPort;
import dev.attn4j.ports.attention.AttentionRequest;
import dev.attn4j.ports.attention.AttentionResult;
import dev.attn4j.ports.norm.NormBackwardRequest;
import dev.attn4j.ports.norm.NormGradients;
import dev.attn4j.ports.norm.NormRequest;
import dev.attn4j.ports.norm.NormResult;
import dev.attn4j.ports.norm.NormalizationPort;
import dev.attn4j.ports.rotary.RotaryPort;
import dev.attn4j.ports.spi.Availability;
import dev.attn4j.ports.spi.BackendEngine;
import dev.attn4j.ports.spi.BackendOptions;
import dev.attn4j.ports.spi.BackendProvider;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.TensorPort;

import java.util.List;

/** Providers for command tests: one that is never available, one whose forward outputs are wrong. */
public final class FakeProviders {
    private FakeProviders() {
    }

    /** A provider whose probe always says no, with {@code reason}. */
    public static BackendProvider unavailable(String name, String reason) {
        return new BackendProvider() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public int priority() {
                return 50;
            }

            @Override
            public Availability probe() {
                return Availability.unavailable(reason);
            }

            @Override
            public BackendEngine open(BackendOptions options) {
                throw new AssertionError("an unavailable backend must not be opened");
            }
        };
    }

    /** A provider whose probe says yes but whose device then fails to open. */
    public static BackendProvider failsToOpen(String name) {
        return new BackendProvider() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public int priority() {
                return 60;
            }

            @Override
            public Availability probe() {
                return Availability.available("probe passed", List.of("device 0"));
            }

            @Override
            public BackendEngine open(BackendOptions options) {
                throw new DeviceException(name, "DEVICE_BUSY", "device 0 is busy");
            }
        };
    }

    /**
     * A backend named {@code name} that computes with {@code delegate} but adds 0.5 to every attention and
     * normalisation forward output: a conformance run must catch it.
     */
    public static BackendProvider skewed(String name, BackendProvider delegate) {
        return new BackendProvider() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public int priority() {
                return 1;
            }

            @Override
            public Availability probe() {
                return Availability.available("test backend: " + delegate.name() + " with forward outputs off by 0.5",
                        List.of());
            }

            @Override
            public BackendEngine open(BackendOptions options) {
                return new SkewedEngine(name, delegate.open(options));
            }
        };
    }

    private record SkewedEngine(String name, BackendEngine inner) implements BackendEngine {
        @Override
        public Capabilities capabilities() {
            return inner.capabilities();
        }

        @Override
        public List<String> devices() {
            return inner.devices();
        }

        @Override
        public TensorPort tensors() {
            return inner.tensors();
        }

        @Override
        public AttentionPort attention() {
            return new AttentionPort() {
                @Override
                public AttentionResult forward(AttentionRequest request) {
                    AttentionResult r = inner.attention().forward(request);
                    return new AttentionResult(skew(r.o()), r.lse());
                }

                @Override
                public AttentionGradients backward(AttentionBackwardRequest request) {
                    return inner.attention().backward(request);
                }
            };
        }

        @Override
        public NormalizationPort normalization() {
            return new NormalizationPort() {
                @Override
                public NormResult forward(NormRequest request) {
                    NormResult r = inner.normalization().forward(request);
                    return new NormResult(skew(r.y()), r.mean(), r.rstd(), r.sum());
                }

                @Override
                public NormGradients backward(NormBackwardRequest request) {
                    return inner.normalization().backward(request);
                }
            };
        }

        @Override
        public RotaryPort rotary() {
            return inner.rotary();
        }

        @Override
        public boolean owns(DeviceTensor tensor) {
            return inner.owns(tensor);
        }

        @Override
        public void close() {
            inner.close();
        }

        private DeviceTensor skew(DeviceTensor t) {
            float[] values = inner.tensors().download(t);
            for (int i = 0; i < values.length; i++) {
                values[i] += 0.5f;
            }
            DeviceTensor skewed = inner.tensors().upload(values, t.shape(), t.dtype());
            t.close();
            return skewed;
        }
    }
}
