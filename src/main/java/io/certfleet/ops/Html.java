package io.certfleet.ops;

import java.util.Locale;

/** Escaping and number formatting for the HTML report. */
final class Html {
    private Html() {
    }

    /**
     * Escapes text for HTML and SVG element content and quoted attribute values: {@code & < > " '}; control
     * characters (which XML forbids and a terminal may act on) become U+FFFD.
     */
    static String escape(String s) {
        StringBuilder b = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> {
                    if ((c < 0x20 && c != '\n' && c != '\t') || (c >= 0x7f && c <= 0x9f)) {
                        b.append('\uFFFD');
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.toString();
    }

    /** {@code 12,345}: digits and commas only, safe anywhere. */
    static String number(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }
}
