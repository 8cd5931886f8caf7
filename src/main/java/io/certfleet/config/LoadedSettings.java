package io.certfleet.config;

import java.util.List;

/** Validated settings plus their masked dump (one {@code key = value [origin]} line per key) for the start-up log. */
public record LoadedSettings(Settings settings, List<String> maskedDump, List<String> warnings) {
    public LoadedSettings {
        maskedDump = List.copyOf(maskedDump);
        warnings = List.copyOf(warnings);
    }

    public LoadedSettings(Settings settings, List<String> maskedDump) {
        this(settings, maskedDump, List.of());
    }
}
