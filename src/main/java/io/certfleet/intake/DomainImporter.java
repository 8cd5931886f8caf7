package io.certfleet.intake;

import io.certfleet.model.DomainName;
import io.certfleet.model.InvalidDomainNameException;
import io.certfleet.model.NewDomain;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.function.ToIntFunction;

/**
 * Imports domain names: one per line, or {@code name,customer} CSV. Each line is normalised with
 * {@link DomainName#parse}; a bad line is reported with its number, input and cause and never stops the import;
 * repeats are counted, not errors. Valid names go to the sink in chunks (one transaction each).
 */
public final class DomainImporter {
    static final int MAX_LINE_BYTES = 4096;
    static final int MAX_CUSTOMER_CHARS = 200;
    private static final int CHUNK = 5_000;

    private final ToIntFunction<List<NewDomain>> sink;
    private final int chunkSize;

    /** @param sink inserts new names and returns how many were new (for example {@code DomainStore::insertNew}) */
    public DomainImporter(ToIntFunction<List<NewDomain>> sink) {
        this(sink, CHUNK);
    }

    DomainImporter(ToIntFunction<List<NewDomain>> sink, int chunkSize) {
        this.sink = sink;
        this.chunkSize = chunkSize;
    }

    public ImportResult importFrom(InputStream in, ImportListener listener) throws IOException {
        var reader = new LineReader(in, MAX_LINE_BYTES);
        Set<String> seen = new HashSet<>();
        List<NewDomain> chunk = new ArrayList<>(chunkSize);
        long lines = 0;
        long added = 0;
        long offered = 0;
        long duplicates = 0;
        long rejected = 0;
        long skipped = 0;
        Optional<LineReader.Line> next;
        while ((next = reader.next()).isPresent()) {
            LineReader.Line line = next.get();
            lines++;
            Parsed p = parse(line, lines == 1);
            switch (p.kind) {
                case SKIP -> skipped++;
                case REJECT -> {
                    rejected++;
                    listener.rejected(p.rejection);
                }
                case NAME -> {
                    if (!seen.add(p.domain.name().identifier())) {
                        duplicates++;
                    } else {
                        chunk.add(p.domain);
                        if (chunk.size() >= chunkSize) {
                            added += sink.applyAsInt(List.copyOf(chunk));
                            offered += chunk.size();
                            chunk.clear();
                        }
                    }
                }
            }
            if (lines % 10_000 == 0) {
                listener.progress(lines, added);
            }
        }
        if (!chunk.isEmpty()) {
            added += sink.applyAsInt(List.copyOf(chunk));
            offered += chunk.size();
        }
        listener.progress(lines, added);
        return new ImportResult(lines, added, offered - added, duplicates, rejected, skipped);
    }

    private enum Kind { SKIP, REJECT, NAME }

    private record Parsed(Kind kind, NewDomain domain, Rejection rejection) {
        static final Parsed SKIP = new Parsed(Kind.SKIP, null, null);

        static Parsed reject(LineReader.Line line, String input, String cause, String detail) {
            return new Parsed(Kind.REJECT, null, new Rejection(line.number(), printable(input), cause, escaped(detail)));
        }
    }

    private static Parsed parse(LineReader.Line line, boolean first) {
        if (line.text().isEmpty()) {
            String cause = line.problem().orElse("").contains("UTF-8") ? "INVALID_UTF8" : "LINE_TOO_LONG";
            return Parsed.reject(line, line.preview(), cause, line.problem().orElse("unreadable line"));
        }
        String text = line.text().get();
        String trimmed = text.strip();
        if (trimmed.isEmpty() || trimmed.startsWith("#")) {
            return Parsed.SKIP;
        }
        if (first && trimmed.toLowerCase(Locale.ROOT).replace(" ", "").matches("\"?(name|domain)\"?(,\"?customer\"?)?")) {
            return Parsed.SKIP;
        }
        String nameField = trimmed;
        Optional<String> customer = Optional.empty();
        if (trimmed.indexOf(',') >= 0 || trimmed.startsWith("\"")) {
            List<String> fields;
            try {
                fields = CsvLine.split(trimmed);
            } catch (IllegalArgumentException e) {
                return Parsed.reject(line, text, "CSV_SYNTAX", e.getMessage());
            }
            if (fields.size() > 2) {
                return Parsed.reject(line, text, "CSV_SYNTAX",
                        "expected 'name' or 'name,customer', found " + fields.size() + " fields");
            }
            nameField = fields.get(0);
            if (fields.size() == 2) {
                String c = fields.get(1).strip();
                if (c.length() > MAX_CUSTOMER_CHARS) {
                    return Parsed.reject(line, text, "INVALID_CUSTOMER",
                            "the customer key is longer than " + MAX_CUSTOMER_CHARS + " characters");
                }
                if (c.chars().anyMatch(Character::isISOControl)) {
                    return Parsed.reject(line, text, "INVALID_CUSTOMER", "the customer key contains control characters");
                }
                customer = c.isEmpty() ? Optional.empty() : Optional.of(c);
            }
        }
        try {
            DomainName name = DomainName.parse(nameField);
            return new Parsed(Kind.NAME, new NewDomain(name, text.strip(), customer, RegisteredDomains.of(name)), null);
        } catch (InvalidDomainNameException e) {
            return Parsed.reject(line, nameField, e.reason().name(), e.detail());
        }
    }

    /**
     * The input as it can be printed on one terminal line: control and invisible format characters (bidi overrides,
     * zero-width characters, BOM) escaped, at most 80 characters.
     */
    static String printable(String s) {
        String shown = escaped(s.codePoints().limit(80)
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString());
        return s.codePointCount(0, s.length()) > 80 ? shown + "..." : shown;
    }

    /** {@code s} with control and format characters escaped as {@code \\uXXXX} (a detail may quote the input). */
    static String escaped(String s) {
        StringBuilder sb = new StringBuilder();
        s.codePoints().forEach(cp -> {
            if (Character.isISOControl(cp) || cp == 0x2028 || cp == 0x2029 || Character.getType(cp) == Character.FORMAT) {
                sb.append(String.format("\\u%04x", cp));
            } else {
                sb.appendCodePoint(cp);
            }
        });
        return sb.toString();
    }
}
