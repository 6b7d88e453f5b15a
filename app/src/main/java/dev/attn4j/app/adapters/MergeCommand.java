package dev.attn4j.app.adapters;

import dev.attn4j.app.CliEnvironment;
import dev.attn4j.app.ExitCodes;
import dev.attn4j.domain.adapters.AdapterConfig;
import dev.attn4j.domain.adapters.AdapterConfigs;
import dev.attn4j.domain.adapters.PeftMerge;
import dev.attn4j.domain.model.ModelConfig;
import dev.attn4j.domain.model.ModelConfigs;
import dev.attn4j.domain.model.Transformer;
import dev.attn4j.domain.model.TransformerConfig;
import dev.attn4j.domain.parameters.ParameterSpec;
import dev.attn4j.domain.safetensors.SafetensorsFormatException;
import dev.attn4j.domain.safetensors.SafetensorsReader;
import dev.attn4j.domain.safetensors.SafetensorsWriter;
import dev.attn4j.domain.safetensors.TensorEntry;
import dev.attn4j.ports.InvalidRequestException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code attn4j merge}: a PEFT adapter directory (LoRA, rsLoRA, PiSSA, VeRA) merged into a model's weights and
 * written as a new safetensors file in the same names, so the merged model runs (and loads in x-transformers) with no
 * adapter. The arithmetic runs on the host in double precision ({@link PeftMerge}); the weights are first checked
 * against the model's configuration (every parameter present with its shape), so a mismatched base is refused before
 * anything is written.
 */
@Command(name = "merge", mixinStandardHelpOptions = true,
        description = "Merge a PEFT adapter directory (adapter_config.json + adapter_model.safetensors) into a model's "
                + "weights and write the merged weights.")
public final class MergeCommand implements Callable<Integer> {
    private final CliEnvironment env;

    @Option(names = "--model", required = true, paramLabel = "NAME|FILE",
            description = "The model configuration: a preset (orca, gpt) or an x-transformers JSON file.")
    String model;

    @Option(names = "--weights", required = true, paramLabel = "FILE",
            description = "The base weights (safetensors, x-transformers names).")
    Path weights;

    @Option(names = "--adapter", required = true, paramLabel = "DIR", description = "The PEFT adapter directory.")
    Path adapter;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "Where to write the merged weights.")
    Path out;

    /** A command writing its report to {@code env}. */
    public MergeCommand(CliEnvironment env) {
        this.env = env;
    }

    @Override
    public Integer call() {
        ModelConfig mc = ModelConfigs.load(model);
        InvalidRequestException.check(mc instanceof TransformerConfig, "--model",
                "a decoder-only TransformerWrapper configuration (adapters attach to its layers)", model);
        TransformerConfig config = (TransformerConfig) mc;
        InvalidRequestException.check(Files.isRegularFile(weights), "--weights", "an existing safetensors file", weights);
        InvalidRequestException.check(!out.toAbsolutePath().normalize().equals(weights.toAbsolutePath().normalize()),
                "--out", "a file other than --weights", out);
        AdapterConfig adapterConfig = AdapterConfigs.read(adapter);
        Map<String, float[]> values = new LinkedHashMap<>();
        Map<String, int[]> shapes = new LinkedHashMap<>();
        try (SafetensorsReader r = SafetensorsReader.open(weights)) {
            for (TensorEntry e : r.entries()) {
                values.put(e.name(), r.readFloats(e.name()));
                shapes.put(e.name(), e.shape());
            }
        } catch (SafetensorsFormatException | IllegalArgumentException e) {
            throw new InvalidRequestException("--weights", "a safetensors file of floating tensors", e.getMessage());
        }
        for (ParameterSpec s : Transformer.specs(config, "")) {
            int[] shape = shapes.get(s.name());
            InvalidRequestException.check(shape != null, "--weights", "the model's parameter " + s.name(), "none");
            InvalidRequestException.check(Arrays.equals(shape, s.shape().dims()), s.name(), "shape " + s.shape(),
                    Arrays.toString(shape));
        }
        Map<String, float[]> merged = PeftMerge.merge(values, shapes, adapter);
        SafetensorsWriter w = SafetensorsWriter.create();
        int changed = 0;
        for (Map.Entry<String, float[]> e : merged.entrySet()) {
            w.f32(e.getKey(), e.getValue(), shapes.get(e.getKey()));
            changed += e.getValue() != values.get(e.getKey()) ? 1 : 0;
        }
        w.metadata("format", "pt").metadata("merged_adapter", adapter.toString())
                .metadata("peft_type", adapterConfig.peftType().name());
        w.write(out);
        env.out().println("merged " + adapterConfig.peftType() + " adapter (r=" + adapterConfig.r() + ") into "
                + changed + " weights: " + out);
        return ExitCodes.OK;
    }
}
