package dev.attn4j.domain.adapters;

import dev.attn4j.ports.InvalidRequestException;

import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Which linear layers an adapter wraps, matched against module paths (x-transformers' {@code named_modules()}
 * names, e.g. {@code attn_layers.layers.0.1.to_q}) exactly as Hugging Face PEFT matches {@code target_modules}
 * (peft {@code src/peft/tuners/tuners_utils.py}, {@code check_target_module_exists} and
 * {@code _maybe_include_all_linear_layers}; {@code src/peft/utils/other.py}, {@code match_target_against_key}):
 * <ul>
 *   <li>a list of names: a path matches when it equals a name or ends with {@code "." + name}
 *       ({@code ["to_q", "to_v"]} wraps every query and value projection);</li>
 *   <li>one string: a regular expression the whole path must match ({@code re.fullmatch});</li>
 *   <li>the string {@code "all-linear"} (any case): every linear layer of the attention stack. PEFT leaves out a
 *       {@code PreTrainedModel}'s output embedding; attn4j's logits layer is never a candidate either.</li>
 * </ul>
 * {@code exclude_modules} use the same two forms (list: exact or suffix; string: full match) and win over targets.
 * Python's and Java's regular expressions agree on the common syntax (classes, groups, alternation, quantifiers);
 * a pattern Java cannot compile is rejected when the configuration is made.
 *
 * <pre>{@code
 * TargetModules.names("to_q", "to_v").matches("attn_layers.layers.0.1.to_q")        // true
 * TargetModules.regex(".*layers\\.0\\..*to_v").matches("attn_layers.layers.0.1.to_v") // true
 * TargetModules.allLinear().matches("attn_layers.layers.3.1.ff.2")                   // true
 * }</pre>
 *
 * @param names   the list form, or {@code null}
 * @param pattern the string form (a regular expression, or {@code "all-linear"}), or {@code null}
 */
public record TargetModules(List<String> names, String pattern) {
    /** PEFT's shorthand for every linear layer ({@code INCLUDE_LINEAR_LAYERS_SHORTHAND}). */
    public static final String ALL_LINEAR = "all-linear";

    /** Checks that exactly one form is given and that a pattern compiles. */
    public TargetModules {
        InvalidRequestException.check((names == null) != (pattern == null), "target_modules",
                "a list of module names or one pattern string", names == null ? "neither" : "both");
        if (names != null) {
            names = List.copyOf(names);
            InvalidRequestException.check(!names.isEmpty(), "target_modules", "at least one module name", "an empty list");
            for (String n : names) {
                InvalidRequestException.check(n != null && !n.isBlank(), "target_modules", "non-blank module names", names);
            }
        } else if (!pattern.equalsIgnoreCase(ALL_LINEAR)) {
            try {
                Pattern.compile(pattern);
            } catch (PatternSyntaxException e) {
                throw new InvalidRequestException("target_modules", "a regular expression",
                        pattern + " (" + e.getDescription() + ")");
            }
        }
    }

    /**
     * Module names, each matched exactly or as the path's last components ({@code endswith("." + name)}).
     *
     * @param names the names
     * @return the targets
     */
    public static TargetModules names(String... names) {
        InvalidRequestException.check(names != null, "target_modules", "module names", "null");
        return new TargetModules(List.of(names), null);
    }

    /**
     * A regular expression that must match the whole module path.
     *
     * @param pattern the expression
     * @return the targets
     */
    public static TargetModules regex(String pattern) {
        InvalidRequestException.check(pattern != null, "target_modules", "a pattern", "null");
        return new TargetModules(null, pattern);
    }

    /**
     * Every linear layer of the attention stack.
     *
     * @return the targets
     */
    public static TargetModules allLinear() {
        return new TargetModules(null, ALL_LINEAR);
    }

    /** {@return whether this is the {@code "all-linear"} shorthand} */
    public boolean isAllLinear() {
        return pattern != null && pattern.equalsIgnoreCase(ALL_LINEAR);
    }

    /**
     * Whether the module at {@code path} is targeted (for {@code "all-linear"}: any path, since only linear layers
     * are offered).
     *
     * @param path a module path such as {@code attn_layers.layers.0.1.to_q}
     * @return whether it matches
     */
    public boolean matches(String path) {
        Objects.requireNonNull(path, "path");
        if (pattern != null) {
            return isAllLinear() || Pattern.compile(pattern).matcher(path).matches();
        }
        for (String n : names) {
            if (path.equals(n) || path.endsWith("." + n)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether the module at {@code path} is excluded by {@code exclude_modules} in this form (PEFT's rule: a string
     * is a full-match pattern, a list matches exactly or by suffix; "all-linear" has no meaning there).
     *
     * @param path a module path
     * @return whether it is excluded
     */
    boolean excludes(String path) {
        if (pattern != null) {
            return Pattern.compile(pattern).matcher(path).matches();
        }
        return matches(path);
    }
}
