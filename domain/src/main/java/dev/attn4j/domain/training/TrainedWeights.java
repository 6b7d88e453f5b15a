package dev.attn4j.domain.training;

import dev.attn4j.domain.model.Transformer;
import dev.attn4j.domain.parameters.Parameter;
import dev.attn4j.domain.parameters.ParameterStore;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a {@link Trainer} updates and checkpoints: the parameter store its optimizer steps, and how a checkpoint
 * writes and reads those weights. Full fine-tuning trains the model's own store (saved in the reference's names);
 * parameter-efficient fine-tuning trains an adapter's store while the base stays frozen.
 *
 * <pre>{@code
 * Trainer full = new Trainer(model, TrainedWeights.of(model), config, data, Map.of());
 * Trainer lora = new Trainer(model, TrainedWeights.of(adapter.parameters()), config, data, groups);
 * }</pre>
 */
public interface TrainedWeights {

    /** {@return the parameters the optimizer updates (their groups, values and gradients)} */
    ParameterStore parameters();

    /** {@return the weights a checkpoint stores, by name} */
    Map<String, float[]> stateDict();

    /** {@return the shape of each of {@link #stateDict()}'s entries} */
    Map<String, int[]> shapes();

    /**
     * Restores weights a checkpoint stored.
     *
     * @param values by name, as {@link #stateDict()} gave them
     */
    void loadStateDict(Map<String, float[]> values);

    /**
     * A whole model's parameters, checkpointed in its reference's state-dict names (x-transformers').
     *
     * @param model the model
     * @return its weights
     */
    static TrainedWeights of(Transformer model) {
        return new TrainedWeights() {
            @Override
            public ParameterStore parameters() {
                return model.parameters();
            }

            @Override
            public Map<String, float[]> stateDict() {
                return model.stateDict();
            }

            @Override
            public Map<String, int[]> shapes() {
                Map<String, int[]> out = new LinkedHashMap<>();
                ParameterStore store = model.parameters();
                stateDict().forEach((name, v) -> out.put(name,
                        store.contains(name) ? store.get(name).shape().dims() : new int[] {v.length}));
                return out;
            }

            @Override
            public void loadStateDict(Map<String, float[]> values) {
                model.loadStateDict(values);
            }
        };
    }

    /**
     * A store's trainable parameters (an adapter's, say) under the store's own names.
     *
     * @param store the store
     * @return its trainable weights
     */
    static TrainedWeights of(ParameterStore store) {
        return new TrainedWeights() {
            @Override
            public ParameterStore parameters() {
                return store;
            }

            @Override
            public Map<String, float[]> stateDict() {
                Map<String, float[]> out = new LinkedHashMap<>();
                store.values().forEach((name, v) -> {
                    if (store.get(name).trainable()) {
                        out.put(name, v);
                    }
                });
                return out;
            }

            @Override
            public Map<String, int[]> shapes() {
                Map<String, int[]> out = new LinkedHashMap<>();
                for (Parameter p : store.parameters()) {
                    if (p.trainable()) {
                        out.put(p.name(), p.shape().dims());
                    }
                }
                return out;
            }

            @Override
            public void loadStateDict(Map<String, float[]> values) {
                store.load(values, name -> !store.get(name).trainable());
            }
        };
    }
}
