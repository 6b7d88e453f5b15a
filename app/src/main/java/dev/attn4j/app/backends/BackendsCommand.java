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
 * priority, the kind of device it runs on and its devices, and which one default selection takes and why;
 * available ones are opened (and closed) to read their declared capabilities. Exits 1 when a backend whose
 * probe said yes cannot be opened (docs/cli.md).
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
        TextTable table = new TextTable("BACKEND", "STATUS", "PRIORITY", "RUNS ON", "REASON");
        for (ProviderStatus s : found) {
            boolean available = s.availability().available();
            table.row(s.name(), available ? "available" : "unavailable",
                    s.priority() == Integer.MIN_VALUE ? "?" : s.priority(),
                    available ? s.availability().deviceKind().name() : "-", s.availability().reason());
        }
        table.print(out);
        boolean allOpened = true;
        for (ProviderStatus s : found) {
            if (s.availability().available()) {
                out.println();
                allOpened &= describe(selector, s, out);
            }
        }
        if (!allOpened) {
            env.err().println("attn4j: a backend whose probe said it is available could not be opened (see above)");
            return ExitCodes.FAILED;
        }
        return ExitCodes.OK;
    }

    private static String defaultChoice(BackendSelector selector) {
        try {
            return selector.explain();
        } catch (RuntimeException e) {
            return "none (" + firstLine(e.getMessage()) + ")";
        }
    }

    /** Prints an available backend's devices and declarations; false when it would not open. */
    private static boolean describe(BackendSelector selector, ProviderStatus s, PrintWriter out) {
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
            return true;
        } catch (RuntimeException | LinkageError e) {
            // The probe said yes but the device would not open: that is worth showing, not hiding.
            out.println("  could not be opened: " + e);
            return false;
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
