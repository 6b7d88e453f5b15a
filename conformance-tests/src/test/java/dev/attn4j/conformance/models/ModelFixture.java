package dev.attn4j.conformance.models;

import dev.attn4j.domain.safetensors.SafetensorsReader;
import dev.attn4j.domain.safetensors.TensorEntry;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One of the x-transformers 1.20 parity fixtures made by {@code src/test/python/make_model_fixtures.py}: the model's
 * configuration and weights, its inputs, and the float64 outputs with the float32 reference's error per output
 * (PyTorch's pass rule: {@code max|golden − test| <= max(1e-5, 5·ref_err)}).
 *
 * @param name     the fixture's file name without extension
 * @param config   the constructor call as JSON
 * @param weights  {@code weights.<name>} tensors by state-dict name
 * @param tensors  every other tensor (inputs as floats or ints, expected outputs as doubles), by name
 * @param shapes   every tensor's shape, by name
 * @param refErrors {@code ref_err.<output>} by output name
 */
record ModelFixture(String name, String config, Map<String, float[]> weights, Map<String, Object> tensors,
                    Map<String, int[]> shapes, Map<String, Double> refErrors) {

    static final Path DIR = Path.of("src/test/resources/models");

    static ModelFixture load(String name) {
        Path path = DIR.resolve(name + ".safetensors");
        if (!Files.isRegularFile(path)) {
            throw new IllegalStateException("missing fixture " + path.toAbsolutePath());
        }
        try (SafetensorsReader r = SafetensorsReader.open(path)) {
            Map<String, float[]> weights = new LinkedHashMap<>();
            Map<String, Object> tensors = new LinkedHashMap<>();
            Map<String, int[]> shapes = new LinkedHashMap<>();
            for (TensorEntry e : r.entries()) {
                shapes.put(e.name(), e.shape());
                if (e.name().startsWith("weights.")) {
                    weights.put(e.name().substring("weights.".length()), r.readFloats(e.name()));
                } else if (e.name().startsWith("expected.")) {
                    tensors.put(e.name(), r.readDoubles(e.name()));
                } else {
                    tensors.put(e.name(), switch (e.dtype()) {
                        case I32 -> r.readInts(e.name());
                        case BOOL -> r.readBools(e.name());
                        case U8 -> {
                            byte[] bytes = r.readBytes(e.name());
                            boolean[] flags = new boolean[bytes.length];
                            for (int i = 0; i < bytes.length; i++) {
                                flags[i] = bytes[i] != 0;
                            }
                            yield flags;
                        }
                        default -> r.readFloats(e.name());
                    });
                }
            }
            Map<String, Double> refErrors = new LinkedHashMap<>();
            r.metadata().forEach((k, v) -> {
                if (k.startsWith("ref_err.")) {
                    refErrors.put(k.substring("ref_err.".length()), Double.parseDouble(v));
                }
            });
            return new ModelFixture(name, r.metadata().get("config"), weights, tensors, shapes, refErrors);
        }
    }

    int[] ints(String name) {
        return (int[]) tensors.get(name);
    }

    boolean[] bools(String name) {
        return (boolean[]) tensors.get(name);
    }

    double[] expected(String output) {
        return (double[]) tensors.get("expected." + output);
    }

    /** PyTorch's tolerance for an output: {@code max(1e-5, 5·ref_err)}. */
    double tolerance(String output) {
        Double ref = refErrors.get(output);
        if (ref == null) {
            throw new IllegalStateException(name + " has no ref_err." + output);
        }
        return Math.max(1e-5, 5 * ref);
    }
}
