/**
 * Intake: reads domain lists (one name per line, or {@code name,customer} CSV), normalises each name to its
 * IDNA A-label form, rejects bad lines with their line number and cause without stopping, de-duplicates, and
 * records new names as pending in bulk.
 */
package io.certfleet.intake;
