package dev.attn4j.domain.adapters;

import dev.attn4j.ports.InvalidRequestException;

/**
 * How a fresh LoRA adapter is initialised: PEFT's {@code init_lora_weights} (peft
 * {@code src/peft/tuners/lora/layer.py}, {@code LoraLayer.update_layer}, {@code reset_lora_parameters},
 * {@code pissa_init}).
 * <ul>
 *   <li>{@link Kind#DEFAULT} ({@code true}): {@code A} kaiming-uniform with {@code a = √5}, which is
 *       {@code U(−1/√in, 1/√in)}, {@code B} zeros, so the adapter starts as the identity;</li>
 *   <li>{@link Kind#GAUSSIAN} ({@code "gaussian"}): {@code A ~ N(0, 1/r²)}, {@code B} zeros;</li>
 *   <li>{@link Kind#RANDOM} ({@code false}): {@code A} and {@code B} both {@code nn.Linear}'s default
 *       ({@code U(−1/√fan_in, 1/√fan_in)}), so the adapter is not the identity (PEFT uses it for tests);</li>
 *   <li>{@link Kind#PISSA} ({@code "pissa"}, or {@code "pissa_niter_N"} with {@link #niter()} = N): the principal
 *       singular vectors of the base weight, the rest left as a residual base ({@link Pissa}).</li>
 * </ul>
 *
 * <pre>{@code
 * LoraInit.parse("pissa_niter_4")   // LoraInit[kind=PISSA, niter=4]
 * LoraInit.DEFAULT.jsonValue()      // Boolean.TRUE
 * }</pre>
 *
 * @param kind  the scheme
 * @param niter PiSSA's subspace iterations of the randomized SVD ({@code pissa_niter_N}); 0 = the full SVD; 0 for the
 *              other kinds
 */
public record LoraInit(Kind kind, int niter) {
    /** The schemes. */
    public enum Kind {
        /** {@code true}: kaiming-uniform {@code A}, zero {@code B}. */
        DEFAULT,
        /** {@code "gaussian"}: {@code N(0, 1/r²)} {@code A}, zero {@code B}. */
        GAUSSIAN,
        /** {@code false}: both matrices {@code nn.Linear}'s default. */
        RANDOM,
        /** {@code "pissa"} / {@code "pissa_niter_N"}: principal singular values and vectors. */
        PISSA
    }

    /** PEFT's default. */
    public static final LoraInit DEFAULT = new LoraInit(Kind.DEFAULT, 0);
    /** {@code "gaussian"}. */
    public static final LoraInit GAUSSIAN = new LoraInit(Kind.GAUSSIAN, 0);
    /** {@code false}. */
    public static final LoraInit RANDOM = new LoraInit(Kind.RANDOM, 0);
    /** {@code "pissa"}: the full SVD. */
    public static final LoraInit PISSA = new LoraInit(Kind.PISSA, 0);

    /** Checks the arguments. */
    public LoraInit {
        InvalidRequestException.check(kind != null, "init_lora_weights", "a kind", "null");
        InvalidRequestException.check(niter >= 0 && (niter == 0 || kind == Kind.PISSA), "init_lora_weights",
                "niter >= 1 only for pissa_niter_N", niter);
    }

    /**
     * {@code "pissa_niter_N"}: the randomized SVD with {@code niter} subspace iterations.
     *
     * @param niter the iterations, {@code >= 1}
     * @return the init
     */
    public static LoraInit pissaNiter(int niter) {
        InvalidRequestException.check(niter >= 1, "init_lora_weights", "pissa_niter_N with N >= 1", niter);
        return new LoraInit(Kind.PISSA, niter);
    }

    /**
     * The value of {@code init_lora_weights} as PEFT writes it: {@code true}, {@code false}, or a string.
     *
     * @param value a {@link Boolean} or a {@link String} ({@code "gaussian"}, {@code "pissa"}, {@code "pissa_niter_4"},
     *              {@code "true"}/{@code "false"} as command-line spellings)
     * @return the init
     * @throws InvalidRequestException for a scheme attn4j does not implement (olora, loftq, eva, corda, ...)
     */
    public static LoraInit parse(Object value) {
        if (value instanceof Boolean b) {
            return b ? DEFAULT : RANDOM;
        }
        InvalidRequestException.check(value instanceof String, "init_lora_weights", "true, false or a string", value);
        String s = (String) value;
        if (s.equalsIgnoreCase("true")) {
            return DEFAULT;
        }
        if (s.equalsIgnoreCase("false")) {
            return RANDOM;
        }
        if (s.equalsIgnoreCase("gaussian")) {
            return GAUSSIAN;
        }
        if (s.equals("pissa")) {
            return PISSA;
        }
        // PEFT splits on "_niter_" and takes int() of the rest
        String[] parts = s.split("_niter_", -1);
        if (parts.length == 2 && parts[0].equals("pissa") && parts[1].matches("[0-9]{1,9}")) {
            return pissaNiter(Integer.parseInt(parts[1]));
        }
        throw new InvalidRequestException("init_lora_weights",
                "true, false, \"gaussian\", \"pissa\" or \"pissa_niter_N\" (the schemes attn4j implements)", s);
    }

    /** {@return the JSON value PEFT writes: {@code Boolean.TRUE}, {@code Boolean.FALSE} or a string} */
    public Object jsonValue() {
        return switch (kind) {
            case DEFAULT -> Boolean.TRUE;
            case RANDOM -> Boolean.FALSE;
            case GAUSSIAN -> "gaussian";
            case PISSA -> niter == 0 ? "pissa" : "pissa_niter_" + niter;
        };
    }

    @Override
    public String toString() {
        return String.valueOf(jsonValue());
    }
}
