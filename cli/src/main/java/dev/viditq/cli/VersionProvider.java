package dev.viditq.cli;

import picocli.CommandLine;

/** The version {@code --version} and {@code info} print: the jar's implementation version, or "dev". */
final class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        String v = VersionProvider.class.getPackage().getImplementationVersion();
        return new String[]{"viditq " + (v == null ? "dev" : v)};
    }
}
