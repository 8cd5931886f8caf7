package io.certfleet.acme;

import io.certfleet.model.Blame;
import io.certfleet.model.CaLimit;
import io.certfleet.model.CaProblem;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Pure attribution of a CA problem to members of an order: no I/O, no clock, no acme4j.
 *
 * <p>Order of evidence: the {@code identifier} of the problem and of each subproblem (Boulder sets them when two or
 * more names fail); then the detail text of the problem and its subproblems, read with the wordings Boulder uses
 * ({@code Cannot issue for "x"}, {@code While processing CAA for x}, {@code Rechecking CAA for "x"},
 * {@code too many failed authorizations (5) for "x"}, the paused-account wording, …) after stripping the
 * {@code Error finalizing order :: }, {@code rechecking caa: } and {@code During secondary validation: } prefixes.
 * Every extracted name must be a member of the order (exactly, or as the wildcard of that base name) to be blamed;
 * anything else is ignored. An empty result means "names nobody": bisect.
 */
public final class ProblemAttribution {
    private static final Pattern IDENTIFIER_LIMIT = Pattern.compile(
            "\\bOrder cannot contain more than (\\d{1,6}) (?:identifiers|DNS names)\\b", Pattern.CASE_INSENSITIVE);

    private static final List<String> PREFIXES = List.of(
            "Error finalizing order :: ", "rechecking caa: ", "During secondary validation: ");

    private static final List<Pattern> QUOTED = List.of(
            Pattern.compile("Cannot issue for \"([^\"]+)\""),
            Pattern.compile("Rechecking CAA for \"([^\"]+)\""),
            Pattern.compile("too many failed authorizations \\(\\d+\\) for \"([^\"]+)\""),
            Pattern.compile("too many certificates \\(\\d+\\) already issued for \"([^\"]+)\""),
            Pattern.compile("too many failed authorizations recently[^\"]*\"([^\"]+)\""));

    private static final Pattern CAA_PROCESSING = Pattern.compile("While processing CAA for ([^\\s:\"]+)");

    static final Pattern PAUSED = Pattern.compile(
            "temporarily prevented from requesting certificates for (.+?) and possibly others\\."
                    + "(?:\\s*Please visit:\\s*(\\S+))?");

    private ProblemAttribution() {
    }

    /**
     * The members of {@code orderNames} the problem blames.
     *
     * @param problem the CA's problem, as sent
     * @param orderNames the identifiers of the order ({@code *.x} for wildcards), any case
     */
    public static Blame attribute(CaProblem problem, Collection<String> orderNames) {
        Set<String> members = new LinkedHashSet<>();
        for (String n : orderNames) {
            members.add(normalise(n));
        }
        Set<String> byIdentifier = new LinkedHashSet<>();
        collectIdentifiers(problem, members, byIdentifier);
        if (!byIdentifier.isEmpty()) {
            return Blame.of(byIdentifier, Blame.Basis.IDENTIFIERS);
        }
        Set<String> byText = new LinkedHashSet<>();
        collectFromDetails(problem, members, byText);
        return Blame.of(byText, Blame.Basis.DETAIL_TEXT);
    }

    /** All names a detail text mentions in a known wording, members or not (lower case, no trailing dot). */
    public static Set<String> namesInDetail(String detail) {
        Set<String> out = new LinkedHashSet<>();
        String text = stripPrefixes(detail);
        for (Pattern p : QUOTED) {
            Matcher m = p.matcher(text);
            while (m.find()) {
                out.add(normalise(m.group(1)));
            }
        }
        Matcher caa = CAA_PROCESSING.matcher(text);
        while (caa.find()) {
            out.add(normalise(caa.group(1)));
        }
        Matcher paused = PAUSED.matcher(text);
        if (paused.find()) {
            for (String n : paused.group(1).split(",")) {
                if (!n.isBlank()) {
                    out.add(normalise(n));
                }
            }
        }
        return out;
    }

    /** Boulder's wording of each limit in a {@code rateLimited} detail (le-behaviour.md §5). */
    private static final List<Map.Entry<Pattern, CaLimit>> LIMITS = List.of(
            Map.entry(Pattern.compile("too many new orders \\(\\d+\\) from this account"), CaLimit.NEW_ORDERS),
            Map.entry(Pattern.compile("too many certificates \\(\\d+\\) already issued for this exact set"),
                    CaLimit.EXACT_SET),
            Map.entry(Pattern.compile("too many certificates (?:\\(\\d+\\) )?already issued for \"[^\"]+\""),
                    CaLimit.CERTIFICATES_PER_DOMAIN),
            Map.entry(Pattern.compile("too many failed authorizations"), CaLimit.FAILED_AUTHORIZATIONS));

    private static final Pattern LIMIT_SUBJECT = Pattern.compile(
            "(?:already issued for|too many failed authorizations[^\"]*) \"([^\"]+)\"");

    private static final Pattern RETRY_AFTER_TEXT = Pattern.compile(
            "retry after (\\d{4}-\\d{2}-\\d{2}) (\\d{2}:\\d{2}:\\d{2}) UTC");

    /**
     * The limit a {@code rateLimited} detail names, in Boulder's wording: new orders per account, certificates
     * per exact set, certificates per registered domain, failed authorizations. Empty for other wordings (e.g.
     * registrations per IP, the paused-account text).
     */
    public static Optional<CaLimit> limitOf(String detail) {
        String text = stripPrefixes(detail);
        for (var e : LIMITS) {
            if (e.getKey().matcher(text).find()) {
                return Optional.of(e.getValue());
            }
        }
        return Optional.empty();
    }

    /**
     * The subject of a per-domain or per-name limit's detail: the registered domain ({@code already issued for
     * "example.com"}) or the identifier ({@code too many failed authorizations (5) for "x.example.com"}), lower
     * case. Empty for the account's and the exact set's wordings, which name no subject.
     */
    public static Optional<String> limitSubject(String detail) {
        Matcher m = LIMIT_SUBJECT.matcher(stripPrefixes(detail));
        return m.find() ? Optional.of(normalise(m.group(1))) : Optional.empty();
    }

    /** The {@code retry after 2026-08-30 10:00:00 UTC} time in a rate-limit detail, when the header is missing. */
    public static Optional<Instant> retryAfterInDetail(String detail) {
        Matcher m = RETRY_AFTER_TEXT.matcher(detail);
        if (!m.find()) {
            return Optional.empty();
        }
        try {
            return Optional.of(Instant.parse(m.group(1) + "T" + m.group(2) + "Z"));
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
    }

    /** The unpause portal URL in a paused-account detail, if the detail is one. */
    public static Optional<String> unpauseUrl(String detail) {
        Matcher m = PAUSED.matcher(detail);
        return m.find() ? Optional.ofNullable(m.group(2)) : Optional.empty();
    }

    /**
     * The CA's identifiers-per-order limit in Boulder's new-order refusal {@code Order cannot contain more than 100
     * identifiers} (older Boulder: {@code … 100 DNS names}), with or without the {@code Error creating new order :: }
     * prefix. Empty for any other detail.
     */
    public static OptionalInt identifierLimit(String detail) {
        Matcher m = IDENTIFIER_LIMIT.matcher(detail);
        if (!m.find()) {
            return OptionalInt.empty();
        }
        try {
            return OptionalInt.of(Integer.parseInt(m.group(1)));
        } catch (NumberFormatException e) {
            return OptionalInt.empty();
        }
    }

    /** True when the detail is Boulder's paused-account wording (with or without the portal link). */
    public static boolean isPaused(String detail) {
        return PAUSED.matcher(detail).find();
    }

    private static void collectIdentifiers(CaProblem p, Set<String> members, Set<String> out) {
        p.identifier().ifPresent(id -> out.addAll(match(id, members)));
        for (CaProblem sub : p.subproblems()) {
            collectIdentifiers(sub, members, out);
        }
    }

    private static void collectFromDetails(CaProblem p, Set<String> members, Set<String> out) {
        for (String name : namesInDetail(p.detail())) {
            out.addAll(match(name, members));
        }
        for (CaProblem sub : p.subproblems()) {
            collectFromDetails(sub, members, out);
        }
    }

    /** The member an extracted name denotes: itself, or failing that the wildcard of that base name. */
    private static Set<String> match(String raw, Set<String> members) {
        String name = normalise(raw);
        if (members.contains(name)) {
            return Set.of(name);
        }
        if (!name.startsWith("*.") && members.contains("*." + name)) {
            return Set.of("*." + name);
        }
        return Set.of();
    }

    private static String stripPrefixes(String detail) {
        String s = detail;
        boolean changed = true;
        while (changed) {
            changed = false;
            for (String prefix : PREFIXES) {
                if (s.startsWith(prefix)) {
                    s = s.substring(prefix.length());
                    changed = true;
                }
            }
        }
        return s;
    }

    static String normalise(String name) {
        String n = name.strip().toLowerCase(Locale.ROOT);
        return n.endsWith(".") ? n.substring(0, n.length() - 1) : n;
    }
}
