package io.certfleet.cli;

import picocli.CommandLine.Option;

/** The {@code --format table|json} option shared by the reporting commands. */
final class TableOrJson {
    @Option(names = "--format", defaultValue = "table", paramLabel = "table|json",
            description = "output format: table (for people) or json (for tools); default: ${DEFAULT-VALUE}")
    String format;

    /** True for json; throws a usage error (exit 2) for anything but table or json. */
    boolean json() {
        if (!format.equals("table") && !format.equals("json")) {
            throw new UsageException("--format must be table or json, not '" + format + "'");
        }
        return format.equals("json");
    }
}
