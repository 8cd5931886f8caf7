package io.certfleet.model;

import com.ibm.icu.lang.UCharacter;
import com.ibm.icu.lang.UCharacterCategory;
import com.ibm.icu.lang.UProperty;
import com.ibm.icu.text.IDNA;

import java.util.Set;
import java.util.regex.Pattern;

/**
 * Converts a name that holds U-labels or A-labels to its A-label form the way browsers and Let's Encrypt's clients
 * do: UTS #46 non-transitional processing (IDNA2008), so {@code ß}, {@code ς} and the joiners are kept, not mapped
 * away ({@code straße.de} is {@code xn--strae-oqa.de}, not the different registered domain {@code strasse.de}).
 *
 * <p>UTS #46 still accepts symbols that IDNA2008 (RFC 5892) does not allow, such as {@code ☃} or emoji. A label given
 * in Unicode must hold only what RFC 5892 allows (letters, digits, combining marks, the hyphen and its listed
 * exceptions), so {@code ☃.example} is rejected. A label given as an A-label is the exact identifier the CA sees; it
 * is taken as given once its punycode decodes to a valid UTS #46 label (Let's Encrypt asks no more of it).
 */
final class Idna {

    /** ICU's instance is immutable and thread-safe. */
    private static final IDNA UTS46 = IDNA.getUTS46Instance(IDNA.NONTRANSITIONAL_TO_ASCII
            | IDNA.NONTRANSITIONAL_TO_UNICODE | IDNA.CHECK_BIDI | IDNA.CHECK_CONTEXTJ | IDNA.CHECK_CONTEXTO
            | IDNA.USE_STD3_RULES);

    /** The full stops UTS #46 maps to '.'. */
    private static final Pattern DOTS = Pattern.compile("[.\u3002\uFF0E\uFF61]");

    /** RFC 5892 section 2.6: code points whose category alone would decide wrongly. */
    private static final Set<Integer> EXCEPTIONS_VALID = Set.of(0x00DF, 0x03C2, 0x06FD, 0x06FE, 0x0F0B, 0x3007,
            0x00B7, 0x0375, 0x05F3, 0x05F4, 0x30FB);
    private static final Set<Integer> EXCEPTIONS_DISALLOWED = Set.of(0x0640, 0x07FA, 0x302E, 0x302F, 0x3031, 0x3032,
            0x3033, 0x3034, 0x3035, 0x303B);

    private Idna() {
    }

    /** True if the name needs IDNA processing: a non-ASCII character or an {@code xn--} label. */
    static boolean needed(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) >= 0x80) {
                return true;
            }
        }
        String lower = s.toLowerCase(java.util.Locale.ROOT);
        return lower.startsWith("xn--") || lower.contains(".xn--");
    }

    /**
     * The A-label form of {@code s}, lower case, without a trailing dot.
     *
     * @param input the original input, for the exception
     * @throws InvalidDomainNameException naming the input, the label and the rule it breaks
     */
    static String toAscii(String input, String s) throws InvalidDomainNameException {
        IDNA.Info info = new IDNA.Info();
        String ascii = UTS46.nameToASCII(s, new StringBuilder(s.length() + 16), info).toString();
        if (info.hasErrors()) {
            throw reject(input, s, info.getErrors());
        }
        for (String label : DOTS.split(s)) {
            checkRfc5892(input, label);
        }
        return ascii.endsWith(".") ? ascii.substring(0, ascii.length() - 1) : ascii;
    }

    /** A label given in Unicode holds only what RFC 5892 allows (UTS #46 lets symbols through). */
    private static void checkRfc5892(String input, String label) throws InvalidDomainNameException {
        if (label.chars().allMatch(c -> c < 0x80)) {
            return;
        }
        IDNA.Info info = new IDNA.Info();
        String mapped = UTS46.labelToUnicode(label, new StringBuilder(), info).toString();
        int[] cps = mapped.codePoints().toArray();
        for (int cp : cps) {
            if (!allowedByRfc5892(cp)) {
                throw new InvalidDomainNameException(input, InvalidDomainNameException.Cause.INVALID_IDN,
                        String.format("label '%s' contains %s (U+%04X, %s), which IDNA2008 does not allow in a "
                                + "domain name", DomainName.abbreviate(label), new String(Character.toChars(cp)), cp, UCharacter.getName(cp)));
            }
        }
    }

    private static boolean allowedByRfc5892(int cp) {
        if (cp == '-' || EXCEPTIONS_VALID.contains(cp)) {
            return true;
        }
        if (EXCEPTIONS_DISALLOWED.contains(cp)) {
            return false;
        }
        int hst = UCharacter.getIntPropertyValue(cp, UProperty.HANGUL_SYLLABLE_TYPE);
        if (hst == UCharacter.HangulSyllableType.LEADING_JAMO || hst == UCharacter.HangulSyllableType.VOWEL_JAMO
                || hst == UCharacter.HangulSyllableType.TRAILING_JAMO) {
            return false; // RFC 5892 section 2.9, OldHangulJamo
        }
        return switch (UCharacter.getType(cp)) {
            // RFC 5892 section 2.1, LetterDigits
            case UCharacterCategory.LOWERCASE_LETTER, UCharacterCategory.UPPERCASE_LETTER,
                    UCharacterCategory.OTHER_LETTER, UCharacterCategory.DECIMAL_DIGIT_NUMBER,
                    UCharacterCategory.MODIFIER_LETTER, UCharacterCategory.NON_SPACING_MARK,
                    UCharacterCategory.COMBINING_SPACING_MARK -> true;
            default -> false;
        };
    }

    /** One rejection for ICU's error set; the first rule in this order wins, so the cause is stable. */
    private static InvalidDomainNameException reject(String input, String s, Set<IDNA.Error> errors) {
        InvalidDomainNameException.Cause cause = InvalidDomainNameException.Cause.INVALID_IDN;
        String detail;
        if (errors.contains(IDNA.Error.EMPTY_LABEL)) {
            cause = InvalidDomainNameException.Cause.EMPTY_LABEL;
            detail = "the name contains an empty label";
        } else if (errors.contains(IDNA.Error.DISALLOWED)) {
            int cp = firstDisallowed(s);
            if (cp < 0) {
                detail = "the name contains a character IDNA does not allow";
            } else {
                cause = cp < 0x80 ? InvalidDomainNameException.Cause.INVALID_CHARACTER : cause;
                detail = String.format("%s (U+%04X, %s) is not allowed in a domain name",
                        Character.isISOControl(cp) || Character.isWhitespace(cp) ? "a character"
                                : "'" + new String(Character.toChars(cp)) + "'", cp, UCharacter.getName(cp));
            }
        } else if (errors.contains(IDNA.Error.PUNYCODE) || errors.contains(IDNA.Error.INVALID_ACE_LABEL)) {
            detail = "label '" + label(s, IDNA.Error.PUNYCODE, IDNA.Error.INVALID_ACE_LABEL)
                    + "' is not a valid A-label (its punycode does not decode to a valid label)";
        } else if (errors.contains(IDNA.Error.LEADING_HYPHEN) || errors.contains(IDNA.Error.TRAILING_HYPHEN)) {
            cause = InvalidDomainNameException.Cause.INVALID_CHARACTER;
            detail = "label '" + label(s, IDNA.Error.LEADING_HYPHEN, IDNA.Error.TRAILING_HYPHEN)
                    + "' may hold only letters, digits and inner hyphens";
        } else if (errors.contains(IDNA.Error.HYPHEN_3_4)) {
            cause = InvalidDomainNameException.Cause.INVALID_CHARACTER;
            detail = "label '" + label(s, IDNA.Error.HYPHEN_3_4)
                    + "' has hyphens in positions 3 and 4 but is not an 'xn--' A-label";
        } else if (errors.contains(IDNA.Error.LABEL_TOO_LONG)) {
            cause = InvalidDomainNameException.Cause.LABEL_TOO_LONG;
            detail = "label '" + label(s, IDNA.Error.LABEL_TOO_LONG) + "' is longer than "
                    + DomainName.MAX_LABEL_OCTETS + " octets as an A-label";
        } else if (errors.contains(IDNA.Error.DOMAIN_NAME_TOO_LONG)) {
            cause = InvalidDomainNameException.Cause.NAME_TOO_LONG;
            detail = "the name is longer than " + DomainName.MAX_NAME_OCTETS + " octets as A-labels";
        } else if (errors.contains(IDNA.Error.LEADING_COMBINING_MARK)) {
            detail = "label '" + label(s, IDNA.Error.LEADING_COMBINING_MARK) + "' begins with a combining mark";
        } else if (errors.contains(IDNA.Error.BIDI)) {
            detail = "label '" + label(s, IDNA.Error.BIDI) + "' breaks the IDNA Bidi rule (RFC 5893): it mixes "
                    + "right-to-left and left-to-right characters, or the name mixes such labels";
        } else if (errors.contains(IDNA.Error.CONTEXTJ)) {
            detail = "label '" + label(s, IDNA.Error.CONTEXTJ) + "' has a zero-width joiner or non-joiner where "
                    + "IDNA2008 does not allow it (RFC 5892 appendix A)";
        } else if (errors.contains(IDNA.Error.CONTEXTO_PUNCTUATION) || errors.contains(IDNA.Error.CONTEXTO_DIGITS)) {
            detail = "label '" + label(s, IDNA.Error.CONTEXTO_PUNCTUATION, IDNA.Error.CONTEXTO_DIGITS)
                    + "' has a middle dot, keraia, geresh, katakana middle dot or Arabic-Indic digit where IDNA2008 "
                    + "does not allow it (RFC 5892 appendix A)";
        } else {
            detail = "not a valid internationalised name: " + errors;
        }
        return new InvalidDomainNameException(input, cause, detail);
    }

    private static int firstDisallowed(String s) {
        int[] cps = s.codePoints().toArray();
        for (int cp : cps) {
            if (cp == '.' || cp == 0x3002 || cp == 0xFF0E || cp == 0xFF61) {
                continue;
            }
            IDNA.Info info = new IDNA.Info();
            UTS46.labelToASCII(new String(Character.toChars(cp)), new StringBuilder(), info);
            if (info.getErrors().contains(IDNA.Error.DISALLOWED)) {
                return cp;
            }
        }
        return -1;
    }

    /** The first label with one of the errors, as given; the whole name if no single label shows it. */
    private static String label(String s, IDNA.Error... wanted) {
        for (String label : DOTS.split(s)) {
            IDNA.Info info = new IDNA.Info();
            UTS46.labelToASCII(label, new StringBuilder(), info);
            for (IDNA.Error e : wanted) {
                if (info.getErrors().contains(e)) {
                    return DomainName.abbreviate(label);
                }
            }
        }
        return s;
    }
}
