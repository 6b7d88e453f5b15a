package dev.attn4j.app.train;

import dev.attn4j.app.CliEnvironment;
import dev.attn4j.app.ExitCodes;
import dev.attn4j.domain.data.Tokenizer;
import dev.attn4j.domain.adapters.PeftModel;
import dev.attn4j.domain.generation.Generator;
import dev.attn4j.domain.generation.Sampling;
import dev.attn4j.domain.model.Transformer;
import dev.attn4j.domain.model.EncoderDecoder;
import dev.attn4j.domain.model.TokenBatch;
import dev.attn4j.domain.model.TransformerConfig;
import dev.attn4j.domain.model.XTransformerConfig;
import dev.attn4j.ports.Backend;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/**
 * {@code attn4j generate}: continues a prompt with a decoder-only model and its weights through the domain's
 * KV-cached {@link Generator}: greedy by default, or sampled with temperature, top-k and top-p from a seed. Prints
 * the new ids, and their text when a tokenizer is in play (a text prompt always has one: the byte tokenizer
 * unless {@code --tokenizer} names a tokenizer.json). Generation stops at the tokenizer's eos.
 */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Continue a prompt with a model and its weights (greedy, or temperature/top-k/top-p sampling).")
public final class GenerateCommand implements Callable<Integer> {
    private final CliEnvironment env;

    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "CONFIG",
            description = "A preset (orca, gpt, t5) or a JSON file with the TransformerWrapper or XTransformer call.")
    String model;

    @Option(names = "--weights", paramLabel = "W.safetensors",
            description = "Weights in x-transformers' names (e.g. OUT/checkpoints/step-N/model.safetensors). "
                    + "Without it the model is a fresh init from --seed.")
    Path weights;

    static final class Prompt {
        @Option(names = "--prompt-ids", paramLabel = "1,2,3", split = ",", description = "The prompt as token ids.")
        int[] ids;

        @Option(names = "--prompt", paramLabel = "TEXT", description = "The prompt as text (tokenized).")
        String text;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Prompt prompt;

    static final class Source {
        @Option(names = "--source-ids", paramLabel = "1,2,3", split = ",",
                description = "Encoder-decoder models: the encoder's input as token ids.")
        int[] ids;

        @Option(names = "--source", paramLabel = "TEXT", description = "Encoder-decoder models: the encoder's input "
                + "as text (tokenized).")
        String text;
    }

    @ArgGroup(exclusive = true)
    Source source;

    @Option(names = "--tokenizer", paramLabel = "byte|TOKENIZER.json",
            description = "Tokenizer of --prompt and of the printed text (default for --prompt: byte).")
    String tokenizer;

    @Option(names = "--max-new-tokens", required = true, paramLabel = "N", description = "Tokens to generate at most.")
    int maxNewTokens;

    @Option(names = "--temperature", defaultValue = "0", description = "0 = greedy. Default: ${DEFAULT-VALUE}.")
    double temperature;

    @Option(names = "--top-k", defaultValue = "0", description = "Keep the k most likely tokens (0 = all). "
            + "Default: ${DEFAULT-VALUE}.")
    int topK;

    @Option(names = "--top-p", defaultValue = "1", description = "Nucleus: keep tokens up to this probability "
            + "(1 = all). Default: ${DEFAULT-VALUE}.")
    double topP;

    @Option(names = "--seed", defaultValue = "42", description = "Seed of the sampler (and of a fresh init). "
            + "Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--no-eos", description = "Do not stop at the tokenizer's end-of-sequence token.")
    boolean noEos;

    @Option(names = "--adapter", paramLabel = "DIR",
            description = "A PEFT adapter directory (adapter_config.json, adapter_model.safetensors) to apply.")
    Path adapterDir;

    @Option(names = "--backend", paramLabel = "NAME", description = "Backend to run on (default: the selected one).")
    String backend;

    /** A command taking its backends from {@code env}. */
    public GenerateCommand(CliEnvironment env) {
        this.env = env;
    }

    @Override
    public Integer call() {
        if (maxNewTokens < 1) {
            bad("--max-new-tokens: expected a positive number, got " + maxNewTokens);
        }
        if (!(temperature >= 0 && Double.isFinite(temperature))) {
            bad("--temperature: expected a finite number >= 0, got " + temperature);
        }
        if (topK < 0) {
            bad("--top-k: expected 0 or more, got " + topK);
        }
        if (!(topP > 0 && topP <= 1)) {
            bad("--top-p: expected a number in (0, 1], got " + topP);
        }
        if (weights != null && !Files.isRegularFile(weights)) {
            bad("--weights: no such file: " + weights);
        }
        if (Models.config(model) instanceof XTransformerConfig seq2seq) {
            return encoderDecoder(seq2seq);
        }
        if (source != null) {
            bad("--source/--source-ids: only for encoder-decoder models; " + model + " is decoder-only");
        }
        TransformerConfig config = Models.decoder(model);
        Tokenizer tok = prompt.text != null || tokenizer != null ? Models.tokenizer(tokenizer) : null;
        if (tok != null) {
            Models.requireVocabulary(config, tok);
        }
        int[] ids = prompt.ids != null ? prompt.ids : tok.encode(prompt.text);
        if (ids.length == 0) {
            bad("--prompt: expected at least one token");
        }
        for (int id : ids) {
            if (id < 0 || id >= config.numTokens()) {
                bad("--prompt-ids: expected ids in [0, " + config.numTokens() + "), got " + id);
            }
        }
        OptionalInt eos = tok == null || noEos ? OptionalInt.empty() : tok.eos();
        Sampling sampling = new Sampling(temperature, topK, topP, seed);
        PrintWriter o = env.out();
        if (adapterDir != null && !java.nio.file.Files.isRegularFile(adapterDir.resolve("adapter_config.json"))) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--adapter: expected a PEFT adapter directory (with adapter_config.json), got " + adapterDir);
        }
        // generation needs no gradients: the parameters get no gradient buffers
        try (Backend b = Models.backend(spec.commandLine(), env.selector().get(), backend);
             Transformer m = Models.create(b, config, weights, seed, false);
             PeftModel peft = PeftModel.wrap(m)) {
            if (adapterDir != null) {
                peft.load(TrainCommand.ADAPTER_NAME, adapterDir, false);
            }
            int[] produced = Generator.generate(m, new int[][] {ids}, maxNewTokens, sampling, eos)[0];
            o.println("ids: " + Arrays.stream(produced).mapToObj(Integer::toString).collect(Collectors.joining(",")));
            if (tok != null) {
                o.println("text: " + tok.decode(produced, true));
            }
        }
        return ExitCodes.OK;
    }

    /**
     * An encoder–decoder: the source is encoded once, the prompt is the decoder's start (T5 starts from one
     * token, e.g. {@code --prompt-ids 0}), and the decoder continues it with its KV cache against the encoding.
     */
    private Integer encoderDecoder(XTransformerConfig config) {
        if (source == null) {
            bad("--source or --source-ids: an encoder-decoder model needs the encoder's input");
        }
        if (adapterDir != null) {
            bad("--adapter: adapters apply to decoder-only models");
        }
        boolean text = prompt.text != null || source.text != null;
        Tokenizer tok = text || tokenizer != null ? Models.tokenizer(tokenizer) : null;
        int[] src = source.ids != null ? source.ids : tok.encode(source.text);
        int[] start = prompt.ids != null ? prompt.ids : tok.encode(prompt.text);
        requireIds("--source", src, config.encoder().numTokens());
        requireIds("--prompt", start, config.decoder().numTokens());
        OptionalInt eos = tok == null || noEos ? OptionalInt.empty() : tok.eos();
        Sampling sampling = new Sampling(temperature, topK, topP, seed);
        PrintWriter o = env.out();
        try (Backend b = Models.backend(spec.commandLine(), env.selector().get(), backend);
             EncoderDecoder m = Models.create(b, config, weights, seed)) {
            int[] produced = Generator.generate(m, TokenBatch.of(src, 1, src.length), new int[][] {start}, maxNewTokens,
                    sampling, eos)[0];
            o.println("ids: " + Arrays.stream(produced).mapToObj(Integer::toString).collect(Collectors.joining(",")));
            if (tok != null) {
                o.println("text: " + tok.decode(produced, true));
            }
        }
        return ExitCodes.OK;
    }

    private void requireIds(String option, int[] ids, int vocab) {
        if (ids.length == 0) {
            bad(option + ": expected at least one token");
        }
        for (int id : ids) {
            if (id < 0 || id >= vocab) {
                bad(option + ": expected ids in [0, " + vocab + "), got " + id);
            }
        }
    }

    private void bad(String message) {
        throw new ParameterException(spec.commandLine(), message);
    }
}
