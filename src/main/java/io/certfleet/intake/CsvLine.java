package io.certfleet.intake;

import java.util.ArrayList;
import java.util.List;

/** Splits one CSV line (RFC 4180 quoting: {@code "a,b"}, {@code ""} for a quote) into fields. */
final class CsvLine {
    private CsvLine() {
    }

    /** @throws IllegalArgumentException with the reason, for an unterminated quote or text after a closing quote */
    static List<String> split(String line) {
        List<String> fields = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        int i = 0;
        int n = line.length();
        while (true) {
            cur.setLength(0);
            if (i < n && line.charAt(i) == '"') {
                i++;
                while (true) {
                    if (i >= n) {
                        throw new IllegalArgumentException("a quoted field is not closed");
                    }
                    char c = line.charAt(i++);
                    if (c == '"') {
                        if (i < n && line.charAt(i) == '"') {
                            cur.append('"');
                            i++;
                        } else {
                            break;
                        }
                    } else {
                        cur.append(c);
                    }
                }
                if (i < n && line.charAt(i) != ',') {
                    throw new IllegalArgumentException("text follows a closing quote at column " + (i + 1));
                }
            } else {
                while (i < n && line.charAt(i) != ',') {
                    char c = line.charAt(i++);
                    if (c == '"') {
                        throw new IllegalArgumentException("a quote inside an unquoted field at column " + i);
                    }
                    cur.append(c);
                }
            }
            fields.add(cur.toString());
            if (i >= n) {
                return fields;
            }
            i++; // the comma
        }
    }
}
