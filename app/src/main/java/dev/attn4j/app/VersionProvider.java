package dev.attn4j.app;

import picocli.CommandLine.IVersionProvider;

/** {@code attn4j --version}: the jar's version and the JVM it runs on. */
final class VersionProvider implements IVersionProvider {
    @Override
    public String[] getVersion() {
        String version = Attn4jCommand.class.getPackage().getImplementationVersion();
        return new String[]{"attn4j " + (version == null ? "(development build)" : version),
                "JVM: " + Runtime.version() + " (" + System.getProperty("java.vendor") + ")"};
    }
}
