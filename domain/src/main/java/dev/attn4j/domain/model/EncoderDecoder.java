package dev.attn4j.domain.model;

import dev.attn4j.domain.layers.Step;
import dev.attn4j.domain.parameters.Grouping;
import dev.attn4j.domain.parameters.ParameterSpec;
import dev.attn4j.domain.parameters.ParameterStore;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * x-transformers' {@code XTransformer}, T5-style: an encoder whose final-normed output the decoder's
 * cross-attention layers read. Parameter names are the reference's ({@code encoder.…}, {@code decoder.net.…}).
 * The encoder's logits layer exists in the state dict but is never used (and gets no gradient), as in the reference.
 *
 * <pre>{@code
 * try (EncoderDecoder model = EncoderDecoder.create(backend, ModelConfigs.t5(), 42L);
 *      Step step = Step.training(backend, 7L, 0L)) {
 *     EncoderDecoder.Pass pass = model.forward(step, src, tgt, true);
 *     Transformer.Loss loss = model.lossAndBackward(step, pass, targets, 1f / tokens);
 * }
 * }</pre>
 */
public final class EncoderDecoder implements AutoCloseable {
    /** The encoder's parameter prefix. */
    public static final String ENCODER = "encoder.";
    /** The decoder's parameter prefix (the decoder sits inside an AutoregressiveWrapper in the reference). */
    public static final String DECODER = "decoder.net.";

    private final XTransformerConfig config;
    private final ParameterStore store;
    private final Transformer encoder;
    private final Transformer decoder;

    private EncoderDecoder(XTransformerConfig config, ParameterStore store) {
        this.config = config;
        this.store = store;
        this.encoder = new Transformer(config.encoder(), store, ENCODER, false);
        this.decoder = new Transformer(config.decoder(), store, DECODER, false);
    }

    /**
     * A fresh model with its own parameters.
     *
     * @param backend where the parameters live and every pass runs
     * @param config both stacks' shapes and the shared options, as x-transformers' {@code XTransformer} takes them
     * @param seed the Philox key the initial weights are drawn from
     * @return the model, owning its store
     */
    public static EncoderDecoder create(Backend backend, XTransformerConfig config, long seed) {
        List<ParameterSpec> specs = new ArrayList<>(Transformer.specs(config.encoder(), ENCODER));
        specs.addAll(Transformer.specs(config.decoder(), DECODER));
        return new EncoderDecoder(config, ParameterStore.allocate(backend, specs, Grouping.decay(), s -> true, seed));
    }

    /** {@return the configuration this model was built from} */
    public XTransformerConfig config() {
        return config;
    }

    /** {@return the store of both stacks' parameters} (names prefixed {@value #ENCODER} and {@value #DECODER}) */
    public ParameterStore parameters() {
        return store;
    }

    /** {@return the encoder} (bidirectional, no logits of its own) */
    public Transformer encoder() {
        return encoder;
    }

    /** {@return the decoder} (causal, cross-attending to the encoder's output) */
    public Transformer decoder() {
        return decoder;
    }

    /** One pass: the encoder's and the decoder's. */
    public static final class Pass implements AutoCloseable {
        private final Transformer.Pass encoder;
        private final Transformer.Pass decoder;

        Pass(Transformer.Pass encoder, Transformer.Pass decoder) {
            this.encoder = encoder;
            this.decoder = decoder;
        }

        /** {@return the encoder's pass}; its hidden state is the decoder's context. */
        public Transformer.Pass encoder() {
            return encoder;
        }

        /** {@return the decoder's pass} */
        public Transformer.Pass decoder() {
            return decoder;
        }

        @Override
        public void close() {
            decoder.close();
            encoder.close();
        }
    }

    /**
     * Encodes {@code source} and runs the decoder on {@code target} against it.
     *
     * @param step the pass (it owns both stacks' temporaries)
     * @param source the encoder's tokens {@code [B, Ss]}, with their padding
     * @param target the decoder's input tokens {@code [B, St]}
     * @param save whether to keep what backward needs
     * @return the encoder's and decoder's passes
     */
    public Pass forward(Step step, TokenBatch source, TokenBatch target, boolean save) {
        Transformer.Pass enc = encoder.forward(step, source, save);
        Transformer.Pass dec = decoder.forward(step, target, enc.hidden(), source, save);
        return new Pass(enc, dec);
    }

    /**
     * The decoder's logits {@code [B, St, V]}.
     *
     * @param step the pass the logits belong to (it owns them)
     * @param pass a forward pass of this model
     * @return F32 {@code [B, St, V]}
     */
    public DeviceTensor logits(Step step, Pass pass) {
        return decoder.logits(step, pass.decoder());
    }

    /**
     * The decoder's next-token loss and every parameter's gradient (the decoder's, then through the context the
     * encoder's), scaled by {@code gradScale}.
     *
     * @param step a training pass
     * @param pass a forward pass run with {@code save} set
     * @param targets {@code [B, St]} class ids aligned with the decoder's logits, −100 where no loss is taken
     * @param gradScale the factor applied to every gradient
     * @return the summed cross-entropy and the number of tokens counted, on the device
     */
    public Transformer.Loss lossAndBackward(Step step, Pass pass, int[] targets, float gradScale) {
        DeviceTensor context = pass.encoder().hidden();
        DeviceTensor contextGrad = step.own(step.backend().tensors().zeros(context.shape(), DType.F32));
        Transformer.Loss loss = decoder.lossAndBackward(step, pass.decoder(), targets, gradScale, contextGrad);
        encoder.backward(step, pass.encoder(), contextGrad, null);
        contextGrad.close();
        return loss;
    }

    /**
     * Loads a state dict in x-transformers' names and head order.
     *
     * @param tensors row-major F32 values by name, every one under {@value #ENCODER} or {@value #DECODER}
     */
    public void loadStateDict(Map<String, float[]> tensors) {
        Map<String, float[]> enc = new LinkedHashMap<>();
        Map<String, float[]> dec = new LinkedHashMap<>();
        for (Map.Entry<String, float[]> e : tensors.entrySet()) {
            if (e.getKey().startsWith(ENCODER)) {
                enc.put(e.getKey(), e.getValue());
            } else if (e.getKey().startsWith(DECODER)) {
                dec.put(e.getKey(), e.getValue());
            } else {
                throw new dev.attn4j.ports.InvalidRequestException(e.getKey(), "a tensor under encoder. or decoder.net.",
                        "a tensor of another model");
            }
        }
        encoder.loadStateDict(enc);
        decoder.loadStateDict(dec);
    }

    /**
     * Both stacks' parameters in x-transformers' names and head order.
     *
     * @return row-major F32 values by name, ready for a safetensors file PyTorch can load
     */
    public Map<String, float[]> stateDict() {
        Map<String, float[]> out = new LinkedHashMap<>(encoder.stateDict());
        out.putAll(decoder.stateDict());
        return out;
    }

    /**
     * Both stacks' gradients in x-transformers' names and head order.
     *
     * @return row-major F32 gradients by parameter name (frozen parameters are absent)
     */
    public Map<String, float[]> gradients() {
        Map<String, float[]> out = new LinkedHashMap<>(encoder.gradients());
        out.putAll(decoder.gradients());
        return out;
    }

    @Override
    public void close() {
        store.close();
    }
}
