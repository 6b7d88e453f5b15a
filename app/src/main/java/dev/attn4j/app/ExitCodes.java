package dev.attn4j.app;

/** The process exit codes of every command. */
public final class ExitCodes {
    /** The command did what was asked and everything it checked passed. */
    public static final int OK = 0;
    /** The command ran, but something failed: a conformance case, a requested backend, a device. */
    public static final int FAILED = 1;
    /** The command line was wrong: unknown option or backend, bad number, missing command. Nothing ran. */
    public static final int BAD_INPUT = 2;

    private ExitCodes() {
    }
}
