package dev.attn4j.app.backends;

import dev.attn4j.app.CliEnvironment;
import dev.attn4j.app.ExitCodes;
import dev.attn4j.app.console.TextTable;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.PortCapabilities;
import dev.attn4j.ports.attention.AttentionCapabilities;
import dev.attn4j.ports.spi.BackendOptions;
import dev.attn4j.ports.spi.BackendSelector;
import dev.attn4j.ports.spi.ProviderStatus;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/**
 * {@code attn4j backends}: every provider on the class path, available or not, with the reason, its
 * priority and devices; available ones are opened (and closed) to read their declared capabilities.
 */
@Command(name = "backends", mixinStandardHelpOptions = true,
        description = "List every backend provider on the class path, whether it can run here and why, "
                + "its priority, devices and declared capabilities.")
public final class BackendsCommand implements Callable<Integer> {
    private final CliEnvironment env;

    /** A command reading providers from {@code env}. */
    public BackendsCommand(CliEnvironment env) {
        this.env = env;
    }

    @Override
    public Integer call() {
        PrintWriter out = env.out();
        BackendSelector selector = env.selector().get();
        List<ProviderStatus> found = selector.survey();
        out.println(found.size() + " backend provider(s) on the class path; selected by default: " + defaultChoice(selector));
        out.println();
        TextTable table = new TextTable("BACKEND", "STATUS", "PRIORITY", "REASON");
        for (ProviderStatus s : found) {
            table.row(s.name(), s.availability().available() ? "available" : "unavailable",
                    s.priority() == Integer.MIN_VALUE ? "?" : s.priority(), s.availability().reason());
        }
        table.print(out);
        for (ProviderStatus s : found) {
            if (s.availability().available()) {
                out.println();
                describe(selector, s, out);
            }
        }
        return ExitCodes.OK;
    }

    private static String defaultChoice(BackendSelector selector) {
        try {
            ProviderStatus chosen = selector.select();
            String requested = selector.requestedName();
            return chosen.name() + (requested != null ? " (named by -D" + BackendSelector.PROPERTY + " or "
                    + BackendSelector.ENVIRONMENT + ")" : " (highest priority available)");
        } catch (RuntimeException e) {
            return "none (" + firstLine(e.getMessage()) + ")";
        }
    }

    private static void describe(BackendSelector selector, ProviderStatus s, PrintWriter out) {
        out.println(s.name() + ":");
        for (String device : s.availability().devices()) {
            out.println("  device:       " + device);
        }
        LoggerFactory.getLogger(BackendsCommand.class).debug("opening backend {} to read its capabilities", s.name());
        try (Backend backend = selector.open(s.name(), BackendOptions.none())) {
            for (PortCapabilities port : backend.capabilities().ports()) {
                String features = port.featureNames().isEmpty() ? "" : "; " + String.join(", ", port.featureNames());
                String extra = port instanceof AttentionCapabilities a
                        ? "; head dims " + a.minHeadDim() + ".." + a.maxHeadDim() : "";
                out.println(String.format("  %-13s %s%s%s", port.port() + ":",
                        port.dtypes().stream().map(Enum::name).sorted().collect(Collectors.joining(", ")), extra, features));
            }
        } catch (RuntimeException | LinkageError e) {
            // The probe said yes but the device would not open: that is worth showing, not hiding.
            out.println("  could not be opened: " + e);
        }
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
