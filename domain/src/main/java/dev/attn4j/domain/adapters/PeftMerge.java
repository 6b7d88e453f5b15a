package dev.attn4j.domain.adapters;

import dev.attn4j.domain.safetensors.SafetensorsFormatException;
import dev.attn4j.domain.safetensors.SafetensorsReader;
import dev.attn4j.domain.safetensors.TensorEntry;
import dev.attn4j.ports.InvalidRequestException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Merges a PEFT adapter directory into a model's weights on the host, without a backend: what
 * {@link PeftModel#mergeAndUnload} computes on a device, here in double precision over the state dict in
 * x-transformers' names and head order (the order both files are in, so no head permutation arises). LoRA adds
 * {@code s·B·A} to {@code <module>.weight}; VeRA adds {@code (λ_b ⊙ B_s)·(λ_d ⊙ A_s)} with the slices of the saved (or,
 * without {@code save_projection}, regenerated) projections; a PiSSA adapter first turns each weight into its
 * residual as PEFT's loading does (so it applies to the original weights).
 *
 * <pre>{@code
 * Map<String, float[]> merged = PeftMerge.merge(weights, shapes, Path.of("my-adapter"));
 * }</pre>
 */
public final class PeftMerge {
    private PeftMerge() {
    }

    /**
     * The merged weights.
     *
     * @param weights the model's state dict (x-transformers names), not modified
     * @param shapes  each weight's shape
     * @param dir     the adapter directory
     * @return a new state dict with the adapted weights replaced
     * @throws InvalidRequestException for an adapter whose modules or shapes the weights lack
     */
    public static Map<String, float[]> merge(Map<String, float[]> weights, Map<String, int[]> shapes, Path dir) {
        AdapterConfig config = AdapterConfigs.read(dir);
        Path file = dir.resolve(AdapterConfigs.WEIGHTS_FILE);
        InvalidRequestException.check(Files.isRegularFile(file), "adapter", "a directory holding "
                + AdapterConfigs.WEIGHTS_FILE, dir);
        Map<String, float[]> tensors = new TreeMap<>();
        Map<String, int[]> tensorShapes = new TreeMap<>();
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            for (TensorEntry e : r.entries()) {
                tensors.put(e.name(), r.readFloats(e.name()));
                tensorShapes.put(e.name(), e.shape());
            }
        } catch (SafetensorsFormatException | IllegalArgumentException e) {
            throw new InvalidRequestException(AdapterConfigs.WEIGHTS_FILE, "a safetensors file of floating tensors",
                    e.getMessage());
        }
        String suffixA = config instanceof LoraConfig ? ".lora_A.weight" : ".vera_lambda_d";
        Map<String, int[]> modules = new LinkedHashMap<>();           // module path -> [out, in]
        for (String k : tensors.keySet()) {
            if (k.startsWith(PeftModel.KEY_PREFIX) && k.endsWith(suffixA)) {
                String path = k.substring(PeftModel.KEY_PREFIX.length(), k.length() - suffixA.length());
                int[] shape = shapes.get(path + ".weight");
                InvalidRequestException.check(shape != null && shape.length == 2 && weights.containsKey(path + ".weight"),
                        k, "a module of the model (" + path + ".weight [out, in] in the weights)", "none");
                modules.put(path, shape);
            }
        }
        InvalidRequestException.check(!modules.isEmpty(), AdapterConfigs.WEIGHTS_FILE, "adapter tensors ("
                + PeftModel.KEY_PREFIX + "<module>" + suffixA + ")", tensors.keySet());
        Map<String, float[]> out = new LinkedHashMap<>(weights);
        switch (config) {
            case LoraConfig c -> modules.forEach((path, shape) -> {
                float[] a = tensor(tensors, tensorShapes, PeftModel.KEY_PREFIX + path + ".lora_A.weight", c.r(), shape[1]);
                float[] b = tensor(tensors, tensorShapes, PeftModel.KEY_PREFIX + path + ".lora_B.weight", shape[0], c.r());
                float[] w = weights.get(path + ".weight");
                if (c.init().kind() == LoraInit.Kind.PISSA) {
                    w = Pissa.init(w, shape[0], shape[1], c.r(), c.scaling(), c.init().niter(),
                            Adapter.pissaSeed(0L, path)).residual();
                }
                out.put(path + ".weight", addProduct(w, b, a, shape[0], c.r(), shape[1], c.scaling(), null, null));
            });
            case VeraConfig v -> {
                int maxIn = 0;
                int maxOut = 0;
                for (int[] shape : modules.values()) {
                    maxOut = Math.max(maxOut, shape[0]);
                    maxIn = Math.max(maxIn, shape[1]);
                }
                float[] veraA;
                float[] veraB;
                int aCols;
                if (v.saveProjection()) {
                    int[] as = tensorShapes.get(PeftModel.VERA_A_KEY);
                    int[] bs = tensorShapes.get(PeftModel.VERA_B_KEY);
                    InvalidRequestException.check(as != null && as.length == 2 && as[0] == v.r() && as[1] >= maxIn,
                            PeftModel.VERA_A_KEY, "[" + v.r() + ", >= " + maxIn + "]", as == null ? "none" : Arrays.toString(as));
                    InvalidRequestException.check(bs != null && bs.length == 2 && bs[1] == v.r() && bs[0] >= maxOut,
                            PeftModel.VERA_B_KEY, "[>= " + maxOut + ", " + v.r() + "]", bs == null ? "none" : Arrays.toString(bs));
                    veraA = tensors.get(PeftModel.VERA_A_KEY);
                    veraB = tensors.get(PeftModel.VERA_B_KEY);
                    aCols = as[1];
                } else {
                    TorchCpuGenerator g = new TorchCpuGenerator(v.projectionPrngKey());
                    veraA = g.kaimingUniform(v.r(), maxIn);
                    veraB = g.kaimingUniform(maxOut, v.r());
                    aCols = maxIn;
                }
                for (Map.Entry<String, int[]> e : modules.entrySet()) {
                    String path = e.getKey();
                    int o = e.getValue()[0];
                    int in = e.getValue()[1];
                    float[] ld = tensor(tensors, tensorShapes, PeftModel.KEY_PREFIX + path + ".vera_lambda_d", v.r());
                    float[] lb = tensor(tensors, tensorShapes, PeftModel.KEY_PREFIX + path + ".vera_lambda_b", o);
                    float[] as = new float[Math.multiplyExact(v.r(), in)];
                    for (int i = 0; i < v.r(); i++) {
                        System.arraycopy(veraA, i * aCols, as, i * in, in);
                    }
                    float[] bs = Arrays.copyOf(veraB, Math.multiplyExact(o, v.r()));
                    out.put(path + ".weight", addProduct(weights.get(path + ".weight"), bs, as, o, v.r(), in, 1.0, lb, ld));
                }
            }
        }
        return out;
    }

    private static float[] tensor(Map<String, float[]> tensors, Map<String, int[]> shapes, String key, int... shape) {
        float[] v = tensors.get(key);
        InvalidRequestException.check(v != null, key, "a tensor of shape " + Arrays.toString(shape), "none");
        InvalidRequestException.check(Arrays.equals(shapes.get(key), shape), key, "shape " + Arrays.toString(shape),
                Arrays.toString(shapes.get(key)));
        return v;
    }

    /** {@code W + s·diag(rowScale)·B·diag(midScale)·A} in double, rounded once ({@code rowScale}, {@code midScale} may be null). */
    private static float[] addProduct(float[] w, float[] b, float[] a, int out, int r, int in, double s, float[] rowScale,
                                      float[] midScale) {
        float[] result = new float[w.length];
        double[] row = new double[r];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < r; i++) {
                row[i] = (double) b[o * r + i] * (midScale == null ? 1 : midScale[i]) * (rowScale == null ? 1 : rowScale[o]);
            }
            for (int c = 0; c < in; c++) {
                double acc = 0;
                for (int i = 0; i < r; i++) {
                    acc += row[i] * a[i * in + c];
                }
                result[o * in + c] = (float) (w[o * in + c] + s * acc);
            }
        }
        return result;
    }
}
